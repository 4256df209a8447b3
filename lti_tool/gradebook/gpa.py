"""Percent -> letter and points, GPA, progression and academic level: pure functions, no Flask.

Rules (domain.md section 2; the academic policy and the dual-training rules):
- A percent is clamped to 0..100 and rounded to a whole percent as the scale file says
  (`percent_rounding`, half up by default: 94.5 -> 95 -> A, 94.49 -> 94 -> A-), then looked up in
  the table, whose bounds are inclusive. The academic policy gives no rounding rule; the table has
  only whole percents, so some rounding is needed to place 94.5 at all.
- GPA = sum(credits x points) / sum(credits) over the period (the academic policy glossary), FX and
  F included (they stay on the transcript, 5.5.8), rounded half up to two decimals.
- Progression compares that two-decimal GPA of the academic year just finished with the
  threshold of the target year (5.5.12-5.5.13): the GPA a student sees is the one judged.
Numbers are Decimals throughout, so 3.67 x 5 is exactly 18.35 and boundaries never wobble.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .policy import AcademicLevels, GradeBand, GradeScale, ProgressionRules

HUNDRED = Decimal(100)
GPA_PLACES = Decimal("0.01")
_ROUNDING = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN}


def to_decimal(value: Decimal | float | int | str) -> Decimal:
    """A Decimal of `value`; floats go through str() so 94.5 stays 94.5."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def course_percent(score: float | Decimal | None,
                   maximum: float | Decimal | None) -> Decimal | None:
    """score / maximum x 100, or None when there is no score or no positive maximum."""
    if score is None or maximum is None:
        return None
    maximum = to_decimal(maximum)
    if maximum <= 0:
        return None
    return to_decimal(score) / maximum * HUNDRED


def whole_percent(percent: Decimal | float | int, scale: GradeScale) -> int:
    """The whole percent the table is read at: clamped to 0..100, rounded as the scale says."""
    value = min(max(to_decimal(percent), Decimal(0)), HUNDRED)
    return int(value.quantize(Decimal(1), rounding=_ROUNDING[scale.percent_rounding]))


def band_for_percent(percent: Decimal | float | int, scale: GradeScale) -> GradeBand:
    """The letter band a percent falls in (bounds inclusive)."""
    whole = whole_percent(percent, scale)
    for band in scale.bands:
        if band.min_percent <= whole <= band.max_percent:
            return band
    # policy.parse_scale guarantees 0..100 is covered; reaching here means a hand-made scale.
    raise ValueError(f"{whole}% is not covered by the scale {scale.name!r}")


@dataclass(frozen=True)
class Credited:
    """Points earned in a course and the credits it carries."""

    credits: Decimal
    points: Decimal


def gpa(courses: Iterable[Credited]) -> Decimal | None:
    """Credit-weighted mean of points, two decimals half up; None without credits."""
    total_credits = Decimal(0)
    weighted = Decimal(0)
    for course in courses:
        credits = to_decimal(course.credits)
        if credits <= 0:
            continue  # a course without credits does not count towards GPA
        total_credits += credits
        weighted += credits * to_decimal(course.points)
    if total_credits == 0:
        return None
    return (weighted / total_credits).quantize(GPA_PLACES, rounding=ROUND_HALF_UP)


def gpa_by_year(courses: Iterable[tuple[str, Credited]]) -> dict[str, Decimal | None]:
    """GPA per academic year from (academic year, course) pairs."""
    by_year: dict[str, list[Credited]] = {}
    for year, course in courses:
        by_year.setdefault(year, []).append(course)
    return {year: gpa(items) for year, items in by_year.items()}


@dataclass(frozen=True)
class ProgressionCheck:
    """Whether a GPA is enough to move to `target_year`; threshold None means no rule."""

    programme_level: str
    target_year: int
    gpa: Decimal | None
    threshold: Decimal | None

    @property
    def passed(self) -> bool:
        """True when there is no rule, or the GPA reaches the threshold (inclusive)."""
        if self.threshold is None:
            return True
        return self.gpa is not None and self.gpa >= self.threshold


def check_progression(gpa_value: Decimal | float | None, programme_level: str, target_year: int,
                      rules: ProgressionRules) -> ProgressionCheck:
    """Check a year's GPA against the threshold for moving to `target_year`."""
    threshold = rules.thresholds.get(programme_level, {}).get(target_year)
    value = None if gpa_value is None else to_decimal(gpa_value).quantize(
        GPA_PLACES, rounding=ROUND_HALF_UP)
    return ProgressionCheck(programme_level=programme_level, target_year=target_year,
                            gpa=value, threshold=threshold)


def academic_level(gpa_value: Decimal | float | None, levels: AcademicLevels) -> str | None:
    """excellent / good / average / low for the tutor summary; None without a GPA."""
    if gpa_value is None:
        return None
    value = to_decimal(gpa_value)
    if value >= levels.excellent:
        return "excellent"
    if value >= levels.good:
        return "good"
    if value >= levels.average:
        return "average"
    return "low"


def is_academic_year(value: str) -> bool:
    """True for "YYYY-YYYY" where the second year follows the first."""
    parts = value.split("-")
    return (len(parts) == 2 and all(len(p) == 4 and p.isdigit() for p in parts)
            and int(parts[1]) == int(parts[0]) + 1)


def study_years(academic_years: Iterable[str]) -> dict[str, int]:
    """Year of study per academic year, counting from the earliest one on record as year 1.

    The LMS does not tell a student's year of study: each academic year with grades on record
    is taken as one year of study (academic leave, with no grades, is skipped).
    """
    valid = sorted({y for y in academic_years if is_academic_year(y)})
    return {year: index for index, year in enumerate(valid, start=1)}
