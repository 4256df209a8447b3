"""The entry form's input, checked against the rubric (pure: no Flask, no database)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from ..parsing import NumberError, parse_int
from .rubric import MAX_COUNT, EntryList, Rubric

MAX_TEXT = 500
MAX_LONG_TEXT = 10_000


@dataclass
class EntryInput:
    """A checked entry: which rubric row it claims, and its columns."""

    list_key: str
    item_key: str
    course_year: int
    level: str | None
    result: str | None
    count: int
    fields: dict[str, str] = field(default_factory=dict)
    year_note: str = ""  # why the course year is not the one the date falls in

    @property
    def title(self) -> str:
        """The entry's name (the list's `title` column)."""
        return self.fields.get("title", "")


def _whole(value: str | None) -> int | None:
    # ASCII digits only; the callers check the range they need.
    try:
        return parse_int(value, minimum=0)
    except NumberError:
        return None


def achievement_date(entry_list: EntryList, form: Mapping[str, str]) -> date | None:
    """The entry's date: its list's first date column, when filled in as YYYY-MM-DD."""
    for column in entry_list.columns:
        if column.type == "date":
            try:
                return date.fromisoformat((form.get(f"f_{column.key}") or "").strip())
            except ValueError:
                return None
    return None


def check_entry(rubric: Rubric, entry_list: EntryList, form: Mapping[str, str],
                year_of_date: Callable[[date], int | None] | None = None,
                ) -> tuple[EntryInput | None, dict[str, str]]:
    """Check the posted form of an entry of `entry_list`; (input, {}) or (None, errors by field).

    `year_of_date`: the student's course year on a date (the academic calendar's rule). An
    entry with a date takes that course year when none is chosen; a chosen course year that
    differs from it needs a note saying why (issue 13), kept and shown with the entry.
    """
    errors: dict[str, str] = {}
    item = entry_list.item(form.get("item")) if len(entry_list.items) > 1 \
        else entry_list.items[0]
    if item is None:
        errors["item"] = str(_l("Choose what this entry is."))
    year = _whole(form.get("course_year"))
    when = achievement_date(entry_list, form)
    dated_year = year_of_date(when) if when is not None and year_of_date else None
    if year is None and not (form.get("course_year") or "").strip():
        year = dated_year
    year_note = (form.get("year_note") or "").strip()
    if year is None or not 1 <= year <= rubric.course_years:
        errors["course_year"] = str(_l("Choose a course year from 1 to %(n)s.",
                                       n=rubric.course_years))
    elif dated_year is not None and year != dated_year and not year_note:
        errors["course_year"] = str(_l(
            "The date %(date)s falls in your course year %(n)s. Choose it, or say below why "
            "this entry belongs to course year %(m)s.", date=when.isoformat() if when else "",
            n=dated_year, m=year))
        errors["year_note"] = str(_l("Say why the course year differs from the date's."))
    if len(year_note) > MAX_TEXT:
        errors["year_note"] = str(_l("At most %(n)s characters.", n=MAX_TEXT))
    if dated_year is None or year == dated_year:
        year_note = ""  # a note only where the year and the date disagree
    level = (form.get("level") or "").strip() or None
    result = (form.get("result") or "").strip() or None
    count = 1
    if item is not None:
        levels = rubric.levels(item)
        if levels and level not in levels:
            errors["level"] = str(_l("Choose the level."))
        if not levels:
            level = None
        if item.results and item.result(result) is None:
            errors["result"] = str(_l("Choose the result."))
        if not item.results:
            result = None
        if item.counted:
            count = _whole(form.get("count")) or 0
            if not 1 <= count <= MAX_COUNT:
                errors["count"] = str(_l("Enter how many, from 1 to %(n)s.", n=MAX_COUNT))
    fields: dict[str, str] = {}
    for column in entry_list.columns:
        value = (form.get(f"f_{column.key}") or "").strip()
        limit = MAX_LONG_TEXT if column.type == "textarea" else MAX_TEXT
        if column.required and not value:
            errors[f"f_{column.key}"] = str(_l("This field is required."))
        elif len(value) > limit:
            errors[f"f_{column.key}"] = str(_l("At most %(n)s characters.", n=limit))
        elif value and column.type == "number":
            number = _whole(value)
            if number is None or not 0 <= number <= 100_000:
                errors[f"f_{column.key}"] = str(_l("Enter a whole number."))
        elif value and column.type == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                errors[f"f_{column.key}"] = str(_l("Enter a date as YYYY-MM-DD."))
        fields[column.key] = value
    if errors or item is None or year is None:
        return None, errors
    return EntryInput(entry_list.key, item.key, year, level, result, count, fields,
                      year_note), {}
