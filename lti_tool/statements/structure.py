"""The weekly structure of a dual-training course (the dual-training rules, appendices 2 and 3),
from config/.

Pure data and its checks (no Flask): every file in the structures folder is one structure;
a file that does not add up stops the tool at start-up with a message naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..settings import PROJECT_ROOT, SettingsError

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HUNDRED = Decimal(100)
PERIODS = ("rk1", "rk2")
WEEK_PARTS = ("test", "practical", "attestation")
# Parts an instructor maps to LMS line items: a slot is "<part>:<week>", "sro:<period>" or
# "exam".
MENTOR_PARTS = ("practical", "attestation")  # scored by the enterprise mentor (6.3, 6.5.2)


class StructureError(SettingsError):
    """A statement structure file is missing or does not add up; the message says where."""


@dataclass(frozen=True)
class Slot:
    """One gradebook column of the statement: a part of a week, a period's SRO, or the exam."""

    key: str  # "test:3", "practical:5", "attestation:8", "sro:rk1", "exam"
    part: str  # test | practical | attestation | sro | exam
    maximum: Decimal
    week: int | None = None
    period: str | None = None  # rk1 | rk2 (None for the exam)


@dataclass(frozen=True)
class Period:
    """A rating period (RK-1, RK-2): its weeks and its independent work (SRO) maximum."""

    key: str
    first_week: int
    last_week: int
    sro: Decimal


@dataclass(frozen=True)
class Structure:
    """A weekly structure: the slots of each period, weights of the final, positive bounds."""

    id: str
    title: Mapping[str, str]
    periods: tuple[Period, ...]
    slots: tuple[Slot, ...]
    weights: Mapping[str, Decimal]  # rk1, rk2, exam
    positive_admission: Decimal
    positive_exam: Decimal

    def label(self, locale: str) -> str:
        """The structure's title in `locale` (English, then the id, when missing)."""
        return self.title.get(locale) or self.title.get("en") or self.id

    @property
    def weeks(self) -> list[int]:
        """Every week of the course, in order."""
        return sorted({s.week for s in self.slots if s.week is not None})

    def slot(self, key: str) -> Slot | None:
        """The slot with this key, if the structure has it."""
        return next((s for s in self.slots if s.key == key), None)

    def mentor_slot(self, week: int) -> Slot | None:
        """The week's part scored by the enterprise mentor (practical or attestation), if any."""
        return next((s for s in self.slots if s.week == week and s.part in MENTOR_PARTS), None)

    def period_of(self, week: int) -> Period:
        """The rating period a week belongs to."""
        return next(p for p in self.periods if p.first_week <= week <= p.last_week)


def _number(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StructureError(f"{where}: expected a number, got {value!r}")
    number = Decimal(str(value))
    if number < 0:
        raise StructureError(f"{where}: must not be negative, got {value!r}")
    return number


def _week_number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StructureError(f"{where}: expected a week number 1 or more, got {value!r}")
    return value


def parse_structure(data: Any, source: str) -> Structure:
    """A Structure from parsed YAML; StructureError names what is wrong."""
    if not isinstance(data, dict):
        raise StructureError(f"{source}: expected a mapping")
    ident = data.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise StructureError(f"{source}: missing `id`")
    title = data.get("title")
    if not isinstance(title, dict) or not all(isinstance(title.get(k), str) for k in ("kk", "ru")):
        raise StructureError(f"{source}: `title` needs kk and ru")
    raw_periods = data.get("periods")
    if not isinstance(raw_periods, dict) or set(raw_periods) != set(PERIODS):
        raise StructureError(f"{source}: `periods` needs exactly rk1 and rk2")
    periods = []
    for key in PERIODS:
        raw = raw_periods[key]
        if not isinstance(raw, dict):
            raise StructureError(f"{source}, periods.{key}: expected a mapping")
        first = _week_number(raw.get("first_week"), f"{source}, periods.{key}.first_week")
        last = _week_number(raw.get("last_week"), f"{source}, periods.{key}.last_week")
        if last < first:
            raise StructureError(f"{source}, periods.{key}: last_week before first_week")
        periods.append(
            Period(key, first, last, _number(raw.get("sro"), f"{source}, periods.{key}.sro"))
        )
    if periods[1].first_week != periods[0].last_week + 1:
        raise StructureError(f"{source}: rk2 must start the week after rk1 ends")
    raw_weeks = data.get("weeks")
    if not isinstance(raw_weeks, dict):
        raise StructureError(f"{source}: `weeks` must map week numbers to their parts")
    expected = set(range(periods[0].first_week, periods[1].last_week + 1))
    if set(raw_weeks) != expected:
        raise StructureError(
            f"{source}: `weeks` must list weeks {min(expected)}-{max(expected)} once each"
        )
    slots: list[Slot] = []
    for week in sorted(expected):
        parts = raw_weeks[week]
        where = f"{source}, week {week}"
        if not isinstance(parts, dict) or not set(parts) <= set(WEEK_PARTS):
            raise StructureError(f"{where}: parts must be among {', '.join(WEEK_PARTS)}")
        if "practical" in parts and "attestation" in parts:
            raise StructureError(f"{where}: a week has practical work or the attestation, not both")
        period = next(p for p in periods if p.first_week <= week <= p.last_week)
        for part in WEEK_PARTS:
            if part in parts:
                slots.append(
                    Slot(
                        f"{part}:{week}",
                        part,
                        _number(parts[part], f"{where}.{part}"),
                        week=week,
                        period=period.key,
                    )
                )
    for period in periods:
        slots.append(Slot(f"sro:{period.key}", "sro", period.sro, period=period.key))
        total = sum((s.maximum for s in slots if s.period == period.key), Decimal(0))
        if total != HUNDRED:
            raise StructureError(f"{source}: {period.key} adds up to {total}, not 100")
    slots.append(Slot("exam", "exam", HUNDRED))
    raw_weights = data.get("weights")
    if not isinstance(raw_weights, dict) or set(raw_weights) != {"rk1", "rk2", "exam"}:
        raise StructureError(f"{source}: `weights` needs rk1, rk2 and exam")
    weights = {k: _number(v, f"{source}, weights.{k}") for k, v in raw_weights.items()}
    if sum(weights.values()) != 1:
        raise StructureError(f"{source}: weights add up to {sum(weights.values())}, not 1")
    positive = data.get("positive")
    if not isinstance(positive, dict):
        raise StructureError(f"{source}: `positive` needs admission and exam")
    admission = _number(positive.get("admission"), f"{source}, positive.admission")
    exam = _number(positive.get("exam"), f"{source}, positive.exam")
    if admission > HUNDRED or exam > HUNDRED:
        raise StructureError(f"{source}: positive bounds are percents (0-100)")
    return Structure(
        id=ident.strip(),
        title=dict(title),
        periods=tuple(periods),
        slots=tuple(slots),
        weights=weights,
        positive_admission=admission,
        positive_exam=exam,
    )


class Structures(dict[str, Structure]):
    """The weekly structures loaded at start-up, by id (statements.init_app)."""


def load_structures(folder: str | Path) -> Structures:
    """Every structure in `folder` (*.yaml), by id; StructureError when one is wrong."""
    path = Path(folder)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    if not path.is_dir():
        raise StructureError(f"statements.structures_dir: {path} is not a folder")
    found: dict[str, Structure] = {}
    for file in sorted(path.glob("*.yaml")):
        try:
            with file.open(encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=_YAML_LOADER)
        except (OSError, yaml.YAMLError) as err:
            raise StructureError(f"{file}: cannot read it ({err})") from err
        structure = parse_structure(data, str(file))
        if structure.id in found:
            raise StructureError(f"{file}: the id {structure.id!r} is used twice")
        found[structure.id] = structure
    if not found:
        raise StructureError(f"{path}: no statement structures (*.yaml)")
    return Structures(found)
