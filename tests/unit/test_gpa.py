"""Percent -> letter and points at every boundary of domain.md's table; GPA; progression; levels."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from lti_tool.gradebook.gpa import (
    Credited,
    academic_level,
    band_for_percent,
    check_progression,
    course_percent,
    gpa,
    gpa_by_year,
    is_academic_year,
    study_years,
    whole_percent,
)
from lti_tool.gradebook.policy import AcademicLevels, academic_year_of, load_progression, load_scale

SCALE = load_scale("config/grade_scales/kz.yaml")
PROGRESSION = load_progression("config/grade_scales/kz_progression.yaml")
LEVELS = AcademicLevels(excellent=Decimal("3.67"), good=Decimal("2.67"), average=Decimal("1.0"))

# domain.md section 2 (the dual-training rules, appendix 1): letter, points, lowest and highest
# percent.
TABLE = [
    ("A", "4.0", 95, 100), ("A-", "3.67", 90, 94), ("B+", "3.33", 85, 89),
    ("B", "3.0", 80, 84), ("B-", "2.67", 75, 79), ("C+", "2.33", 70, 74),
    ("C", "2.0", 65, 69), ("C-", "1.67", 60, 64), ("D+", "1.33", 55, 59),
    ("D", "1.0", 50, 54), ("FX", "0.5", 25, 49), ("F", "0", 0, 24),
]
BOUNDARIES = [(pct, letter, points) for letter, points, low, high in TABLE
              for pct in sorted({low, high})]


@pytest.mark.parametrize("percent, letter, points", BOUNDARIES)
def test_every_boundary_is_inclusive(percent, letter, points):
    band = band_for_percent(percent, SCALE)
    assert (band.letter, band.points) == (letter, Decimal(points))


@pytest.mark.parametrize("letter, points, low, high", [row for row in TABLE if row[2] > 0])
def test_one_below_the_lowest_percent_is_the_next_letter_down(letter, points, low, high):
    assert band_for_percent(low - 1, SCALE).letter != letter
    assert band_for_percent(low - 1, SCALE).points < Decimal(points)


@pytest.mark.parametrize("percent, letter", [
    (94.5, "A"), ("94.5", "A"), (Decimal("94.5"), "A"), (94.49, "A-"), (94.4999, "A-"),
    (89.5, "A-"), (89.49, "B+"), (84.5, "B+"), (54.5, "D+"), (49.5, "D"), (49.49, "FX"),
    (24.5, "FX"),
    (24.49, "F"), (99.99, "A"), (0.4, "F"),
])
def test_fractional_percents_round_half_up_to_a_whole_percent(percent, letter):
    assert band_for_percent(percent, SCALE).letter == letter


@pytest.mark.parametrize("percent, letter", [(94.99, "A-"), (95, "A"), (49.99, "FX"),
                                             (50, "D"), (24.99, "F")])
def test_rounding_down_requires_the_whole_percent(percent, letter):
    assert band_for_percent(percent, replace(SCALE, percent_rounding="down")).letter == letter


@pytest.mark.parametrize("percent, whole", [(105, 100), (100.4, 100), (-3, 0), (-0.4, 0)])
def test_percents_outside_0_100_are_clamped(percent, whole):
    assert whole_percent(percent, SCALE) == whole


def test_the_traditional_grade_comes_in_each_language():
    band = band_for_percent(91, SCALE)
    assert band.traditional_name("kk") == "Өте жақсы"
    assert band.traditional_name("ru") == "Отлично"
    assert band.traditional_name("en") == "Excellent"
    assert band.traditional_name("de") == "Excellent"  # unknown language: English
    assert band_for_percent(30, SCALE).retake == "exam"
    assert band_for_percent(10, SCALE).retake == "course"
    assert band_for_percent(60, SCALE).retake == ""


@pytest.mark.parametrize("score, maximum, percent", [
    (18.9, 20, Decimal("94.5")), (7.5, 10, Decimal("75")), (0, 100, Decimal("0")),
    (110, 100, Decimal("110")), (None, 100, None), (5, 0, None), (5, None, None), (5, -1, None),
])
def test_course_percent(score, maximum, percent):
    assert course_percent(score, maximum) == percent


def test_gpa_is_the_credit_weighted_mean_of_points():
    courses = [Credited(Decimal(5), Decimal("4.0")), Credited(Decimal(5), Decimal("3.67")),
               Credited(Decimal(3), Decimal("2.0"))]
    # (20 + 18.35 + 6) / 13 = 3.4115...
    assert gpa(courses) == Decimal("3.41")


def test_gpa_counts_fx_and_f_and_ignores_courses_without_credits():
    courses = [Credited(Decimal(5), Decimal("4.0")), Credited(Decimal(5), Decimal("0")),
               Credited(Decimal(0), Decimal("0.5"))]
    assert gpa(courses) == Decimal("2.00")


def test_gpa_rounds_half_up_to_two_decimals():
    # (1.32 + 1.33) / 2 = 1.325: half up gives 1.33 (banker's rounding would give 1.32).
    assert gpa([Credited(Decimal(1), Decimal("1.32")), Credited(Decimal(1), Decimal("1.33"))]) \
        == Decimal("1.33")


def test_gpa_without_credited_courses_is_none():
    assert gpa([]) is None
    assert gpa([Credited(Decimal(0), Decimal(4))]) is None


def test_gpa_accepts_floats_exactly():
    assert gpa([Credited(5.0, 3.67), Credited(5.0, 3.33)]) == Decimal("3.50")


def test_gpa_by_year():
    result = gpa_by_year([
        ("2024-2025", Credited(Decimal(5), Decimal(4))),
        ("2024-2025", Credited(Decimal(5), Decimal(2))),
        ("2025-2026", Credited(Decimal(3), Decimal("1.33"))),
    ])
    assert result == {"2024-2025": Decimal("3.00"), "2025-2026": Decimal("1.33")}


@pytest.mark.parametrize("level, target, value, passed", [
    ("bachelor", 2, "1.33", True), ("bachelor", 2, "1.32", False),
    ("bachelor", 3, "1.67", True), ("bachelor", 3, "1.66", False),
    ("bachelor", 4, "2.0", True), ("bachelor", 4, "1.99", False),
    ("master", 2, "1.67", True), ("master", 2, "1.66", False),
])
def test_progression_thresholds_are_inclusive(level, target, value, passed):
    check = check_progression(Decimal(value), level, target, PROGRESSION)
    assert check.passed is passed
    assert check.threshold == {("bachelor", 2): Decimal("1.33"), ("bachelor", 3): Decimal("1.67"),
                               ("bachelor", 4): Decimal("2.0"),
                               ("master", 2): Decimal("1.67")}[(level, target)]


def test_progression_judges_the_gpa_as_shown_to_two_decimals():
    assert check_progression(1.325, "bachelor", 2, PROGRESSION).passed  # shown as 1.33
    assert not check_progression(1.3249, "bachelor", 2, PROGRESSION).passed  # shown as 1.32


def test_progression_without_a_rule_passes_and_says_so():
    check = check_progression(Decimal("0.5"), "bachelor", 5, PROGRESSION)
    assert check.passed and check.threshold is None
    check = check_progression(Decimal("0.5"), "doctorate", 2, PROGRESSION)
    assert check.passed and check.threshold is None


def test_progression_without_a_gpa_fails_where_there_is_a_rule():
    check = check_progression(None, "bachelor", 2, PROGRESSION)
    assert not check.passed and check.threshold == Decimal("1.33")


@pytest.mark.parametrize("value, level", [
    ("4.0", "excellent"), ("3.67", "excellent"), ("3.66", "good"), ("2.67", "good"),
    ("2.66", "average"), ("1.0", "average"), ("0.99", "low"), ("0", "low"), (None, None),
])
def test_academic_level_for_the_tutor_summary(value, level):
    assert academic_level(None if value is None else Decimal(value), LEVELS) == level


@pytest.mark.parametrize("day, start_month, year", [
    (date(2025, 9, 1), 9, "2025-2026"), (date(2025, 8, 31), 9, "2024-2025"),
    (date(2026, 2, 1), 9, "2025-2026"), (date(2026, 1, 1), 1, "2026-2027"),
])
def test_academic_year_of(day, start_month, year):
    assert academic_year_of(day, start_month) == year


@pytest.mark.parametrize("value, ok", [("2025-2026", True), ("2025-2027", False),
                                       ("2025/2026", False), ("25-26", False), ("", False),
                                       ("2025-2026-2027", False), ("abcd-abce", False)])
def test_is_academic_year(value, ok):
    assert is_academic_year(value) is ok


def test_study_years_count_the_academic_years_on_record():
    assert study_years(["2025-2026", "2023-2024", "", "bad", "2023-2024"]) == {
        "2023-2024": 1, "2025-2026": 2}
    assert study_years([]) == {}
