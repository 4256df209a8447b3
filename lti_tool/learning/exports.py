"""The consolidated list of every form as CSV and XLSX (openpyxl, write-only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..exports import cell
from ..teachhub.hours import format_hours
from .reports import Row

COLUMNS = (
    _l("Department"),
    _l("Participant"),
    _l("Email"),
    _l("Form"),
    _l("Format"),
    _l("Title"),
    _l("Organiser or platform"),
    _l("Starts"),
    _l("Ends"),
    _l("Status"),
    _l("Competence area"),
    _l("Hours claimed"),
    _l("Hours recognised"),
    _l("Credit units recognised"),
    _l("Decision date"),
    _l("Decision number"),
)

Label = Callable[[str, str], str]  # (list name, key) -> name in the reader's language


def _values(row: Row, label: Label) -> list:
    return [
        row.department,
        row.person,
        row.email,
        label("forms", row.form),
        label("formats", row.format) if row.format else "",
        row.title,
        row.organiser,
        row.starts_on,
        row.ends_on,
        label("statuses", row.status),
        label("competence_areas", row.area) if row.area else "",
        row.hours,
        row.hours_recognized,
        row.units_recognized,
        row.decision_date,
        row.decision_number,
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_hours(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(cell(str(value)))


def to_csv(rows: Iterable[Row], label: Label) -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads Kazakh and Russian names right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c) for c in COLUMNS])
    for row in rows:
        writer.writerow([_text(v) for v in _values(row, label)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[Row], label: Label) -> bytes:
    """One sheet, numbers and dates typed."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Activities")))
    sheet.append([str(c) for c in COLUMNS])

    def typed(value: object) -> object:
        if isinstance(value, Decimal):
            number = WriteOnlyCell(sheet, value=value)
            number.number_format = "0.00"
            return number
        if isinstance(value, date):
            day = WriteOnlyCell(sheet, value=value)
            day.number_format = "yyyy-mm-dd"
            return day
        return _text(value) if isinstance(value, str) else value

    for row in rows:
        sheet.append([typed(v) for v in _values(row, label)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
