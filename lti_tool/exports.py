"""Exports, one way for every domain: CSV and XLSX tables, the text of PDFs, download names.

A table is a header row followed by rows of cells. Cells keep their Python types (int,
Decimal, float, date, datetime, str, None); the reader's locale and the column kinds decide how
they are written:

- **Text** (every format): control characters removed (openpyxl refuses them, reportlab draws
  boxes: one group name with a \\x01 once failed a course's XLSX), CR LF and tabs made plain;
  a spreadsheet cell starting like a formula (= + - @) is kept as text with a leading '.
- **CSV**: UTF-8 with a BOM (Excel then reads Kazakh and Russian right). Where the locale writes
  a decimal comma (kk, ru) the file is what Excel with those regional settings opens into
  columns: ';' between cells, '45,50', dates as '03.12.2026'. Elsewhere (en): ',' between cells,
  '45.50' and ISO dates ('2026-12-03'), which every Excel reads.
- **XLSX**: numbers and dates typed (dates in Excel's built-in short-date format, shown in the
  reader's own regional settings), column widths from the header and the content, the header
  row bold, wrapped at spaces, frozen, with an autofilter; printed landscape, one page wide,
  with the header row on every page. Written in openpyxl's write-only mode:
  memory stays flat for long lists (widths are measured on the first rows).

Views pass the locale and the day; a CSV written without a locale during a request takes the
request's (so `to_csv(table)` in any view reads right for its reader), else English.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

# C0 and C1 controls except the line break, DEL, and the two noncharacters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Column kinds: how a column's cells are typed (a string in a number column is read as one).
NUMBER, DATE, TEXT = "number", "date", "text"
KINDS = (NUMBER, DATE, TEXT)

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# XLSX: Excel's built-in short date (number format 14) follows the reader's regional settings.
XLSX_DATE = "mm-dd-yy"
XLSX_MOMENT = "m/d/yy h:mm"  # built-in 22, also regional
MEASURED_ROWS = 500  # column widths come from the header and this many first rows
MIN_WIDTH, MAX_WIDTH, DATE_WIDTH = 6, 50, 12


def printable(value: object) -> str:
    """`value` as text without control characters (newlines kept; CR LF and tabs made plain)."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def cell(value: object) -> object:
    """A spreadsheet cell: numbers and dates as they are, text printable and never a formula."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    # A cell starting with = + - @ is run by Excel and LibreOffice: keep it text.
    return "'" + text if text.startswith(FORMULA_START) else text


# ---- locale -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvStyle:
    """How a locale's Excel reads a CSV: the cell separator, the decimal sign, the day's form."""

    delimiter: str
    decimal: str
    day_format: str  # numeric, for date.strftime: "%d.%m.%Y" or "%Y-%m-%d"

    def number(self, value: int | float | Decimal) -> str:
        """A number with this decimal sign, no grouping, its places as they are."""
        if isinstance(value, int):  # bool too
            return str(int(value))
        text = format(value, "f") if isinstance(value, Decimal) else repr(float(value))
        return text.replace(".", self.decimal) if self.decimal != "." else text

    def day(self, value: date) -> str:
        """A day ('03.12.2026'); a moment with its time ('03.12.2026 13:05')."""
        if isinstance(value, datetime):
            return value.strftime(self.day_format + " %H:%M")
        return value.strftime(self.day_format)


def language(locale: object | None) -> str:
    """The language part of a locale ('ru' of 'ru_KZ' or a Babel Locale); without one, the
    current request's language, else 'en'."""
    if locale is None:
        locale = _request_locale()
    return (str(locale or "en").replace("-", "_").split("_")[0].lower()) or "en"


def _request_locale() -> object | None:
    """The locale Flask-Babel chose for this request, or None outside a request."""
    from flask import has_request_context
    from flask_babel import get_locale

    return get_locale() if has_request_context() else None


@functools.lru_cache(maxsize=32)
def _csv_style(lang: str) -> CsvStyle:
    from babel.core import UnknownLocaleError
    from babel.numbers import get_decimal_symbol

    try:
        decimal = get_decimal_symbol(lang)
    except (ValueError, UnknownLocaleError):
        decimal = "."
    if decimal == ",":
        return CsvStyle(";", ",", "%d.%m.%Y")
    return CsvStyle(",", ".", "%Y-%m-%d")


def csv_style(locale: object | None) -> CsvStyle:
    """The CSV a reader in `locale` opens in Excel: ';' and dd.mm.yyyy where the decimal sign is
    a comma (Excel's list separator is then ';'), else ',' and ISO dates."""
    return _csv_style(language(locale))


def local_number(
    value: int | float | Decimal, locale: object | None, digits: int | None = None
) -> str:
    """A number as the reader writes it, no grouping: '3,40' (kk, ru), '3.40' (en); a Decimal
    keeps its places unless `digits` says how many."""
    if digits is not None and not isinstance(value, int):
        value = Decimal(value).quantize(Decimal(1).scaleb(-digits))
    return csv_style(locale).number(value)


def local_day(value: date, locale: object | None, form: str = "medium") -> str:
    """A day in the reader's words ('3 дек. 2026 г.', '2026 ж. 03 жел.') for PDFs."""
    from babel.dates import format_date

    return format_date(value, form, locale=language(locale))


# ---- cells --------------------------------------------------------------------------------------


def _as_number(value: object) -> object:
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
        except InvalidOperation:
            return value
    return value


def _as_date(value: object) -> object:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


def _typed(value: object, kind: str | None) -> object:
    """`value` with its column kind applied: a number column's '3.40' becomes Decimal('3.40')."""
    if value is None or value == "":
        return None
    if kind == NUMBER:
        return _as_number(value)
    if kind == DATE:
        return _as_date(value)
    if kind == TEXT and not isinstance(value, str):
        return str(value)
    return value


def _with_kinds(row: Sequence, kinds: list[str | None]) -> Iterator[tuple[object, str | None]]:
    """Each cell of `row` with its column's kind (None past the known columns)."""
    for i, value in enumerate(row):
        yield value, kinds[i] if i < len(kinds) else None


def _kinds(kinds: Sequence[str | None] | None, width: int) -> list[str | None]:
    chosen = list(kinds or [])
    for kind in chosen:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r} (one of {', '.join(KINDS)})")
    return chosen + [None] * (width - len(chosen))


def _csv_text(value: object, style: CsvStyle) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return style.number(value)
    if isinstance(value, date):
        return style.day(value)
    return str(cell(str(value)))


def to_csv(
    table: Iterable[Sequence],
    *,
    locale: object | None = None,
    kinds: Sequence[str | None] | None = None,
) -> bytes:
    """The table as CSV for a reader in `locale` (see the module's notes): UTF-8 with a BOM,
    ';' and decimal commas for kk and ru, formulas neutralised, control characters removed.
    `kinds` names each column's kind (number, date, text; None: as the values are)."""
    style = csv_style(locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter)
    rows = iter(table)
    header = next(rows, None)
    if header is None:
        return b"\xef\xbb\xbf"
    writer.writerow([str(cell(printable(v))) for v in header])
    column_kinds = _kinds(kinds, len(header))
    for row in rows:
        writer.writerow(
            [_csv_text(_typed(v, kind), style) for v, kind in _with_kinds(row, column_kinds)]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---- XLSX ---------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet of a workbook: a title, a table (header first; an iterable, read once, in
    order: a later sheet's rows may be made while an earlier one is written), column kinds and
    widths (None: measured)."""

    title: str
    table: Iterable[Sequence]
    kinds: Sequence[str | None] | None = None
    widths: Sequence[float | None] | None = None


def sheet_title(title: object, fallback: str = "Sheet") -> str:
    """A title Excel accepts: printable, none of []:*?/\\, at most 31 characters."""
    text = "".join(ch for ch in printable(title).replace("\n", " ") if ch not in "[]:*?/\\")
    return text.strip()[:31] or fallback


def _number_format(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "0"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # "n", "N" or "F" when not finite
        places = -exponent if isinstance(exponent, int) else 0
        return "0." + "0" * places if places > 0 else "0"
    if isinstance(value, datetime):
        return XLSX_MOMENT
    if isinstance(value, date):
        return XLSX_DATE
    return None


def _xlsx_value(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no zones: the caller's local time
    if isinstance(value, str):
        return cell(value)
    if isinstance(value, bool):
        return str(value)
    return value


def _display_width(value: object) -> float:
    """About how many characters wide `value` shows in Excel's default font."""
    if value is None:
        return 0
    if isinstance(value, date):
        return DATE_WIDTH
    if isinstance(value, int | float | Decimal):
        return len(format(value, "f") if isinstance(value, Decimal) else str(value)) + 1
    return max((len(line) for line in str(value).split("\n")), default=0) * 1.1


def _widths(
    header: Sequence, sample: Sequence[Sequence], given: Sequence[float | None] | None
) -> list[float]:
    """Column widths: each at least its longest header word (the header wraps at spaces, never
    inside a word) and its widest sampled cell, within MIN_WIDTH..MAX_WIDTH; given ones win."""
    chosen = list(given or [])
    widths = []
    for i, title in enumerate(header):
        if i < len(chosen) and chosen[i] is not None:
            widths.append(float(chosen[i]))  # type: ignore[arg-type]
            continue
        word = max((len(w) for w in printable(title).split()), default=0) * 1.15
        content = max((_display_width(row[i]) for row in sample if i < len(row)), default=0)
        widths.append(round(min(MAX_WIDTH, max(MIN_WIDTH, word, content)) + 2, 1))
    return widths


def _write_sheet(book, spec: Sheet) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(sheet_title(spec.title))
    rows: Iterator[Sequence] = iter(spec.table)
    header = [printable(v) for v in next(rows, [])]
    column_kinds = _kinds(spec.kinds, len(header))

    def typed(row: Sequence) -> list:
        return [_xlsx_value(_typed(v, kind)) for v, kind in _with_kinds(row, column_kinds)]

    sample = [typed(row) for row in itertools.islice(rows, MEASURED_ROWS)]
    for i, width in enumerate(_widths(header, sample, spec.widths), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    # Printed, as an office files it: landscape, one page wide, the header on every page.
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    heading = []
    for title in header:
        head = WriteOnlyCell(sheet, value=cell(title))
        head.font, head.alignment = bold, wrap
        heading.append(head)
    sheet.append(heading)
    count = 0
    for values in itertools.chain(sample, (typed(row) for row in rows)):
        out = []
        for value in values:
            number_format = _number_format(value)
            if number_format is None:
                out.append(value)
                continue
            typed_cell = WriteOnlyCell(sheet, value=value)
            typed_cell.number_format = number_format
            out.append(typed_cell)
        sheet.append(out)
        count += 1
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"


def xlsx_book(sheets: Iterable[Sheet]) -> bytes:
    """A workbook of these sheets, written in order (see Sheet)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for spec in sheets:
        _write_sheet(book, spec)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_xlsx(
    table: Iterable[Sequence],
    sheet_title: str,
    *,
    kinds: Sequence[str | None] | None = None,
    widths: Sequence[float | None] | None = None,
    locale: object | None = None,
) -> bytes:
    """The table as a one-sheet workbook: typed cells, widths to the content, the header bold,
    frozen and filtered. `locale` is accepted for symmetry with to_csv: a workbook's numbers and
    dates are typed, and Excel shows them in the reader's regional settings."""
    del locale
    return xlsx_book([Sheet(sheet_title, table, kinds, widths)])


# ---- file names ---------------------------------------------------------------------------------


def download_name(what: str, extension: str, day: date) -> str:
    """A file name that says what and when: download_name('teachhub-hr', 'xlsx', day) is
    'teachhub-hr-2026-12-03.xlsx'. Letters of any script are kept; anything else becomes '-'."""
    slug = re.sub(r"[^\w]+", "-", printable(what).replace("_", "-"), flags=re.UNICODE)
    slug = slug.strip("-")[:80] or "export"
    return f"{slug}-{day.isoformat()}.{extension.lstrip('.')}"


def content_disposition(filename: str) -> str:
    """The Content-Disposition of a download: an ASCII name for old clients and the full one
    (RFC 6266, RFC 8187) for the others."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name)
    ascii_name = re.sub(r"-{2,}", "-", ascii_name).strip("-") or "export"
    if ascii_name.startswith("."):
        ascii_name = "export" + ascii_name
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
