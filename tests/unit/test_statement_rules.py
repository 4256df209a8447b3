"""The rating statement's rules (the dual-training rules, 6.3-6.7, appendices 1-3) at their
boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lti_tool.gradebook.policy import load_scale
from lti_tool.statements.rules import (
    ADMISSION_NOT_POSITIVE,
    EXAM_NOT_POSITIVE,
    NO_EXAM,
    Raw,
    student_statement,
)
from lti_tool.statements.service import auto_map, week_end, week_of, week_state
from lti_tool.statements.structure import StructureError, load_structures, parse_structure

STRUCTURES = load_structures("config/statements")
APP2, APP3 = STRUCTURES["appendix2"], STRUCTURES["appendix3"]
SCALE = load_scale("config/grade_scales/kz.yaml")
ALMATY = ZoneInfo("Asia/Almaty")


def full(structure, period: str, fraction: float = 1.0) -> dict[str, Raw]:
    """Every slot of a period at `fraction` of its maximum."""
    return {
        s.key: Raw(float(s.maximum) * fraction, float(s.maximum))
        for s in structure.slots
        if s.period == period
    }


def test_both_appendices_add_up_to_100_per_period_with_their_weeks():
    for structure in (APP2, APP3):
        for period in ("rk1", "rk2"):
            assert sum(s.maximum for s in structure.slots if s.period == period) == 100
    # Appendix 2: RK-1 = tests 24 + practical 56 + SRO 20; RK-2 = 21 + 51 + 28.
    assert sum(s.maximum for s in APP2.slots if s.part == "test" and s.period == "rk1") == 24
    assert APP2.slot("sro:rk2").maximum == 28 and APP3.slot("sro:rk2").maximum == 19
    assert APP2.mentor_slot(8).part == "attestation" and APP2.mentor_slot(8).maximum == 13
    assert APP3.mentor_slot(6).maximum == 16 and APP3.mentor_slot(2) is None
    assert APP2.period_of(8).key == "rk1" and APP2.period_of(9).key == "rk2"


def test_week_8_counts_in_rk1_and_week_9_in_rk2():
    week8 = student_statement(APP2, SCALE, {"test:8": Raw(3, 3)})
    week9 = student_statement(APP2, SCALE, {"test:9": Raw(3, 3)})
    assert (week8.rk1, week8.rk2) == (Decimal(3), Decimal(0))
    assert (week9.rk1, week9.rk2) == (Decimal(0), Decimal(3))


def test_every_part_at_its_maximum_gives_100_and_more_is_clamped():
    raws = {**full(APP2, "rk1"), **full(APP2, "rk2"), "exam": Raw(100, 100)}
    raws["practical:1"] = Raw(7, 5)  # a mentor's 7 out of 5 counts 5
    result = student_statement(APP2, SCALE, raws)
    assert (result.rk1, result.rk2, result.admission, result.exam) == (100, 100, 100, 100)
    assert result.final == 100 and result.band.letter == "A"


def test_a_result_counts_on_its_slots_scale():
    # A weekly test marked 8 of 10 in the LMS is 2.4 of the week's 3 points.
    result = student_statement(APP2, SCALE, {"test:1": Raw(8, 10)})
    assert result.points["test:1"] == Decimal("2.4") and result.rk1 == Decimal("2.40")


@pytest.mark.parametrize(
    ("admission_fraction", "exam", "final", "reason"),
    [
        (0.5, 50, Decimal("50.00"), ""),  # both exactly at the positive boundary
        (0.49, 90, None, ADMISSION_NOT_POSITIVE),  # admission 49: one below
        (0.9, 49, None, EXAM_NOT_POSITIVE),  # exam 49: one below
        (0.9, None, None, NO_EXAM),
    ],
)
def test_a_final_exists_only_when_admission_and_exam_are_positive(
    admission_fraction, exam, final, reason
):
    raws = {**full(APP2, "rk1", admission_fraction), **full(APP2, "rk2", admission_fraction)}
    if exam is not None:
        raws["exam"] = Raw(exam, 100)
    result = student_statement(APP2, SCALE, raws)
    assert result.admission == Decimal(str(admission_fraction * 100))
    assert result.final == final and result.reason == reason
    if final is None:
        assert result.band is None and result.final_whole is None
    else:
        assert result.band.letter == "D" and result.band.traditional_name("ru") == (
            "Удовлетворительно"
        )


def test_the_final_is_rounded_half_up_to_a_whole_percent_for_the_letter():
    # RK-1 = 85, RK-2 = 84, exam = 84.5: 25.5 + 25.2 + 33.8 = 84.5 -> 85 -> B+ (3.33).
    raws = {**full(APP2, "rk1", 0.85), **full(APP2, "rk2", 0.84), "exam": Raw(84.5, 100)}
    result = student_statement(APP2, SCALE, raws)
    assert (result.rk1, result.rk2, result.exam) == (85, 84, Decimal("84.5"))
    assert result.final == Decimal("84.50") and result.final_whole == 85
    assert result.band.letter == "B+" and result.band.points == Decimal("3.33")
    # 84.49 stays 84 -> B (3.0).
    raws["exam"] = Raw(84.475, 100)  # 33.79 + 50.7 = 84.49
    result = student_statement(APP2, SCALE, raws)
    assert result.final == Decimal("84.49") and result.band.letter == "B"


def test_c_plus_is_good():
    raws = {**full(APP2, "rk1", 0.7), **full(APP2, "rk2", 0.7), "exam": Raw(72, 100)}
    result = student_statement(APP2, SCALE, raws)
    assert result.band.letter == "C+" and result.band.traditional_name("kk") == "Жақсы"


def test_a_structure_that_does_not_add_up_is_refused_at_start_up():
    data = {
        "id": "x",
        "title": {"kk": "x", "ru": "x"},
        "weights": {"rk1": 0.3, "rk2": 0.3, "exam": 0.4},
        "positive": {"admission": 50, "exam": 50},
        "periods": {
            "rk1": {"first_week": 1, "last_week": 1, "sro": 20},
            "rk2": {"first_week": 2, "last_week": 2, "sro": 20},
        },
        "weeks": {1: {"test": 80}, 2: {"test": 79}},
    }
    with pytest.raises(StructureError, match="rk2 adds up to 99"):
        parse_structure(data, "broken.yaml")


def test_weeks_end_at_almaty_midnight_and_are_late_after_24_hours():
    start = date(2026, 9, 7)  # a Monday
    ends = week_end(start, 1, ALMATY)
    # Midnight of 14 September in Almaty (UTC+5) is 19:00 UTC on the 13th.
    assert ends == datetime(2026, 9, 13, 19, 0, tzinfo=UTC)
    assert week_of(start, date(2026, 11, 1)) == 8 and week_of(start, date(2026, 11, 2)) == 9
    assert week_of(start, date(2026, 9, 6)) == 0
    hour = timedelta(hours=1)
    assert week_state(ends, None, ends - hour) == "running"
    assert week_state(ends, None, ends + 23 * hour) == "due"
    assert week_state(ends, None, ends + 25 * hour) == "late"
    assert week_state(ends, ends + 24 * hour, ends + 30 * hour) == "on_time"
    assert week_state(ends, ends + 24 * hour + timedelta(seconds=1), ends + 30 * hour) == "late"


def test_line_items_are_mapped_by_tag_or_title_pattern():
    class Item:
        def __init__(self, id, label, tag=""):
            self.id, self.label, self.tag = id, label, tag

    items = [
        Item(1, "Week 1 test"),
        Item(2, "Неделя 1: практика", "practical-1"),
        Item(3, "СРО 1"),
        Item(4, "Экзамен"),
        Item(5, "Week 10 test"),
    ]
    found = auto_map(
        items,
        APP2,
        {
            "test": "week {n} test",
            "practical": "practical-{n}",
            "sro": "сро {n}",
            "exam": "экзамен*",
        },
    )
    assert found == {"test:1": 1, "practical:1": 2, "sro:rk1": 3, "exam": 4, "test:10": 5}
