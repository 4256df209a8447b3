"""The tutor's yearly summary (seed 000, "Тьютор түйіндемесі") and GPA from the gradebook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..settings import AchievementLevels
from ..versioning import claim
from .access import Actor
from .models import VERIFIED, Entry, Portfolio, Summary
from .rubric import Rubric
from .service import StaleEdit, Totals

ACADEMIC_LEVELS = {
    "excellent": _l("excellent"), "good": _l("good"), "average": _l("average"), "low": _l("low"),
}
ACHIEVEMENT_LEVELS = {"high": _l("high"), "medium": _l("medium"), "low": _l("low")}
SUMMARY_TEXT_FIELDS = ("activity", "self_development", "competences", "remarks")


@dataclass(frozen=True)
class YearGpa:
    """A course year's GPA as the gradebook has it."""

    course_year: int
    academic_year: str
    gpa: Decimal | None
    level: str | None


def gpa_by_course_year(db: Session, portfolio: Portfolio, policy) -> dict[int, YearGpa] | None:
    """GPA per course year from the gradebook's academic record; None when it is unavailable.

    The course year of an academic year comes from the year of admission when the student gave
    it, else from the gradebook's count of academic years on record.
    """
    if policy is None:
        return None
    try:
        from ..gradebook.academic import academic_record
    except ImportError:  # the gradebook is optional for the portfolio
        return None
    record = academic_record(db, portfolio.user_id, policy)
    result: dict[int, YearGpa] = {}
    for year in record.years:
        course_year = year.study_year
        if portfolio.admission_year and year.academic_year[:4].isdigit():
            course_year = int(year.academic_year[:4]) - portfolio.admission_year + 1
        if course_year is None or not 1 <= course_year <= 8:
            continue
        result[course_year] = YearGpa(course_year, year.academic_year, year.gpa, year.level)
    return result


def achievement_level(points: int, thresholds: AchievementLevels) -> str:
    """high / medium / low for a year's verified points ([portfolio.achievement_levels])."""
    if points >= thresholds.high:
        return "high"
    if points >= thresholds.medium:
        return "medium"
    return "low"


def course_year_for(portfolio: Portfolio, academic_year: str) -> int | None:
    """The course year an academic year was, from the year of admission."""
    if portfolio.admission_year and academic_year[:4].isdigit():
        year = int(academic_year[:4]) - portfolio.admission_year + 1
        return year if 1 <= year <= 8 else None
    return None


def summary_defaults(db: Session, actor: Actor, portfolio: Portfolio, rubric: Rubric,
                     totals: Totals, *, academic_year: str, course_year: int,
                     gpa: YearGpa | None, thresholds: AchievementLevels, locale: str,
                     today: date) -> dict:
    """A new summary's fields, prefilled from the portfolio, the points and the gradebook."""
    points = totals.verified_for(year=course_year)
    entries = db.scalars(select(Entry).where(
        Entry.portfolio_id == portfolio.id, Entry.course_year == course_year,
        Entry.status == VERIFIED, Entry.section == "achievements")
        .order_by(Entry.list_key, Entry.id)).all()
    by_list: dict[str, list[str]] = {}
    for entry in entries:
        by_list.setdefault(entry.list_key, []).append(entry.title)
    activity = "; ".join(
        f"{rubric.lists[key].names.get(locale)}: {', '.join(titles)}"
        for key, titles in by_list.items() if key in rubric.lists and key != "self_development")
    self_dev = ", ".join(by_list.get("self_development", []))
    return {
        "academic_year": academic_year, "course_year": course_year,
        "group_name": portfolio.group_name,
        "gpa": "" if gpa is None or gpa.gpa is None else f"{gpa.gpa:.2f}",
        "academic_level": (gpa.level or "") if gpa else "",
        "points": points, "achievement_level": achievement_level(points, thresholds),
        "activity": activity, "self_development": self_dev, "competences": "", "remarks": "",
        "tutor_name": actor.name, "head_name": "", "department": "",
        "summary_date": today,
    }


def save_summary(db: Session, actor: Actor, portfolio: Portfolio, values: Mapping[str, object],
                 *, summary: Summary | None, base_version: int) -> Summary:
    """Create or update a summary (the reviewer's right is checked by the caller); commit later.

    StaleEdit when another tutor saved this summary after `base_version`.
    """
    if summary is None:
        exists = db.scalar(select(Summary).where(Summary.portfolio_id == portfolio.id,
                                                 Summary.academic_year == values["academic_year"]))
        if exists is not None:
            raise StaleEdit(_l("A summary for this academic year already exists: open it "
                               "from the list and change it there."))
        summary = Summary(portfolio_id=portfolio.id, version=1)
        db.add(summary)
    elif base_version != summary.version or not claim(db, summary, base_version):
        # claim: the check and the bump are one UPDATE, so two tutors cannot both pass.
        raise StaleEdit()
    for name, value in values.items():
        setattr(summary, name, value)
    summary.tutor_id = actor.user_id
    summary.updated_at = utcnow()
    try:
        db.flush()
    except IntegrityError as err:
        if not _duplicate(err):
            raise
        # Another tutor created this year's summary at the same moment.
        raise StaleEdit(_l("A summary for this academic year already exists: open it "
                           "from the list and change it there.")) from None
    return summary


def _duplicate(err: IntegrityError) -> bool:
    """A unique key violated (PostgreSQL's SQLSTATE 23505, SQLite's message), not NOT NULL."""
    return getattr(err.orig, "sqlstate", None) == "23505" or "UNIQUE" in str(err.orig)
