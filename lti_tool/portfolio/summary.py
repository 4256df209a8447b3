"""The tutor's yearly summary (the portfolio regulations, "Тьютор түйіндемесі") and GPA from the
gradebook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext as _lp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import Actor
from ..db import utcnow
from ..settings import AchievementLevels, Settings
from ..versioning import claim
from .models import VERIFIED, Entry, Portfolio, Summary
from .rubric import Rubric
from .service import StaleEdit, Totals
from .years import student_years

ACADEMIC_LEVELS = {
    "excellent": _l("excellent"), "good": _l("good"), "average": _l("average"), "low": _l("low"),
}
# The level of personal achievements qualifies "уровень" (masculine in Russian: высокий,
# средний, низкий), the academic achievement "успеваемость" (feminine): two contexts.
ACHIEVEMENT_LEVELS = {"high": _lp("achievement level", "high"),
                      "medium": _lp("achievement level", "medium"),
                      "low": _lp("achievement level", "low")}


def level_names() -> dict[str, dict[str, str]]:
    """The level names in the current language, by kind (for PDFs)."""
    return {"academic": {k: str(v) for k, v in ACADEMIC_LEVELS.items()},
            "achievement": {k: str(v) for k, v in ACHIEVEMENT_LEVELS.items()}}


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

    The course year of an academic year is the record's, i.e. the academic calendar's
    (lti_tool/calendar.py): from Section I's year of admission or stated course year, else the
    gradebook's count of academic years on record.
    """
    if policy is None:
        return None
    try:
        from ..gradebook.academic import academic_record
    except ImportError:  # the gradebook is optional for the portfolio
        return None
    return _by_course_year(academic_record(db, portfolio.user_id, policy, student_years(portfolio)))


def gpas_by_course_year(db: Session, portfolios: list[Portfolio],
                        policy) -> dict[int, dict[int, YearGpa] | None]:
    """`gpa_by_course_year` of many portfolios (a group, on its leader's page) by portfolio id,
    read at once: the same records in at most three queries instead of a few per member."""
    if policy is None:
        return {p.id: None for p in portfolios}
    try:
        from ..gradebook.academic import academic_records
    except ImportError:  # the gradebook is optional for the portfolio
        return {p.id: None for p in portfolios}
    records = academic_records(db, [p.user_id for p in portfolios], policy,
                               {p.user_id: student_years(p) for p in portfolios})
    return {p.id: _by_course_year(records[p.user_id]) for p in portfolios}


def _by_course_year(record) -> dict[int, YearGpa]:
    """An academic record's GPA rows by course year (1-8; years without one are left out)."""
    result: dict[int, YearGpa] = {}
    for year in record.years:
        course_year = year.study_year
        if course_year is None or not 1 <= course_year <= 8:
            continue
        result[course_year] = YearGpa(course_year, year.academic_year, year.gpa, year.level)
    return result


INSTITUTION_KEYS = ("university", "faculty", "department")


def institution_header(settings: Settings, locale: str) -> dict[str, str]:
    """[institution] university, faculty, department in `locale` (a name, or a table of
    names by language); the documents' header. Empty values are left out."""
    header = {}
    for key in INSTITUTION_KEYS:
        value = getattr(settings.institution, key)
        if isinstance(value, Mapping):
            value = value.get(locale) or value.get("en") or next(iter(value.values()), "")
        if str(value or "").strip():
            header[key] = str(value).strip()
    return header


def achievement_thresholds(settings: Settings) -> AchievementLevels:
    """[portfolio.achievement_levels]: the lowest verified points of "high" and "medium"."""
    return settings.portfolio.achievement_levels


def achievement_level(points: int, thresholds: AchievementLevels) -> str:
    """high / medium / low for a year's verified points ([portfolio.achievement_levels])."""
    if points >= thresholds.high:
        return "high"
    if points >= thresholds.medium:
        return "medium"
    return "low"


@dataclass(frozen=True)
class SummaryPoints:
    """The verified points a summary stands on: the academic year's and all years', and the
    level they give."""

    year: int
    total: int
    level: str


def summary_points(totals: Totals, course_year: int,
                   thresholds: AchievementLevels) -> SummaryPoints:
    """The year's verified points (tutor marks included), all years', and their level."""
    year = totals.verified_for(year=course_year)
    return SummaryPoints(year, totals.verified_total, achievement_level(year, thresholds))


def with_points(values: Mapping[str, object], points: SummaryPoints,
                levels=None) -> dict:
    """The summary's values with the points as verified now and the level they give.

    The tutor's level ("" = the points' level) is kept as an override when it differs from
    the points' level, and marked so; the academic level is worked out from the GPA when the
    tutor left it empty (`levels`: the gradebook's AcademicLevels).
    """
    result = dict(values)
    chosen = str(result.get("achievement_level") or "")
    result["points"], result["points_total"] = points.year, points.total
    result["achievement_level"] = chosen or points.level
    result["level_overridden"] = bool(chosen) and chosen != points.level
    gpa_text = str(result.get("gpa") or "").strip()
    if gpa_text and not result.get("academic_level") and levels is not None:
        from ..gradebook.gpa import academic_level

        try:
            result["academic_level"] = academic_level(Decimal(gpa_text), levels) or ""
        except ArithmeticError:
            pass
    return result


def summary_defaults(db: Session, actor: Actor, portfolio: Portfolio, rubric: Rubric,
                     totals: Totals, *, academic_year: str, course_year: int,
                     gpa: YearGpa | None, locale: str,
                     today: date) -> dict:
    """A new summary's fields, prefilled from the portfolio, the points and the gradebook.

    The level of personal achievements is left to the points ("" in the form) unless the tutor
    chooses one.
    """
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
        "achievement_level": "",
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
