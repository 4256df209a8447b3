"""The tutor's course overview (issue 12): every enrolled student on one sortable, paged table.

Every Active learner of the course comes back, including those who never opened the tool (the
NRPS roster), with group, course year, GPA and letter from the gradebook, claimed and verified
points, entries waiting and last activity. Searching, filtering, sorting and paging happen on
the server, in a fixed number of queries whatever the course size (bench/desk.py counts them):
the learners, their totals (two), their last activity, their GPA (at most three).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..calendar import AcademicCalendar
from ..lti.models import Membership, User
from ..lti.roles import ToolRole
from .access import ACTIVE
from .models import Portfolio
from .service import Totals, last_activity, totals_for
from .years import current_course_year_sql

SORTS = ("name", "group", "year", "gpa", "claimed", "verified", "waiting", "activity")
# all; with entries waiting for verification; never opened the tool; nothing waiting
STATES = ("", "waiting", "unopened", "clear")
PAGE_SIZE = 50
_OLDEST = datetime.min


@dataclass(frozen=True)
class OverviewQuery:
    """What the tutor asked for: search, filters, sort and page (parsed by the view)."""

    search: str = ""
    group: str = ""
    year: int | None = None
    state: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass
class OverviewRow:
    """A student's line: who, Section I's group and year, totals, activity, GPA and letter.

    Plain columns, not ORM objects: a course of 2,000 students is read on every page view.
    """

    user_id: int
    sub: str
    name: str  # Section I's full name, else the LMS's
    group: str
    course_year: int | None
    portfolio_id: int | None  # None: the student never opened the tool
    totals: Totals = field(default_factory=Totals)
    last_update: datetime | None = None
    gpa: Decimal | None = None
    letter: str = ""


@dataclass
class Overview:
    """One page of the overview, and how many students match in all."""

    rows: list[OverviewRow]
    total: int
    page: int
    pages: int
    waiting: int  # entries waiting across every matching student
    gpa_available: bool


def _sort_key(sort: str):
    keys = {
        "name": lambda r: (r.name.casefold(),),
        "group": lambda r: (r.group.casefold(), r.name.casefold()),
        "year": lambda r: (r.course_year or 0, r.name.casefold()),
        "gpa": lambda r: (r.gpa if r.gpa is not None else Decimal(-1), r.name.casefold()),
        "claimed": lambda r: (r.totals.claimed_total, r.name.casefold()),
        "verified": lambda r: (r.totals.verified_total, r.name.casefold()),
        "waiting": lambda r: (r.totals.waiting, r.name.casefold()),
        "activity": lambda r: (
            r.last_update.replace(tzinfo=None) if r.last_update else _OLDEST,
            r.name.casefold(),
        ),
    }
    return keys.get(sort, keys["name"])


def _gpa(db: Session, user_ids: list[int], policy) -> dict[int, tuple[Decimal | None, str]]:
    if policy is None or not user_ids:
        return {}
    try:
        from ..gradebook.academic import cumulative_gpas, letter_for_gpa
    except ImportError:  # the gradebook is optional for the portfolio
        return {}
    found = cumulative_gpas(db, user_ids, policy)
    return {uid: (value, letter_for_gpa(value, policy)) for uid, value in found.items()}


def course_overview(
    db: Session,
    context_id: int,
    asked: OverviewQuery,
    *,
    policy=None,
    calendar: AcademicCalendar | None = None,
    page_size: int = PAGE_SIZE,
) -> Overview:
    """A page of the course's students, searched, filtered and sorted as asked.

    `policy`: the gradebook's grading policy, for GPA and letter (None: no GPA column).
    `calendar`: the academic calendar the course year is read by (today's course year).
    """
    course_year = current_course_year_sql(calendar or AcademicCalendar())
    # The rule of access.course_learners (Active learners, with or without a portfolio), read
    # as plain columns.
    query = (
        select(
            User.id,
            User.sub,
            User.name,
            User.given_name,
            User.family_name,
            Portfolio.id,
            Portfolio.full_name,
            Portfolio.group_name,
            course_year,
        )
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Portfolio, Portfolio.user_id == User.id)
        .where(
            Membership.context_id == context_id,
            Membership.role == ToolRole.LEARNER.value,
            Membership.status == ACTIVE,
        )
    )
    if asked.group:
        query = query.where(Portfolio.group_name == asked.group)
    if asked.year:
        query = query.where(course_year == asked.year)
    if asked.state == "unopened":
        query = query.where(Portfolio.id.is_(None))
    rows = []
    needle = asked.search.casefold()
    for uid, sub, lms_name, given, family, pid, full_name, group, year in db.execute(query):
        lms = lms_name or " ".join(p for p in (given, family) if p) or sub
        if needle and needle not in f"{lms} {given} {family} {full_name or ''}".casefold():
            # In Python: SQLite's lower() folds ASCII only; names here are Kazakh and Russian.
            continue
        rows.append(OverviewRow(uid, sub, full_name or lms, group or "", year, pid))
    ids = [r.portfolio_id for r in rows if r.portfolio_id is not None]
    totals = totals_for(db, ids)
    updated = last_activity(db, ids)
    for row in rows:
        if row.portfolio_id is not None:
            row.totals = totals.get(row.portfolio_id, Totals())
            row.last_update = updated.get(row.portfolio_id)
    if asked.state == "waiting":
        rows = [r for r in rows if r.totals.waiting]
    elif asked.state == "clear":
        rows = [r for r in rows if r.portfolio_id is not None and not r.totals.waiting]
    # GPA of every matching student only when the table is sorted by it; else the page's.
    if asked.sort == "gpa":
        grades = _gpa(db, [r.user_id for r in rows], policy)
        for row in rows:
            row.gpa, row.letter = grades.get(row.user_id, (None, ""))
    rows.sort(key=_sort_key(asked.sort), reverse=asked.descending)
    total = len(rows)
    pages = max(1, -(-total // page_size))
    page = min(max(1, asked.page), pages)
    shown = rows[(page - 1) * page_size : page * page_size]
    if asked.sort != "gpa":
        grades = _gpa(db, [r.user_id for r in shown], policy)
        for row in shown:
            row.gpa, row.letter = grades.get(row.user_id, (None, ""))
    return Overview(
        shown, total, page, pages, sum(r.totals.waiting for r in rows), policy is not None
    )
