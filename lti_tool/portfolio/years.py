"""A portfolio's course years, read through the one academic calendar (lti_tool/calendar.py).

Section I holds what tells a student's course year: the year of admission (wins) or a course
year stated on a day. Everything the portfolio shows per course year (Section II, the points
table, entry forms, analytics, the tutor summary) asks here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, case, extract, func, literal

from ..calendar import AcademicCalendar, AcademicYear, StudentYears
from .models import Portfolio


def student_years(portfolio: Portfolio | None) -> StudentYears:
    """What Section I tells about the student's course years."""
    if portfolio is None:
        return StudentYears()
    return StudentYears(
        admission_year=portfolio.admission_year,
        stated_course_year=portfolio.course_year,
        stated_on=portfolio.course_year_on,
    )


def current_course_year(
    calendar: AcademicCalendar, portfolio: Portfolio | None, today: date | None = None
) -> int | None:
    """The student's course year today (None when Section I does not tell it)."""
    return calendar.course_year(today or calendar.today(), student_years(portfolio))


def course_year_in(
    calendar: AcademicCalendar, portfolio: Portfolio | None, academic_year: str
) -> int | None:
    """The course year an academic year ("2025-2026") was for the student; None if unknown."""
    year = AcademicYear.parse(academic_year)
    return None if year is None else calendar.course_year(year, student_years(portfolio))


def academic_year_of(
    calendar: AcademicCalendar, portfolio: Portfolio | None, course_year: int
) -> str | None:
    """The academic year the student was (is, will be) in `course_year`; None if unknown."""
    year = calendar.academic_year_of_course(course_year, student_years(portfolio))
    return None if year is None else year.label


def current_course_year_sql(calendar: AcademicCalendar, today: date | None = None) -> ColumnElement:
    """SQL for `current_course_year` over pf_portfolios (the course list's year filter).

    Same rule: from the year of admission; else the stated course year counted on from the
    academic year it was stated in (rows stated before this column existed count as stated
    this year).
    """
    this_year = calendar.academic_year(today or calendar.today()).start
    stated_start = _academic_start_sql(calendar, this_year)
    return case(
        (Portfolio.admission_year.is_not(None), literal(this_year + 1) - Portfolio.admission_year),
        (
            Portfolio.course_year.is_not(None),
            Portfolio.course_year + literal(this_year) - stated_start,
        ),
        else_=None,
    )


def _academic_start_sql(calendar: AcademicCalendar, this_year: int) -> ColumnElement:
    # The first calendar year of the academic year of course_year_on, in SQL on both SQLite and
    # PostgreSQL: the year of the date, one less before the start month. Rows without the
    # date count as this year (see current_course_year_sql).
    year = extract("year", Portfolio.course_year_on)
    month = extract("month", Portfolio.course_year_on)
    return func.coalesce(
        case((month >= calendar.start_month, year), else_=year - 1), literal(this_year)
    )
