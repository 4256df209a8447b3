"""The HR consolidated list as CSV and XLSX tables (written by lti_tool/exports.py; rows are
streamed from one query, so memory stays flat)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..exports import DATE, NUMBER, TEXT, Sheet, to_csv, xlsx_book
from .hours import CENT, credit_units
from .reports import HRRow
from .status import RECOGNIZED

COLUMNS = (
    _l("Department"), _l("Participant"), _l("Email"), _l("Module"), _l("Version"),
    _l("Module format"), _l("Stream"), _l("Stream starts"), _l("Stream ends"), _l("Status"),
    _l("Completed on"), _l("Contact hours"), _l("Self-study hours"), _l("Total hours"),
    _l("Credit units"), _l("Work plan / IS record date"), _l("Work plan / IS record number"),
    _l("Commission record date"), _l("Commission record number"),
)
# Record numbers stay text: "12/2026" is not a date, "0012" keeps its zeros.
KINDS = (TEXT, TEXT, TEXT, TEXT, NUMBER, TEXT, TEXT, DATE, DATE, TEXT, DATE, NUMBER, NUMBER,
         NUMBER, NUMBER, DATE, TEXT, DATE, TEXT)
PEOPLE_COLUMNS = (
    _l("Department"), _l("Participant"), _l("Email"), _l("Activities"), _l("Total hours"),
    _l("Credit units"), _l("Recognized hours"), _l("Recognized credit units"),
)
PEOPLE_KINDS = (TEXT, TEXT, TEXT, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER)


@dataclass(frozen=True)
class Labels:
    """How codes read in the reader's language: statuses and module formats."""

    status: Callable[[str], str]
    module_format: Callable[[str], str]


def _hours(value: Decimal) -> Decimal:
    """Hours and units with two decimals, always (45.5 -> 45.50)."""
    return Decimal(value).quantize(CENT)


def _values(row: HRRow, labels: Labels) -> list:
    return [row.department, row.person, row.email, row.module, row.version,
            labels.module_format(row.module_format), row.stream, row.stream_starts,
            row.stream_ends, labels.status(row.status), row.completed_on,
            _hours(row.contact_hours), _hours(row.self_study_hours), _hours(row.total_hours),
            _hours(row.units), row.record_date, row.record_number, row.commission_date,
            row.commission_number]


def hr_table(rows: Iterable[HRRow], labels: Labels) -> Iterator[list]:
    """The consolidated list as a table: the header, then one row per activity."""
    yield [str(c) for c in COLUMNS]
    for row in rows:
        yield _values(row, labels)


def hr_csv(rows: Iterable[HRRow], labels: Labels, locale: object | None = None) -> bytes:
    """The list as CSV for a reader in `locale` (see lti_tool/exports.py)."""
    return to_csv(hr_table(rows, labels), locale=locale, kinds=KINDS)


@dataclass
class _PersonTotal:
    department: str
    person: str
    email: str
    activities: int = 0
    hours: Decimal = Decimal(0)
    recognized: Decimal = Decimal(0)


def hr_xlsx(rows: Iterable[HRRow], labels: Labels, hours_per_unit: Decimal) -> bytes:
    """Two sheets: every activity, and totals per person (added up while the first is
    written)."""
    people: dict[tuple[str, str, str], _PersonTotal] = {}

    def counted(source: Iterable[HRRow]) -> Iterator[HRRow]:
        for row in source:
            key = (row.department, row.person, row.email)
            total = people.get(key) or people.setdefault(key, _PersonTotal(*key))
            total.activities += 1
            total.hours += row.total_hours
            if row.status == RECOGNIZED:
                total.recognized += row.total_hours
            yield row

    def totals() -> Iterator[list]:
        yield [str(c) for c in PEOPLE_COLUMNS]
        for total in people.values():
            yield [total.department, total.person, total.email, total.activities,
                   _hours(total.hours), credit_units(total.hours, hours_per_unit),
                   _hours(total.recognized), credit_units(total.recognized, hours_per_unit)]

    return xlsx_book([Sheet(str(_l("Activities")), hr_table(counted(rows), labels), KINDS),
                      Sheet(str(_l("People")), totals(), PEOPLE_KINDS)])
