"""The academic calendar: which academic year a moment falls in, and a student's course year.

One rule for every page (issue 13): the grades page, Section II, the points table, the entry
forms, analytics, the tutor summary and the rating statement all ask this module; nothing
computes an academic year or a course year of its own. Pure: no Flask, no database.

The rule, as the README states it:
- An academic year starts on the 1st of `start_month` (September in Kazakhstan) at midnight in
  the institution's time zone (Asia/Almaty) and ends the day before the next one starts:
  2025-09-01 .. 2026-08-31 is "2025-2026". A moment is read in that zone first, so 2025-08-31
  19:30 UTC is already 2025-09-01 in Almaty and falls in 2025-2026.
- A student admitted in year A (the year of admission in Section I) is in course year 1 during
  the academic year that starts in A, 2 in the next, and so on: course year = first calendar
  year of the academic year - A + 1.
- Without a year of admission, the course year a student states in Section I is read as the
  course year of the academic year it was stated in, and counts on from there.
- The year of admission wins over a stated course year when both are given (it does not go
  stale); a course year outside 1..`max_years` is "unknown" (None), never clamped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import total_ordering
from zoneinfo import ZoneInfo

from .settings import Settings, SettingsError

DEFAULT_START_MONTH = 9
DEFAULT_ZONE = "Asia/Almaty"
MAX_COURSE_YEARS = 8
_LABEL = re.compile(r"^(\d{4})-(\d{4})$")


class CalendarError(SettingsError):
    """The calendar settings are wrong; the message names the setting."""


@total_ordering
@dataclass(frozen=True)
class AcademicYear:
    """An academic year, known by the calendar year it starts in: 2025 is "2025-2026"."""

    start: int

    def __str__(self) -> str:
        return f"{self.start}-{self.start + 1}"

    def __lt__(self, other: AcademicYear) -> bool:
        return self.start < other.start

    @property
    def label(self) -> str:
        """As printed and stored: "2025-2026"."""
        return str(self)

    def shifted(self, years: int) -> AcademicYear:
        """The academic year `years` later (earlier when negative)."""
        return AcademicYear(self.start + years)

    @classmethod
    def parse(cls, value: str | None) -> AcademicYear | None:
        """ "2025-2026" -> AcademicYear(2025); None for anything else (e.g. "2025-2027", "")."""
        match = _LABEL.match((value or "").strip())
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            return None
        return cls(int(match.group(1)))


@dataclass(frozen=True)
class AcademicCalendar:
    """The institution's academic calendar: the month academic years start in, and its zone."""

    start_month: int = DEFAULT_START_MONTH
    zone: tzinfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))
    max_years: int = MAX_COURSE_YEARS

    def local_date(self, on: date | datetime) -> date:
        """The date `on` is where the institution is; a naive datetime is read as UTC."""
        if isinstance(on, datetime):
            aware = on if on.tzinfo is not None else on.replace(tzinfo=UTC)
            return aware.astimezone(self.zone).date()
        return on

    def today(self, now: datetime | None = None) -> date:
        """Today's date at the institution (a day ahead of UTC every evening in Almaty)."""
        return self.local_date(now or datetime.now(UTC))

    def academic_year(self, on: date | datetime) -> AcademicYear:
        """The academic year a date or moment falls in."""
        day = self.local_date(on)
        return AcademicYear(day.year if day.month >= self.start_month else day.year - 1)

    def current(self, now: datetime | None = None) -> AcademicYear:
        """The academic year today falls in."""
        return self.academic_year(self.today(now))

    def first_day(self, year: AcademicYear) -> date:
        """The first day of an academic year (local date)."""
        return date(year.start, self.start_month, 1)

    def course_year(self, on: date | datetime | AcademicYear, student: StudentYears) -> int | None:
        """A student's course year at `on` (a date, moment or academic year); None if unknown.

        From the year of admission when given; else from the course year stated in Section I
        (as of the academic year it was stated in: `stated_on`, today when not known); else
        unknown. None too outside 1..max_years (before admission, after the last year).
        """
        year = on if isinstance(on, AcademicYear) else self.academic_year(on)
        first = self.admission_academic_year(student)
        if first is None:
            return None
        number = year.start - first.start + 1
        return number if 1 <= number <= self.max_years else None

    def admission_academic_year(self, student: StudentYears) -> AcademicYear | None:
        """The academic year of the student's course year 1; None when nothing tells it."""
        if student.admission_year:
            return AcademicYear(student.admission_year)
        if student.stated_course_year:
            when = student.stated_on if student.stated_on is not None else self.today()
            return self.academic_year(when).shifted(1 - student.stated_course_year)
        return None

    def academic_year_of_course(
        self, course_year: int, student: StudentYears
    ) -> AcademicYear | None:
        """The academic year a student was (or will be) in `course_year`; None if unknown."""
        first = self.admission_academic_year(student)
        return None if first is None else first.shifted(course_year - 1)


@dataclass(frozen=True)
class StudentYears:
    """What tells a student's course year: Section I's year of admission (wins), else the
    course year Section I states and the date it was stated on."""

    admission_year: int | None = None
    stated_course_year: int | None = None
    stated_on: date | datetime | None = None


def calendar_from_settings(settings: Settings) -> AcademicCalendar:
    """The calendar of `[gradebook] academic_year_start_month` and `timezone`, checked."""
    month = settings.gradebook.academic_year_start_month
    if not 1 <= month <= 12:
        raise CalendarError(f"gradebook.academic_year_start_month must be 1..12, got {month!r}")
    return AcademicCalendar(start_month=month, zone=settings.gradebook.timezone)
