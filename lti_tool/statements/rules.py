"""The rating statement's arithmetic (the dual-training rules, 6.3-6.7, appendices 1-3): pure, no
Flask.

- A line item's result counts on its slot's scale: score / maximum x the slot's maximum,
  clamped to 0..maximum (a mentor's 6 out of 5 counts 5). No result counts 0.
- RK-1 and RK-2 are the sums of their period's slots (weeks 1-8 and 9-15 with the SRO), each out
  of 100, rounded half up to two decimals; the exam is its percent, to two decimals.
- The admission rating is (RK-1 + RK-2) / 2, to two decimals.
- The final = 0.3 x RK-1 + 0.3 x RK-2 + 0.4 x exam (weights from the structure file), computed
  from the two-decimal figures printed beside it, exists only when the admission rating and the
  exam are both positive (6.7: at least the structure's `positive` bounds, 50 by default).
- The letter, points and traditional grade come from the letter scale at the final's whole
  percent (the scale's rounding, half up: 84.5 -> 85 -> B).
Decimals throughout, so 0.3 x 83.35 is exactly 25.005 and boundaries never wobble.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..gradebook.gpa import band_for_percent, to_decimal, whole_percent
from ..gradebook.policy import GradeBand, GradeScale
from .structure import Slot, Structure

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Why a student has no final grade (6.7).
NO_EXAM = "no_exam"
ADMISSION_NOT_POSITIVE = "admission_not_positive"
EXAM_NOT_POSITIVE = "exam_not_positive"


@dataclass(frozen=True)
class Raw:
    """A result as the LMS holds it: score out of maximum (None: no score)."""

    score: float | Decimal | None
    maximum: float | Decimal | None


@dataclass(frozen=True)
class StudentStatement:
    """One student's line of the statement."""

    rk1: Decimal
    rk2: Decimal
    admission: Decimal
    exam: Decimal | None
    final: Decimal | None  # two decimals; None when 6.7 withholds it
    final_whole: int | None  # the whole percent the letter is read at
    band: GradeBand | None
    reason: str = ""  # NO_EXAM, ADMISSION_NOT_POSITIVE or EXAM_NOT_POSITIVE when final is None
    points: Mapping[str, Decimal] = field(default_factory=dict)  # slot key -> points


def cents(value: Decimal) -> Decimal:
    """Rounded half up to two decimals."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def slot_points(slot: Slot, raw: Raw | None) -> Decimal | None:
    """The result on the slot's own scale (clamped), or None when there is no score."""
    if raw is None or raw.score is None or raw.maximum is None:
        return None
    maximum = to_decimal(raw.maximum)
    if maximum <= 0:
        return None
    value = to_decimal(raw.score) / maximum * slot.maximum
    return min(max(value, ZERO), slot.maximum)


def student_statement(
    structure: Structure, scale: GradeScale, raws: Mapping[str, Raw]
) -> StudentStatement:
    """RK-1, RK-2, admission rating, exam and final of one student from their raw results."""
    points: dict[str, Decimal] = {}
    for slot in structure.slots:
        value = slot_points(slot, raws.get(slot.key))
        if value is not None:
            points[slot.key] = value
    rk = {
        period.key: cents(
            sum((points.get(s.key, ZERO) for s in structure.slots if s.period == period.key), ZERO)
        )
        for period in structure.periods
    }
    admission = cents((rk["rk1"] + rk["rk2"]) / 2)
    exam = points.get("exam")
    exam = cents(exam) if exam is not None else None
    reason = ""
    if admission < structure.positive_admission:
        reason = ADMISSION_NOT_POSITIVE
    elif exam is None:
        reason = NO_EXAM
    elif exam < structure.positive_exam:
        reason = EXAM_NOT_POSITIVE
    if reason:
        return StudentStatement(
            rk["rk1"], rk["rk2"], admission, exam, None, None, None, reason, points
        )
    assert exam is not None
    weights = structure.weights
    final = cents(weights["rk1"] * rk["rk1"] + weights["rk2"] * rk["rk2"] + weights["exam"] * exam)
    return StudentStatement(
        rk["rk1"],
        rk["rk2"],
        admission,
        exam,
        final,
        whole_percent(final, scale),
        band_for_percent(final, scale),
        "",
        points,
    )
