"""Whole-gradebook connectors: a student's course totals from Moodle Web Services or Canvas REST.

AGS shows a tool only its own line items; where an institution gives the tool an API token,
these read the totals of every course, so GPA covers all of them.

Who is who (the LTI `sub` of the student is all we know):
- Moodle: `sub` is the numeric Moodle user id, which the web service functions take as `userid`.
- Canvas: `sub` is the user's LTI 1.3 id (a UUID); the REST API accepts it as
  `lti_1_3_id:<sub>` wherever a user id goes (Canvas "Object IDs"), so no custom variable
  (`canvas_user_id`) or LTI 1.1 id is needed, and a launch is not required first.

Every call goes through the app's one HTTP session (timeouts); anything but the documented
answer (HTML, truncated JSON, 401, a Moodle `exception` document, a timeout) is a
ConnectorError with a message that names what came, and a pull logs it and carries on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from cryptography.fernet import MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ToolError, UpstreamError
from ..http import body_digest
from ..lti.models import Context, Membership, User
from ..lti.roles import ToolRole
from .connector_models import Connector, ExternalCourseGrade
from .credentials import decrypt_token
from .gpa import course_percent
from .policy import academic_year_of

log = logging.getLogger(__name__)

KINDS = ("moodle", "canvas")
MAX_BODY_BYTES = 8 << 20  # one student's courses; far more than any real answer
MAX_PAGES = 50  # Canvas pages of 100: 5,000 enrollments for one student is not real data
# Moodle errorcodes that fail every call the same way: no point asking for the next student.
MOODLE_FATAL_ERRORS = {"invalidtoken", "accessexception", "servicenotavailable",
                       "enablewsdescription", "invalidtimedtoken", "sitemaintenance",
                       "usernotfullysetup", "webservicesnotenabled"}


class ConnectorError(UpstreamError):
    """The LMS REST API did not answer as documented; `fatal`: every other call would fail too."""

    code = "connector_error"

    def __init__(self, message: str, *, fatal: bool = False):
        super().__init__(message, detail=message)
        self.fatal = fatal


@dataclass(frozen=True)
class CourseTotal:
    """One course of a student as the LMS gradebook has it."""

    lms_course_id: str
    name: str
    code: str
    academic_year: str
    percent: Decimal | None
    grade_text: str


def _read_limited(response: requests.Response, what: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ConnectorError(f"{what}: the answer is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _request_json(http: requests.Session, method: str, url: str, what: str,
                  **kwargs: Any) -> tuple[Any, requests.Response]:
    """One call; its JSON body, or a ConnectorError that says what came instead."""
    try:
        with http.request(method, url, stream=True, **kwargs) as response:
            body = _read_limited(response, what)
    except requests.Timeout as err:
        raise ConnectorError(f"{what}: no answer from {urlsplit(url).netloc} in time",
                             fatal=True) from err
    except requests.ConnectionError as err:
        raise ConnectorError(f"{what}: cannot connect to {urlsplit(url).netloc} "
                             f"({err.__class__.__name__})", fatal=True) from err
    except requests.RequestException as err:
        raise ConnectorError(f"{what}: {err.__class__.__name__}") from err
    status = response.status_code
    content_type = response.headers.get("Content-Type", "")
    # Never the body itself: it is shown to staff and kept in logs (a digest identifies it).
    snippet = body_digest(body)
    if status in (401, 403):
        raise ConnectorError(f"{what}: the LMS refused the token (HTTP {status}): {snippet}",
                             fatal=True)
    if status == 404:
        raise ConnectorError(f"{what}: not found (HTTP 404): {snippet}")
    if not 200 <= status < 300:
        raise ConnectorError(f"{what}: HTTP {status}: {snippet}", fatal=status >= 500)
    if "json" not in content_type.lower():
        raise ConnectorError(f"{what}: expected JSON, got {content_type or 'no content type'}: "
                             f"{snippet}")
    try:
        return json.loads(body), response
    except (ValueError, RecursionError) as err:
        raise ConnectorError(f"{what}: invalid or truncated JSON ({err})") from err


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _percent_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01'))} %"


class MoodleClient:
    """Moodle Web Services over REST (`wstoken`, `moodlewsrestformat=json`)."""

    kind = "moodle"

    def __init__(self, http: requests.Session, base_url: str, token: str):
        self.http = http
        self.endpoint = base_url.rstrip("/") + "/webservice/rest/server.php"
        self._token = token

    def call(self, function: str, **params: Any) -> Any:
        """Call one web service function; a Moodle `exception` answer is a ConnectorError."""
        # POST: the token stays out of URLs, so out of proxy and server access logs.
        data = {"wstoken": self._token, "wsfunction": function, "moodlewsrestformat": "json",
                **params}
        body, _response = _request_json(self.http, "POST", self.endpoint, f"Moodle {function}",
                                        data=data)
        if isinstance(body, dict) and "exception" in body:
            code = str(body.get("errorcode") or body.get("exception"))
            raise ConnectorError(f"Moodle {function}: {code}: {body.get('message', '')}",
                                 fatal=code in MOODLE_FATAL_ERRORS)
        return body

    def course_totals(self, user_sub: str, start_month: int, zone: tzinfo) -> list[CourseTotal]:
        """The user's courses (core_enrol_get_users_courses) with their totals (overview report)."""
        if not user_sub.isdigit():
            raise ConnectorError(f"Moodle user ids are numbers; {user_sub!r} is not one")
        courses = self.call("core_enrol_get_users_courses", userid=user_sub)
        if not isinstance(courses, list) or not all(isinstance(c, dict) and "id" in c
                                                    for c in courses):
            raise ConnectorError("Moodle core_enrol_get_users_courses: expected a list of courses")
        report = self.call("gradereport_overview_get_course_grades", userid=user_sub)
        grades = report.get("grades") if isinstance(report, dict) else None
        if not isinstance(grades, list) or not all(isinstance(g, dict) and "courseid" in g
                                                   for g in grades):
            raise ConnectorError("Moodle gradereport_overview_get_course_grades: expected "
                                 "{grades: [{courseid, grade, rawgrade}], warnings}")
        by_course = {str(g["courseid"]): g for g in grades}
        totals = []
        for course in courses:
            course_id = str(course["id"])
            grade = by_course.get(course_id, {})
            start = course.get("startdate")
            year = (academic_year_of(datetime.fromtimestamp(int(start), zone), start_month)
                    if isinstance(start, int) and start > 0 else "")
            percent, text = self._percent(course_id, user_sub, grade)
            totals.append(CourseTotal(
                lms_course_id=course_id, name=str(course.get("fullname") or ""),
                code=str(course.get("shortname") or ""), academic_year=year,
                percent=percent, grade_text=text))
        return totals

    def _percent(self, course_id: str, user_sub: str,
                 grade: dict) -> tuple[Decimal | None, str]:
        text = str(grade.get("grade") or "")
        if _number(grade.get("rawgrade")) is None:
            return None, text  # no course total yet ("-")
        # The overview prints the total as the course's display type says; when that shows a
        # percentage ("85.00 %", "Real (percentage)") it is the answer, whatever the maximum.
        shown = re.search(r"(\d+(?:[.,]\d+)?)\s*%", text)
        if shown:
            return _number(shown.group(1).replace(",", ".")), text
        # Otherwise rawgrade is on the course total's own range (Natural aggregation sums the
        # items, so not 100): the user report gives that range.
        report = self.call("gradereport_user_get_grade_items", courseid=course_id,
                           userid=user_sub)
        usergrades = report.get("usergrades") if isinstance(report, dict) else None
        items = (usergrades[0].get("gradeitems") if isinstance(usergrades, list) and usergrades
                 and isinstance(usergrades[0], dict) else None)
        total = next((i for i in items or [] if isinstance(i, dict)
                      and i.get("itemtype") == "course"), None)
        if total is None:
            raise ConnectorError(f"Moodle gradereport_user_get_grade_items: course {course_id} "
                                 f"has no course total item")
        low, high = _number(total.get("grademin")) or Decimal(0), _number(total.get("grademax"))
        raw = _number(total.get("graderaw"))
        if raw is None:
            raw = _number(grade.get("rawgrade"))
        if high is None or high <= low or raw is None:
            return None, text
        return course_percent(raw - low, high - low), text


class CanvasClient:
    """Canvas REST API with a Bearer token; pages follow `Link: <...>; rel="next"`."""

    kind = "canvas"

    def __init__(self, http: requests.Session, base_url: str, token: str):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._origin = urlsplit(self.base_url)[:2]
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def pages(self, path: str, params: list[tuple[str, str]]) -> Iterator[Any]:
        """Every page of a paginated list, each a JSON list."""
        url: str | None = self.base_url + path
        seen: set[str] = set()
        first = True
        while url:
            if len(seen) >= MAX_PAGES:
                raise ConnectorError(f"Canvas {path}: more than {MAX_PAGES} pages")
            seen.add(url)
            body, response = _request_json(self.http, "GET", url, f"Canvas {path}",
                                           headers=self._headers,
                                           params=params if first else None)
            first = False
            if not isinstance(body, list):
                raise ConnectorError(f"Canvas {path}: expected a list, got {type(body).__name__}")
            yield body
            link = response.links.get("next", {}).get("url")
            if link and urlsplit(link)[:2] != self._origin:
                # The token goes only to the host it was issued for.
                raise ConnectorError(f"Canvas {path}: next page on another host "
                                     f"({urlsplit(link).netloc}); not followed")
            url = link if link and link not in seen else None

    def course_totals(self, user_sub: str, start_month: int, zone: tzinfo) -> list[CourseTotal]:
        """Student enrollments with grades, named by the user's courses (with their terms)."""
        user = quote(f"lti_1_3_id:{user_sub}", safe=":")
        enrollments = [e for page in self.pages(
            f"/api/v1/users/{user}/enrollments",
            [("type[]", "StudentEnrollment"), ("state[]", "active"), ("state[]", "completed"),
             ("per_page", "100")]) for e in page]
        courses = {str(c.get("id")): c for page in self.pages(
            f"/api/v1/users/{user}/courses",
            [("include[]", "term"), ("state[]", "available"), ("state[]", "completed"),
             ("per_page", "100")]) for c in page if isinstance(c, dict)}
        totals: dict[str, CourseTotal] = {}
        for enrollment in enrollments:
            if not isinstance(enrollment, dict) or enrollment.get("course_id") is None:
                raise ConnectorError("Canvas enrollments: an enrollment without course_id")
            course_id = str(enrollment["course_id"])
            percent, text = self._score(enrollment)
            if course_id in totals and totals[course_id].percent is not None:
                continue  # several sections of one course: the first graded one counts
            course = courses.get(course_id, {})
            totals[course_id] = CourseTotal(
                lms_course_id=course_id, name=str(course.get("name") or ""),
                code=str(course.get("course_code") or ""),
                academic_year=self._academic_year(course, start_month, zone),
                percent=percent, grade_text=text)
        return list(totals.values())

    @staticmethod
    def _score(enrollment: dict) -> tuple[Decimal | None, str]:
        grades = enrollment.get("grades")
        if not isinstance(grades, dict):
            return None, ""
        # An instructor's final grade override wins; a concluded course counts ungraded work
        # as zero (final_score); a running one shows what is graded so far (current_score).
        completed = enrollment.get("enrollment_state") == "completed"
        for score_key, grade_key in (("override_score", "override_grade"),
                                     ("final_score" if completed else "current_score",
                                      "final_grade" if completed else "current_grade")):
            score = _number(grades.get(score_key))
            if score is not None:
                return score, str(grades.get(grade_key) or _percent_text(score))
        return None, ""

    @staticmethod
    def _academic_year(course: dict, start_month: int, zone: tzinfo) -> str:
        term = course.get("term")
        if not isinstance(term, dict):
            term = {}
        for value in (term.get("start_at"), course.get("start_at")):
            if isinstance(value, str) and value:
                try:
                    start = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    continue
                if start.tzinfo is None:
                    start = start.replace(tzinfo=UTC)
                return academic_year_of(start.astimezone(zone), start_month)
        return ""


def client_for(http: requests.Session, connector: Connector,
               cipher: MultiFernet) -> MoodleClient | CanvasClient:
    """The API client of a connector, its token decrypted."""
    token = decrypt_token(cipher, connector.token_encrypted)
    if connector.kind == "moodle":
        return MoodleClient(http, connector.base_url, token)
    if connector.kind == "canvas":
        return CanvasClient(http, connector.base_url, token)
    raise ConnectorError(f"unknown connector kind {connector.kind!r}", fatal=True)


def store_course_totals(db: Session, connector: Connector, user: User,
                        totals: list[CourseTotal]) -> None:
    """Replace the user's stored totals from this connector (the LMS is the record)."""
    rows = {row.lms_course_id: row for row in db.scalars(
        select(ExternalCourseGrade).where(ExternalCourseGrade.user_id == user.id,
                                          ExternalCourseGrade.connector_id == connector.id))}
    now = utcnow()
    for total in totals:
        row = rows.pop(total.lms_course_id, None)
        if row is None:
            row = ExternalCourseGrade(user_id=user.id, connector_id=connector.id,
                                      lms_course_id=total.lms_course_id[:64])
            db.add(row)
        row.course_name = total.name[:512]
        row.course_code = total.code[:255]
        row.academic_year = total.academic_year
        row.percent = None if total.percent is None else float(total.percent)
        row.grade_text = total.grade_text[:64]
        row.pulled_at = now
    for gone in rows.values():  # no longer enrolled (or the course was deleted)
        db.delete(gone)


@dataclass
class PullSummary:
    """What a connector pull did."""

    users: int = 0
    courses: int = 0
    failed: int = 0
    stopped: str = ""  # the fatal error that ended the pull early

    @property
    def ok(self) -> bool:
        """True when every user was read."""
        return not self.failed and not self.stopped


def learners_of_platform(db: Session, platform_id: int) -> list[User]:
    """Users who are learners in some course of the platform (whose GPA anyone looks at)."""
    return list(db.scalars(
        select(User).where(User.platform_id == platform_id, User.id.in_(
            select(Membership.user_id).join(Context, Context.id == Membership.context_id).where(
                Context.platform_id == platform_id, Membership.role == ToolRole.LEARNER.value)))
        .order_by(User.id)))


def pull_connector(db: Session, http: requests.Session, cipher: MultiFernet,
                   connector: Connector, users: list[User], *, start_month: int,
                   zone: tzinfo) -> PullSummary:
    """Read and store course totals for `users`; errors are logged and counted, never raised."""
    summary = PullSummary()
    errors: list[str] = []
    try:
        client = client_for(http, connector, cipher)
    except ToolError as err:  # a token that cannot be decrypted, an unknown kind
        summary.stopped = str(err)
    if not summary.stopped:
        for user in users:
            try:
                totals = client.course_totals(user.sub, start_month, zone)
            except ConnectorError as err:
                # User ids only: names and grades are personal data.
                log.error("connector %s (%s) for user %s: %s", connector.id, connector.kind,
                          user.id, err)
                summary.failed += 1
                errors.append(str(err))
                if err.fatal:
                    summary.stopped = str(err)
                    break
                continue
            store_course_totals(db, connector, user, totals)
            db.commit()  # each student's totals are kept even if a later one fails
            summary.users += 1
            summary.courses += len(totals)
    if summary.stopped:
        log.error("connector %s (%s) pull stopped: %s", connector.id, connector.kind,
                  summary.stopped)
    connector.last_pull_at = utcnow()
    connector.last_error = (summary.stopped or (errors[-1] if errors else ""))[:2000]
    db.commit()
    return summary
