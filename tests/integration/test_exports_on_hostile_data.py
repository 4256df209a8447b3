"""Exports never break on data: control characters, every field at its longest, Kazakh and
Russian text, 300 entries; as PDF (it opens, its text reads), CSV and XLSX, over HTTP."""

from __future__ import annotations

import io
import re
from contextlib import ExitStack

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from teachhub_helpers import launch, move, participant, published_module

from lti_tool.calendar import AcademicCalendar
from lti_tool.extensions import services
from lti_tool.portfolio.models import Entry, Portfolio
from lti_tool.teachhub.models import Participant

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
KK = "Қазақстан Республикасының медицина университеті, әлеуметтік ғылымдар өңірі. "
RU = "Научно-практическая конференция молодых учёных «Медицина будущего», Алматы. "


def text_of(length: int, start: str = "") -> str:
    """`length` characters of Kazakh and Russian with control characters sprinkled in."""
    body = start + "\x01\x02\x1b[31m\x7f" + (KK + RU + "\n") * (length // len(KK + RU) + 1)
    return body[:length]


def with_csrf(person):
    """`person` posting with a CSRF token of their session (from a portfolio page)."""
    page = person.get("/portfolio/showcase")
    person._token_cache = re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text
    ).group(1)
    return person


@pytest.mark.timeout(420)
def test_portfolio_at_its_limits_exports_as_pdf_csv_and_xlsx(tool, moodle):
    with ExitStack() as stack:
        student = with_csrf(launch(tool, moodle, stack, "student"))
        group = "=МД\x01-21" + "ә" * 56  # the group name that broke the course XLSX, at 64
        profile = student.post(
            "/portfolio/portrait/profile",
            {
                "version": "0",
                "full_name": text_of(255, "Әлия "),
                "faculty": text_of(255),
                "group_name": group,
                "specialty": text_of(255),
                # Admitted in 2024: 2025-2026 (the summary below) is course year 2, and the
                # course year stated today must be the academic calendar's (issue 13).
                "course_year": str(AcademicCalendar().current().start - 2024 + 1),
                "birth_year": "2004",
                "admission_year": "2024",
            },
        )
        assert profile.status_code == 200, profile.text[:400]
        for page, fields in (("essay", ("essay",)), ("goals", ("goals", "analysis"))):
            saved = student.post(
                f"/portfolio/portrait/{page}",
                {"version": "0", **{name: text_of(20_000) for name in fields}},
            )
            assert saved.status_code == 200, saved.text[:400]
        # One entry through the form, every column at its limit (the 10,000-character note
        # made the PDF fail with LayoutError), then 299 more like it.
        entry = student.post(
            "/portfolio/entries/new?list=olympiads",
            {
                "list": "olympiads",
                "course_year": "2",
                "action": "submit",
                "item": "olympiad",
                "level": "republic",
                "result": "first",
                "f_title": text_of(500, "Олимпиада "),
                "f_when": text_of(500),
                "f_note": text_of(7000, "Ескерту ") + "Ы" * 3000,
            },
        )  # one 3,000-letter "word"
        assert entry.status_code == 200, entry.text[:400]
        entry_id = int(re.search(r"/portfolio/entries/(\d+)", entry.url).group(1))
        with services(tool.app).db.new_session() as db:
            first = db.get(Entry, entry_id)
            columns = {
                c.key: getattr(first, c.key) for c in Entry.__table__.columns if c.key != "id"
            }
            for n in range(299):
                db.add(Entry(**{**columns, "course_year": 1 + n % 6}))
            db.commit()
            portfolio_id = first.portfolio_id
            assert len(db.get(Portfolio, portfolio_id).entries) == 300
        teacher = with_csrf(launch(tool, moodle, stack, "teacher"))
        summary = teacher.post(
            f"/portfolio/{portfolio_id}/summaries/new",
            {
                "version": "0",
                "academic_year": "2025-2026",
                "course_year": "2",
                "group_name": group,
                "gpa": "3.40",
                "academic_level": "good",
                "points": "100",
                "achievement_level": "medium",
                "activity": text_of(4000),
                "self_development": text_of(4000),
                "competences": text_of(4000),
                "remarks": text_of(4000),
                "tutor_name": text_of(255),
                "head_name": text_of(255),
                "department": text_of(255),
                "summary_date": "2026-06-20",
            },
        )
        assert summary.status_code == 200, summary.text[:400]

        for person in (student, teacher):
            # Some 700 pages: about 3 s of CPU (bench/pdf.py); more wall time on a busy machine.
            pdf = person.get(f"/portfolio/{portfolio_id}/export.pdf", timeout=150)
            assert pdf.status_code == 200, pdf.text[:400]
            assert pdf.headers["Content-Type"] == "application/pdf"
            reader = PdfReader(io.BytesIO(pdf.content))
            assert len(reader.pages) > 100  # 300 entries with 10,000-character notes
            text = "".join(reader.pages[i].extract_text() for i in (0, 1, len(reader.pages) - 1))
            assert "Әлия" in text and "Қазақстан" in text and not CONTROL.search(text)

        answer = teacher.get("/portfolio/course/export.csv")
        assert answer.status_code == 200
        assert answer.content.startswith("\ufeff".encode())
        csv_text = answer.content.decode("utf-8-sig")
        assert not CONTROL.search(csv_text.replace("\n", "").replace("\r", ""))
        assert "'=МД-21" in csv_text  # formulas stay text, control characters gone

        answer = teacher.get("/portfolio/course/export.xlsx")
        assert answer.status_code == 200, answer.text[:400]
        sheet = load_workbook(io.BytesIO(answer.content)).active
        values = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
        assert "'=МД-21" + "ә" * 56 in values
        assert not any(CONTROL.search(v.replace("\n", "")) for v in values)


def test_teachhub_hr_exports_take_control_characters(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup, uid="81")
        with services(tool.app).db.new_session() as db:
            card_id = db.scalars(
                select(Participant.id).where(Participant.user_id == learner.user_id)
            ).one()
        saved = setup.coordinator.post(
            f"/teachhub/cards/{card_id}/department", {"department": "=Кафедра\x01\x1b анатомии"}
        )
        assert saved.status_code == 200, saved.text[:400]
        setup.facilitator.post(
            f"/teachhub/cards/{card_id}/hours", {"contact_hours": "20", "self_study_hours": "10"}
        )
        for status in ("in_progress", "completed"):  # the HR list shows completed activities
            assert move(setup.facilitator, card_id, status).status_code == 303
        answer = setup.coordinator.get("/teachhub/hr.xlsx")
        assert answer.status_code == 200, answer.text[:400]
        book = load_workbook(io.BytesIO(answer.content))
        values = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row]
        assert "'=Кафедра анатомии" in values
        answer = setup.coordinator.get("/teachhub/hr.csv")
        assert "'=Кафедра анатомии" in answer.content.decode("utf-8-sig")
