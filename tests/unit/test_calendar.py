"""The academic calendar rule (issue 13): academic years in the institution's zone, course years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lti_tool.calendar import (
    AcademicCalendar,
    AcademicYear,
    CalendarError,
    StudentYears,
    calendar_from_settings,
)

ALMATY = AcademicCalendar(start_month=9, zone=ZoneInfo("Asia/Almaty"))


@pytest.mark.parametrize(
    "on, year",
    [
        (date(2025, 9, 1), 2025),
        (date(2025, 8, 31), 2024),
        (date(2026, 2, 1), 2025),
        (date(2026, 8, 31), 2025),
        (date(2026, 9, 1), 2026),
    ],
)
def test_a_date_falls_in_the_academic_year_that_started_last_september(on, year):
    assert ALMATY.academic_year(on) == AcademicYear(year)


def test_the_first_day_in_almaty_while_utc_is_still_on_the_previous_day():
    # 2025-08-31 19:30 UTC is 2025-09-01 00:30 in Almaty (UTC+5): the new academic year.
    moment = datetime(2025, 8, 31, 19, 30, tzinfo=UTC)
    assert ALMATY.local_date(moment) == date(2025, 9, 1)
    assert ALMATY.academic_year(moment).label == "2025-2026"
    assert ALMATY.course_year(moment, StudentYears(admission_year=2025)) == 1
    assert ALMATY.course_year(moment, StudentYears(admission_year=2023)) == 3
    # One second before local midnight it is still the last day of 2024-2025.
    before = datetime(2025, 8, 31, 18, 59, 59, tzinfo=UTC)
    assert ALMATY.academic_year(before).label == "2024-2025"
    assert ALMATY.course_year(before, StudentYears(admission_year=2025)) is None
    assert ALMATY.course_year(before, StudentYears(admission_year=2023)) == 2
    # A naive datetime is UTC (the database's), not local.
    assert ALMATY.academic_year(datetime(2025, 8, 31, 19, 30)).label == "2025-2026"
    # In UTC itself the same moment is still in the old year.
    utc = AcademicCalendar(zone=UTC)
    assert utc.academic_year(moment).label == "2024-2025"


def test_today_is_the_institutions_date():
    now = datetime(2026, 8, 31, 20, 0, tzinfo=UTC)
    assert ALMATY.today(now) == date(2026, 9, 1)
    assert ALMATY.current(now) == AcademicYear(2026)
    other = datetime(2026, 8, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert ALMATY.current(other) == AcademicYear(2026)


def test_another_start_month():
    january = AcademicCalendar(start_month=1, zone=UTC)
    assert january.academic_year(date(2026, 1, 1)).label == "2026-2027"
    assert january.academic_year(date(2025, 12, 31)).label == "2025-2026"
    assert january.first_day(AcademicYear(2026)) == date(2026, 1, 1)


def test_the_issue_13_student_admitted_in_2023_is_in_year_3_in_2025_2026():
    student = StudentYears(admission_year=2023, stated_course_year=1)  # admission wins
    assert ALMATY.course_year(AcademicYear.parse("2025-2026"), student) == 3
    assert ALMATY.course_year(AcademicYear(2023), student) == 1
    assert ALMATY.academic_year_of_course(3, student) == AcademicYear(2025)
    assert ALMATY.academic_year_of_course(1, student).label == "2023-2024"


@pytest.mark.parametrize("start, expected", [(2022, None), (2023, 1), (2030, 8), (2031, None)])
def test_a_course_year_outside_1_to_8_is_unknown(start, expected):
    assert ALMATY.course_year(AcademicYear(start), StudentYears(admission_year=2023)) == expected


def test_a_stated_course_year_counts_on_from_the_year_it_was_stated_in():
    student = StudentYears(stated_course_year=2, stated_on=date(2024, 10, 5))  # 2024-2025
    assert ALMATY.course_year(AcademicYear(2024), student) == 2
    assert ALMATY.course_year(date(2025, 9, 1), student) == 3
    assert ALMATY.course_year(AcademicYear(2023), student) == 1
    assert ALMATY.academic_year_of_course(4, student) == AcademicYear(2026)


def test_without_admission_or_stated_year_the_course_year_is_unknown():
    assert ALMATY.course_year(date(2025, 9, 1), StudentYears()) is None
    assert ALMATY.academic_year_of_course(1, StudentYears()) is None


@pytest.mark.parametrize(
    "value, start",
    [
        ("2025-2026", 2025),
        (" 2025-2026 ", 2025),
        ("2025-2027", None),
        ("2025/2026", None),
        ("25-26", None),
        ("", None),
        (None, None),
        ("2025-2026-2027", None),
    ],
)
def test_parse_an_academic_year(value, start):
    parsed = AcademicYear.parse(value)
    assert (parsed.start if parsed else None) == start


def test_academic_years_order_and_print():
    assert sorted([AcademicYear(2026), AcademicYear(2024)]) == [
        AcademicYear(2024),
        AcademicYear(2026),
    ]
    assert str(AcademicYear(2025).shifted(-2)) == "2023-2024"


def test_settings_are_checked():
    from lti_tool.settings import SettingsError, load

    def calendar(**gradebook):
        return calendar_from_settings(load({"gradebook": gradebook}, environ={}))

    assert calendar().start_month == 9
    cal = calendar(academic_year_start_month=2, timezone="UTC")
    assert (cal.start_month, cal.local_date(datetime(2026, 1, 31, 23, tzinfo=UTC))) == (
        2,
        date(2026, 1, 31),
    )
    with pytest.raises(CalendarError, match="academic_year_start_month"):
        calendar(academic_year_start_month=13)
    with pytest.raises(SettingsError, match="timezone"):
        calendar(timezone="Mars/Olympus")
