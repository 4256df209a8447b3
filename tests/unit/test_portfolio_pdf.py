"""The PDF builder's layout guarantees, kept while it was made fast (bench/pdf.py): control
characters removed, cells wrap, long text flows over pages, header cells never break inside a
word, long tables repeat their header."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from lti_tool.portfolio import pdf
from lti_tool.settings import load

SETTINGS = load(environ={})

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
KK = "Қазақстан Республикасының медицина университеті, әлеуметтік ғылымдар өңірі. "


def _build(story_of) -> list[str]:
    """The text of each page of a document whose story `story_of(styles)` makes."""
    buffer, doc, styles = pdf._doc("t", SETTINGS)
    doc.build(story_of(styles))
    return [page.extract_text() for page in PdfReader(io.BytesIO(buffer.getvalue())).pages]


def _flowables(cell) -> list:
    """A table cell's flowables (reportlab keeps a cell as one flowable or a sequence)."""
    return list(cell) if isinstance(cell, (list, tuple)) else [cell]


def _words(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_long_text_flows_over_pages_whole_and_without_control_characters():
    text = ("\x01\x02\x1b[31m\x7f" + KK + "\n") * 600 + "\n\nЫ" * 3 + "Ы" * 3000
    pages = _build(lambda s: pdf._paragraphs(text, s["p"]))
    assert len(pages) > 5
    joined = "".join(pages)
    assert not CONTROL.search(joined)
    assert _words(joined) == _words(CONTROL.sub("", text))


def test_lines_keep_the_texts_spacing_and_empty_lines_their_height():
    _buffer, _doc, s = pdf._doc("t", SETTINGS)
    (one,) = pdf._paragraphs("one line", s["p"])
    assert one.style is s["p"]
    first, empty, last = pdf._paragraphs("a\n\nb", s["p"])
    assert first.getSpaceBefore() == s["p"].spaceBefore and first.getSpaceAfter() == 0
    assert last.getSpaceAfter() == s["p"].spaceAfter and last.getSpaceBefore() == 0
    assert empty.wrap(300, 1000)[1] == s["p"].leading
    # Markup is text: nothing a student types is read as reportlab's tags.
    (shown,) = pdf._paragraphs("<b>bold?</b> & <br/>", s["p"])
    shown.wrap(300, 1000)
    assert [w for line in shown.blPara.lines for w in line[1]] == ["<b>bold?</b>", "&", "<br/>"]


@pytest.mark.parametrize(
    "header",
    [
        ["Year", "Entry", "Level and result", "Claimed", "Verified", "Status"],
        ["Курс", "Жазба", "Деңгейі мен нәтижесі", "Мәлімделген", "Расталған", "Мәртебесі"],
        ["Курс", "Запись", "Уровень и результат", "Заявлено", "Подтверждено", "Статус"],
    ],
    ids=["en", "kk", "ru"],
)
def test_cells_wrap_in_their_column_and_header_cells_never_break_inside_a_word(header):
    _buffer, _doc, s = pdf._doc("t", SETTINGS)
    table = pdf._table([header, ["1", KK * 3, "x", "1", "2", "y"]], s, widths=pdf.ENTRY_WIDTHS)
    table.wrap(500, 800)
    assert sum(table._colWidths) == sum(pdf.ENTRY_WIDTHS)  # the page width is kept
    for cell, width in zip(table._cellvalues[0], table._colWidths, strict=True):
        for paragraph in _flowables(cell):
            paragraph.wrap(width - 2 * pdf.CELL_PADDING, 800)
            words = [w for line in paragraph.blPara.lines for w in line[1]]
            assert words == paragraph.text.split(), (paragraph.text, words)
    (long_cell,) = _flowables(table._cellvalues[1][1])
    long_cell.wrap(table._colWidths[1] - 2 * pdf.CELL_PADDING, 800)
    assert len(long_cell.blPara.lines) > 3  # wrapped inside its column


@pytest.mark.parametrize("rows", [400])
def test_a_long_table_repeats_its_header_on_every_page(rows):
    header = ["Жыл", "Жазба", "Мәртебесі"]
    pages = _build(
        lambda s: [
            pdf._table(
                [header] + [[str(n), f"Олимпиада {n}\n{KK}", "расталды"] for n in range(rows)],
                s,
                widths=[40, 300, 80],
            )
        ]
    )
    assert len(pages) > 3
    assert all("Жазба" in page and "Мәртебесі" in page for page in pages)
    assert "Олимпиада 399" in pages[-1]


def test_the_entry_list_header_heads_every_page_of_the_list_and_no_other():
    """Sections II and III are one small table per entry (fast); their header row still heads
    every page the list covers, also when an entry's note runs over pages."""
    _document, running_header = pdf._document_classes()
    header = ["Курс", "Жазба", "Мәртебесі"]

    def story(s):
        made = [pdf._paragraphs("Кіріспе", s["p"])[0]]
        made.append(running_header(lambda: pdf._table([header], s, widths=[40, 300, 80])))
        for n in range(120):
            made.append(
                pdf._table(
                    [[str(n), f"Олимпиада {n}", "расталды"]], s, widths=[40, 300, 80], header=False
                )
            )
            made += pdf._paragraphs((KK + "\n") * (30 if n % 40 == 0 else 1), s["detail"])
        made.append(running_header(None))
        made += pdf._paragraphs("Қорытынды\n" + (KK + "\n") * 200, s["p"])
        return made

    pages = _build(story)
    in_list = [i for i, page in enumerate(pages) if "Олимпиада" in page]
    after = [i for i, page in enumerate(pages) if i > max(in_list)]
    assert len(in_list) > 3 and after
    assert all(pages[i].count("Жазба") == 1 for i in in_list), [p.count("Жазба") for p in pages]
    assert not any("Жазба" in pages[i] for i in after)
    assert pages[0].index("Кіріспе") < pages[0].index("Жазба") < pages[0].index("Олимпиада 0")


@pytest.mark.parametrize("status", ["подтверждено", "тьюторды күтуде", "қайтарылды"])
def test_body_cells_never_break_inside_a_word_either(status):
    """ "подтверждено" in the 60 pt status column was cut as "подтверж / дено"."""
    _buffer, _doc, s = pdf._doc("t", SETTINGS)
    header = ["Курс", "Запись", "Уровень и результат", "Заявлено", "Подтверждено", "Статус"]
    rows = [header, ["1", KK, "Республиканский, 1 место", "100", "100", status]]
    widths = pdf._column_widths(pdf.ENTRY_WIDTHS, rows, s)
    assert sum(widths) == pytest.approx(sum(pdf.ENTRY_WIDTHS))
    table = pdf._table(rows[1:], s, widths=widths, header=False, fit=False)
    table.wrap(500, 800)
    for cell, width in zip(table._cellvalues[0], table._colWidths, strict=True):
        if cell is table._cellvalues[0][1]:
            continue  # the entry column wraps its long text (at spaces)
        for paragraph in _flowables(cell):
            paragraph.wrap(width - 2 * pdf.CELL_PADDING, 800)
            words = [w for line in paragraph.blPara.lines for w in line[1]]
            assert words == paragraph.text.split(), (paragraph.text, words)


@pytest.mark.parametrize(
    ("value", "kind", "locale", "shown"),
    [
        ("2025-03-14", "date", "ru", "14 мар. 2025\u202fг."),
        ("2025-03-14", "date", "kk", "2025\u202fж. 14 нау."),
        ("2.5", "number", "ru", "2,5"),
        ("2.5", "number", "kk", "2,5"),
        ("2025-03-14", "date", "en", "Mar 14, 2025"),
        ("весной 2025", "date", "ru", "весной 2025"),  # typed before the field was a date
        ("около 3", "number", "kk", "около 3"),
    ],
)
def test_entry_fields_read_as_the_reader_writes_dates_and_numbers(value, kind, locale, shown):
    assert pdf._field(value, kind, locale) == shown


def test_every_page_ends_with_the_owner_and_page_of_pages_even_for_a_long_name():
    name = "Әлия " + "Қазақстан Республикасының " * 10  # 255 letters in Section I
    buffer, doc, s = pdf._doc("t", SETTINGS)
    doc.build(
        pdf._paragraphs((KK + "\n") * 150, s["p"]),
        canvasmaker=pdf._footed_canvas(f"{name} · Портфолио", s["small"].fontName),
    )
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(buffer.getvalue())).pages]
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in page
        assert "Әлия Қазақстан" in page and "…" in page  # cut to the line, not over the number
