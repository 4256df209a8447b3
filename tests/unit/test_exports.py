"""lti_tool/exports.py: CSV as a reader's Excel opens it, XLSX typed and laid out, file names."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from lti_tool.exports import (
    DATE,
    NUMBER,
    TEXT,
    Sheet,
    content_disposition,
    download_name,
    local_number,
    to_csv,
    to_xlsx,
    xlsx_book,
)

TABLE = [
    ["Студент", "Топ", "Курс жылы", "Мәлімделген балл", "Сағат", "Соңғы жаңарту"],
    ["Әлия Сейітова", "=МД\x01-21", 2, 120, Decimal("45.50"), date(2026, 12, 3)],
    ["Иван Петров", "021", 3, 0, Decimal("7.25"), None],
]


def rows_of(body: bytes, delimiter: str) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would read the Cyrillic wrong"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


@pytest.mark.parametrize("locale", ["kk", "ru", "ru_KZ"])
def test_csv_for_kazakh_and_russian_excel_uses_semicolons_and_decimal_commas(locale):
    rows = rows_of(to_csv(TABLE, locale=locale), ";")
    assert rows[0] == TABLE[0]
    assert rows[1] == ["Әлия Сейітова", "'=МД-21", "2", "120", "45,50", "03.12.2026"]
    assert rows[2] == ["Иван Петров", "021", "3", "0", "7,25", ""]


def test_csv_in_english_uses_commas_points_and_iso_dates():
    rows = rows_of(to_csv(TABLE, locale="en"), ",")
    assert rows[1] == ["Әлия Сейітова", "'=МД-21", "2", "120", "45.50", "2026-12-03"]


def test_csv_column_kinds_type_strings_and_keep_text_as_text():
    table = [["GPA", "Record", "Day", "Note"], ["3.40", "12/2026", "2026-06-20", "+7 701"]]
    rows = rows_of(to_csv(table, locale="ru", kinds=[NUMBER, TEXT, DATE, TEXT]), ";")
    # A number typed as text reads as a number; a record number stays as written; a phone
    # number starting with + is not a formula.
    assert rows[1] == ["3,40", "12/2026", "20.06.2026", "'+7 701"]
    with pytest.raises(ValueError, match="unknown column kind"):
        to_csv(table, kinds=["money"])


def test_csv_cells_hold_separators_and_line_breaks():
    table = [["Note"], ["один; два\r\nтри\tчетыре"]]
    assert rows_of(to_csv(table, locale="kk"), ";")[1] == ["один; два\nтри четыре"]


def test_numbers_in_the_readers_locale():
    assert local_number(Decimal("3.40"), "kk") == "3,40"
    assert local_number(Decimal("3.4"), "ru", digits=2) == "3,40"
    assert local_number(Decimal("3.40"), "en") == "3.40"
    assert local_number(12, "ru") == "12"


def test_xlsx_is_typed_frozen_filtered_and_sized_to_its_content():
    body = to_xlsx(TABLE, "Курс: МД/101 [2026]")
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title == "Курс МД101 2026"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F3"
    assert sheet.print_title_rows == "$1:$1"  # printed: the header on every page
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    header = [c.value for c in sheet[1]]
    assert header == TABLE[0]
    assert all(c.font.b and c.alignment.wrap_text for c in sheet[1])
    name, group, year, points, hours, updated = sheet[2]
    assert (name.value, group.value) == ("Әлия Сейітова", "'=МД-21")
    assert year.value == 2 and year.data_type == "n" and points.value == 120
    assert hours.value == pytest.approx(45.5) and hours.number_format == "0.00"
    assert updated.is_date and updated.value.date() == date(2026, 12, 3)
    assert sheet["B3"].value == "021"  # text stays text: the leading zero is kept
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEF"}
    # Every header word fits its column (the header wraps at spaces, never inside a word).
    for letter, title in zip("ABCDEF", TABLE[0], strict=True):
        assert widths[letter] >= max(len(w) for w in title.split()), (letter, widths)
    assert widths["A"] >= len("Әлия Сейітова") and widths["F"] >= 12
    assert widths["C"] < widths["A"]


def test_xlsx_widths_are_capped_and_can_be_given():
    table = [["Note", "Short"], ["слово " * 200, "x"]]
    sheet = load_workbook(io.BytesIO(to_xlsx(table, "x", widths=[None, 30]))).active
    assert 20 < sheet.column_dimensions["A"].width <= 52
    assert sheet.column_dimensions["B"].width == 30


def test_xlsx_book_writes_later_sheets_after_earlier_ones_are_read():
    seen: list[str] = []

    def first():
        yield ["Name"]
        for name in ("Асель", "Болат"):
            seen.append(name)
            yield [name]

    def second():
        yield ["Count"]
        yield [len(seen)]

    book = load_workbook(io.BytesIO(xlsx_book([Sheet("A", first()), Sheet("B", second())])))
    assert [s.title for s in book.worksheets] == ["A", "B"]
    assert book.worksheets[1]["A2"].value == 2
    assert book.worksheets[0].auto_filter.ref == "A1:A3"


def test_xlsx_moments_lose_their_zone_and_empty_tables_still_open():
    moment = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    sheet = load_workbook(io.BytesIO(to_xlsx([["When"], [moment]], "t"))).active
    assert sheet["A2"].is_date and sheet["A2"].value == datetime(2026, 12, 3, 13, 5)
    only_header = load_workbook(io.BytesIO(to_xlsx([["A", "B"]], "t"))).active
    assert only_header.auto_filter.ref == "A1:B1"
    assert to_csv([]) == b"\xef\xbb\xbf"


def test_download_names_say_what_and_when():
    day = date(2026, 12, 3)
    assert download_name("teachhub-hr", "xlsx", day) == "teachhub-hr-2026-12-03.xlsx"
    assert download_name("portfolios МД 101/б", ".csv", day) == "portfolios-МД-101-б-2026-12-03.csv"
    assert download_name("../\x00", "pdf", day) == "export-2026-12-03.pdf"
    assert content_disposition("teachhub-hr-2026-12-03.xlsx") == (
        'attachment; filename="teachhub-hr-2026-12-03.xlsx"'
    )
    header = content_disposition("portfolios-МД-101-2026-12-03.csv")
    assert header.startswith('attachment; filename="portfolios-101-2026-12-03.csv"; ')
    assert "filename*=UTF-8''portfolios-%D0%9C%D0%94-101-2026-12-03.csv" in header


def test_csv_without_a_locale_takes_the_requests():
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "ru")
    with app.test_request_context():
        assert to_csv([["a", "b"], [1, Decimal("2.5")]]).decode("utf-8-sig") == "a;b\r\n1;2,5\r\n"
    assert to_csv([["a", "b"], [1, Decimal("2.5")]]).decode("utf-8-sig") == "a,b\r\n1,2.5\r\n"
