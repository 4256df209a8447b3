"""Whole-gradebook connectors against fake Moodle WS and Canvas REST servers on loopback."""

from __future__ import annotations

import logging
import re
import socket
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from fakes import FakeCanvas, FakeMoodle
from gradebook_seed import Seeder, open_page
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.gradebook import connectors
from lti_tool.gradebook.connector_models import Connector, ExternalCourseGrade
from lti_tool.gradebook.connectors import learners_of_platform, pull_connector
from lti_tool.gradebook.credentials import credentials_cipher, encrypt_token
from lti_tool.gradebook.policy import GradingPolicy
from lti_tool.http import make_session
from lti_tool.settings import load

MOODLE_TOKEN = "0123456789abcdef0123456789abcdef"
CANVAS_TOKEN = "7~AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def launch(browser, platform, user, context_id: str, course: int):
    response = browser.launch(platform.plan(user, context={"id": context_id},
                                            course=course, nrps=False),
                              params={"lti_storage_target": None})
    assert response.status_code == 200, response.text[:500]
    return response


class Pulls:
    """A connector in the tool's database, and pulls through it."""

    def __init__(self, tool, seed: Seeder):
        self.tool = tool
        self.seed = seed
        self.cipher = credentials_cipher(tool.app.config["SECRET_KEY"])
        self.connector_id: int | None = None

    def db(self):
        return services(self.tool.app).db.new_session()

    def add(self, kind: str, base_url: str, token: str, enabled: bool = True) -> int:
        with self.db() as db:
            row = Connector(platform_id=self.seed.platform_id(), kind=kind, base_url=base_url,
                            token_encrypted=encrypt_token(self.cipher, token), enabled=enabled)
            db.add(row)
            db.commit()
            self.connector_id = row.id
            return row.id

    def pull(self, subs: list[str] | None = None, http=None):
        with self.db() as db:
            connector = db.get(Connector, self.connector_id)
            users = learners_of_platform(db, connector.platform_id)
            if subs is not None:
                users = [u for u in users if u.sub in subs]
            return pull_connector(db, http or services(self.tool.app).http, self.cipher,
                                  connector, users, start_month=9,
                                  zone=services(self.tool.app).get(GradingPolicy).timezone)

    def connector(self) -> Connector:
        with self.db() as db:
            return db.get(Connector, self.connector_id)

    def stored(self, sub: str) -> dict[str, ExternalCourseGrade]:
        with self.db() as db:
            rows = db.scalars(select(ExternalCourseGrade).where(
                ExternalCourseGrade.user_id == self.seed.user_id(sub))).all()
            return {row.lms_course_id: row for row in rows}


@pytest.fixture
def fake_moodle():
    with FakeMoodle(token=MOODLE_TOKEN) as server:
        yield server


@pytest.fixture
def fake_canvas():
    with FakeCanvas(token=CANVAS_TOKEN) as server:
        yield server


@pytest.fixture
def moodle_pulls(tool, moodle):
    return Pulls(tool, Seeder(tool, moodle))


@pytest.fixture
def canvas_pulls(tool, canvas):
    return Pulls(tool, Seeder(tool, canvas))


def moodle_student_courses(fake: FakeMoodle) -> None:
    """Student 4's Moodle courses: one where the tool is placed (601), others it is not."""
    fake.add_course("4", course_id=601, fullname="Pharmacology", start=date(2025, 9, 1),
                    grade="50.00 %", rawgrade=50)  # the tool's own final column wins
    fake.add_course("4", course_id=602, fullname="Ethics", start=date(2025, 9, 1),
                    grade="80.00 %", rawgrade=80)  # B; credits from the course's grading
    fake.add_course("4", course_id=7, fullname="Physiology", start=date(2025, 9, 1),
                    grade="92.50 %", rawgrade=92.5)  # 93 -> A-
    fake.add_course("4", course_id=8, fullname="Chemistry", start=date(2024, 9, 2),
                    grade="45.00", rawgrade=45, grademax=50)  # real display: 45/50 = 90 -> A-
    fake.add_course("4", course_id=9, fullname="Latin", start=date(2025, 9, 1))  # no total


def test_moodle_course_totals_join_the_record(tool, moodle, browser, fake_moodle, moodle_pulls):
    home = launch(browser, moodle, "student", "601", 601)
    launch(browser, moodle, "student", "602", 602)
    seed = moodle_pulls.seed
    seed.course("601", credits=5, year="2025-2026", sub="4", score=88)  # B+, 3.33
    seed.grading("602", None, credits=3, year="2025-2026")
    moodle_student_courses(fake_moodle)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)

    summary = moodle_pulls.pull()
    assert (summary.ok, summary.users, summary.courses) == (True, 1, 5)
    # The user report is asked only where the overview does not print a percentage.
    assert fake_moodle.functions_called() == [
        "core_enrol_get_users_courses", "gradereport_overview_get_course_grades",
        "gradereport_user_get_grade_items"]
    assert all(c["method"] == "POST" and c["token_in_query"] == "False"
               for c in fake_moodle.calls)
    stored = moodle_pulls.stored("4")
    assert stored["8"].percent == pytest.approx(90.0) and stored["8"].grade_text == "45.00"
    assert stored["8"].academic_year == "2024-2025"  # Almaty midnight, 2024-09-02
    assert stored["9"].percent is None and stored["7"].course_name == "Physiology"

    page = open_page(browser, tool, home, "/grades")
    html, text = page.text, re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page.text)))
    # 2025-2026: Pharmacology (tool) B+ 5 x 3.33, Physiology A- 5 x 3.67, Ethics B 3 x 3.0:
    # 44 / 13 = 3.38; 2024-2025: Chemistry A- 3.67; cumulative 62.35 / 18 = 3.46.
    assert 'data-gpa="2025-2026">3.38<' in html
    assert 'data-gpa="2024-2025">3.67<' in html
    assert 'data-gpa="cumulative">3.46<' in html
    # Course 601 counts once, from the tool's own final column (its LMS total, 50 %, is not used).
    assert html.count('data-course="Course 601"') == 1 and "Pharmacology" not in html
    assert "Latin (from the LMS gradebook)" in text and "no grade yet" in text

    # The LMS is the record: a course the student left disappears at the next pull.
    fake_moodle.courses["4"] = [c for c in fake_moodle.courses["4"] if c.id != 9]
    assert moodle_pulls.pull().ok
    assert "9" not in moodle_pulls.stored("4")


def test_a_bad_moodle_token_is_logged_and_stops_the_pull(tool, moodle, browser, fake_moodle,
                                                         moodle_pulls, caplog):
    launch(browser, moodle, "student", "611", 611)
    moodle_student_courses(fake_moodle)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    assert moodle_pulls.pull().ok
    with moodle_pulls.db() as db:
        row = db.get(Connector, moodle_pulls.connector_id)
        row.token_encrypted = encrypt_token(moodle_pulls.cipher, "expired-token")
        db.commit()
    with caplog.at_level(logging.ERROR, logger="lti_tool.gradebook.connectors"):
        summary = moodle_pulls.pull()
    assert not summary.ok
    assert "invalidtoken: Invalid token - token not found" in summary.stopped
    assert "invalidtoken" in moodle_pulls.connector().last_error
    assert any("invalidtoken" in r.getMessage() for r in caplog.records)
    assert "expired-token" not in caplog.text and MOODLE_TOKEN not in caplog.text
    assert len(moodle_pulls.stored("4")) == 5  # a failed pull deletes nothing


@pytest.mark.parametrize("mode, message, fatal", [
    ("html", "expected JSON, got text/html", False),
    ("truncated", "invalid or truncated JSON", False),
    ("missing_field", "expected {grades: [{courseid, grade, rawgrade}], warnings}", False),
    ("status500", "HTTP 500", True),
])
def test_bad_moodle_answers_are_clear_errors(tool, moodle, browser, fake_moodle, moodle_pulls,
                                             mode, message, fatal):
    launch(browser, moodle, "student", "621", 621)
    launch(browser, moodle, OTHER, "621", 621)
    moodle_student_courses(fake_moodle)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    fake_moodle.mode = mode
    summary = moodle_pulls.pull()
    assert message in moodle_pulls.connector().last_error
    # A broken answer for one student is not a reason to skip the next; a server error is.
    assert summary.failed == (1 if fatal else 2)
    assert bool(summary.stopped) is fatal


OTHER = {"role": "student", "id": "501", "given_name": "Bea", "family_name": "Other"}


def test_a_huge_answer_is_refused(tool, moodle, browser, fake_moodle, moodle_pulls,
                                  monkeypatch):
    launch(browser, moodle, "student", "625", 625)
    moodle_student_courses(fake_moodle)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    monkeypatch.setattr(connectors, "MAX_BODY_BYTES", 1000)  # the course list is ~4 kB
    summary = moodle_pulls.pull()
    assert summary.failed == 1
    assert "the answer is larger than 1000 bytes" in moodle_pulls.connector().last_error


def test_one_students_error_does_not_stop_the_others(tool, moodle, browser, fake_moodle,
                                                     moodle_pulls):
    launch(browser, moodle, "student", "631", 631)
    launch(browser, moodle, OTHER, "631", 631)
    moodle_student_courses(fake_moodle)
    fake_moodle.add_course("501", course_id=7, fullname="Physiology", start=date(2025, 9, 1),
                           grade="70.00 %", rawgrade=70)
    fake_moodle.user_errors["4"] = "invaliduser"
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    summary = moodle_pulls.pull()
    assert (summary.users, summary.failed, summary.stopped) == (1, 1, "")
    assert moodle_pulls.stored("501")["7"].percent == pytest.approx(70.0)
    assert "invaliduser" in moodle_pulls.connector().last_error


def test_a_hanging_lms_times_out(tool, moodle, browser, fake_moodle, moodle_pulls):
    launch(browser, moodle, "student", "641", 641)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    fake_moodle.delay = 1.5
    impatient = make_session(load({"http": {"connect_timeout_seconds": 0.5,
                                            "read_timeout_seconds": 0.3, "retries": 0}},
                                  environ={}).http, base_url=tool.base_url)
    summary = moodle_pulls.pull(http=impatient)
    assert "no answer from" in summary.stopped and "in time" in summary.stopped


def test_an_unreachable_lms_is_a_clear_error(tool, moodle, browser, moodle_pulls):
    launch(browser, moodle, "student", "651", 651)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moodle_pulls.add("moodle", f"http://127.0.0.1:{port}", MOODLE_TOKEN)
    summary = moodle_pulls.pull(http=make_session(load({"http": {"retries": 0}}, environ={}).http,
                                                  base_url=tool.base_url))
    assert f"cannot connect to 127.0.0.1:{port}" in summary.stopped


def test_a_disabled_connector_is_left_out_of_gpa(tool, moodle, browser, fake_moodle,
                                                 moodle_pulls):
    home = launch(browser, moodle, "student", "661", 661)
    moodle_student_courses(fake_moodle)
    moodle_pulls.add("moodle", fake_moodle.base_url, MOODLE_TOKEN)
    assert moodle_pulls.pull().ok
    assert "Physiology" in open_page(browser, tool, home, "/grades").text
    with moodle_pulls.db() as db:
        db.get(Connector, moodle_pulls.connector_id).enabled = False
        db.commit()
    assert "Physiology" not in open_page(browser, tool, home, "/grades").text


def test_the_token_is_encrypted_at_rest(tool, moodle, browser, moodle_pulls):
    launch(browser, moodle, "student", "671", 671)
    moodle_pulls.add("moodle", "https://moodle.example.edu", MOODLE_TOKEN)
    path = Path(services(tool.app).settings.tool.database_url[len("sqlite:///"):])
    with moodle_pulls.db() as db:
        stored = db.get(Connector, moodle_pulls.connector_id).token_encrypted
    assert MOODLE_TOKEN not in stored
    # Nor anywhere in the files SQLite writes (the row may still be in the write-ahead log).
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            assert MOODLE_TOKEN.encode() not in file.read_bytes()


# -- Canvas --------------------------------------------------------------------------------


def canvas_student_courses(fake: FakeCanvas, sub: str) -> None:
    """A student's Canvas courses across terms, with every way Canvas reports a total."""
    fake.add_course(sub, course_id=11, name="Anatomy", term_start="2025-09-01T00:00:00Z",
                    current=91.0, final=40.0)  # where the tool is placed: the tool's own wins
    fake.add_course(sub, course_id=12, name="Biology", state="completed",
                    term_start="2024-08-31T19:00:00Z",  # 1 September in Almaty
                    current=95.0, final=72.4)  # concluded: final_score, 72 -> C+
    fake.add_course(sub, course_id=13, name="Chemistry", term_start="2025-09-01T00:00:00Z",
                    current=60.0, final=55.0, override=96.0)  # override wins: A
    fake.add_course(sub, course_id=14, name="Dentistry", term_start="2025-09-01T00:00:00Z",
                    current=85.0, final=80.0, sections=2)  # two sections: counted once, B+
    fake.add_course(sub, course_id=15, name="Ethics", term_start=None)  # no total, no term


def test_canvas_enrollment_grades_across_pages(tool, canvas, browser, fake_canvas, canvas_pulls):
    home = launch(browser, canvas, "student", "c11", 11)  # custom canvas_course_id = 11
    canvas_pulls.seed.course("c11", credits=5, year="2025-2026", sub=canvas_sub(canvas_pulls),
                             score=77)  # B-, 2.67
    canvas_student_courses(fake_canvas, canvas_sub(canvas_pulls))
    canvas_pulls.add("canvas", fake_canvas.base_url, CANVAS_TOKEN)

    summary = canvas_pulls.pull()
    assert (summary.ok, summary.users, summary.courses) == (True, 1, 5)
    # 6 enrollments and 5 courses at 2 a page: 3 + 3 requests, all with the token.
    paths = [r["path"] for r in fake_canvas.requests]
    assert len(paths) == 6 and all(r["authorization"] == f"Bearer {CANVAS_TOKEN}"
                                   for r in fake_canvas.requests)
    assert all(p.startswith(f"/api/v1/users/lti_1_3_id:{canvas_sub(canvas_pulls)}/")
               for p in paths)
    first = fake_canvas.requests[0]["args"]
    assert first["type[]"] == ["StudentEnrollment"] and first["state[]"] == ["active", "completed"]
    stored = canvas_pulls.stored(canvas_sub(canvas_pulls))
    assert stored["11"].percent == pytest.approx(91.0)  # active: current_score
    assert stored["12"].percent == pytest.approx(72.4) and stored["12"].academic_year == "2024-2025"
    assert stored["13"].percent == pytest.approx(96.0)
    assert stored["14"].percent == pytest.approx(85.0)
    assert stored["15"].percent is None and stored["15"].academic_year == ""

    html = open_page(browser, tool, home, "/grades").text
    # 2025-2026: Anatomy (tool) B- 2.67, Chemistry A 4.0, Dentistry B+ 3.33, 5 credits each:
    # 10.0 / 3 = 3.33; 2024-2025: Biology C+ 2.33; cumulative 12.33 / 4 = 3.08.
    assert 'data-gpa="2025-2026">3.33<' in html and 'data-gpa="2024-2025">2.33<' in html
    assert 'data-gpa="cumulative">3.08<' in html
    assert html.count('data-course="Course 11"') == 1 and "Anatomy" not in html
    assert "Academic year not set" in html  # Ethics has no term


def canvas_sub(pulls: Pulls) -> str:
    from lti_platform import make_user

    return make_user("canvas", "student").sub


def test_a_refused_canvas_token(tool, canvas, browser, fake_canvas, canvas_pulls):
    launch(browser, canvas, "student", "c21", 21)
    canvas_student_courses(fake_canvas, canvas_sub(canvas_pulls))
    canvas_pulls.add("canvas", fake_canvas.base_url, "revoked")
    summary = canvas_pulls.pull()
    assert "the LMS refused the token (HTTP 401)" in summary.stopped
    # The LMS's own words stay out of what staff see and the log keeps (a digest instead).
    assert "Invalid access token." not in summary.stopped and "sha256" in summary.stopped


def test_canvas_paging_never_sends_the_token_to_another_host(tool, canvas, browser, fake_canvas,
                                                             canvas_pulls):
    launch(browser, canvas, "student", "c31", 31)
    canvas_student_courses(fake_canvas, canvas_sub(canvas_pulls))
    with FakeCanvas(token=CANVAS_TOKEN) as elsewhere:
        fake_canvas.next_origin = elsewhere.base_url
        canvas_pulls.add("canvas", fake_canvas.base_url, CANVAS_TOKEN)
        summary = canvas_pulls.pull()
        assert elsewhere.requests == []
    assert "next page on another host" in canvas_pulls.connector().last_error
    assert summary.failed == 1


def test_an_unknown_canvas_user_fails_alone(tool, canvas, browser, fake_canvas, canvas_pulls):
    launch(browser, canvas, "student", "c41", 41)
    canvas_pulls.add("canvas", fake_canvas.base_url, CANVAS_TOKEN)
    summary = canvas_pulls.pull()
    assert (summary.failed, summary.stopped) == (1, "")
    assert "not found (HTTP 404)" in canvas_pulls.connector().last_error
