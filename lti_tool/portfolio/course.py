"""The tutor's course view: students with claimed vs verified points, the queue, analytics.

Every function reads a whole course in a fixed number of queries (no query per student).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..calendar import AcademicCalendar
from ..db import utcnow
from ..lti.models import Membership, User
from ..lti.roles import ToolRole
from .access import ACTIVE, course_learners
from .models import SUBMITTED, Decision, Entry, Portfolio, Update
from .service import Totals, last_activity, totals_for
from .years import current_course_year, current_course_year_sql


@dataclass
class StudentRow:
    """A student of the course, their portfolio (None before the first visit) and totals."""

    user: User
    portfolio: Portfolio | None
    totals: Totals
    last_update: datetime | None = None
    year_now: int | None = None  # the course year today, by the academic calendar

    @property
    def group(self) -> str:
        """The student's group (from Section I)."""
        return self.portfolio.group_name if self.portfolio else ""

    @property
    def course_year(self) -> int | None:
        """The student's course year today (Section I read through the academic calendar)."""
        return self.year_now

    @property
    def name(self) -> str:
        """Full name from Section I, else from the LMS."""
        return (self.portfolio.full_name if self.portfolio and self.portfolio.full_name
                else self.user.display_name)


def course_students(db: Session, context_id: int, *, group: str = "",
                    year: int | None = None,
                    calendar: AcademicCalendar | None = None) -> list[StudentRow]:
    """The course's Active learners with their totals, filtered by group and course year
    (today's, by the academic calendar; the default calendar when none is given)."""
    calendar = calendar or AcademicCalendar()
    today = calendar.today()
    query = course_learners(db, context_id)
    if group:
        query = query.where(Portfolio.group_name == group)
    if year:
        query = query.where(current_course_year_sql(calendar, today) == year)
    pairs = db.execute(query.order_by(User.family_name, User.given_name, User.id)).all()
    ids = [p.id for _, p in pairs if p is not None]
    totals = totals_for(db, ids)
    updated = last_activity(db, ids)
    rows = [StudentRow(user, portfolio, totals.get(portfolio.id, Totals()) if portfolio
                       else Totals(), updated.get(portfolio.id) if portfolio else None,
                       current_course_year(calendar, portfolio, today))
            for user, portfolio in pairs]
    rows.sort(key=lambda r: (r.group, r.name.casefold()))
    return rows


def course_groups(db: Session, context_id: int) -> list[str]:
    """The groups the course's students named, for the filter."""
    return sorted(g for g in db.scalars(
        select(Portfolio.group_name).distinct()
        .join(Membership, Membership.user_id == Portfolio.user_id)
        .where(Membership.context_id == context_id, Membership.role == ToolRole.LEARNER.value,
               Membership.status == ACTIVE)) if g)


@dataclass
class Queue:
    """A page of the tutor's queue: the oldest waiting entries first."""

    entries: list[Entry]
    edited: set[int]  # ids the student changed after they were verified
    total: int  # waiting entries matching the filters, shown or not


def waiting_entries(db: Session, context_id: int, *, group: str = "", year: int | None = None,
                    list_key: str = "", limit: int = 200) -> Queue:
    """Submitted entries of the course's students, oldest first (the tutor's queue)."""
    students = (select(Membership.user_id)
                .where(Membership.context_id == context_id,
                       Membership.role == ToolRole.LEARNER.value, Membership.status == ACTIVE))
    query = (select(Entry).join(Portfolio, Portfolio.id == Entry.portfolio_id)
             .where(Portfolio.user_id.in_(students), Entry.status == SUBMITTED)
             .options(selectinload(Entry.portfolio)))
    if group:
        query = query.where(Portfolio.group_name == group)
    if year:
        query = query.where(Entry.course_year == year)
    if list_key:
        query = query.where(Entry.list_key == list_key)
    entries = list(db.scalars(query.order_by(Entry.submitted_at, Entry.id).limit(limit)))
    total = db.execute(select(func.count()).select_from(
        query.with_only_columns(Entry.id).order_by(None).subquery())).scalar_one()
    last: dict[int, str] = {}
    if entries:
        for entry_id, action in db.execute(
                select(Decision.entry_id, Decision.action)
                .where(Decision.entry_id.in_([e.id for e in entries])).order_by(Decision.id)):
            last[entry_id] = action
    return Queue(entries, {entry_id for entry_id, action in last.items() if action == "edited"},
                 total)


# ---- analytics (the web-portfolio study: histogram, averages by programme, activity) -------


@dataclass(frozen=True)
class Bin:
    """One bar of the histogram: [low, high) and how many students."""

    low: int
    high: int
    count: int


@dataclass(frozen=True)
class GroupStats:
    """Average and range of verified points in a group or programme."""

    name: str
    students: int
    average: float
    low: int
    high: int


@dataclass
class Analytics:
    """Everything the analytics page shows."""

    students: int
    with_portfolio: int
    histogram: list[Bin]
    by_group: list[GroupStats]
    by_programme: list[GroupStats]
    months: list[str]  # "2026-01"
    updates_per_student: list[float]
    correlation: float | None  # updates in the period vs verified points (Pearson r)
    average: float | None
    median: float | None
    extra: dict = field(default_factory=dict)


def histogram(values: list[int], bin_width: int) -> list[Bin]:
    """Equal-width bins from 0 to the highest value (at least one bin)."""
    bin_width = max(1, bin_width)
    top = max(values, default=0)
    count = max(1, math.floor(top / bin_width) + 1)
    bins = [0] * count
    for value in values:
        bins[min(count - 1, max(0, value) // bin_width)] += 1
    return [Bin(i * bin_width, (i + 1) * bin_width, n) for i, n in enumerate(bins)]


def _stats(name: str, values: list[int]) -> GroupStats:
    return GroupStats(name, len(values), round(statistics.fmean(values), 1) if values else 0.0,
                      min(values, default=0), max(values, default=0))


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than 3 pairs or no spread)."""
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return round(statistics.correlation(xs, ys), 2)


def month_keys(now: datetime, months: int) -> list[str]:
    """The last `months` calendar months, oldest first, as "YYYY-MM"."""
    keys, year, month = [], now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def course_analytics(db: Session, context_id: int, *, bin_width: int = 50, months: int = 12,
                     now: datetime | None = None,
                     calendar: AcademicCalendar | None = None) -> Analytics:
    """Histogram, averages and ranges by group and programme, updates per student per month."""
    now = now or utcnow()
    rows = course_students(db, context_id, calendar=calendar)
    verified = [r.totals.verified_total for r in rows if r.portfolio]
    by_group: dict[str, list[int]] = defaultdict(list)
    by_programme: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.portfolio is None:
            continue
        by_group[row.group or "—"].append(row.totals.verified_total)
        by_programme[row.portfolio.specialty or "—"].append(row.totals.verified_total)
    keys = month_keys(now, months)
    since = datetime(int(keys[0][:4]), int(keys[0][5:]), 1, tzinfo=now.tzinfo) \
        - timedelta(seconds=0)
    ids = [r.portfolio.id for r in rows if r.portfolio]
    per_month: dict[str, int] = defaultdict(int)
    per_student: dict[int, int] = defaultdict(int)
    if ids:
        for pid, at in db.execute(select(Update.portfolio_id, Update.at)
                                  .where(Update.portfolio_id.in_(ids), Update.at >= since)):
            per_month[f"{at.year:04d}-{at.month:02d}"] += 1
            per_student[pid] += 1
    students = len(rows) or 1
    xs = [float(per_student.get(r.portfolio.id, 0)) for r in rows if r.portfolio]
    ys = [float(r.totals.verified_total) for r in rows if r.portfolio]
    return Analytics(
        students=len(rows), with_portfolio=len(ids), histogram=histogram(verified, bin_width),
        by_group=[_stats(k, v) for k, v in sorted(by_group.items())],
        by_programme=[_stats(k, v) for k, v in sorted(by_programme.items())],
        months=keys, updates_per_student=[round(per_month.get(k, 0) / students, 2) for k in keys],
        correlation=pearson(xs, ys),
        average=round(statistics.fmean(verified), 1) if verified else None,
        median=statistics.median(verified) if verified else None,
    )


def course_title_counts(db: Session, context_id: int) -> int:
    """How many Active learners a course has (for headings)."""
    return db.scalar(select(func.count()).select_from(Membership).where(
        Membership.context_id == context_id, Membership.role == ToolRole.LEARNER.value,
        Membership.status == ACTIVE)) or 0
