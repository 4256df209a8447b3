"""PDF exports (reportlab): a whole portfolio, and the tutor's summary with signature lines.

Kazakh and Russian need a Cyrillic font with the Kazakh letters (ә ғ қ ң ө ұ ү һ і): DejaVu
Sans from Debian's fonts-dejavu-core by default ([portfolio] pdf_font, pdf_font_bold).
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from ..errors import ToolError
from ..exports import local_day, local_number, printable
from ..i18n import day, number
from ..settings import Settings
from .models import Entry, Portfolio, Summary
from .rubric import Rubric
from .service import Totals

_LONG_WORD = re.compile(r"(\S{40})(?=\S)")
_lock = threading.Lock()
_registered: dict[str, tuple[str, str]] = {}


class PdfFontMissing(ToolError):
    """The configured PDF font is not installed."""

    status = 500
    code = "pdf_font_missing"
    message = _l("PDF export is not available: the font it needs is not installed on the server.")


def _fonts(settings: Settings) -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = settings.portfolio.pdf_font, settings.portfolio.pdf_font_bold
    key = f"{regular}|{bold}"
    with _lock:
        if key not in _registered:
            for path in (regular, bold):
                if not Path(path).is_file():
                    raise PdfFontMissing(detail=f"missing font file {path} (install "
                                                "fonts-dejavu-core or set portfolio.pdf_font)")
            names = (f"PF{len(_registered)}", f"PF{len(_registered)}B")
            pdfmetrics.registerFont(TTFont(names[0], regular))
            pdfmetrics.registerFont(TTFont(names[1], bold))
            _registered[key] = names
        return _registered[key]


@functools.cache
def _document_classes():
    """(Document, RunningHeader): a document that repeats a header at the top of each page
    while one runs (made on first use: reportlab is imported only when a PDF is built)."""
    from reportlab.platypus import SimpleDocTemplate
    from reportlab.platypus.doctemplate import ActionFlowable

    class RunningHeader(ActionFlowable):
        """Starts (with a function that makes the header flowable) or ends (None) a header
        that heads the story here and then the top of every following page until it ends."""

        def __init__(self, make):
            super().__init__(("runningHeader",))
            self.make = make

        def apply(self, doc):
            doc.running_header, doc.header_page = self.make, None

    class Document(SimpleDocTemplate):
        """SimpleDocTemplate with a running header (RunningHeader)."""

        running_header = None
        header_page = None

        def filterFlowables(self, flowables):
            # Called before each flowable is placed: the header goes first where it starts
            # and at the top of every page after, before whatever comes next.
            if (self.running_header is not None and flowables and self.page != self.header_page
                    and (self.header_page is None or self.frame._atTop)
                    and not isinstance(flowables[0], ActionFlowable)):
                self.header_page = self.page
                flowables.insert(0, self.running_header())

    return Document, RunningHeader


def _fitted(text: str, font: str, size: float, width: float) -> str:
    """`text` cut to `width` points with an ellipsis (a 255-letter name in a footer)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[: max(0, min(len(text) - 1, int(len(text) * 0.9)))]
    return text.rstrip() + "…"


def _footed_canvas(footer: str, font: str):
    """A canvas class that writes `footer` and "page / pages" at the foot of every page (the
    pages are kept until the last one is drawn, to know how many there are)."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class FootedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for page_number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                width = self._pagesize[0]
                self.saveState()
                self.setFont(font, 7.5)
                self.setFillColor(colors.HexColor("#5b6478"))
                self.drawString(18 * mm, 9 * mm, _fitted(footer, font, 7.5, width - 60 * mm))
                self.drawRightString(width - 18 * mm, 9 * mm, f"{page_number} / {total}")
                self.restoreState()
                super().showPage()
            super().save()

    return FootedCanvas


def _doc(title: str, settings: Settings):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm

    regular, bold = _fonts(settings)
    buffer = io.BytesIO()
    document, _header = _document_classes()
    doc = document(buffer, pagesize=A4, title=title, leftMargin=18 * mm,
                            rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm)
    styles = {
        "h1": ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=8),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10,
                             spaceAfter=4),
        "h3": ParagraphStyle("h3", fontName=bold, fontSize=10.5, leading=13, spaceBefore=6,
                             spaceAfter=2),
        "p": ParagraphStyle("p", fontName=regular, fontSize=9.5, leading=12.5, spaceAfter=4),
        "small": ParagraphStyle("small", fontName=regular, fontSize=8, leading=10,
                                textColor=colors.HexColor("#5b6478")),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5),
        "cellb": ParagraphStyle("cellb", fontName=bold, fontSize=8.5, leading=10.5),
        "detail": ParagraphStyle("detail", fontName=regular, fontSize=8.5, leading=10.5,
                                 leftIndent=34, spaceBefore=2, spaceAfter=6),
    }
    return buffer, doc, styles


def _text(value) -> str:
    """`value` as the markup of one Paragraph: printable, escaped, long "words" broken."""
    from xml.sax.saxutils import escape

    # A space after every 40 letters of an unbroken "word" (no real word is that long):
    # reportlab splits a word wider than the line letter by letter, slowly (a 3,000-letter
    # "word" took seconds).
    text = _LONG_WORD.sub("\\1 ", printable(value))
    return escape(text).replace("\n", "<br/>")


def _line_styles(style) -> tuple:
    """(run, first, middle, last) for a text in `style`: a run of plain text in its font, and
    the styles of a multi-line text's lines (the text's space before and after stay outside
    it, none between its lines); made once per style and kept on it."""
    variants = getattr(style, "line_variants", None)
    if variants is None:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph

        run = Paragraph("x", style).frags[0]  # the style's font, size and colour, parsed once
        variants = (run, *(ParagraphStyle(f"{style.name}-{part}", parent=style,
                                          spaceBefore=before, spaceAfter=after)
                           for part, before, after in (("first", style.spaceBefore, 0),
                                                       ("middle", 0, 0),
                                                       ("last", 0, style.spaceAfter))))
        style.line_variants = variants
    return variants


def _paragraphs(value, style) -> list:
    """`value` as one Paragraph per line of text: what `<br/>` would draw, much faster.

    Each line is one run of plain text handed to reportlab as such (no markup to parse, so no
    escaping), which takes its fast line breaker; `<br/>` made a paragraph of many runs, whose
    breaker compares every word with the one before: with the markup parser that was most of a
    300-entry export's time (bench/pdf.py). An empty line keeps its height.
    """
    from reportlab.platypus import Paragraph

    text = _LONG_WORD.sub("\\1 ", printable(value))
    lines = [line if line.strip() else "\u00a0" for line in text.split("\n")]
    run, first, middle, last = _line_styles(style)
    if len(lines) == 1:
        return [Paragraph(lines[0], style, frags=[run.clone(text=lines[0])])]
    return [Paragraph(line, first if i == 0 else last if i == len(lines) - 1 else middle,
                      frags=[run.clone(text=line)]) for i, line in enumerate(lines)]


def _cell(value, style):
    """A table cell: one Paragraph, or a list of them for text of several lines."""
    paragraphs = _paragraphs(value, style)
    return paragraphs[0] if len(paragraphs) == 1 else paragraphs


CELL_PADDING = 6  # reportlab's default left and right padding of a table cell
# The entry tables of Sections II and III: year, entry, level and result, claimed, verified,
# status (points).
ENTRY_WIDTHS = (28, 210, 100, 45, 45, 60)


LONGEST_WORD = 150  # points: a longer "word" (a link, a code) is broken wherever it must be


def _column_widths(widths: Sequence[float], rows: Sequence[Sequence], styles: dict,
                   header: bool = True) -> list[float]:
    """Column widths in which every word of every cell fits on a line: a narrow column grows to
    its longest word ("Мәлімделген" in a 45 pt header, "подтверждено" in a 60 pt status column
    were cut inside the word), and the widest column gives up what the others took."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    widths = list(widths)
    widest = widths.index(max(widths))
    for i in range(len(widths)):
        if i == widest:
            continue
        need = 0.0
        for n, row in enumerate(rows):
            style = styles["cellb" if header and n == 0 else "cell"]
            for word in printable(row[i] if i < len(row) else "").split():
                width = stringWidth(word, style.fontName, style.fontSize)
                if width <= LONGEST_WORD:
                    need = max(need, width)
        need += 2 * CELL_PADDING + 1
        if widths[i] < need:
            widths[widest] -= need - widths[i]
            widths[i] = need
    return widths


def _table(rows: Sequence[Sequence], styles: dict, widths=None, header: bool = True,
           fit: bool = True):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    if fit and widths and None not in widths:
        widths = _column_widths(widths, rows, styles, header)
    cells = [[_cell(v, styles["cellb" if header and i == 0 else "cell"]) for v in row]
             for i, row in enumerate(rows)]
    # splitInRow: a row taller than a page (a 10,000-character note) goes on over the next
    # pages instead of failing the whole export with LayoutError.
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0, splitInRow=1,
                  hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c0cc")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7") if header else colors.white),
    ]))
    return table


KEEP_TOGETHER_CHARS = 1500  # an entry this long or shorter is not split over pages


def _field(value, kind: str, locale: str) -> str:
    """An entry's field as the reader writes it: a date field's '2025-03-14' as '14 мар. 2025 г.',
    a number field's '2.5' as '2,5'; anything else (or a value that does not parse) as typed."""
    text = str(value)
    try:
        if kind == "date":
            return local_day(date.fromisoformat(text.strip()), locale)
        if kind == "number":
            return local_number(Decimal(text.strip()), locale)
    except (ValueError, InvalidOperation):
        pass
    return text


def portfolio_pdf(portfolio: Portfolio, entries: Sequence[Entry], totals: Totals, rubric: Rubric,
                  summaries: Sequence[Summary], *, settings: Settings, locale: str,
                  status_names: dict, level_names: dict, gpa: dict | None,
                  header: dict | None = None, course_year: int | None = None,
                  year_labels: dict | None = None, confirmed: dict | None = None) -> bytes:
    """The whole portfolio as a PDF (Section I, totals, Sections II and III, summaries).

    `course_year`: today's (the academic calendar's); `year_labels`: course year -> academic
    year; `confirmed`: course year -> the group leader's confirmation line of its GPA.
    """
    from reportlab.platypus import KeepTogether, Paragraph, Spacer

    buffer, doc, s = _doc(_("Portfolio"), settings)
    running_header = _document_classes()[1]
    story = [Paragraph(_text(portfolio.full_name or portfolio.user.display_name), s["h1"]),
             Paragraph(_text(rubric.names.get(locale)), s["small"]), Spacer(1, 6)]
    story.append(Paragraph(_text(_("Section I. My portrait")), s["h2"]))
    profile = [
        (_("Full name"), portfolio.full_name), (_("Year of birth"), portfolio.birth_year or ""),
        (_("Year of admission"), portfolio.admission_year or ""),
        (_("Faculty"), portfolio.faculty), (_("Course year"), course_year or ""),
        (_("Group"), portfolio.group_name), (_("Specialty"), portfolio.specialty)]
    story.append(_table(profile, s, widths=[120, None], header=False))
    for label, text in ((_("Essay: why did I choose medicine? Who do I want to become?"),
                         portfolio.essay), (_("My goals"), portfolio.goals),
                        (_("Analysis of what I achieved"), portfolio.analysis)):
        if text:
            story += [Paragraph(_text(label), s["h3"]), *_paragraphs(text, s["p"])]
    story.append(Paragraph(_text(_("Points")), s["h2"]))
    years = range(1, rubric.course_years + 1)
    rows = [[_("Course year"), _("GPA"), _("Confirmed by the group leader"), _("Claimed"),
             _("Verified")]]
    for year in years:
        g = (gpa or {}).get(year)
        label = (year_labels or {}).get(year)
        rows.append([f"{year} ({label})" if label else year,
                     "" if g is None or g.gpa is None else local_number(g.gpa, locale, 2),
                     (confirmed or {}).get(year, ""),
                     totals.claimed_for(year=year), totals.verified_for(year=year)])
    rows.append([_("Total"), "", "", totals.claimed_total, totals.verified_total])
    story.append(_table(rows, s, widths=[90, 45, None, 60, 60]))
    for section in ("achievements", "chest"):
        chosen = [e for e in entries if e.section == section]
        story.append(Paragraph(_text(rubric.sections[section].get(locale)), s["h2"]))
        if not chosen:
            story.append(Paragraph(_text(_("No entries yet.")), s["p"]))
            continue
        entry_header = [_("Year"), _("Entry"), _("Level and result"), _("Claimed"),
                        _("Verified"), _("Status")]
        entry_rows: list[tuple[list, list[str]]] = []  # an entry's row and its details
        for e in chosen:
            entry_list = rubric.lists.get(e.list_key)
            item = entry_list.item(e.item_key) if entry_list else None
            what = [entry_list.names.get(locale) if entry_list else e.list_key, e.title]
            details = [f"{c.names.get(locale)}: {_field(e.fields.get(c.key), c.type, locale)}"
                       for c in (entry_list.columns if entry_list else ())
                       if c.key != "title" and e.fields.get(c.key)]
            level = rubric.levels(item).get(e.level) if item and e.level else None
            result = item.result(e.result) if item and e.result else None
            grade = ", ".join(x for x in (level.get(locale) if level else "",
                                          result.names.get(locale) if result else "",
                                          f"× {e.count}" if item and item.counted else "") if x)
            entry_rows.append(([e.course_year, "\n".join(str(x) for x in what if x), grade,
                                e.claimed_points,
                                "" if e.verified_points is None else e.verified_points,
                                status_names.get(e.status, e.status)], details))
        # One small table per entry under the header, its long columns (notes of up to 10,000
        # characters) as paragraphs below it: reportlab lays the rest of a table out again at
        # every page it splits, so one table of 300 long rows took minutes. The header row
        # heads every page of the list, as a long table's would (RunningHeader).
        widths = _column_widths(ENTRY_WIDTHS, [entry_header, *(row for row, _d in entry_rows)],
                                s)
        story.append(running_header(
            lambda header=entry_header, widths=widths: _table([header], s, widths=widths,
                                                              fit=False)))
        for row, details in entry_rows:
            parts = [_table([row], s, widths=widths, header=False, fit=False)]
            if details:
                parts += _paragraphs("\n".join(details), s["detail"])
            # An entry of a few lines stays on one page (not its row here and its notes, or half
            # its row, over the page); a long one flows over pages as it must.
            short = sum(len(str(x)) for x in (*row, *details)) <= KEEP_TOGETHER_CHARS
            story += [KeepTogether(parts)] if short else parts
        story.append(running_header(None))
    for summary in summaries:
        story += summary_story(summary, portfolio, s, level_names, header)
    owner = printable(portfolio.full_name or portfolio.user.display_name).replace("\n", " ")
    doc.build(story, canvasmaker=_footed_canvas(f"{owner} · {_('Portfolio')}",
                                                s["small"].fontName))
    return buffer.getvalue()


def summary_story(summary: Summary, portfolio: Portfolio, s: dict, level_names: dict,
                  header: dict | None = None, natural_level: str = "") -> list:
    """The summary as flowables (used on its own and at the end of a portfolio).

    `level_names`: {"academic": {key: name}, "achievement": {key: name}} (two contexts: the
    Russian names agree with different nouns); `header`: the institution's names;
    `natural_level`: the level the summary's points give (shown beside a tutor's override).
    """
    from reportlab.platypus import Paragraph, Spacer

    academic = level_names.get("academic", {})
    achievement = level_names.get("achievement", {})
    level = str(achievement.get(summary.achievement_level, summary.achievement_level))
    if summary.level_overridden:
        level += f" ({_('set by the tutor')}"
        if natural_level:
            level += "; " + _("the verified points give: %(level)s",
                              level=achievement.get(natural_level, natural_level))
        level += ")"
    points = _("Verified portfolio points: %(year)s in %(ay)s (course year %(n)s), %(total)s "
               "in all years", year=summary.points, ay=summary.academic_year,
               n=summary.course_year, total=summary.points_total)
    rows = [
        (_("Student"), portfolio.full_name or portfolio.user.display_name),
        (_("Course and group"), f"{summary.course_year} / {summary.group_name or '—'}"),
        (_("Academic year"), summary.academic_year),
        (_("Academic achievement"), " ".join(x for x in (
            str(academic.get(summary.academic_level, summary.academic_level)),
            f"(GPA {number(Decimal(summary.gpa))})" if summary.gpa else "") if x) or "—"),
        (_("Level of personal achievements"), f"{level}\n{points}"),
        (_("Activity in research, creative and sports work"), summary.activity),
        (_("Striving for self-development"), summary.self_development),
        (_("Areas of competence"), summary.competences),
        (_("Tutor's remarks"), summary.remarks),
    ]
    story = [Paragraph(_text(value), s["small"])
             for key in ("university", "faculty", "department")
             if (value := (header or {}).get(key))]
    story += [Paragraph(_text(_("Tutor summary") + f" {summary.academic_year}"), s["h2"]),
              _table(rows, s, widths=[150, None], header=False), Spacer(1, 18)]
    line = "______________________"
    date_text = day(summary.summary_date) if summary.summary_date else line
    for label, value in ((_("Tutor's name and signature"), f"{summary.tutor_name}    {line}"),
                         (_("Head of department's name and signature"),
                          f"{summary.head_name}    {line}"),
                         (_("Department"), summary.department or line),
                         (_("Date"), date_text)):
        story.append(Paragraph(_text(f"{label}: {value}"), s["p"]))
        story.append(Spacer(1, 10))
    return story


def summary_pdf(summary: Summary, portfolio: Portfolio, *, settings: Settings, level_names: dict,
                header: dict | None = None, natural_level: str = "") -> bytes:
    """One tutor summary as a printable PDF with the portfolio regulations' form's signature and
    date lines."""
    buffer, doc, s = _doc(_("Tutor summary"), settings)
    doc.build(summary_story(summary, portfolio, s, level_names, header, natural_level))
    return buffer.getvalue()
