"""TeachHub settings and data lists from config/, checked at start-up (no Flask).

`[teachhub]` in config/default.toml holds numbers and switches; its `data_file` (YAML) holds the
lists with kk/ru/en names. A wrong entry stops the tool with a message naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..gradebook.outbox import ACTIVITY_PROGRESS, GRADING_PROGRESS
from ..lti.roles import normalise
from ..settings import PROJECT_ROOT, Settings, SettingsError, TeachHubGradebookSettings
from .status import STATUSES

# The same safe loader in C when PyYAML has libyaml (its wheels do): ten times faster, and
# every app start reads these files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCALES = ("kk", "ru", "en")
LISTS = ("competence_areas", "module_formats", "delivery_formats", "integration_targets",
         "statuses")
SCORE_MODES = ("mark", "completion", "none")


class TeachHubConfigError(SettingsError):
    """The TeachHub settings or data file are wrong; the message names the entry."""


@dataclass(frozen=True)
class Choice:
    """One entry of a data list: a stable key and its names per locale."""

    key: str
    names: Mapping[str, str] = field(compare=False)

    def name(self, locale: str) -> str:
        """The name in `locale`, English when the file lacks it."""
        return self.names.get(str(locale)) or self.names["en"]


@dataclass(frozen=True)
class GradebookPosting:
    """What a status or mark change posts to the LMS gradebook."""

    enabled: bool
    score: str  # one of SCORE_MODES
    progress: Mapping[str, tuple[str, str]]  # status -> (activityProgress, gradingProgress)


@dataclass(frozen=True)
class TeachHubConfig:
    """Everything TeachHub reads from config/."""

    lists: Mapping[str, tuple[Choice, ...]]
    hours_per_unit: Decimal
    max_hours: Decimal
    max_duration_days: int
    coordinator_roles: frozenset[str]
    department_params: tuple[str, ...]
    feedback_min_answers: int
    mark_maximum: Decimal
    hr_page_size: int
    gradebook: GradebookPosting
    timezone: tzinfo  # "today" for completion and commission dates

    def today(self) -> date:
        """Today's date where the university is."""
        return datetime.now(self.timezone).date()

    def choices(self, name: str) -> tuple[Choice, ...]:
        """A data list by name (competence_areas, module_formats, ...)."""
        return self.lists[name]

    def keys(self, name: str) -> tuple[str, ...]:
        """The keys of a data list, in file order."""
        return tuple(c.key for c in self.lists[name])

    def label(self, name: str, key: str, locale: str) -> str:
        """The name of `key` in list `name`; the key itself when the list no longer has it."""
        for choice in self.lists[name]:
            if choice.key == key:
                return choice.name(locale)
        return key

    def status_name(self, status: str, locale: str) -> str:
        """A status's name in `locale`."""
        return self.label("statuses", status, locale)


def _choices(data: dict, name: str, source: str) -> tuple[Choice, ...]:
    rows = data.get(name)
    if not isinstance(rows, list) or not rows:
        raise TeachHubConfigError(f"{source}: `{name}` must be a non-empty list")
    seen: set[str] = set()
    result = []
    for index, row in enumerate(rows, 1):
        where = f"{source}, {name} entry {index}"
        if not isinstance(row, dict) or not str(row.get("key") or "").strip():
            raise TeachHubConfigError(f"{where}: needs a `key`")
        key = str(row["key"]).strip()
        if key in seen:
            raise TeachHubConfigError(f"{where}: key {key!r} appears twice")
        seen.add(key)
        missing = [loc for loc in LOCALES if not str(row.get(loc) or "").strip()]
        if missing:
            raise TeachHubConfigError(f"{where} ({key}): no name in {', '.join(missing)}")
        result.append(Choice(key, {loc: str(row[loc]).strip() for loc in LOCALES}))
    return tuple(result)


def parse_data(data: Any, source: str) -> dict[str, tuple[Choice, ...]]:
    """The data lists from parsed YAML; statuses must be exactly the five of 4.5.4, in order."""
    if not isinstance(data, dict):
        raise TeachHubConfigError(f"{source}: expected a mapping of lists")
    lists = {name: _choices(data, name, source) for name in LISTS}
    keys = tuple(c.key for c in lists["statuses"])
    if keys != STATUSES:
        raise TeachHubConfigError(
            f"{source}: `statuses` must name exactly {', '.join(STATUSES)} in this order, "
            f"got {', '.join(keys)}")
    return lists


def _number(value: Any, what: str, *, minimum: Decimal = Decimal(0)) -> Decimal:
    if isinstance(value, bool):
        raise TeachHubConfigError(f"teachhub.{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise TeachHubConfigError(f"teachhub.{what} must be a number, got {value!r}") from None
    if not number.is_finite() or number <= minimum:
        raise TeachHubConfigError(f"teachhub.{what} must be above {minimum}, got {value!r}")
    return number


def _posting(section: TeachHubGradebookSettings) -> GradebookPosting:
    score = section.score
    if score not in SCORE_MODES:
        raise TeachHubConfigError(
            f"teachhub.gradebook.score must be one of {', '.join(SCORE_MODES)}, got {score!r}")
    progress_section = section.progress
    progress: dict[str, tuple[str, str]] = {}
    for status in STATUSES:
        pair = progress_section.get(status)
        if (not isinstance(pair, list) or len(pair) != 2 or pair[0] not in ACTIVITY_PROGRESS
                or pair[1] not in GRADING_PROGRESS):
            raise TeachHubConfigError(
                f"teachhub.gradebook.progress.{status} must be [activityProgress, "
                f"gradingProgress] (one of {sorted(ACTIVITY_PROGRESS)}, one of "
                f"{sorted(GRADING_PROGRESS)}), got {pair!r}")
        progress[status] = (pair[0], pair[1])
    return GradebookPosting(enabled=section.enabled, score=score,
                            progress=progress)


def load_config(settings: Settings) -> TeachHubConfig:
    """The TeachHub config named by settings `[teachhub]`, every part checked; its dates are
    in the institution's time zone (gradebook.timezone)."""
    section = settings.teachhub
    data_file = section.data_file
    path = Path(data_file) if Path(data_file).is_absolute() else PROJECT_ROOT / data_file
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_YAML_LOADER)
    except OSError as err:
        raise TeachHubConfigError(f"teachhub.data_file {data_file}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise TeachHubConfigError(f"{data_file}: not valid YAML: {err}") from None
    lists = parse_data(data, str(data_file))
    days = section.max_duration_days
    minimum = section.feedback_min_answers
    page = section.hr_page_size
    for name, value in (("max_duration_days", days), ("feedback_min_answers", minimum),
                        ("hr_page_size", page)):
        if value < 1:
            raise TeachHubConfigError(f"teachhub.{name} must be a whole number >= 1, "
                                      f"got {value!r}")
    return TeachHubConfig(
        lists=lists, timezone=settings.gradebook.timezone,
        hours_per_unit=_number(section.hours_per_credit_unit, "hours_per_credit_unit"),
        max_hours=_number(section.max_hours, "max_hours"),
        max_duration_days=days,
        coordinator_roles=frozenset(normalise(r) for r in section.coordinator_roles),
        department_params=section.department_params,
        feedback_min_answers=minimum,
        mark_maximum=_number(section.mark_maximum, "mark_maximum"),
        hr_page_size=page,
        gradebook=_posting(section.gradebook),
    )
