"""The module passport's mandatory fields (the staff non-formal education rules, 4.5.2) and its
completeness: pure.

A card is a draft until every mandatory field is filled; publishing an incomplete one is
refused with the list of what is missing, in the passport's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class PassportData:
    """The passport as plain values (the working copy or a published version)."""

    title: str
    curator_department: str
    facilitator_names: Sequence[str]
    target_audience: str
    goal: str
    competences: Sequence[str]
    structure: str
    delivery_formats: Sequence[str]
    mandatory_tasks: str
    completion_criteria: str
    assessment: str
    workload_hours: Decimal
    duration_days: int | None
    integration: Sequence[str]
    module_format: str


# (field, label, passport item of 4.5.2; 0 for what the passport presumes: a title, a format)
FIELDS: tuple[tuple[str, object, int], ...] = (
    ("title", _l("Title"), 0),
    ("curator_department", _l("Curator (department)"), 1),
    ("facilitator_names", _l("Facilitators"), 1),
    ("target_audience", _l("Target audience"), 2),
    ("goal", _l("Goal"), 3),
    ("competences", _l("Competences formed"), 3),
    ("structure", _l("Structure (topics and sessions)"), 4),
    ("delivery_formats", _l("Formats"), 5),
    ("mandatory_tasks", _l("Mandatory tasks"), 6),
    ("completion_criteria", _l("Completion criteria"), 7),
    ("assessment", _l("Assessment of results"), 8),
    ("workload_hours", _l("Workload in academic hours"), 9),
    ("duration_days", _l("Calendar duration"), 9),
    ("integration", _l("Integration"), 10),
    ("module_format", _l("Module format"), 0),
)
LABELS = {name: label for name, label, _item in FIELDS}


def _filled(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (Decimal, int)):
        return value > 0
    return bool(value)


def missing_fields(passport: PassportData) -> list[str]:
    """The mandatory fields still empty, in the passport's order ([] when complete)."""
    return [name for name, _label, _item in FIELDS if not _filled(getattr(passport, name))]


def missing_labels(passport: PassportData) -> list[str]:
    """The translated names of what is missing."""
    return [str(LABELS[name]) for name in missing_fields(passport)]


def lines(text: str) -> list[str]:
    """A multi-line field as its non-empty lines (structure, tasks: one item a line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
