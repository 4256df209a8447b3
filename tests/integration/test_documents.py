"""Documents an office would file (issue 12), rendered over HTTP in Kazakh and Russian.

The portfolio PDF: header words whole, the entry list's header on every page of the list, the
student's name on every page, numbers and dates in the reader's locale. CSV: what Excel with
Kazakh or Russian regional settings opens into columns. XLSX: widths, frozen header, autofilter
and typed cells, checked with openpyxl. File names say what and when.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import ExitStack
from urllib.parse import unquote

import pytest
from flask_babel import force_locale, gettext
from gradebook_seed import Seeder
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from teachhub_helpers import launch, move, participant, published_module, today

from lti_tool.extensions import services
from lti_tool.portfolio.models import Entry, Portfolio
from lti_tool.teachhub.models import Participant

STUDENT = {"role": "student", "id": "771", "given_name": "Әлия", "family_name": "Сейітова"}
ENTRIES = 40  # enough for the achievements list to run over several pages


def translated(tool, locale: str, *messages: str) -> list[str]:
    """`messages` as the tool's catalogue says them in `locale`."""
    with tool.app.test_request_context(), force_locale(locale):
        return [gettext(m) for m in messages]


def filename(response) -> str:
    """The file name a browser saves a download under (RFC 8187 form first)."""
    header = response.headers["Content-Disposition"]
    full = re.search(r"filename\*=UTF-8''([^;]+)", header)
    return unquote(full.group(1)) if full else re.search(r'filename="([^"]+)"', header).group(1)


def csrf(person) -> str:
    page = person.get("/portfolio/showcase")
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)


def post(person, path: str, data: dict):
    answer = person.driver.post(person.url(path), data={"csrf_token": csrf(person), **data})
    assert answer.status_code == 200, answer.text[:400]
    return answer


def course_year_now() -> int:
    """The student's course year today by the academic calendar (admitted in 2024)."""
    from lti_tool.calendar import AcademicCalendar, StudentYears

    calendar = AcademicCalendar()
    return calendar.course_year(calendar.today(), StudentYears(admission_year=2024))


@pytest.fixture
def course(tool, moodle):
    """A student with a filled portrait, ENTRIES entries (one verified), a GPA of 4.00 for
    2024-2025, and their tutor; yields (student, teacher, portfolio id)."""
    with ExitStack() as stack:
        student = launch(tool, moodle, stack, STUDENT)
        post(
            student,
            "/portfolio/portrait/profile",
            {
                "version": "0",
                "full_name": "Сейітова Әлия Нұрланқызы",
                "faculty": "Медицина",
                "group_name": "МД-21-01",
                "specialty": "Жалпы медицина",
                "birth_year": "2005",
                "admission_year": "2024",
            },
        )
        entry = post(
            student,
            "/portfolio/entries/new?list=olympiads",
            {
                "list": "olympiads",
                "course_year": "1",
                "action": "submit",
                "item": "olympiad",
                "level": "republic",
                "result": "first",
                "f_title": "Анатомиядан республикалық олимпиада",
                "f_when": "2025-03-14",
                "f_note": "Диплом I дәрежелі",
            },
        )
        entry_id = int(re.search(r"/portfolio/entries/(\d+)", entry.url).group(1))
        with services(tool.app).db.new_session() as db:
            first = db.get(Entry, entry_id)
            columns = {
                c.key: getattr(first, c.key) for c in Entry.__table__.columns if c.key != "id"
            }
            for n in range(ENTRIES - 1):
                db.add(Entry(**{**columns, "course_year": 1 + n % 2}))
            db.commit()
            portfolio_id = first.portfolio_id
            version = first.version
        teacher = launch(tool, moodle, stack, "teacher")
        post(
            teacher,
            f"/portfolio/entries/{entry_id}/decide",
            {"action": "verify", "version": str(version)},
        )
        Seeder(tool, moodle).course(
            "2", credits=5, year="2024-2025", sub=moodle.plan(STUDENT).user.sub, score=95
        )
        yield student, teacher, portfolio_id


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_portfolio_pdf_reads_whole_words_and_heads_every_page(tool, course, locale, tmp_path):
    _student, teacher, portfolio_id = course
    answer = teacher.get(f"/portfolio/{portfolio_id}/export.pdf?lang={locale}", timeout=120)
    assert answer.status_code == 200, answer.text[:400]
    assert filename(answer) == f"portfolio-Сейітова-Әлия-Нұрланқызы-{today().isoformat()}.pdf"
    (tmp_path / f"portfolio-{locale}.pdf").write_bytes(answer.content)  # to look at
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages]
    assert len(pages) >= 3
    header = translated(
        tool, locale, "Year", "Entry", "Level and result", "Claimed", "Verified", "Status"
    )
    points_header = translated(tool, locale, "Course year", "GPA", "Claimed", "Verified")
    words = {w for title in header + points_header for w in title.split()}
    assert any(len(w) >= 10 for w in words)  # "Мәлімделген", "Заявленные": the ones that broke
    text = "\n".join(pages)
    for word in words:  # whole, never "Мәлім делге н"
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), word
    entry_pages = [p for p in pages if "Анатомиядан" in p]
    assert len(entry_pages) >= 2, "the list should run over pages for this test"
    for number, page in enumerate(entry_pages):
        for title in header:
            assert all(w in page for w in title.split()), (number, title)
    # Every page says whose portfolio it is, and which page of how many.
    for number, page in enumerate(pages, start=1):
        assert "Сейітова Әлия Нұрланқызы" in page, number
        assert f"{number} / {len(pages)}" in page, number
    assert "4,00" in pages[0] and "4.00" not in pages[0]  # GPA with the reader's decimal sign


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_course_csv_and_xlsx_open_right_in_kazakh_and_russian_excel(tool, course, locale):
    _student, teacher, _portfolio_id = course
    day = today()
    answer = teacher.get(f"/portfolio/course/export.csv?lang={locale}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert filename(answer) == f"portfolios-C2-{day.isoformat()}.csv"
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    student, group, claimed = translated(tool, locale, "Student", "Group", "Claimed")
    assert rows[0][0] == student and rows[0][2] == group and rows[0][10] == claimed
    row = next(r for r in rows if r[0] == "Сейітова Әлия Нұрланқызы")
    assert (
        row[2] == "МД-21-01" and row[3] == str(course_year_now()) and row[10] == str(100 * ENTRIES)
    )
    assert row[13] == day.strftime("%d.%m.%Y")

    answer = teacher.get(f"/portfolio/course/export.xlsx?lang={locale}")
    assert filename(answer) == f"portfolios-C2-{day.isoformat()}.xlsx"
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{sheet.max_row}"
    assert sheet.print_title_rows == "$1:$1"
    header = [c.value for c in sheet[1]]
    assert header == rows[0]
    assert all(c.font.b for c in sheet[1])
    for index, title in enumerate(header, start=1):
        width = sheet.column_dimensions[sheet.cell(1, index).column_letter].width
        assert width >= max(len(w) for w in title.split()), (title, width)
    line = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == row[0])
    assert (
        line[3].value == course_year_now()
        and line[10].value == 100 * ENTRIES
        and line[11].value == 100
    )
    assert line[13].is_date and line[13].value.date() == day


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_hr_list_exports_in_kazakh_and_russian(tool, moodle, locale):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup, uid="85")
        with services(tool.app).db.new_session() as db:
            card_id = db.scalars(
                select(Participant.id).where(Participant.user_id == learner.user_id)
            ).one()
        setup.coordinator.post(
            f"/teachhub/cards/{card_id}/department", {"department": "Хирургия кафедрасы"}
        )
        setup.facilitator.post(
            f"/teachhub/cards/{card_id}/hours", {"contact_hours": "20.5", "self_study_hours": "25"}
        )
        for status in ("in_progress", "completed"):
            assert move(setup.facilitator, card_id, status).status_code == 303
        day = today()

        answer = setup.coordinator.get(f"/teachhub/hr.csv?lang={locale}")
        assert answer.status_code == 200
        assert filename(answer) == f"teachhub-hr-{day.isoformat()}.csv"
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][0] == translated(tool, locale, "Department")[0]
        row = next(r for r in rows if r[0] == "Хирургия кафедрасы")
        assert row[11:14] == ["20,50", "25,00", "45,50"]  # contact, self-study, total hours
        assert row[14] == "1,52"  # credit units: 45.5 / 30
        assert row[10] == day.strftime("%d.%m.%Y")  # completed on

        answer = setup.coordinator.get(f"/teachhub/hr.xlsx?lang={locale}")
        assert filename(answer) == f"teachhub-hr-{day.isoformat()}.xlsx"
        book = load_workbook(io.BytesIO(answer.content))
        activities, people = book.worksheets
        for sheet, last in ((activities, "S"), (people, "H")):
            assert sheet.freeze_panes == "A2"
            assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
            assert sheet.print_title_rows == "$1:$1"
            for head in sheet[1]:
                width = sheet.column_dimensions[head.column_letter].width
                assert width >= max(len(w) for w in head.value.split()), (head.value, width)
        line = next(r for r in activities.iter_rows(min_row=2) if r[0].value == row[0])
        assert line[10].is_date and line[10].value.date() == day
        assert line[13].value == pytest.approx(45.5) and line[13].number_format == "0.00"
        assert line[7].is_date and line[8].is_date  # the stream's dates
        book.close()


def test_portfolio_json_stays_iso(tool, course):
    student, _teacher, portfolio_id = course
    answer = student.get(f"/portfolio/{portfolio_id}/export.json?lang=ru")
    assert filename(answer) == f"portfolio-Сейітова-Әлия-Нұрланқызы-{today().isoformat()}.json"
    data = answer.json()
    created = data["entries"][0]["created_at"]
    assert re.match(r"\d{4}-\d{2}-\d{2}T", created), created
    with services(tool.app).db.new_session() as db:
        assert db.get(Portfolio, portfolio_id).full_name == data["portrait"]["full_name"]
