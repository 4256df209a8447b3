"""A fake Moodle Web Services REST server (webservice/rest/server.php), on loopback.

Shaped after Moodle's external function definitions:
- core_enrol_get_users_courses(userid) -> [{id, shortname, fullname, startdate, enddate, ...}]
- gradereport_overview_get_course_grades(userid) -> {grades: [{courseid, grade, rawgrade,
  rank?}], warnings: []}; `grade` is formatted by the course total's display type
  ("92.50 %" for percentage, "45.00" for real), `rawgrade` is on the course total's range.
- gradereport_user_get_grade_items(courseid, userid) -> {usergrades: [{courseid, userid,
  gradeitems: [{itemtype: "course", graderaw, grademin, grademax, percentageformatted, ...}]}]}
Errors come as HTTP 200 with {"exception", "errorcode", "message"}, as Moodle answers them.

    with FakeMoodle(token="s3cret") as moodle:
        moodle.add_course("4", course_id=7, fullname="Anatomy", start=date(2024, 9, 2),
                          grade="92.50 %", rawgrade=92.5)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, request
from lti_platform import LoopbackServer

ENDPOINT = "/webservice/rest/server.php"


@dataclass
class FakeCourse:
    """A course of one user, with the course total as Moodle would report it."""

    id: int
    fullname: str
    shortname: str
    startdate: int
    grade: str = "-"
    rawgrade: str | None = None
    grademax: float = 100.0
    grademin: float = 0.0


@dataclass
class FakeMoodle:
    """The fake server; tweak `mode`, `delay`, `user_errors` between calls."""

    token: str = "moodle-ws-token"
    courses: dict[str, list[FakeCourse]] = field(default_factory=dict)
    # "ok", "html" (a maintenance page), "truncated" (JSON cut short), "status500",
    # "missing_field" (the overview report without `grades`)
    mode: str = "ok"
    delay: float = 0.0
    # user id -> Moodle errorcode answered for that user (e.g. "invaliduser")
    user_errors: dict[str, str] = field(default_factory=dict)
    calls: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._build_app())

    # -- data --------------------------------------------------------------------------------

    def add_course(self, userid: str, *, course_id: int, fullname: str, start: date | None,
                   grade: str = "-", rawgrade: float | None = None, grademax: float = 100.0,
                   shortname: str = "") -> None:
        """Enrol `userid` in a course with a course total (grade formatted as Moodle shows it)."""
        # Moodle stores midnight in the site's time zone (Asia/Almaty, UTC+5).
        midnight_utc = (0 if start is None else datetime(
            start.year, start.month, start.day, tzinfo=UTC).timestamp())
        startdate = 0 if start is None else int(midnight_utc) - 5 * 3600
        self.courses.setdefault(str(userid), []).append(FakeCourse(
            id=course_id, fullname=fullname, shortname=shortname or f"C{course_id}",
            startdate=startdate, grade=grade,
            rawgrade=None if rawgrade is None else f"{rawgrade:.5f}", grademax=grademax))

    # -- serving -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The site URL (what an admin passes as --base-url)."""
        return self.server.base_url

    def start(self) -> FakeMoodle:
        """Serve on a free loopback port."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> FakeMoodle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def functions_called(self) -> list[str]:
        """The wsfunction of every call so far."""
        return [c["wsfunction"] for c in self.calls]

    def _build_app(self) -> Flask:
        app = Flask(__name__)

        @app.route(ENDPOINT, methods=["GET", "POST"])
        def server():
            params = {**request.args.to_dict(), **request.form.to_dict()}
            with self._lock:
                self.calls.append({"wsfunction": params.get("wsfunction", ""),
                                   "token_in_query": str("wstoken" in request.args),
                                   "method": request.method})
            if self.delay:
                time.sleep(self.delay)
            if self.mode == "html":
                return Response("<html><body><h1>Site under maintenance</h1></body></html>",
                                content_type="text/html; charset=utf-8")
            if self.mode == "status500":
                return Response("<html>Internal error</html>", status=500,
                                content_type="text/html")
            body = self._answer(params)
            text = json.dumps(body)
            if self.mode == "truncated":
                text = text[: len(text) // 2]
            return Response(text, content_type="application/json")

        return app

    @staticmethod
    def _exception(errorcode: str, message: str, exception: str = "moodle_exception") -> dict:
        return {"exception": exception, "errorcode": errorcode, "message": message}

    def _answer(self, params: dict[str, str]) -> Any:
        if params.get("moodlewsrestformat") != "json":
            return self._exception("invalidparameter", "XML is not what this fake speaks")
        if params.get("wstoken") != self.token:
            return self._exception("invalidtoken", "Invalid token - token not found")
        function = params.get("wsfunction", "")
        userid = params.get("userid", "")
        if userid in self.user_errors:
            return self._exception(self.user_errors[userid], "Invalid user",
                                   "invalid_parameter_exception")
        courses = self.courses.get(userid, [])
        if function == "core_enrol_get_users_courses":
            return [{"id": c.id, "shortname": c.shortname, "fullname": c.fullname,
                     "displayname": c.fullname, "enrolledusercount": 25, "idnumber": "",
                     "visible": 1, "summary": "", "summaryformat": 1, "format": "topics",
                     "showgrades": True, "lang": "", "enablecompletion": True,
                     "category": 1, "progress": None, "completed": False,
                     "startdate": c.startdate, "enddate": 0, "marker": 0,
                     "lastaccess": None, "isfavourite": False, "hidden": False,
                     "overviewfiles": [], "showactivitydates": True,
                     "showcompletionconditions": True} for c in courses]
        if function == "gradereport_overview_get_course_grades":
            if self.mode == "missing_field":
                return {"warnings": []}
            return {"grades": [{"courseid": c.id, "grade": c.grade, "rawgrade": c.rawgrade}
                               for c in courses], "warnings": []}
        if function == "gradereport_user_get_grade_items":
            course = next((c for c in courses if str(c.id) == params.get("courseid")), None)
            if course is None:
                return self._exception("notenrolled", "User not enrolled")
            return {"usergrades": [{
                "courseid": course.id, "courseidnumber": "", "userid": int(userid),
                "userfullname": "Sam Student", "useridnumber": "", "maxdepth": 2,
                "gradeitems": [
                    {"id": 100 + course.id, "itemname": "Quiz 1", "itemtype": "mod",
                     "itemmodule": "quiz", "iteminstance": 1, "itemnumber": 0, "idnumber": "",
                     "categoryid": 1, "outcomeid": None, "scaleid": None, "graderaw": 10.0,
                     "grademin": 0, "grademax": 10, "gradeformatted": "10.00"},
                    {"id": 200 + course.id, "itemname": None, "itemtype": "course",
                     "itemmodule": None, "iteminstance": 1, "itemnumber": None, "idnumber": "",
                     "categoryid": None, "outcomeid": None, "scaleid": None,
                     "graderaw": None if course.rawgrade is None else float(course.rawgrade),
                     "grademin": course.grademin, "grademax": course.grademax,
                     "gradeformatted": course.grade, "percentageformatted": "-"},
                ]}], "warnings": []}
        return self._exception("invalidrecord", f"Can't find data record in database table "
                               f"external_functions. ({function})", "dml_missing_record_exception")
