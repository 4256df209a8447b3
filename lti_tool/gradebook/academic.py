"""A student's academic record: per course percent, letter, points, credits; GPA; progression.

Two sources, read in at most three queries whatever the number of courses:
- courses where the tool is placed: the student's Result on the course's final-grade line item
  (CourseGrading), with the credits and academic year the instructor set;
- with a whole-gradebook connector: the LMS's course totals (ExternalCourseGrade).
A course present in both counts once, from the tool's own final line item (the instructor chose
it); an LMS course total takes credits and academic year from the course's CourseGrading when
the tool is placed there, else the configured defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..calendar import AcademicYear, StudentYears
from ..lti.models import Context, Membership, ResourceLink, User
from ..lti.roles import ToolRole
from ..portfolio.access import teaches
from ..portfolio.models import Portfolio
from ..portfolio.years import student_years
from .connector_models import Connector, ExternalCourseGrade
from .gpa import (
    Credited,
    ProgressionCheck,
    academic_level,
    band_for_percent,
    check_progression,
    course_percent,
    gpa,
    study_years,
    to_decimal,
)
from .models import CourseGrading, LineItem, Result
from .policy import GradeBand, GradingPolicy

TOOL_SOURCE = "tool"


@dataclass(frozen=True)
class CourseLine:
    """One course of the record; `band` is None while the course has no grade."""

    title: str
    source: str  # "tool", or the connector kind ("moodle", "canvas")
    academic_year: str  # "" when nobody set it
    credits: Decimal
    percent: Decimal | None
    band: GradeBand | None
    lms_grade: str = ""  # the total as the LMS prints it (connectors)

    @property
    def counts(self) -> bool:
        """True when the course counts towards GPA (graded and carrying credits)."""
        return self.band is not None and self.credits > 0


@dataclass(frozen=True)
class YearRecord:
    """One academic year: its courses, GPA and the progression check it decides."""

    academic_year: str
    study_year: int | None
    courses: tuple[CourseLine, ...]
    credits: Decimal
    gpa: Decimal | None
    level: str | None
    progression: ProgressionCheck | None  # moving on to study_year + 1

    @property
    def below_threshold(self) -> bool:
        """True when the year's GPA is below what moving on requires."""
        return self.progression is not None and not self.progression.passed


@dataclass(frozen=True)
class AcademicRecord:
    """A student's record, newest academic year first, with the cumulative GPA."""

    user_id: int
    programme_level: str
    years: tuple[YearRecord, ...]
    credits: Decimal
    gpa: Decimal | None
    level: str | None

    @property
    def progression_warning(self) -> YearRecord | None:
        """The latest academic year whose GPA is below its progression threshold, if any."""
        dated = [y for y in self.years if y.study_year is not None]
        return dated[0] if dated and dated[0].below_threshold else None


def _line(title: str, source: str, year: str, credits: Decimal, percent: Decimal | None,
          policy: GradingPolicy, lms_grade: str = "",
          bands: dict[Decimal, GradeBand] | None = None) -> CourseLine:
    """A course line; `bands` memoises percent -> band over many students' lines."""
    if percent is None:
        band = None
    elif bands is None:
        band = band_for_percent(percent, policy.scale)
    else:
        band = bands.get(percent)
        if band is None:
            band = bands[percent] = band_for_percent(percent, policy.scale)
    return CourseLine(title=title, source=source, academic_year=year, credits=credits,
                      percent=percent, band=band, lms_grade=lms_grade)


def _credits(value: float | None, policy: GradingPolicy) -> Decimal:
    return policy.default_credits if value is None else to_decimal(value)


def _tool_courses(db: Session, user_id: int,
                  policy: GradingPolicy) -> tuple[list[CourseLine], set[int]]:
    rows = db.execute(
        select(Context.id, Context.title, Context.label, CourseGrading.credits,
               CourseGrading.academic_year, LineItem.score_maximum, Result.result_score,
               Result.result_maximum)
        .join(CourseGrading, CourseGrading.context_id == Context.id)
        .join(LineItem, LineItem.id == CourseGrading.final_line_item_id)
        .join(Result, (Result.line_item_id == LineItem.id) & (Result.user_id == user_id))
        .order_by(Context.title, Context.id)
    ).all()
    lines = []
    for row in rows:
        # AGS: resultMaximum may be absent; then the line item's scoreMaximum is the scale.
        percent = course_percent(row.result_score, row.result_maximum or row.score_maximum)
        lines.append(_line(row.title or row.label, TOOL_SOURCE, row.academic_year or "",
                           _credits(row.credits, policy), percent, policy))
    return lines, {row.id for row in rows}


PlacedCourse = tuple[int, float | None, str]  # context id, credits, academic year


def _lms_course_ids(db: Session, user_id: int) -> dict[tuple[str, str], PlacedCourse]:
    """(connector kind, LMS course id) -> the student's course where the tool is placed."""
    rows = db.execute(
        select(Context.id, Context.context_id, CourseGrading.credits, CourseGrading.academic_year,
               ResourceLink.custom)
        .join(Membership, (Membership.context_id == Context.id) & (Membership.user_id == user_id))
        .outerjoin(CourseGrading, CourseGrading.context_id == Context.id)
        .outerjoin(ResourceLink, ResourceLink.context_id == Context.id)
    ).all()
    found: dict[tuple[str, str], PlacedCourse] = {}
    for row in rows:
        value = (row.id, row.credits, row.academic_year or "")
        # Moodle's LTI context id is its course id; Canvas's is opaque, but the tool's
        # developer key asks for custom canvas_course_id = $Canvas.course.id.
        found[("moodle", row.context_id)] = value
        canvas_course = (row.custom or {}).get("canvas_course_id")
        if canvas_course:
            found[("canvas", str(canvas_course))] = value
    return found


def _external_courses(db: Session, user_id: int, tool_contexts: set[int],
                      policy: GradingPolicy) -> list[CourseLine]:
    rows = db.execute(
        select(ExternalCourseGrade, Connector.kind)
        .join(Connector, Connector.id == ExternalCourseGrade.connector_id)
        .where(ExternalCourseGrade.user_id == user_id, Connector.enabled.is_(True))
        .order_by(ExternalCourseGrade.course_name, ExternalCourseGrade.id)
    ).all()
    if not rows:
        return []
    placed = _lms_course_ids(db, user_id)
    lines = []
    for grade, kind in rows:
        context_id, credits, year = placed.get((kind, grade.lms_course_id), (None, None, ""))
        if context_id in tool_contexts:
            continue  # the tool's own final line item is the record for this course
        percent = None if grade.percent is None else to_decimal(grade.percent)
        lines.append(_line(grade.course_name or grade.course_code, kind,
                           year or grade.academic_year, _credits(credits, policy), percent,
                           policy, grade.grade_text))
    return lines


def _study_years(years: Iterable[str], policy: GradingPolicy,
                 student: StudentYears | None) -> dict[str, int]:
    """Course year per academic year: the academic calendar's rule (lti_tool/calendar.py) when
    Section I tells the student's year of admission or course year; else counted from the
    earliest academic year on record."""
    years = list(years)
    if student is None or policy.calendar.admission_academic_year(student) is None:
        return study_years(years)
    found = {}
    for label in years:
        parsed = AcademicYear.parse(label)
        number = None if parsed is None else policy.calendar.course_year(parsed, student)
        if number is not None:
            found[label] = number
    return found


def summarise(user_id: int, lines: Iterable[CourseLine], policy: GradingPolicy,
              student: StudentYears | None = None) -> AcademicRecord:
    """Group course lines by academic year; GPA per year and cumulative; progression per year."""
    lines = list(lines)
    by_year: dict[str, list[CourseLine]] = {}
    for line in lines:
        by_year.setdefault(line.academic_year, []).append(line)
    numbered = _study_years(by_year, policy, student)
    # Newest first; courses whose academic year nobody set come last.
    order = sorted((y for y in by_year if y), reverse=True) + ([""] if "" in by_year else [])
    years = []
    for year in order:
        courses = by_year[year]
        counted = [Credited(c.credits, c.band.points) for c in courses
                   if c.counts and c.band is not None]
        year_gpa = gpa(counted)
        study_year = numbered.get(year)
        progression = (check_progression(year_gpa, policy.programme_level, study_year + 1,
                                         policy.progression)
                       if study_year is not None and year_gpa is not None else None)
        years.append(YearRecord(
            academic_year=year, study_year=study_year, courses=tuple(courses),
            credits=sum((c.credits for c in counted), Decimal(0)), gpa=year_gpa,
            level=academic_level(year_gpa, policy.levels), progression=progression))
    counted = [Credited(c.credits, c.band.points) for c in lines
               if c.counts and c.band is not None]
    total = gpa(counted)
    return AcademicRecord(user_id=user_id, programme_level=policy.programme_level,
                          years=tuple(years), credits=sum((c.credits for c in counted), Decimal(0)),
                          gpa=total, level=academic_level(total, policy.levels))


def academic_record(db: Session, user_id: int, policy: GradingPolicy,
                    student: StudentYears | None = None) -> AcademicRecord:
    """The student's record from the database (tool results and LMS course totals).

    `student`: what tells the course years (Section I); read from the portfolio when not given.
    """
    tool_lines, tool_contexts = _tool_courses(db, user_id, policy)
    external = _external_courses(db, user_id, tool_contexts, policy)
    if student is None:
        student = student_years(db.scalar(select(Portfolio).where(Portfolio.user_id == user_id)))
    return summarise(user_id, tool_lines + external, policy, student)


# Sessions that hold no rights over anyone else's grades, whatever the person's memberships
# (README, roles table: a mentor sees no grades; a designer no student data; an unserved role
# nothing).
NO_RECORD_RIGHTS = (ToolRole.MENTOR, ToolRole.DESIGNER, ToolRole.GUEST)


def may_view_record(db: Session, *, viewer_id: int, viewer_role: ToolRole,
                    viewer_platform_id: int, student: User | None) -> bool:
    """Whether a viewer may see a student's record (grades of every course, GPA, progression).

    The student; an administrator of the student's platform; otherwise exactly the staff who
    may review the student's portfolio (issue 9, "staff rights follow the placement"): an
    Active instructor or course administrator of a course where the portfolio is placed and the
    student is an Active learner, i.e. the tutor who writes the yearly summary with the GPA
    (`portfolio.access.teaches`, the one copy of that rule). A teacher who only shares another
    course with the student sees nothing, and a session launched as mentor, designer or a role
    the tool does not serve sees no one's grades but the person's own.
    """
    if student is None or student.platform_id != viewer_platform_id:
        return False
    if student.id == viewer_id:
        return True
    if viewer_role == ToolRole.ADMIN:
        return True
    if viewer_role in NO_RECORD_RIGHTS:
        return False
    return teaches(db, viewer_id, student.id)


def academic_records(
    db: Session,
    user_ids: Iterable[int],
    policy: GradingPolicy,
    students: Mapping[int, StudentYears | None] | None = None,
) -> dict[int, AcademicRecord]:
    """The records of many students in at most three queries (the tutor's course overview, the
    group leader's page).

    The same rules as `academic_record`, read for every student at once: one query for the
    tool's final results, one for the LMS course totals and, only when there are any, one for
    the students' courses where the tool is placed. `students`: what tells each one's course
    years (Section I), by user id; without it, the count of academic years on record.
    """
    lines = _course_lines(db, user_ids, policy)
    students = students or {}
    return {uid: summarise(uid, found, policy, students.get(uid)) for uid, found in lines.items()}


def cumulative_gpas(
    db: Session, user_ids: Iterable[int], policy: GradingPolicy
) -> dict[int, Decimal | None]:
    """Each student's cumulative GPA, exactly `academic_records(...)[uid].gpa`, for sorting a
    whole course by GPA (the tutor's overview).

    The same rows, rules and Decimal `gpa()` as the record, without what only the record
    shows: course titles, per-year GPAs, progression checks, course years. A tool result's
    points are worked out once per distinct (score, maximum) and credits once per value, so
    2,000 students' 10,000 results cost a pass over plain tuples (bench/desk.py).
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    counted: dict[int, list[Credited]] = {uid: [] for uid in ids}
    tool_contexts: dict[int, set[int]] = {uid: set() for uid in ids}
    points_of: dict[tuple, Decimal | None] = {}
    credits_of: dict[float | None, Decimal] = {}
    for user_id, context_id, raw_credits, maximum, score, result_maximum in db.execute(
        _final_results(
            ids,
            CourseGrading.credits,
            LineItem.score_maximum,
            Result.result_score,
            Result.result_maximum,
        )
    ):
        tool_contexts[user_id].add(context_id)
        key = (score, result_maximum or maximum)
        if key not in points_of:
            percent = course_percent(*key)
            points_of[key] = (
                None if percent is None else band_for_percent(percent, policy.scale).points
            )
        points = points_of[key]
        if raw_credits not in credits_of:
            credits_of[raw_credits] = _credits(raw_credits, policy)
        credits = credits_of[raw_credits]
        if points is not None and credits > 0:  # CourseLine.counts
            counted[user_id].append(Credited(credits, points))
    for uid, lines in _external_lines(db, ids, tool_contexts, policy, {}).items():
        counted[uid].extend(
            Credited(c.credits, c.band.points) for c in lines if c.band is not None and c.counts
        )
    return {uid: gpa(found) for uid, found in counted.items()}


def _final_results(user_ids: list[int], *columns: Any) -> Select:
    """The tool's final results of `user_ids` in the courses with a grading (user id, context
    id, then `columns`): the rows both the academic record and the cumulative GPA read."""
    return (
        select(Result.user_id, Context.id, *columns)
        .join(CourseGrading, CourseGrading.context_id == Context.id)
        .join(LineItem, LineItem.id == CourseGrading.final_line_item_id)
        .join(Result, Result.line_item_id == LineItem.id)
        .where(Result.user_id.in_(user_ids))
    )


def _course_lines(
    db: Session, user_ids: Iterable[int], policy: GradingPolicy
) -> dict[int, list[CourseLine]]:
    """Every student's course lines (tool final results, then LMS course totals) in at most
    three queries; a percent's band is looked up once however many students share it."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    bands: dict[Decimal, GradeBand] = {}
    tool: dict[int, list[CourseLine]] = {uid: [] for uid in ids}
    tool_contexts: dict[int, set[int]] = {uid: set() for uid in ids}
    for row in db.execute(
        _final_results(
            ids,
            Context.title,
            Context.label,
            CourseGrading.credits,
            CourseGrading.academic_year,
            LineItem.score_maximum,
            Result.result_score,
            Result.result_maximum,
        ).order_by(Context.title, Context.id)
    ):
        percent = course_percent(row.result_score, row.result_maximum or row.score_maximum)
        tool[row.user_id].append(
            _line(
                row.title or row.label,
                TOOL_SOURCE,
                row.academic_year or "",
                _credits(row.credits, policy),
                percent,
                policy,
                bands=bands,
            )
        )
        tool_contexts[row.user_id].add(row.id)
    external = _external_lines(db, ids, tool_contexts, policy, bands)
    return {uid: tool[uid] + external[uid] for uid in ids}


def _external_lines(
    db: Session,
    ids: list[int],
    tool_contexts: dict[int, set[int]],
    policy: GradingPolicy,
    bands: dict[Decimal, GradeBand],
) -> dict[int, list[CourseLine]]:
    """The LMS course totals of many students (one query, and one more only when there are
    any), minus the courses whose record is the tool's own final line item."""
    external_rows = db.execute(
        select(ExternalCourseGrade, Connector.kind)
        .join(Connector, Connector.id == ExternalCourseGrade.connector_id)
        .where(ExternalCourseGrade.user_id.in_(ids), Connector.enabled.is_(True))
        .order_by(ExternalCourseGrade.course_name, ExternalCourseGrade.id)
    ).all()
    external: dict[int, list[CourseLine]] = {uid: [] for uid in ids}
    if not external_rows:
        return external
    placed: dict[int, dict[tuple[str, str], PlacedCourse]] = {}
    for row in db.execute(
        select(
            Membership.user_id,
            Context.id,
            Context.context_id,
            CourseGrading.credits,
            CourseGrading.academic_year,
            ResourceLink.custom,
        )
        .join(Membership, Membership.context_id == Context.id)
        .outerjoin(CourseGrading, CourseGrading.context_id == Context.id)
        .outerjoin(ResourceLink, ResourceLink.context_id == Context.id)
        .where(Membership.user_id.in_(ids))
    ):
        value = (row.id, row.credits, row.academic_year or "")
        mine = placed.setdefault(row.user_id, {})
        mine[("moodle", row.context_id)] = value
        canvas_course = (row.custom or {}).get("canvas_course_id")
        if canvas_course:
            mine[("canvas", str(canvas_course))] = value
    for grade, kind in external_rows:
        context_id, credits, year = placed.get(grade.user_id, {}).get(
            (kind, grade.lms_course_id), (None, None, "")
        )
        if context_id in tool_contexts[grade.user_id]:
            continue
        percent = None if grade.percent is None else to_decimal(grade.percent)
        external[grade.user_id].append(
            _line(
                grade.course_name or grade.course_code,
                kind,
                year or grade.academic_year,
                _credits(credits, policy),
                percent,
                policy,
                grade.grade_text,
                bands=bands,
            )
        )
    return external


def letter_for_gpa(value: Decimal | None, policy: GradingPolicy) -> str:
    """The letter whose points a GPA reaches (3.67 -> A-, 3.5 -> B+); "" without a GPA."""
    if value is None:
        return ""
    reached = [band for band in policy.scale.bands if band.points <= value]
    return max(reached, key=lambda band: band.points).letter if reached else ""
