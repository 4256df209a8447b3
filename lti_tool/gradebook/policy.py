"""The grading policy from config/: letter scale, progression thresholds, academic levels.

Pure data and its checks (no Flask): an institution replaces the YAML files, and a file that
does not make sense stops the tool at start-up with a message naming the file and the row.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..calendar import AcademicCalendar
from ..settings import PROJECT_ROOT, GradebookSettings, SettingsError

# The same safe loader in C when PyYAML has libyaml (its wheels do): ten times faster, and
# every app start reads these files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCALES = ("kk", "ru", "en")
ROUNDING_MODES = ("half_up", "down")
RETAKES = ("", "exam", "course")
ACADEMIC_LEVELS = ("excellent", "good", "average", "low")
MAX_POINTS = Decimal(4)


class GradingPolicyError(SettingsError):
    """A grade scale or progression file is missing or wrong; the message names the row."""


@dataclass(frozen=True)
class GradeBand:
    """One row of the letter scale: a letter, its points and its inclusive percent range."""

    letter: str
    points: Decimal
    min_percent: int
    max_percent: int
    traditional: Mapping[str, str] = field(compare=False)  # locale -> traditional grade
    retake: str = ""  # "exam" (FX), "course" (F), "" otherwise

    def traditional_name(self, locale: str) -> str:
        """The traditional grade in `locale` (English when the file lacks that language)."""
        return self.traditional.get(locale) or self.traditional.get("en", "")


@dataclass(frozen=True)
class GradeScale:
    """The letter scale, highest band first, and how a fractional percent is rounded."""

    name: str
    bands: tuple[GradeBand, ...]
    percent_rounding: str = "half_up"


@dataclass(frozen=True)
class ProgressionRules:
    """Minimum GPA to move to a year of study, per programme level (inclusive)."""

    thresholds: Mapping[str, Mapping[int, Decimal]]


@dataclass(frozen=True)
class AcademicLevels:
    """The lowest GPA of each academic level of the tutor summary; below `average` is low."""

    excellent: Decimal
    good: Decimal
    average: Decimal


@dataclass(frozen=True)
class GradingPolicy:
    """Everything the academic record needs from config: scale, thresholds and defaults."""

    scale: GradeScale
    progression: ProgressionRules
    levels: AcademicLevels
    default_credits: Decimal
    programme_level: str
    academic_year_start_month: int
    timezone: tzinfo  # LMS course start dates are read in it; "today" is the date there

    @property
    def calendar(self) -> AcademicCalendar:
        """The academic calendar (start month, time zone): the one rule for years."""
        return AcademicCalendar(start_month=self.academic_year_start_month, zone=self.timezone)

    def today(self) -> date:
        """Today's date where the university is (a day ahead of UTC every evening in Almaty)."""
        return self.calendar.today()

    def current_academic_year(self) -> str:
        """The academic year today falls in, e.g. "2026-2027"."""
        return self.calendar.current().label


def academic_year_of(day: date | datetime, start_month: int = 9) -> str:
    """The academic year a date falls in, e.g. "2025-2026" for 2025-09-01 .. 2026-08-31.

    A datetime is read in its own zone (callers convert to the institution's first); the one
    rule is `lti_tool.calendar`.
    """
    local = day.date() if isinstance(day, datetime) else day
    return AcademicCalendar(start_month=start_month).academic_year(local).label


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value))  # str(): 3.67 stays 3.67, not its binary neighbour
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    return value


def _row_name(index: int, row: Any) -> str:
    letter = row.get("letter") if isinstance(row, dict) else None
    return f"row {index + 1}" + (f" ({letter})" if letter else "")


def _traditional_names(data: dict, source: str) -> dict[str, dict[str, str]]:
    names = data.get("traditional") or {}
    if not isinstance(names, dict):
        raise GradingPolicyError(f"{source}: `traditional` must map keys to names in {LOCALES}")
    for key, by_locale in names.items():
        missing = [loc for loc in LOCALES
                   if not isinstance(by_locale, dict) or not str(by_locale.get(loc) or "").strip()]
        if missing:
            raise GradingPolicyError(
                f"{source}: traditional grade {key!r} has no name in {', '.join(missing)}")
    return {str(k): {loc: str(v[loc]) for loc in LOCALES} for k, v in names.items()}


def _band(index: int, row: Any, names: dict[str, dict[str, str]], source: str) -> GradeBand:
    where = f"{source}, {_row_name(index, row)}"
    if not isinstance(row, dict):
        raise GradingPolicyError(f"{where}: a row must be a mapping, got {row!r}")
    try:
        letter = str(row.get("letter") or "").strip()
        if not letter:
            raise ValueError("has no letter")
        points = _decimal(row.get("points"), "points")
        if not Decimal(0) <= points <= MAX_POINTS:
            raise ValueError(f"points {points} are outside 0..{MAX_POINTS}")
        low = _whole(row.get("min_percent"), "min_percent")
        high = _whole(row.get("max_percent"), "max_percent")
        if not 0 <= low <= high <= 100:
            raise ValueError(f"percent range {low}-{high} is not within 0..100 (min <= max)")
        traditional = row.get("traditional")
        if isinstance(traditional, str):
            if traditional not in names:
                raise ValueError(f"traditional grade {traditional!r} is not defined under "
                                 f"`traditional`")
            traditional_names = names[traditional]
        elif isinstance(traditional, dict):
            traditional_names = _traditional_names({"traditional": {letter: traditional}},
                                                   source)[letter]
        else:
            raise ValueError("needs a traditional grade (a key of `traditional`, or names "
                             "in kk, ru and en)")
        retake = str(row.get("retake") or "")
        if retake not in RETAKES:
            raise ValueError(f"retake must be one of exam, course, got {retake!r}")
    except ValueError as err:
        raise GradingPolicyError(f"{where}: {err}") from None
    return GradeBand(letter=letter, points=points, min_percent=low, max_percent=high,
                     traditional=traditional_names, retake=retake)


def parse_scale(data: Any, source: str) -> GradeScale:
    """A GradeScale from parsed YAML; GradingPolicyError names the row that is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
        raise GradingPolicyError(f"{source}: expected a mapping with a non-empty `rows` list")
    rounding = str(data.get("percent_rounding", "half_up"))
    if rounding not in ROUNDING_MODES:
        raise GradingPolicyError(f"{source}: percent_rounding must be one of "
                                 f"{', '.join(ROUNDING_MODES)}, got {rounding!r}")
    names = _traditional_names(data, source)
    bands = [_band(i, row, names, source) for i, row in enumerate(data["rows"])]
    letters = [b.letter for b in bands]
    for i, band in enumerate(bands):
        if letters.index(band.letter) != i:
            first_row = letters.index(band.letter) + 1
            raise GradingPolicyError(f"{source}, row {i + 1} ({band.letter}): the letter "
                                     f"{band.letter} is already row {first_row}")
    # Check coverage on the rows ordered by percent, but name rows as numbered in the file.
    order = sorted(range(len(bands)), key=lambda i: (bands[i].min_percent, bands[i].max_percent))
    first, last = bands[order[0]], bands[order[-1]]
    if first.min_percent != 0:
        raise GradingPolicyError(f"{source}, row {order[0] + 1} ({first.letter}): the lowest "
                                 f"range starts at {first.min_percent}, leaving 0-"
                                 f"{first.min_percent - 1} without a letter")
    for below_i, above_i in itertools.pairwise(order):
        below, above = bands[below_i], bands[above_i]
        where = f"{source}, row {above_i + 1} ({above.letter})"
        if above.min_percent <= below.max_percent:
            raise GradingPolicyError(
                f"{where}: {above.min_percent}-{above.max_percent} overlaps row {below_i + 1} "
                f"({below.letter}, {below.min_percent}-{below.max_percent})")
        if above.min_percent > below.max_percent + 1:
            missing = (f"{below.max_percent + 1}" if above.min_percent == below.max_percent + 2
                       else f"{below.max_percent + 1}-{above.min_percent - 1}")
            raise GradingPolicyError(
                f"{where}: gap: it starts at {above.min_percent} but row {below_i + 1} "
                f"({below.letter}) ends at {below.max_percent}, so {missing} has no letter")
        if above.points < below.points:
            raise GradingPolicyError(
                f"{where}: {above.points} points for {above.min_percent}-{above.max_percent} "
                f"is less than the {below.points} of the lower range (row {below_i + 1}, "
                f"{below.letter})")
    if last.max_percent != 100:
        raise GradingPolicyError(f"{source}, row {order[-1] + 1} ({last.letter}): the highest "
                                 f"range ends at {last.max_percent}, leaving "
                                 f"{last.max_percent + 1}-100 without a letter")
    highest_first = tuple(bands[i] for i in reversed(order))
    return GradeScale(name=str(data.get("name") or source), bands=highest_first,
                      percent_rounding=rounding)


def parse_progression(data: Any, source: str) -> ProgressionRules:
    """ProgressionRules from parsed YAML: level -> {target year: minimum GPA}."""
    if not isinstance(data, dict) or not data:
        raise GradingPolicyError(
            f"{source}: expected programme levels, e.g. `bachelor: {{2: 1.33}}`")
    thresholds: dict[str, dict[int, Decimal]] = {}
    for level, years in data.items():
        if not isinstance(years, dict) or not years:
            raise GradingPolicyError(f"{source}, {level}: expected `target year: minimum GPA` rows")
        thresholds[str(level)] = {}
        for year, minimum in years.items():
            where = f"{source}, {level}, year {year}"
            try:
                target = _whole(year, "the target year")
                if target < 2:
                    raise ValueError(f"the target year must be 2 or more, got {target}")
                gpa = _decimal(minimum, "the minimum GPA")
                if not Decimal(0) <= gpa <= MAX_POINTS:
                    raise ValueError(f"the minimum GPA {gpa} is outside 0..{MAX_POINTS}")
            except ValueError as err:
                raise GradingPolicyError(f"{where}: {err}") from None
            thresholds[str(level)][target] = gpa
    return ProgressionRules(thresholds=thresholds)


def parse_levels(data: Any, source: str = "gradebook.academic_levels") -> AcademicLevels:
    """AcademicLevels from the settings table; each level's minimum must be below the one above."""
    if not isinstance(data, dict):
        raise GradingPolicyError(f"{source}: expected excellent, good and average minimum GPAs")
    values = {}
    for name in ("excellent", "good", "average"):
        try:
            values[name] = _decimal(data.get(name), f"{source}.{name}")
        except ValueError as err:
            raise GradingPolicyError(str(err)) from None
        if not Decimal(0) <= values[name] <= MAX_POINTS:
            raise GradingPolicyError(f"{source}.{name} = {values[name]} is outside 0..{MAX_POINTS}")
    if not values["excellent"] > values["good"] > values["average"]:
        raise GradingPolicyError(f"{source}: need excellent > good > average, got "
                                 f"{values['excellent']}, {values['good']}, {values['average']}")
    return AcademicLevels(**values)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YAML_LOADER)
    except OSError as err:
        raise GradingPolicyError(f"{path}: cannot read it ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise GradingPolicyError(f"{path}: not valid YAML ({err})") from err


def _config_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_scale(path: str | Path) -> GradeScale:
    """Read and check a grade scale file."""
    path = _config_path(str(path))
    return parse_scale(_read_yaml(path), str(path))


def load_progression(path: str | Path) -> ProgressionRules:
    """Read and check a progression thresholds file."""
    path = _config_path(str(path))
    return parse_progression(_read_yaml(path), str(path))


def load_policy(gradebook: GradebookSettings) -> GradingPolicy:
    """The grading policy named by the `[gradebook]` settings, every part checked."""
    for key in ("scale_file", "progression_file"):
        if not getattr(gradebook, key):
            raise GradingPolicyError(f"missing setting: gradebook.{key}")
    progression = load_progression(gradebook.progression_file)
    level = gradebook.programme_level
    if level not in progression.thresholds:
        raise GradingPolicyError(
            f"gradebook.programme_level = {level!r} is not a level of "
            f"{gradebook.progression_file} ({', '.join(progression.thresholds)})")
    credits = gradebook.default_credits
    month = gradebook.academic_year_start_month
    if credits <= 0:
        raise GradingPolicyError(f"gradebook.default_credits must be positive, got {credits}")
    if not 1 <= month <= 12:
        raise GradingPolicyError(f"gradebook.academic_year_start_month must be 1..12, got {month}")
    return GradingPolicy(
        scale=load_scale(gradebook.scale_file),
        progression=progression,
        levels=parse_levels(gradebook.academic_levels),
        default_credits=credits,
        programme_level=level,
        academic_year_start_month=month,
        timezone=gradebook.timezone,
    )
