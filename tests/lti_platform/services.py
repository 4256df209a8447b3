"""AGS 2.0 and NRPS 2.0 on the loopback platform, shaped after Moodle or Canvas, with faults."""

# Every Platform serves these (ServicesMixin) at the URLs its launch claims give. Answers follow
# the real code where it was read (Moodle mod/lti/services.php, ltiservice_gradebookservices and
# ltiservice_memberships; Canvas Lti::IMS controllers and serializers), quirks included (QUIRKS).

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .claims import (
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    PlatformUser,
    make_user,
)

if TYPE_CHECKING:
    from .claims import LaunchPlan, Profile
    from .server import IssuedToken, RequestCounts

MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_SCORE_CONTAINER = "application/vnd.ims.lis.v1.scorecontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MEDIA_LIS_MEMBERSHIP_CONTAINER = "application/vnd.ims.lis.v2.membershipcontainer+json"
EXT_SUBMISSION_TYPE = "https://canvas.instructure.com/lti/submission_type"
EXT_SUBMISSION = "https://canvas.instructure.com/lti/submission"
MEMBERSHIP_ROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
CLAIM_MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"

SERVICE_ENDPOINTS = ("lineitems", "lineitem", "scores", "results", "memberships")
FAIL_KINDS = ("500", "timeout", "429", "503")
BAD_ANSWERS = ("html", "truncated_json", "wrong_content_type", "missing_field", "huge_page", "hang")
MEMBER_STATUSES = ("Active", "Inactive", "Deleted")
HUGE_MEMBERS = 50_000
HUGE_BYTES = 20 << 20

# Real behaviour that departs from the specs, on by default for its profile. Tests that want
# spec-clean answers remove names from `platform.quirks`.
QUIRKS: dict[str, str] = {
    "strict_media_types": (
        "moodle: services.php matches Content-Type (POST/PUT) and Accept (GET) exactly against "
        "each resource's media types, and lineitems/results/scores check them again: a GET of "
        "line items with Accept */* or a score with Content-Type application/json gets 400"
    ),
    "prefix_routes": (
        "moodle: resource templates match as unanchored regexes in order lineitem, lineitems, "
        "results, scores: GET .../lineitem/results with Accept */* answers the line item"
    ),
    "link_header_bugs": (
        "moodle: line item and result container Link headers use typographic quotes "
        "(rel=\u201cnext\u201d) and &amp; between query parameters (moodle_url::out())"
    ),
    "results_paging_500": (
        "moodle: GET results with limit and type_id dies on $lastpage->out() (null): HTTP 500"
    ),
    "nrps_next_drops_role": "moodle: the NRPS next link carries only limit, from (and rlid)",
    "zero_result_no_score": "moodle: a result whose grade is 0 has no resultScore (PHP empty())",
    "role_filter_full_uri": (
        "canvas: the NRPS role filter knows full role URIs only; a short name matches nobody"
    ),
}
DEFAULT_QUIRKS: dict[str, frozenset[str]] = {
    "moodle": frozenset({
        "strict_media_types", "prefix_routes", "link_header_bugs", "results_paging_500",
        "nrps_next_drops_role", "zero_result_no_score",
    }),
    "canvas": frozenset({"role_filter_full_uri"}),
}

_MOODLE_REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 300: "Multiple Choices", 400: "Bad Request",
    401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 415: "Unsupported Media Type",
    500: "Internal Server Error", 501: "Not Implemented",
}
_CANVAS_STATUS = {
    400: "bad_request", 401: "unauthorized", 404: "not_found", 412: "precondition_failed",
    422: "unprocessable_entity", 500: "internal_server_error",
}
_CANVAS_NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}

# Moodle's gradebookservices::validate_iso8601_date, verbatim (\3 and \17 are backreferences).
_MOODLE_ISO8601 = re.compile(
    r"^([\+-]?\d{4}(?!\d{2}\b))((-?)((0[1-9]|1[0-2])"
    r"(\3([12]\d|0[1-9]|3[01]))?|W([0-4]\d|5[0-2])(-?[1-7])?"
    r"|(00[1-9]|0[1-9]\d|[12]\d{2}|3([0-5]\d|6[1-6])))"
    r"([T\s]((([01]\d|2[0-3])((:?)[0-5]\d)?|24\:?00)([\.,]\d+(?!:))?)?(\17[0-5]\d([\.,]\d+)?)"
    r"?([zZ]|([\+-])([01]\d|2[0-3]):?([0-5]\d)?)?)?)?$"
)
_PHP_NUMERIC = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")

# Moodle's services.php resources in its order: (endpoint, template, media types, methods).
_MOODLE_RESOURCES = (
    ("lineitem", "/{context_id}/lineitems/{item_id}/lineitem", (MEDIA_LINEITEM,),
     ("GET", "PUT", "DELETE")),
    ("lineitems", "/{context_id}/lineitems", (MEDIA_LINEITEM_CONTAINER, MEDIA_LINEITEM),
     ("GET", "POST")),
    ("results", "/{context_id}/lineitems/{item_id}/lineitem/results", (MEDIA_RESULT_CONTAINER,),
     ("GET",)),
    ("scores", "/{context_id}/lineitems/{item_id}/lineitem/scores",
     (MEDIA_SCORE_CONTAINER, MEDIA_SCORE), ("POST",)),
    ("memberships", "/{context_type}/{context_id}/bindings/{tool_code}/memberships",
     (MEDIA_LIS_MEMBERSHIP_CONTAINER, MEDIA_MEMBERSHIP_CONTAINER), ("GET",)),
)
_CANVAS_ROUTES = (
    ("lineitems", re.compile(r"(\d+)/line_items/?"), ("GET", "POST")),
    ("lineitem", re.compile(r"(\d+)/line_items/(\d+)/?"), ("GET", "PUT", "DELETE")),
    ("scores", re.compile(r"(\d+)/line_items/(\d+)/scores/?"), ("POST",)),
    ("results", re.compile(r"(\d+)/line_items/(\d+)/results(?:/(\d+))?/?"), ("GET",)),
    ("memberships", re.compile(r"(\d+)/names_and_roles/?"), ("GET",)),
)
_MOODLE_ITEM_URL = re.compile(r"/mod/lti/services\.php/(\d+)/lineitems/(\d+)/lineitem")
_CANVAS_ITEM_URL = re.compile(r"/api/lti/courses/(\d+)/line_items/(\d+)")

_LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Log in to the site</title></head><body>"
    "<form action=\"/login/index.php\" method=\"post\"><input name=\"username\">"
    "<input name=\"password\" type=\"password\"></form></body></html>\n"
)


# -- stored data -----------------------------------------------------------------------------


@dataclass
class CourseMember:
    """A member of a course: the user, their context roles and membership status."""

    user: PlatformUser
    roles: tuple[str, ...]
    status: str = "Active"
    # Sequence number of the last change, for NRPS differences.
    changed: int = 0

    @property
    def user_id(self) -> str:
        """The id AGS and NRPS use for this user (Moodle: numeric id; Canvas: lti id)."""
        return self.user.sub

    @property
    def is_learner(self) -> bool:
        """Whether the member is a student (the only gradable members)."""
        return ROLE_LEARNER in self.roles

    @property
    def is_instructor(self) -> bool:
        """Whether the member teaches (Moodle: can manage activities)."""
        return ROLE_INSTRUCTOR in self.roles


@dataclass
class _Course:
    id: int
    label: str
    title: str
    members: dict[str, CourseMember] = field(default_factory=dict)
    # Resource link id -> title, for resourceLinkId and rlid checks.
    links: dict[str, str] = field(default_factory=dict)
    seq: int = 0


@dataclass
class _Grade:
    user_id: str
    score_given: float | None  # the gradebook value, on the line item's scale
    raw_given: float | None
    raw_maximum: float | None
    timestamp: str
    at: float  # seconds since the epoch (Moodle: whole seconds)
    activity_progress: str | None
    grading_progress: str | None
    comment: str | None
    result_id: int
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass
class _LineItem:
    n: int
    course: int
    label: str
    score_maximum: float
    resource_id: str | None = None
    resource_link_id: str | None = None
    tag: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    # Made by the platform for an activity (Moodle) or assignment (Canvas), not by the tool.
    coupled: bool = False
    deleted: bool = False
    grades: dict[str, _Grade] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreLogEntry:
    """One score POST the platform received, and what it answered."""

    line_item: str | None
    path: str
    user_id: str | None
    body: Any
    status: int | None  # None: the connection was closed without an answer
    applied: bool
    fault: str | None
    received_at: float


class _Abort(Exception):
    """Stop handling a service request and answer `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# -- faults ----------------------------------------------------------------------------------


class Faults:
    """Faults the AGS/NRPS endpoints inject; all off until set, deterministic given `seed`."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        # Set on platform stop: hung and delayed answers end at once instead of holding threads.
        self._release = threading.Event()
        self.delay = 0.0
        self.fail_ratio = 0.0
        self.fail_with = "500"
        self.fail_endpoints: set[str] = {"scores"}
        self.fail_first_n = 0
        self.hang_seconds = 30.0
        self.retry_after = 1
        self.bad_answers: dict[str, str] = {}
        self.down_token = False
        self._down = False
        self.injected: Counter[str] = Counter()
        self.seed = seed

    def __setattr__(self, name: str, value: Any) -> None:
        # Validate here so a typo fails in the test, not later inside a server thread.
        if name == "fail_with" and value not in FAIL_KINDS:
            raise ValueError(f"fail_with must be one of {FAIL_KINDS}, not {value!r}")
        if name == "fail_ratio" and not 0.0 <= float(value) <= 1.0:
            raise ValueError("fail_ratio must be within 0..1")
        if name == "fail_endpoints":
            value = set(value)
            unknown = value - set(SERVICE_ENDPOINTS)
            if unknown:
                raise ValueError(f"unknown endpoints {sorted(unknown)}; use {SERVICE_ENDPOINTS}")
        super().__setattr__(name, value)
        if name == "seed":
            super().__setattr__("_rng", random.Random(value))

    def set_bad_answer(self, endpoint: str, kind: str | None) -> None:
        """Answer every request to `endpoint` badly (a BAD_ANSWERS kind), or stop with None."""
        if endpoint not in SERVICE_ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; use {SERVICE_ENDPOINTS}")
        if kind is None:
            self.bad_answers.pop(endpoint, None)
        elif kind not in BAD_ANSWERS:
            raise ValueError(f"bad answer must be one of {BAD_ANSWERS}, not {kind!r}")
        else:
            self.bad_answers[endpoint] = kind

    def down(self, *, token: bool = False) -> None:
        """Close every service connection without an answer (and the token endpoint's if asked)."""
        self.down_token = token
        self._down = True

    def up(self) -> None:
        """Answer service requests again."""
        self._down = False
        self.down_token = False

    @property
    def is_down(self) -> bool:
        """Whether down() is in effect."""
        return self._down

    def reset(self, seed: int | None = None) -> None:
        """Turn every fault off (and reseed)."""
        self.delay = 0.0
        self.fail_ratio = 0.0
        self.fail_with = "500"
        self.fail_endpoints = {"scores"}
        self.fail_first_n = 0
        self.hang_seconds = 30.0
        self.retry_after = 1
        self.bad_answers.clear()
        self.up()
        with self._lock:
            self.injected.clear()
        self.seed = self.seed if seed is None else seed

    def _draw(self, endpoint: str) -> str | None:
        """The failure to inject into this request, if any (first-n, then the seeded ratio)."""
        if endpoint not in self.fail_endpoints:
            return None
        with self._lock:
            if self.fail_first_n > 0:
                self.fail_first_n -= 1
                return self.fail_with
            if self.fail_ratio > 0 and self._rng.random() < self.fail_ratio:
                return self.fail_with
        return None

    def _note(self, endpoint: str, kind: str) -> None:
        with self._lock:
            self.injected[f"{endpoint}:{kind}"] += 1

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._release.wait(seconds)


# -- helpers ---------------------------------------------------------------------------------


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _php_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return isinstance(value, str) and bool(_PHP_NUMERIC.match(value))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _parse_time(text: Any) -> datetime | None:
    """An ISO 8601 timestamp (naive ones are UTC), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _leading_int(text: str | None) -> int | None:
    # PHP's PARAM_INT cleaning: "1/scores" is 1.
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else None


def _int_arg(name: str, default: int = 0) -> int:
    value = _leading_int(request.args.get(name))
    return default if value is None else value


def _drop_connection() -> Response:
    """Shut the client's socket so it sees the connection closed with no answer at all."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # Never reaches the client: werkzeug's write fails on the shut socket and it drops quietly.
    return Response(b"", status=503)


def _request_json() -> Any:
    try:
        raw = request.get_data(cache=True)
    except OSError:
        return None
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


# -- the services ----------------------------------------------------------------------------


class ServicesMixin:
    """AGS line items, scores, results and NRPS memberships of a Platform, with fault injection."""

    profile: Profile
    counts: RequestCounts
    deployment_id: str
    _clients: dict[str, str]

    if TYPE_CHECKING:
        base_url: str

        def check_bearer(self, req: Any, scope: str | Iterable[str]) -> IssuedToken:
            """Provided by Platform."""
            raise NotImplementedError

    # -- setup (called by Platform) -------------------------------------------------------------

    def _init_services(self) -> None:
        self.faults = Faults()
        self.quirks: set[str] = set(DEFAULT_QUIRKS[self.profile])
        # NRPS 2.0 §2.3 differences links: neither Moodle nor Canvas sends them, so opt in.
        self.nrps_differences = False
        self.score_log: list[ScoreLogEntry] = []
        self._svc_lock = threading.RLock()
        self._courses: dict[int, _Course] = {}
        self._items: dict[int, _LineItem] = {}
        # Moodle's grade item 1 is the course total; Canvas ids start at 1.
        self._next_item = 2 if self.profile == "moodle" else 1
        self._next_result = 1
        self._next_user = 1000

    def _register_services(self, app: Flask) -> None:
        methods = ["GET", "POST", "PUT", "DELETE"]
        app.add_url_rule("/mod/lti/services.php/<path:rest>", "services_moodle",
                         self._view_moodle_services, methods=methods)
        app.add_url_rule("/api/lti/courses/<path:rest>", "services_canvas",
                         self._view_canvas_services, methods=methods)
        app.before_request(self._token_down_hook)

    def _services_started(self) -> None:
        self.faults._release.clear()

    def _services_stopping(self) -> None:
        self.faults._release.set()

    def _services_on_plan(self, plan: LaunchPlan) -> None:
        """A plan's user joins its course; a Moodle graded link gets its activity's line item."""
        course = self._course(plan.course, create=True)
        assert course is not None
        context = plan.context or {}
        with self._svc_lock:
            course.label = str(context.get("label", course.label))
            course.title = str(context.get("title", course.title))
            if not plan.is_deep_link:
                rl_id, title = self._plan_link(plan)
                course.links.setdefault(rl_id, title)
        roles = self._member_roles(plan.user.roles)
        if roles:
            self._put_member(plan.course, plan.user, roles)
        if self.profile == "moodle" and plan.ags and not plan.is_deep_link:
            rl_id, title = self._plan_link(plan)
            self.resource_link_line_item_url(plan.course, rl_id, title)

    def _plan_link(self, plan: LaunchPlan) -> tuple[str, str]:
        link = plan.resource_link or {}
        if self.profile == "moodle":
            default = "1"
        else:
            default = str(uuid.uuid5(uuid.NAMESPACE_URL, f"canvas-link:{plan.course}:1"))
        return str(link.get("id", default)), str(link.get("title", "Portfolio"))

    def _member_roles(self, roles: Iterable[str]) -> tuple[str, ...]:
        roles = tuple(roles)
        context_roles = tuple(r for r in roles if r.startswith(MEMBERSHIP_ROLE_PREFIX))
        if not context_roles:
            return ()
        # Moodle's NRPS roles come from lti_get_ims_role, as in the launch; Canvas lists
        # enrollment (context) roles only.
        return roles if self.profile == "moodle" else context_roles

    # -- course data ----------------------------------------------------------------------------

    def _course(self, course: int, *, create: bool = False) -> _Course | None:
        with self._svc_lock:
            found = self._courses.get(int(course))
            if found is None and create:
                found = _Course(int(course), f"C{course}", f"Course {course}")
                self._courses[int(course)] = found
            return found

    def _put_member(self, course: int, user: PlatformUser, roles: tuple[str, ...],
                    status: str = "Active") -> CourseMember:
        record = self._course(course, create=True)
        assert record is not None
        with self._svc_lock:
            record.seq += 1
            member = CourseMember(user, roles, status, record.seq)
            record.members[user.sub] = member
            return member

    def add_member(self, course: int, user: PlatformUser | str | Mapping[str, Any],
                   roles: Iterable[str] | None = None) -> PlatformUser:
        """Enrol one user (a PlatformUser, or make_user's "student"/"teacher"/dict spec)."""
        who = user if isinstance(user, PlatformUser) else make_user(self.profile, user)
        member_roles = self._member_roles(roles if roles is not None else who.roles)
        if not member_roles:
            raise ValueError("a course member needs a membership (context) role")
        self._put_member(course, who, member_roles)
        return who

    def add_members(self, course: int, n: int, role: str = "Learner") -> list[PlatformUser]:
        """Enrol `n` new users with `role` (Learner, Instructor, a membership URI, ...)."""
        uri = role if "://" in role else MEMBERSHIP_ROLE_PREFIX + {
            "student": "Learner", "teacher": "Instructor"}.get(role, role)
        base = "student" if uri == ROLE_LEARNER else "teacher"
        with self._svc_lock:
            first = self._next_user
            self._next_user += n
        users = []
        for uid in range(first, first + n):
            spec: dict[str, Any] = {
                "role": base, "id": str(uid), "username": f"user{uid}",
                "given_name": "Learner" if base == "student" else "Teacher",
                "family_name": f"N{uid}",
            }
            if uri not in (ROLE_LEARNER, ROLE_INSTRUCTOR):
                spec["roles"] = [uri]
            users.append(self.add_member(course, spec))
        return users

    def _find_member(self, course: _Course, user_id: Any) -> CourseMember | None:
        key = str(user_id)
        member = course.members.get(key)
        if member is None:
            member = next((m for m in course.members.values() if m.user.id == key), None)
        return member

    def set_member_status(self, course: int, user_id: str, status: str) -> None:
        """Mark a member Active, Inactive (suspended) or Deleted (unenrolled)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        record = self._course(course)
        with self._svc_lock:
            member = self._find_member(record, user_id) if record else None
            if record is None or member is None:
                raise KeyError(f"{user_id} is not a member of course {course}")
            record.seq += 1
            member.status = status
            member.changed = record.seq

    def members(self, course: int) -> list[CourseMember]:
        """Every member of a course, whatever the status."""
        record = self._course(course)
        with self._svc_lock:
            return list(record.members.values()) if record else []

    # -- line items -----------------------------------------------------------------------------

    def lineitems_url(self, course: int) -> str:
        """The course's line items container URL, as the launch claims give it."""
        if self.profile == "moodle":
            return (f"{self.base_url}/mod/lti/services.php/{course}/lineitems"
                    f"?type_id={self.deployment_id}")
        return f"{self.base_url}/api/lti/courses/{course}/line_items"

    def memberships_url(self, course: int) -> str:
        """The course's NRPS memberships URL, as the launch claims give it."""
        if self.profile == "moodle":
            return (f"{self.base_url}/mod/lti/services.php/CourseSection/{course}/bindings/"
                    f"{self.deployment_id}/memberships")
        return f"{self.base_url}/api/lti/courses/{course}/names_and_roles"

    def _item_endpoint(self, item: _LineItem) -> str:
        if self.profile == "moodle":
            return f"{self.base_url}/mod/lti/services.php/{item.course}/lineitems/{item.n}/lineitem"
        return f"{self.base_url}/api/lti/courses/{item.course}/line_items/{item.n}"

    def _item_url(self, item: _LineItem, type_id: str | None = None) -> str:
        if self.profile == "moodle":
            return f"{self._item_endpoint(item)}?type_id={type_id or self.deployment_id}"
        return self._item_endpoint(item)

    def _new_item(self, course: int, label: str, score_maximum: float, **fields: Any) -> _LineItem:
        self._course(course, create=True)
        with self._svc_lock:
            item = _LineItem(self._next_item, int(course), label, float(score_maximum), **fields)
            self._next_item += 1
            self._items[item.n] = item
            return item

    def add_line_item(self, course: int, label: str, score_maximum: float, *,
                      resource_id: str | None = None, resource_link_id: str | None = None,
                      tag: str | None = None, extensions: Mapping[str, Any] | None = None,
                      coupled: bool = False) -> str:
        """Create a line item as if the tool had; return its URL."""
        if resource_link_id is not None:
            record = self._course(course, create=True)
            assert record is not None
            with self._svc_lock:
                record.links.setdefault(str(resource_link_id), label)
        item = self._new_item(course, label, score_maximum, resource_id=resource_id,
                              resource_link_id=resource_link_id, tag=tag,
                              extensions=dict(extensions or {}), coupled=coupled)
        return self._item_url(item)

    def resource_link_line_item_url(self, course: int, resource_link_id: str,
                                    label: str = "Portfolio", score_maximum: float = 100.0,
                                    *, type_id: str | None = None) -> str:
        """The activity's own line item of a resource link (made once): Moodle's lineitem claim."""
        record = self._course(course, create=True)
        assert record is not None
        with self._svc_lock:
            record.links.setdefault(str(resource_link_id), label)
            for item in self._items.values():
                if (item.coupled and not item.deleted and item.course == int(course)
                        and item.resource_link_id == str(resource_link_id)):
                    return self._item_url(item, type_id)
            item = self._new_item(course, label, score_maximum,
                                  resource_link_id=str(resource_link_id), coupled=True)
        return self._item_url(item, type_id)

    def _item_from_url(self, url: str) -> _LineItem:
        pattern = _MOODLE_ITEM_URL if self.profile == "moodle" else _CANVAS_ITEM_URL
        match = pattern.search(urlsplit(url).path)
        with self._svc_lock:
            item = self._items.get(int(match.group(2))) if match else None
        if item is None:
            raise KeyError(f"no line item at {url}")
        return item

    def delete_line_item(self, url: str) -> None:
        """Delete a line item as a teacher would: later requests to it get 404."""
        item = self._item_from_url(url)
        with self._svc_lock:
            item.deleted = True

    def line_items(self, course: int) -> list[dict[str, Any]]:
        """The course's live line items, as GET of the container shows them."""
        with self._svc_lock:
            items = [i for i in self._items.values() if i.course == int(course) and not i.deleted]
            items.sort(key=lambda i: i.n)
            return [self._item_json(i, self.deployment_id) for i in items]

    # -- grades ---------------------------------------------------------------------------------

    def _gradebook_value(self, item: _LineItem, given: float | None,
                         maximum: float | None) -> float | None:
        """scoreGiven on the line item's scale, as each gradebook stores it."""
        if given is None:
            return None
        if self.profile == "moodle":
            # gradebookservices::save_grade_item rescales unless the maximum matches or is 0.
            if (maximum is not None and abs(maximum - item.score_maximum) > 1e-5
                    and abs(maximum) > 1e-5):
                return round(given * item.score_maximum / maximum, 5)
            return round(given, 5)
        # Canvas: scoreGiven * points_possible / scoreMaximum, unscaled for a 0 maximum.
        if maximum is None or abs(maximum) < 1e-12:
            return given
        return given * item.score_maximum / maximum

    def _store(self, item: _LineItem, user_id: str, score: Mapping[str, Any], at: float,
               given: float | None) -> _Grade:
        with self._svc_lock:
            old = item.grades.get(user_id)
            grade = _Grade(
                user_id=user_id,
                score_given=self._gradebook_value(item, given, _number(score.get("scoreMaximum"))),
                raw_given=_number(score.get("scoreGiven")),
                raw_maximum=_number(score.get("scoreMaximum")),
                timestamp=str(score.get("timestamp")),
                at=at,
                activity_progress=score.get("activityProgress"),
                grading_progress=score.get("gradingProgress"),
                comment=score.get("comment") or None,
                result_id=old.result_id if old else self._next_result,
                extensions=({EXT_SUBMISSION: score[EXT_SUBMISSION]}
                            if isinstance(score.get(EXT_SUBMISSION), dict) else {}),
            )
            if old is None:
                self._next_result += 1
            item.grades[user_id] = grade
            return grade

    def set_result(self, line_item_url: str, user_id: str, score_given: float | None,
                   score_maximum: float | None = None, *, comment: str | None = None,
                   timestamp: str | None = None, activity_progress: str = "Completed",
                   grading_progress: str = "FullyGraded") -> None:
        """Pre-seed a grade as if a score had been posted (no timestamp or membership checks)."""
        item = self._item_from_url(line_item_url)
        course = self._course(item.course)
        member = self._find_member(course, user_id) if course else None
        user_id = member.user_id if member else str(user_id)
        stamp = timestamp or datetime.now(UTC).isoformat(timespec="milliseconds")
        parsed = _parse_time(stamp)
        if parsed is None:
            raise ValueError(f"not an ISO 8601 timestamp: {stamp!r}")
        maximum = item.score_maximum if score_maximum is None else score_maximum
        score = {"scoreGiven": score_given, "scoreMaximum": maximum, "timestamp": stamp,
                 "activityProgress": activity_progress, "gradingProgress": grading_progress,
                 "comment": comment}
        at = float(int(parsed.timestamp())) if self.profile == "moodle" else parsed.timestamp()
        self._store(item, user_id, score, at, score_given)

    def scores(self, line_item_url: str) -> dict[str, dict[str, Any]]:
        """The stored grade of each user on a line item (scoreGiven on the item's scale)."""
        item = self._item_from_url(line_item_url)
        with self._svc_lock:
            return {
                uid: {
                    "scoreGiven": grade.score_given,
                    "scoreMaximum": item.score_maximum,
                    "timestamp": grade.timestamp,
                    "activityProgress": grade.activity_progress,
                    "gradingProgress": grade.grading_progress,
                    "comment": grade.comment,
                }
                for uid, grade in item.grades.items()
            }

    # -- HTTP plumbing --------------------------------------------------------------------------

    def _token_down_hook(self) -> Response | None:
        if self.faults.is_down and self.faults.down_token and request.endpoint == "token":
            return _drop_connection()
        return None

    def _serve(self, endpoint: str, handler: Callable[[], Response]) -> Response:
        """Count, inject faults, run the handler, log scores (before the client can see it)."""
        self.counts.add(endpoint)
        g.svc_score = None
        if endpoint == "scores":
            _request_json()  # read (and cache) the body before any fault shuts the socket
        response, fault = self._answer_with_faults(endpoint, handler)
        if endpoint == "scores":
            self._log_score(response, fault)
        return _drop_connection() if response is None else response

    def _answer_with_faults(self, endpoint: str,
                            handler: Callable[[], Response]) -> tuple[Response | None, str | None]:
        """The answer (None: close the connection without one) and the fault injected."""
        faults = self.faults
        if faults.is_down:
            faults._note(endpoint, "down")
            return None, "down"
        faults._pause(faults.delay)
        bad = faults.bad_answers.get(endpoint)
        if bad == "hang":
            faults._note(endpoint, bad)
            faults._pause(faults.hang_seconds)
            return None, bad
        failure = faults._draw(endpoint)
        if failure is not None:
            faults._note(endpoint, failure)
        if failure in ("500", "503", "429"):
            return self._fault_answer(failure), failure
        try:
            response = handler()
        except _Abort as abort:
            response = abort.response
        if failure == "timeout":
            # The work is done; only the answer is late (the client's timeout fires first).
            faults._pause(faults.hang_seconds)
        if bad is not None:
            faults._note(endpoint, bad)
            response = self._mangle(endpoint, bad, response)
        return response, failure or bad

    def _log_score(self, response: Response | None, fault: str | None) -> None:
        info = g.get("svc_score") or {}
        body = _request_json()
        user = body.get("userId") if isinstance(body, dict) else None
        entry = ScoreLogEntry(
            line_item=info.get("line_item"),
            path=request.full_path if request.query_string else request.path,
            user_id=None if user is None else str(user),
            body=body,
            status=None if response is None else response.status_code,
            applied=bool(info.get("applied")),
            fault=fault,
            received_at=time.time(),
        )
        with self._svc_lock:
            self.score_log.append(entry)

    def _fault_answer(self, kind: str) -> Response:
        if kind == "429":
            if self.profile == "canvas":
                # Canvas's throttle: a text body and its quota headers (docs: file.throttling).
                resp = Response("429 Too Many Requests (Rate Limit Exceeded)\n", status=429,
                                content_type="text/plain; charset=utf-8")
                resp.headers["X-Rate-Limit-Remaining"] = "0.0"
                resp.headers["X-Request-Cost"] = "0.05"
            else:
                resp = Response("Too Many Requests\n", status=429,
                                content_type="text/plain; charset=utf-8")
            resp.headers["Retry-After"] = str(self.faults.retry_after)
            return resp
        if kind == "503":
            return Response("<html><body><h1>503 Service Unavailable</h1>The site is undergoing "
                            "maintenance.</body></html>\n", status=503,
                            content_type="text/html; charset=utf-8")
        if self.profile == "moodle":
            return self._moodle_json_error(500, "")
        return self._canvas_error(500, "An error occurred")

    def _mangle(self, endpoint: str, kind: str, response: Response) -> Response:
        if kind == "html":
            return Response(_LOGIN_PAGE, status=200, content_type="text/html; charset=utf-8")
        if not 200 <= response.status_code < 300:
            return response
        raw = response.get_data()
        if kind == "truncated_json":
            response.set_data(raw[: len(raw) // 2])
        elif kind == "wrong_content_type":
            response.headers["Content-Type"] = "text/html; charset=utf-8"
        elif kind == "missing_field":
            response.set_data(self._without_field(endpoint, raw))
        elif kind == "huge_page":
            response.set_data(self._huge(endpoint, raw))
        return response

    def _without_field(self, endpoint: str, raw: bytes) -> bytes:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return raw
        # The field a client can least do without, per endpoint.
        drop = {"lineitems": "id", "lineitem": "id", "scores": "resultUrl",
                "results": "userId", "memberships": "members"}[endpoint]
        if isinstance(body, list):
            for row in body:
                if isinstance(row, dict):
                    row.pop(drop, None)
        elif isinstance(body, dict):
            body.pop(drop, None)
        else:
            return raw
        return _dumps(body)

    def _huge(self, endpoint: str, raw: bytes) -> bytes:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if endpoint == "memberships" and isinstance(body, dict):
            body["members"] = [self._synthetic_member(i) for i in range(HUGE_MEMBERS)]
            return _dumps(body)
        padding = {"padding": "x" * HUGE_BYTES}
        if isinstance(body, list):
            return _dumps([*body, padding])
        if isinstance(body, dict):
            return _dumps({**body, **padding})
        return _dumps(padding)

    def _synthetic_member(self, i: int) -> dict[str, Any]:
        uid = str(900000 + i)
        member = {"status": "Active", "name": f"Learner {uid}", "given_name": "Learner",
                  "family_name": uid, "email": f"user{uid}@example.edu"}
        if self.profile == "moodle":
            return {**member, "roles": [ROLE_LEARNER], "user_id": uid,
                    "lis_person_sourcedid": ""}
        return {**member, "user_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"canvas-user:{uid}")),
                "lti11_legacy_user_id": _sha1(f"canvas-user:{uid}"), "roles": [ROLE_LEARNER]}

    def _auth(self, scopes: Iterable[str], type_id: str | None = None) -> IssuedToken:
        """The request's token if it has any of `scopes` (both LMSs answer 401 otherwise)."""
        try:
            issued = self.check_bearer(request, list(scopes))
        except HTTPException as err:
            try:
                detail = json.loads(err.get_response().get_data() or b"{}")
            except ValueError:
                detail = {}
            raise self._auth_error(err.code or 401, detail) from None
        if (self.profile == "moodle" and type_id is not None
                and type_id != self._clients.get(issued.client_id)):
            # Moodle finds the token by (type id, scopes): another tool type's id finds none.
            raise _Abort(self._moodle_json_error(401, ""))
        return issued

    def _auth_error(self, code: int, detail: Mapping[str, Any]) -> _Abort:
        if self.profile == "moodle":
            return _Abort(self._moodle_json_error(401, ""))
        error = detail.get("error")
        if error == "invalid_request":
            message = "Missing access token"
        elif code == 403:
            message = "Insufficient permissions"
        elif "xpired" in str(detail.get("error_description", "")):
            message = "Access token expired"
        else:
            message = "Access token invalid - signature likely incorrect"
        return _Abort(self._canvas_error(401, message))

    # -- Moodle -----------------------------------------------------------------------------------

    def _moodle_json_error(self, status: int, reason: str) -> Response:
        """mod_lti response::send() for an error without a body."""
        req: dict[str, Any] = {
            "method": request.method,
            "url": request.environ.get("RAW_URI") or request.full_path,
        }
        if "Accept" in request.headers:
            req["accept"] = request.headers["Accept"]
        if request.content_type:
            req["contentType"] = request.content_type.split(";", 1)[0]
        fallback = _MOODLE_REASONS.get(status) or _MOODLE_REASONS[status // 100 * 100]
        body = {"status": status, "reason": reason or fallback, "request": req}
        return Response(json.dumps(body, indent=4), status=status,
                        content_type="application/json; charset=utf-8")

    def _moodle_answer(self, status: int, body: bytes | str = b"",
                       content_type: str | None = None) -> Response:
        """mod_lti response::send(): the content type is the resource's, else the request's."""
        if isinstance(body, str):
            body = body.encode()
        if status >= 400 and not body:
            return self._moodle_json_error(status, "")
        resp = Response(body, status=status)
        if content_type is None and request.method not in ("GET", "DELETE"):
            content_type = request.headers.get("Content-Type") or None
        if content_type:
            resp.headers["Content-Type"] = f"{content_type}; charset=utf-8"
        else:
            # PHP's default when no Content-Type header was sent.
            resp.headers["Content-Type"] = "text/html; charset=UTF-8"
        if status == 204:
            del resp.headers["Content-Type"]
        return resp

    def _moodle_fail(self, status: int, reason: str = "") -> _Abort:
        return _Abort(self._moodle_json_error(status, reason))

    def _view_moodle_services(self, rest: str) -> Response:
        if self.profile != "moodle":
            return Response("Not Found\n", status=404, content_type="text/plain")
        path = "/" + rest
        method = request.method
        strict = "strict_media_types" in self.quirks
        accept = request.headers.get("Accept", "")
        content_type = request.headers.get("Content-Type", "")
        found = None
        for name, template, formats, methods in _MOODLE_RESOURCES:
            if strict:
                if (method == "GET" and accept and "*/*" not in accept
                        and accept not in formats):
                    continue
                if method not in ("GET", "DELETE") and content_type not in formats:
                    continue
            pattern = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", pattern)
            if "prefix_routes" in self.quirks:
                matched = re.search(pattern, path) is not None
            else:
                matched = re.fullmatch(pattern + "/?", path) is not None
            if matched:
                found = (name, template, formats, methods)
                break
        if found is None:
            # services.php: no resource for this path and media type.
            self.counts.add("services_unmatched")
            return self._moodle_json_error(400, "")
        name, template, formats, methods = found
        if method not in methods:
            self.counts.add(name)
            return self._moodle_json_error(405, "")
        parts = path.split("/")
        params = {
            piece[1:-1]: (parts[i] if i < len(parts) else "")
            for i, piece in enumerate(template.split("/"))
            if piece.startswith("{") and piece.endswith("}")
        }
        handler = {
            "lineitems": self._moodle_lineitems, "lineitem": self._moodle_lineitem,
            "results": self._moodle_results, "scores": self._moodle_scores,
            "memberships": self._moodle_memberships,
        }[name]
        return self._serve(name, lambda: handler(params, formats))

    def _moodle_course(self, context_id: str) -> _Course:
        course = self._course(int(context_id)) if context_id.isdigit() else None
        if course is None:
            raise self._moodle_fail(404, f"Not Found: Course {context_id} doesn't exist")
        return course

    def _moodle_item(self, item_id: str) -> _LineItem:
        with self._svc_lock:
            item = self._items.get(int(item_id)) if item_id.isdigit() else None
        if item is None or item.deleted:
            raise self._moodle_fail(404, f"Not Found: Grade item {item_id} doesn't exist")
        return item

    def _item_json(self, item: _LineItem, type_id: str | None) -> dict[str, Any]:
        """A line item as GET shows it (Moodle item_for_json / Canvas LineItemsSerializer)."""
        url = self._item_url(item, type_id)
        if self.profile == "moodle":
            body: dict[str, Any] = {"id": url, "label": item.label,
                                    "scoreMaximum": float(item.score_maximum),
                                    "resourceId": item.resource_id or "", "tag": item.tag or ""}
            if item.resource_link_id is not None:
                body["resourceLinkId"] = item.resource_link_id
                body["ltiLinkId"] = item.resource_link_id
            return body
        body = {"id": url, "scoreMaximum": item.score_maximum, "label": item.label,
                "resourceId": item.resource_id, "tag": item.tag,
                "resourceLinkId": item.resource_link_id, **item.extensions}
        return {k: v for k, v in body.items() if v is not None}

    def _moodle_link_header(self, endpoint: str, filters: list[tuple[str, str]],
                            type_id: str | None, limit: int, frm: int, total: int) -> str:
        """lineitems.php / results.php paging links (first, prev, canonical, next, last)."""
        buggy = "link_header_bugs" in self.quirks
        sep = "&amp;" if buggy else "&"
        base = [*filters, *([("type_id", type_id)] if type_id is not None else []),
                ("limit", str(limit))]

        def url(start: int) -> str:
            pairs = [*base, ("from", str(start))]
            return endpoint + "?" + sep.join(f"{k}={quote(v, safe='')}" for k, v in pairs)

        def rel(name: str) -> str:
            return f"\u201c{name}\u201d" if buggy else f'"{name}"'

        out_of_range = frm >= total or frm < 0
        links = [f"<{url(0)}>; rel={rel('first')}"]
        if frm > 0 and not out_of_range:
            links.append(f"<{url(max(frm - limit, 0))}>; rel={rel('prev')}")
        links.append(f"<{url(frm)}>; rel={rel('canonical')}")
        if frm + limit <= total - 1 and not out_of_range:
            links.append(f"<{url(frm + limit)}>; rel={rel('next')}")
        # Moodle's last page offset really is total - limit + 1.
        links.append(f"<{url(max(total - limit + 1, 0))}>; rel={rel('last')}")
        # PHP writes the quotes as UTF-8 bytes; HTTP headers travel as latin-1, so clients get
        # those bytes (mojibake), as from the real Moodle.
        return ", ".join(links).encode("utf-8").decode("latin-1")

    def _moodle_lineitems(self, params: dict[str, str], formats: tuple[str, ...]) -> Response:
        method = request.method
        type_q = _leading_int(request.args.get("type_id"))
        scopes = [SCOPE_LINEITEM] + ([SCOPE_LINEITEM_READONLY] if method == "GET" else [])
        issued = self._auth(scopes, None if type_q is None else str(type_q))
        type_id = self._clients.get(issued.client_id, self.deployment_id)
        if "strict_media_types" in self.quirks:
            ctype = request.headers.get("Accept", "") if method == "GET" else \
                request.headers.get("Content-Type", "")
            container = not ctype or ctype == MEDIA_LINEITEM_CONTAINER
            if not (container ^ (method == "POST")) or (ctype and ctype not in formats):
                raise self._moodle_fail(400, "No context or unsupported content type")
        course = self._moodle_course(params["context_id"])
        endpoint = f"{self.base_url}/mod/lti/services.php/{course.id}/lineitems"
        if method == "GET":
            resource_id = request.args.get("resource_id")
            link_id = request.args.get("resource_link_id", request.args.get("lti_link_id"))
            tag = request.args.get("tag")
            limit, frm = _int_arg("limit"), _int_arg("from")
            with self._svc_lock:
                items = sorted((i for i in self._items.values()
                                if i.course == course.id and not i.deleted), key=lambda i: i.n)
                items = [i for i in items
                         if (tag is None or (i.tag or "") == tag)
                         and (link_id is None or (i.resource_link_id or "") == link_id)
                         and (resource_id is None or (i.resource_id or "") == resource_id)]
                total = len(items)
                page = items[frm:frm + limit] if limit > 0 else items
                body = [self._item_json(i, type_id) for i in page]
            resp = self._moodle_answer(200, _dumps(body), MEDIA_LINEITEM_CONTAINER)
            if limit > 0:
                filters = [(k, v) for k, v in (("resource_id", resource_id),
                                               ("resource_link_id", link_id), ("tag", tag))
                           if v is not None]
                resp.headers["Link"] = self._moodle_link_header(
                    endpoint, filters, type_id, limit, frm, total)
            return resp
        body = _request_json()
        if not isinstance(body, dict) or body.get("scoreMaximum") is None \
                or body.get("label") is None:
            raise self._moodle_fail(400, "No label or Score Maximum")
        if not _php_numeric(body["scoreMaximum"]):
            raise self._moodle_fail(400)
        link_id = body.get("resourceLinkId", body.get("ltiLinkId"))
        if link_id is not None and str(link_id) not in course.links:
            # check_lti_1x_id: no such activity of this tool type in the course.
            raise self._moodle_fail(403)
        item = self._new_item(
            course.id, str(body["label"]), float(body["scoreMaximum"]),
            resource_id=None if body.get("resourceId") is None else str(body["resourceId"]),
            resource_link_id=None if link_id is None else str(link_id),
            tag=None if body.get("tag") is None else str(body["tag"]))
        echo = dict(body)
        echo["id"] = self._item_url(item, type_id)
        return self._moodle_answer(201, json.dumps(echo), MEDIA_LINEITEM)

    def _moodle_lineitem(self, params: dict[str, str], formats: tuple[str, ...]) -> Response:
        method = request.method
        type_q = _leading_int(request.args.get("type_id"))
        scopes = [SCOPE_LINEITEM] + ([SCOPE_LINEITEM_READONLY] if method == "GET" else [])
        issued = self._auth(scopes, None if type_q is None else str(type_q))
        type_id = self._clients.get(issued.client_id, self.deployment_id)
        self._moodle_course(params["context_id"])
        item = self._moodle_item(params["item_id"])
        if method == "GET":
            with self._svc_lock:
                body = self._item_json(item, type_id)
            return self._moodle_answer(200, _dumps(body), MEDIA_LINEITEM)
        if method == "DELETE":
            with self._svc_lock:
                item.deleted = True
            return self._moodle_answer(204)
        body = _request_json()
        if not isinstance(body, dict) or body.get("scoreMaximum") is None \
                or body.get("label") is None or not _php_numeric(body["scoreMaximum"]):
            raise self._moodle_fail(400)
        link_id = body.get("resourceLinkId", body.get("ltiLinkId"))
        if link_id is not None:
            if not _php_numeric(link_id):
                raise self._moodle_fail(400)
            course = self._course(item.course)
            if course is None or str(link_id) not in course.links:
                raise self._moodle_fail(403)
        with self._svc_lock:
            old_max = item.score_maximum
            item.label = str(body["label"])
            item.score_maximum = float(body["scoreMaximum"])
            item.resource_id = None if body.get("resourceId") is None else str(body["resourceId"])
            item.tag = None if body.get("tag") is None else str(body["tag"])
            if link_id is not None:
                item.resource_link_id = str(link_id)
            if abs(old_max - item.score_maximum) > 1e-5 and old_max:
                # grade_item::rescale_grades_keep_percentage.
                for grade in item.grades.values():
                    if grade.score_given is not None:
                        grade.score_given = round(
                            grade.score_given * item.score_maximum / old_max, 5)
        echo = dict(body)
        echo["id"] = self._item_url(item, type_id)
        return self._moodle_answer(200, json.dumps(echo))

    def _moodle_scores(self, params: dict[str, str], formats: tuple[str, ...]) -> Response:
        self._auth([SCOPE_SCORE])
        if "strict_media_types" in self.quirks:
            ctype = request.headers.get("Content-Type", "")
            # POST needs the score media type itself, not the (empty) container default.
            container = not ctype or ctype == MEDIA_SCORE_CONTAINER
            if container or ctype not in formats:
                raise self._moodle_fail(400, "No context or unsupported content type")
        course = self._moodle_course(params["context_id"])
        item = self._moodle_item(params["item_id"])
        g.svc_score = {"line_item": self._item_url(item), "applied": False}
        score = _request_json()
        fail = self._moodle_score_error(course, score)
        if fail:
            # Inside the POST branch Moodle has already set the body to "[]".
            return self._moodle_answer(400, "[]")
        assert isinstance(score, dict)
        user_id = self._find_member(course, score["userId"]).user_id  # type: ignore[union-attr]
        parsed = _parse_time(score["timestamp"])
        at = float(int(parsed.timestamp())) if parsed else 0.0  # strtotime: whole seconds
        given = _number(score.get("scoreGiven"))
        with self._svc_lock:
            old = item.grades.get(user_id)
            if old is not None and old.at >= at:
                # Moodle keeps timemodified to the second: not newer, to the second, is refused.
                return self._moodle_answer(409, "[]")
            if given is not None and score.get("gradingProgress") != "FullyGraded":
                given = None  # Moodle clears the grade for any other grading progress
            self._store(item, user_id, score, at, given)
        g.svc_score["applied"] = True
        return self._moodle_answer(200, b"", MEDIA_SCORE)

    def _moodle_score_error(self, course: _Course, score: Any) -> bool:
        if not isinstance(score, dict) or not score:
            return True
        for name in ("userId", "timestamp", "gradingProgress", "activityProgress"):
            if score.get(name) is None:
                return True
        if not isinstance(score["timestamp"], str) or not _MOODLE_ISO8601.match(score["timestamp"]):
            return True
        if _parse_time(score["timestamp"]) is None:
            return True
        given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")
        if given is not None and (not _php_numeric(given) or maximum is None):
            return True
        if maximum is not None and not _php_numeric(maximum):
            return True
        member = self._find_member(course, score["userId"])
        # is_user_gradable_in_course: enrolled (suspended too) with a gradebook (student) role.
        return member is None or member.status == "Deleted" or not member.is_learner

    def _moodle_results(self, params: dict[str, str], formats: tuple[str, ...]) -> Response:
        type_text = request.args.get("type_id")
        type_q = _leading_int(type_text)
        self._auth([SCOPE_RESULT_READONLY], None if type_q is None else str(type_q))
        accept = request.headers.get("Accept", "")
        if "strict_media_types" in self.quirks and accept and accept not in formats:
            raise self._moodle_fail(400, "Invalid request made.")
        self._moodle_course(params["context_id"])
        item = self._moodle_item(params["item_id"])
        user_filter = _int_arg("user_id")
        limit, frm = _int_arg("limit"), _int_arg("from")
        endpoint = self._item_endpoint(item)
        with self._svc_lock:
            grades = sorted(item.grades.values(), key=lambda gr: (_leading_int(gr.user_id) or 0,
                                                                   gr.user_id))
            if user_filter > 0:
                grades = [gr for gr in grades if gr.user_id == str(user_filter)]
            total = len(grades)
            if limit > 0:
                grades = grades[frm:frm + limit]
            body = [self._moodle_result_json(gr, item, type_text) for gr in grades]
        link = None
        if limit > 0 and total:
            if type_text is not None and "results_paging_500" in self.quirks:
                return Response("<p>Exception - Call to a member function out() on null</p>\n",
                                status=500, content_type="text/html; charset=utf-8")
            link = self._moodle_link_header(endpoint + "/results", [], type_text, limit, frm,
                                            total)
        resp = self._moodle_answer(200, _dumps(body), MEDIA_RESULT_CONTAINER)
        if link:
            resp.headers["Link"] = link
        return resp

    def _moodle_result_json(self, grade: _Grade, item: _LineItem,
                            type_text: str | None) -> dict[str, Any]:
        endpoint = self._item_endpoint(item)
        query = f"?type_id={type_text}&" if type_text is not None else "?"
        body: dict[str, Any] = {"id": f"{endpoint}/results{query}user_id={grade.user_id}",
                                "userId": grade.user_id}
        empty = grade.score_given is None or (
            grade.score_given == 0 and "zero_result_no_score" in self.quirks)
        if not empty:
            body["resultScore"] = float(grade.score_given)  # type: ignore[arg-type]
            body["resultMaximum"] = float(item.score_maximum)
            if grade.comment:
                body["comment"] = grade.comment
            body["scoreOf"] = endpoint + (f"?type_id={type_text}" if type_text is not None else "")
            body["timestamp"] = datetime.fromtimestamp(grade.at, UTC).isoformat(
                timespec="seconds")
        return body

    def _moodle_memberships(self, params: dict[str, str], formats: tuple[str, ...]) -> Response:
        self._auth([SCOPE_NRPS], params["tool_code"])
        course = self._moodle_course(params["context_id"])
        rlid = request.args.get("rlid", "")
        if rlid and rlid not in course.links:
            raise self._moodle_fail(404)
        role = request.args.get("role", "")
        limit, frm = _int_arg("limit"), _int_arg("from")
        if limit <= 0:
            frm = 0
        if role and not role.startswith(("http://", "https://")):
            role = MEMBERSHIP_ROLE_PREFIX + role
        since = _leading_int(request.args.get("since")) if self.nrps_differences else None
        endpoint = (f"{self.base_url}/mod/lti/services.php/{params['context_type']}/"
                    f"{params['context_id']}/bindings/{params['tool_code']}/memberships")
        with self._svc_lock:
            rows = self._nrps_rows(course, since)
            if role == ROLE_INSTRUCTOR:
                rows = [m for m in rows if m.is_instructor]
            elif role == ROLE_LEARNER:
                rows = [m for m in rows if not m.is_instructor]
            # Any other role filters nothing: Moodle only knows Instructor and Learner.
            more = limit > 0 and len(rows) > frm + limit
            page = rows[frm:frm + limit] if limit > 0 else rows
            members = [self._moodle_member(m, rlid) for m in page]
            seq = course.seq
            body = {"id": endpoint,
                    "context": {"id": str(course.id), "label": course.label,
                                "title": course.title},
                    "members": members}
        links = []
        if more:
            query = [("limit", str(limit)), ("from", str(frm + limit))]
            if rlid:
                query.append(("rlid", rlid))
            if role and "nrps_next_drops_role" not in self.quirks:
                query.append(("role", request.args["role"]))
            if since is not None:
                query.append(("since", str(since)))
            links.append(f'<{endpoint}?{urlencode(query)}>; rel="next"')
        elif self.nrps_differences:
            links.append(f'<{endpoint}?since={seq}>; rel="differences"')
        resp = self._moodle_answer(200, _dumps(body), MEDIA_MEMBERSHIP_CONTAINER)
        if links:
            resp.headers["Link"] = ", ".join(links)
        return resp

    def _nrps_rows(self, course: _Course, since: int | None) -> list[CourseMember]:
        members = sorted(course.members.values(),
                         key=lambda m: (_leading_int(m.user.id) or 0, m.user.id))
        if since is not None:
            return [m for m in members if m.changed > since]
        # Both LMSs list active enrolments only (get_enrolled_users onlyactive; active_users).
        return [m for m in members if m.status == "Active"]

    def _moodle_member(self, member: CourseMember, rlid: str) -> dict[str, Any]:
        user = member.user
        row: dict[str, Any] = {
            "status": member.status,
            "roles": list(member.roles),
            "user_id": user.id,
            "lis_person_sourcedid": "",
            "name": user.name,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
        }
        if rlid:
            row["message"] = [{CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"}]
        return row

    # -- Canvas -----------------------------------------------------------------------------------

    def _canvas_error(self, status: int, message: str) -> Response:
        body = {"errors": {"type": _CANVAS_STATUS.get(status, str(status)), "message": message}}
        return Response(_dumps(body), status=status, content_type="application/json; charset=utf-8")

    def _canvas_not_found(self) -> _Abort:
        return _Abort(Response(_dumps(_CANVAS_NOT_FOUND), status=404,
                               content_type="application/json; charset=utf-8"))

    @staticmethod
    def _canvas_json(status: int, body: Any, media: str) -> Response:
        return Response(_dumps(body), status=status, content_type=f"{media}; charset=utf-8")

    def _view_canvas_services(self, rest: str) -> Response:
        if self.profile != "canvas":
            return Response("Not Found\n", status=404, content_type="text/plain")
        for name, pattern, methods in _CANVAS_ROUTES:
            match = pattern.fullmatch(rest)
            if match and request.method in methods:
                groups = match.groups()
                handler = {
                    "lineitems": self._canvas_lineitems, "lineitem": self._canvas_lineitem,
                    "scores": self._canvas_scores, "results": self._canvas_results,
                    "memberships": self._canvas_memberships,
                }[name]
                # Called before the loop goes on: the late binding is safe.
                return self._serve(name, lambda: handler(*groups))  # noqa: B023
        # Rails: no route.
        self.counts.add("services_unmatched")
        return self._canvas_not_found().response

    def _canvas_params(self) -> dict[str, Any]:
        # Rails parses JSON bodies for application/json and the registered LTI media types.
        media = _media_type(request.headers.get("Content-Type"))
        if media == "application/json" or (media.startswith("application/vnd.ims.")
                                           and media.endswith("+json")):
            body = _request_json()
            if isinstance(body, dict):
                return body
        return {}

    def _canvas_course(self, course_id: str) -> _Course:
        course = self._course(int(course_id))
        if course is None:
            raise self._canvas_not_found()
        return course

    def _canvas_item(self, course: _Course, item_id: str) -> _LineItem:
        with self._svc_lock:
            item = self._items.get(int(item_id))
        if item is None or item.deleted or item.course != course.id:
            raise self._canvas_not_found()
        return item

    def _canvas_page(self, rows: list[Any], base: str, *, default: int, maximum: int,
                     with_last: bool) -> tuple[list[Any], str]:
        """Api.paginate: page/per_page (LTI's limit sets per_page), Link current/next/first."""
        limit = _int_arg("limit")
        per_page = limit if limit > 0 else _int_arg("per_page", default)
        per_page = max(1, min(per_page if per_page > 0 else default, maximum))
        page = max(1, _int_arg("page", 1))
        keep = [(k, v) for k, v in request.args.items(multi=True)
                if k not in ("page", "per_page", "limit")]

        def url(n: int) -> str:
            return base + "?" + urlencode([*keep, ("page", str(n)), ("per_page", str(per_page))])

        total = len(rows)
        last = max(1, math.ceil(total / per_page))
        links = [f'<{url(page)}>; rel="current"']
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
        if page > 1:
            links.append(f'<{url(page - 1)}>; rel="prev"')
        links.append(f'<{url(1)}>; rel="first"')
        if with_last:
            links.append(f'<{url(last)}>; rel="last"')
        start = (page - 1) * per_page
        return rows[start:start + per_page], ",".join(links)

    def _canvas_lineitems(self, course_id: str) -> Response:
        method = request.method
        self._auth([SCOPE_LINEITEM] + ([SCOPE_LINEITEM_READONLY] if method == "GET" else []))
        course = self._canvas_course(course_id)
        base = f"{self.base_url}/api/lti/courses/{course.id}/line_items"
        if method == "GET":
            tag = request.args.get("tag")
            resource_id = request.args.get("resource_id")
            link_id = request.args.get("resource_link_id")
            with self._svc_lock:
                items = sorted((i for i in self._items.values()
                                if i.course == course.id and not i.deleted), key=lambda i: i.n)
                items = [i for i in items
                         if (tag is None or i.tag == tag)
                         and (resource_id is None or i.resource_id == resource_id)
                         and (link_id is None or i.resource_link_id == link_id)]
                page, link = self._canvas_page(items, base, default=10, maximum=50,
                                               with_last=True)
                body = [self._item_json(i, None) for i in page]
            resp = self._canvas_json(200, body, MEDIA_LINEITEM_CONTAINER)
            resp.headers["Link"] = link
            return resp
        params = self._canvas_params()
        label, maximum = params.get("label"), _number(params.get("scoreMaximum"))
        if not isinstance(label, str) or not label or maximum is None or maximum <= 0:
            raise _Abort(self._canvas_error(
                400, "label and scoreMaximum (a number > 0) are required"))
        link_id = params.get("resourceLinkId")
        if link_id is not None and str(link_id) not in course.links:
            raise self._canvas_not_found()
        extensions = {}
        if isinstance(params.get(EXT_SUBMISSION_TYPE), dict):
            ext = params[EXT_SUBMISSION_TYPE]
            extensions[EXT_SUBMISSION_TYPE] = {k: ext[k] for k in ("type", "external_tool_url")
                                               if k in ext}
        item = self._new_item(
            course.id, label, maximum,
            resource_id=None if params.get("resourceId") is None else str(params["resourceId"]),
            resource_link_id=None if link_id is None else str(link_id),
            tag=None if params.get("tag") is None else str(params["tag"]),
            extensions=extensions)
        return self._canvas_json(201, self._item_json(item, None), MEDIA_LINEITEM)

    def _canvas_lineitem(self, course_id: str, item_id: str) -> Response:
        method = request.method
        self._auth([SCOPE_LINEITEM] + ([SCOPE_LINEITEM_READONLY] if method == "GET" else []))
        course = self._canvas_course(course_id)
        item = self._canvas_item(course, item_id)
        if method == "GET":
            with self._svc_lock:
                return self._canvas_json(200, self._item_json(item, None), MEDIA_LINEITEM)
        if method == "DELETE":
            if item.coupled:
                # An assignment's own line item: `head :unauthorized`.
                return Response(b"", status=401)
            with self._svc_lock:
                item.deleted = True
            return Response(b"", status=204)
        params = self._canvas_params()
        link_id = params.get("resourceLinkId")
        if link_id is not None and str(link_id) != item.resource_link_id:
            raise _Abort(self._canvas_error(
                412, "The specified LTI link ID is not associated with the line item."))
        maximum = _number(params.get("scoreMaximum"))
        if "scoreMaximum" in params and (maximum is None or maximum <= 0):
            raise _Abort(self._canvas_error(400, "scoreMaximum must be a number > 0"))
        with self._svc_lock:
            if isinstance(params.get("label"), str) and params["label"]:
                item.label = params["label"]
            if maximum is not None:
                item.score_maximum = maximum  # points_possible; Canvas keeps the scores
            for key, attr in (("resourceId", "resource_id"), ("tag", "tag")):
                if key in params:
                    setattr(item, attr, None if params[key] is None else str(params[key]))
            return self._canvas_json(200, self._item_json(item, None), MEDIA_LINEITEM)

    def _canvas_user(self, course: _Course, raw: Any) -> CourseMember | None:
        """GradebookServices#user: by lti_id, or by numeric Canvas id given as a string."""
        if not isinstance(raw, str):
            return None
        member = course.members.get(raw)
        if member is None and raw.isdigit():
            member = next((m for m in course.members.values() if m.user.id == raw), None)
        return member

    def _canvas_scores(self, course_id: str, item_id: str) -> Response:
        self._auth([SCOPE_SCORE])
        course = self._canvas_course(course_id)
        item = self._canvas_item(course, item_id)
        g.svc_score = {"line_item": self._item_url(item), "applied": False}
        params = self._canvas_params()
        # Canvas's before_actions, in their order.
        member = self._canvas_user(course, params.get("userId"))
        if member is None or member.status != "Active" or not member.is_learner:
            raise _Abort(self._canvas_error(422, "User not found in course or is not a student"))
        for name in ("userId", "activityProgress", "gradingProgress", "timestamp"):
            if params.get(name) in (None, ""):
                raise _Abort(self._canvas_error(400, f"{name} is missing"))
        stamp = _parse_time(params["timestamp"])
        if stamp is None:
            raise _Abort(self._canvas_error(
                400, f"Provided timestamp of {params['timestamp']} not a valid timestamp"))
        ignore = params.get("gradingProgress") not in ("FullyGraded", "PendingManual") \
            or params.get("scoreGiven") is None
        if not ignore:
            maximum = _number(params.get("scoreMaximum"))
            if "scoreMaximum" not in params:
                raise _Abort(self._canvas_error(
                    422, "ScoreMaximum not supplied when ScoreGiven present."))
            if maximum is None or maximum < 0:
                raise _Abort(self._canvas_error(
                    422, "ScoreMaximum must be greater than or equal to 0"))
        submission = params.get(EXT_SUBMISSION)
        if isinstance(submission, dict) and submission.get("submitted_at") is not None:
            submitted = _parse_time(submission["submitted_at"])
            if submitted is None:
                raise _Abort(self._canvas_error(
                    400, f"Provided submitted_at timestamp of {submission['submitted_at']} "
                         "not a valid timestamp"))
            if submitted.timestamp() > time.time() + 60:
                raise _Abort(self._canvas_error(
                    400, f"Provided submitted_at timestamp of {submission['submitted_at']} "
                         "in the future"))
        at = stamp.timestamp()
        with self._svc_lock:
            old = item.grades.get(member.user_id)
            if old is not None and old.at > at:
                last = datetime.fromtimestamp(old.at, UTC).isoformat(
                    timespec="milliseconds")
                raise _Abort(self._canvas_error(
                    400, f"Provided timestamp of {params['timestamp']} before last updated "
                         f"timestamp of {last}"))
            given = None if ignore else _number(params.get("scoreGiven"))
            grade = self._store(item, member.user_id, params, at, given)
        g.svc_score["applied"] = True
        body = {"resultUrl": f"{self._item_endpoint(item)}/results/{grade.result_id}"}
        return self._canvas_json(200, body, MEDIA_SCORE)

    def _canvas_result_json(self, item: _LineItem, grade: _Grade) -> dict[str, Any]:
        url = self._item_endpoint(item)
        body = {"id": f"{url}/results/{grade.result_id}", "scoreOf": url,
                "userId": grade.user_id, "resultScore": grade.raw_given,
                "resultMaximum": grade.raw_maximum, "comment": grade.comment,
                **grade.extensions}
        return {k: v for k, v in body.items() if v is not None}

    def _canvas_results(self, course_id: str, item_id: str, result_id: str | None) -> Response:
        self._auth([SCOPE_RESULT_READONLY])
        course = self._canvas_course(course_id)
        item = self._canvas_item(course, item_id)
        with self._svc_lock:
            grades = sorted(item.grades.values(), key=lambda gr: gr.result_id)
            if result_id is not None:
                grade = next((gr for gr in grades if gr.result_id == int(result_id)), None)
                if grade is None:
                    raise self._canvas_not_found()
                return self._canvas_json(200, self._canvas_result_json(item, grade),
                                         MEDIA_RESULT_CONTAINER)
            if "user_id" in request.args:
                member = self._canvas_user(course, request.args["user_id"])
                if member is None or not member.is_learner:
                    return self._canvas_json(200, [], MEDIA_RESULT_CONTAINER)
                grades = [gr for gr in grades if gr.user_id == member.user_id]
            page, link = self._canvas_page(grades, self._item_endpoint(item) + "/results",
                                           default=10, maximum=50, with_last=True)
            body = [self._canvas_result_json(item, gr) for gr in page]
        resp = self._canvas_json(200, body, MEDIA_RESULT_CONTAINER)
        resp.headers["Link"] = link
        return resp

    def _canvas_memberships(self, course_id: str) -> Response:
        self._auth([SCOPE_NRPS])
        course = self._canvas_course(course_id)
        course_rlid = _sha1(f"canvas-course:{course.id}")
        rlid = request.args.get("rlid", "")
        if rlid and rlid != course_rlid and rlid not in course.links:
            raise _Abort(self._canvas_error(
                400, "Tool does not have access to rlid or rlid does not exist"))
        role = request.args.get("role", "")
        if role and "://" not in role and "role_filter_full_uri" not in self.quirks:
            role = MEMBERSHIP_ROLE_PREFIX + role
        since = _leading_int(request.args.get("since")) if self.nrps_differences else None
        base = f"{self.base_url}/api/lti/courses/{course.id}/names_and_roles"
        with self._svc_lock:
            rows = self._nrps_rows(course, since)
            if role:
                # Unknown (or short) role names filter out everybody (`scope.none`).
                rows = [m for m in rows if role in m.roles]
            page, link = self._canvas_page(rows, base, default=50, maximum=50, with_last=False)
            with_message = bool(rlid) and rlid != course_rlid
            members = [self._canvas_member(m, with_message) for m in page]
            is_last = 'rel="next"' not in link
            seq = course.seq
            body = {"id": request.url,
                    "context": {"id": course_rlid, "label": course.label, "title": course.title},
                    "members": members}
        if is_last and self.nrps_differences:
            link += f',<{base}?since={seq}>; rel="differences"'
        resp = self._canvas_json(200, body, MEDIA_MEMBERSHIP_CONTAINER)
        resp.headers["Link"] = link
        return resp

    def _canvas_member(self, member: CourseMember, with_message: bool) -> dict[str, Any]:
        user = member.user
        row: dict[str, Any] = {
            "status": member.status,
            "name": user.name,
            "picture": "https://canvas.instructure.com/images/messages/avatar-50.png",
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "user_id": user.sub,
            "lti11_legacy_user_id": user.opaque_id,
            "roles": list(member.roles),
        }
        if with_message:
            row["message"] = [{CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest",
                               "https://purl.imsglobal.org/spec/lti/claim/custom": {}}]
        return row


__all__ = [
    "BAD_ANSWERS",
    "DEFAULT_QUIRKS",
    "EXT_SUBMISSION",
    "EXT_SUBMISSION_TYPE",
    "FAIL_KINDS",
    "MEDIA_LINEITEM",
    "MEDIA_LINEITEM_CONTAINER",
    "MEDIA_MEMBERSHIP_CONTAINER",
    "MEDIA_RESULT_CONTAINER",
    "MEDIA_SCORE",
    "MEMBER_STATUSES",
    "QUIRKS",
    "SERVICE_ENDPOINTS",
    "CourseMember",
    "Faults",
    "ScoreLogEntry",
    "ServicesMixin",
]
