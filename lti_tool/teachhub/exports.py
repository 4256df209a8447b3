"""The HR consolidated list as CSV and XLSX (openpyxl, write-only: memory stays flat)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..export_text import cell
from .hours import credit_units, format_hours
from .reports import HRRow
from .status import RECOGNIZED

COLUMNS = (
    _l("Department"), _l("Participant"), _l("Email"), _l("Module"), _l("Version"),
    _l("Module format"), _l("Stream"), _l("Stream starts"), _l("Stream ends"), _l("Status"),
    _l("Completed on"), _l("Contact hours"), _l("Self-study hours"), _l("Total hours"),
    _l("Credit units"), _l("Work plan / IS record date"), _l("Work plan / IS record number"),
    _l("Commission record date"), _l("Commission record number"),
)
PEOPLE_COLUMNS = (
    _l("Department"), _l("Participant"), _l("Email"), _l("Activities"), _l("Total hours"),
    _l("Credit units"), _l("Recognized hours"), _l("Recognized credit units"),
)


@dataclass(frozen=True)
class Labels:
    """How codes read in the reader's language: statuses and module formats."""

    status: Callable[[str], str]
    module_format: Callable[[str], str]


def _values(row: HRRow, labels: Labels) -> list:
    return [row.department, row.person, row.email, row.module, row.version,
            labels.module_format(row.module_format), row.stream, row.stream_starts,
            row.stream_ends, labels.status(row.status), row.completed_on, row.contact_hours,
            row.self_study_hours, row.total_hours, row.units, row.record_date,
            row.record_number, row.commission_date, row.commission_number]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_hours(value)
    if isinstance(value, date):
        return value.isoformat()
    return cell(str(value))


def hr_csv(rows: Iterable[HRRow], labels: Labels) -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads Kazakh and Russian names right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c) for c in COLUMNS])
    for row in rows:
        writer.writerow([_text(v) for v in _values(row, labels)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@dataclass
class _PersonTotal:
    department: str
    person: str
    email: str
    activities: int = 0
    hours: Decimal = Decimal(0)
    recognized: Decimal = Decimal(0)


def hr_xlsx(rows: Iterable[HRRow], labels: Labels, hours_per_unit: Decimal) -> bytes:
    """Two sheets: every activity, and totals per person."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Activities")))
    sheet.append([str(c) for c in COLUMNS])
    people: dict[tuple[str, str, str], _PersonTotal] = {}

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
        sheet.append([typed(v) for v in _values(row, labels)])
        key = (row.department, row.person, row.email)
        total = people.get(key) or people.setdefault(key, _PersonTotal(*key))
        total.activities += 1
        total.hours += row.total_hours
        if row.status == RECOGNIZED:
            total.recognized += row.total_hours
    summary = book.create_sheet(str(_l("People")))
    summary.append([str(c) for c in PEOPLE_COLUMNS])
    for total in people.values():
        summary.append([_text(total.department), _text(total.person), _text(total.email),
                        total.activities, typed(total.hours),
                        typed(credit_units(total.hours, hours_per_unit)), typed(total.recognized),
                        typed(credit_units(total.recognized, hours_per_unit))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
