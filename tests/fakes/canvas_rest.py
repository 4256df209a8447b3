"""A fake Canvas REST API (enrollments and courses of a user), on loopback.

Shaped after the Canvas API documentation:
- GET /api/v1/users/:user_id/enrollments -> [Enrollment], each with `grades`
  {html_url, current_score, final_score, current_grade, final_grade, override_score?, ...}
- GET /api/v1/users/:user_id/courses?include[]=term -> [Course] with `term` {start_at, ...}
- :user_id accepts `lti_1_3_id:<sub>` (Canvas "Object IDs"); unknown -> 404
  {"errors": [{"message": "The specified resource does not exist."}]}
- a bad token -> 401 {"errors": [{"message": "Invalid access token."}]} + WWW-Authenticate
- pages: `per_page` capped at `max_per_page`; `Link` with absolute URLs, rel current/next/
  prev/first/last.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, request
from lti_platform import LoopbackServer


@dataclass
class FakeCanvas:
    """The fake server; `enrollments`/`courses` are keyed by the user's LTI 1.3 id (sub)."""

    token: str = "canvas-api-token"
    max_per_page: int = 2
    enrollments: dict[str, list[dict]] = field(default_factory=dict)
    courses: dict[str, list[dict]] = field(default_factory=dict)
    # When set, `next` links point at this origin instead (a hostile or misconfigured server).
    next_origin: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._build_app())

    def add_course(self, sub: str, *, course_id: int, name: str, term_start: str | None,
                   state: str = "active", current: float | None = None,
                   final: float | None = None, override: float | None = None,
                   current_grade: str | None = None, sections: int = 1) -> None:
        """Enrol `sub` as a student in a course (one enrollment per section)."""
        grades: dict[str, Any] = {
            "html_url": f"{self.base_url}/courses/{course_id}/grades/9",
            "current_grade": current_grade, "current_score": current,
            "final_grade": None, "final_score": final,
            "unposted_current_score": current, "unposted_final_score": final,
        }
        if override is not None:
            grades["override_score"] = override
            grades["override_grade"] = None
        for section in range(sections):
            self.enrollments.setdefault(sub, []).append({
                "id": 1000 + course_id * 10 + section, "course_id": course_id,
                "course_section_id": course_id * 10 + section, "enrollment_state": state,
                "type": "StudentEnrollment", "role": "StudentEnrollment", "user_id": 9,
                "root_account_id": 1, "html_url": f"{self.base_url}/courses/{course_id}/users/9",
                "grades": grades if section == 0 else {**grades, "current_score": None,
                                                       "final_score": None},
                "user": {"id": 9, "name": "Sam Student", "sortable_name": "Student, Sam",
                         "short_name": "Sam"},
            })
        self.courses.setdefault(sub, []).append({
            "id": course_id, "name": name, "course_code": f"C-{course_id}",
            "workflow_state": "available" if state == "active" else "completed",
            "start_at": None, "end_at": None, "enrollment_term_id": 5,
            "term": {"id": 5, "name": "Term", "start_at": term_start, "end_at": None},
            "enrollments": [{"type": "student", "role": "StudentEnrollment",
                             "enrollment_state": state}],
        })

    @property
    def base_url(self) -> str:
        """https://school.instructure.com, on loopback."""
        return self.server.base_url

    def start(self) -> FakeCanvas:
        """Serve on a free loopback port."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> FakeCanvas:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _build_app(self) -> Flask:
        app = Flask(__name__)

        def unauthorized():
            response = jsonify(errors=[{"message": "Invalid access token."}])
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response

        def page(items: list[dict]):
            per_page = min(int(request.args.get("per_page", 10)), self.max_per_page)
            number = int(request.args.get("page", 1))
            last = max(1, -(-len(items) // per_page))
            chunk = items[(number - 1) * per_page: number * per_page]
            response = jsonify(chunk)
            origin = self.next_origin or self.base_url
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]

            def url(n: int, base: str = self.base_url) -> str:
                return f"{base}{request.path}?{urlencode([*query, ('page', str(n))])}"

            links = [f'<{url(number)}>; rel="current"']
            if number < last:
                links.append(f'<{url(number + 1, origin)}>; rel="next"')
            if number > 1:
                links.append(f'<{url(number - 1)}>; rel="prev"')
            links += [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
            response.headers["Link"] = ",".join(links)
            return response

        def lookup(user_id: str, table: dict[str, list[dict]]):
            with self._lock:
                self.requests.append({"path": request.path,
                                      "args": request.args.to_dict(flat=False),
                                      "authorization": request.headers.get("Authorization", "")})
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return unauthorized()
            if not user_id.startswith("lti_1_3_id:") or user_id.split(":", 1)[1] not in table:
                response = jsonify(errors=[{"message": "The specified resource does not exist."}])
                response.status_code = 404
                return response
            return page(table[user_id.split(":", 1)[1]])

        @app.route("/api/v1/users/<user_id>/enrollments")
        def enrollments(user_id: str):
            return lookup(user_id, self.enrollments)

        @app.route("/api/v1/users/<user_id>/courses")
        def courses(user_id: str):
            return lookup(user_id, self.courses)

        return app
