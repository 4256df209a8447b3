"""The rating statement over HTTP: line items and results from the tests' LTI platform -> the
statement -> the final posted back; a week's mentor scores -> on the platform within one worker
cycle; a late week flagged (the dual-training rules, 6.3-6.7, 6.5.2)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from lti_platform import LaunchDriver, Platform, parse_forms
from outbox_helpers import park_leftovers
from sqlalchemy import select
from tool_server import start_tool

from lti_tool.extensions import services
from lti_tool.gradebook.models import LineItem
from lti_tool.gradebook.sync import pull_grades, pull_roster
from lti_tool.gradebook.worker import WorkerPolicy, build_score_worker
from lti_tool.lti.models import Context, Platform as PlatformRow, User

FAST = WorkerPolicy(
    parallel=4,
    batch=50,
    lease_seconds=5,
    max_attempts=4,
    backoff_base_seconds=0.05,
    backoff_cap_seconds=0.2,
)


@pytest.fixture(scope="module")
def st_tool(tmp_path_factory):
    served = start_tool(
        str(tmp_path_factory.mktemp("statement")),
        {"http": {"read_timeout_seconds": 2, "connect_timeout_seconds": 2, "retries": 0}},
    )
    yield served
    served.stop()


@pytest.fixture(params=["moodle", "canvas"])
def lms(request, st_tool):
    with Platform(request.param) as platform:
        st_tool.register(platform)
        park_leftovers(st_tool)
        yield platform


def _settle(tool, seconds=10.0):
    refresher = services(tool.app).roster_refresher
    deadline = time.monotonic() + seconds
    while refresher.busy() and time.monotonic() < deadline:
        time.sleep(0.02)


def _course_id(lms):
    return 2 if lms.profile == "moodle" else 1


def _ls(response) -> str:
    return re.search(r"[?&]ls=([^&#]+)", response.url).group(1)


def _open(browser, tool, launched, path, **kwargs):
    sep = "&" if "?" in path else "?"
    return browser.get(f"{tool.base_url}{path}{sep}ls={_ls(launched)}", **kwargs)


def _post_form(browser, page, action_part, data):
    """Submit the page's form whose action contains `action_part`, with its hidden fields."""
    form = next(f for f in parse_forms(page.text, page.url) if action_part in f.action)
    return browser.post(unescape(form.action), data={**form.fields, **data})


def _text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def _cell(html, sub, name):
    row = re.search(rf'<tr data-student="{re.escape(sub)}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf"<td data-{name}[^>]*>([^<]*)</td>", row).group(1).strip()


def _week_state(html, week):
    return re.search(rf'<tr data-week="{week}" data-state="(\w+)"', html).group(1)


def _almaty_today():
    return datetime.now(ZoneInfo("Asia/Almaty")).date()


def test_statement_from_the_lms_and_back(st_tool, lms):
    tool, course = st_tool, _course_id(lms)
    students = lms.add_members(course, 3)
    a, b, c = students
    # The LMS's columns: weekly tests out of 10, mentor parts and SRO out of 100, the exam and
    # the final out of 100.
    urls: dict[str, str] = {}
    for week in range(1, 16):
        urls[f"test:{week}"] = lms.add_line_item(course, f"Week {week} test", 10)
        urls[f"mentor:{week}"] = lms.add_line_item(
            course, f"Week {week} practical", 100, tag=f"mentor-{week}"
        )
    urls["sro:rk1"] = lms.add_line_item(course, "SRO 1", 100)
    urls["sro:rk2"] = lms.add_line_item(course, "SRO 2", 100)
    urls["exam"] = lms.add_line_item(course, "Exam", 100)
    final_url = lms.add_line_item(course, "Final grade", 100)
    # A: every part full, exam 90. B: 70 % of everything, exam 75. C: 45 %, exam 80.
    # Entered a minute ago: Moodle refuses (409) a score not newer, to the second, than the
    # grade it holds, and the week's mentor scores below may be sent within the same second.
    earlier = (datetime.now(ZoneInfo("UTC")) - timedelta(minutes=1)).isoformat(
        timespec="milliseconds"
    )
    for student, fraction, exam in ((a, 1.0, 90), (b, 0.7, 75), (c, 0.45, 80)):
        for key, url in urls.items():
            if key == "exam":
                lms.set_result(url, student.sub, exam, 100, timestamp=earlier)
            else:
                maximum = 10 if key.startswith("test") else 100
                lms.set_result(
                    url, student.sub, round(maximum * fraction, 2), maximum, timestamp=earlier
                )

    plan = lms.plan(
        "teacher", resource_link={"id": "statement-link", "title": "Statement"}, course=course
    )
    with LaunchDriver() as browser:
        home = browser.launch(plan, params={"lti_storage_target": None})
        assert home.status_code == 200
        _settle(tool)
        with services(tool.app).db.new_session() as db:
            platform_id = db.scalars(
                select(PlatformRow.id).where(
                    PlatformRow.issuer == lms.issuer, PlatformRow.client_id == lms.client_id
                )
            ).one()
            context = db.scalars(
                select(Context)
                .where(Context.platform_id == platform_id)
                .order_by(Context.id.desc())
            ).first()
            client = services(tool.app).gradebook.client(db, platform_id)
            assert pull_roster(db, client, context).ok
            assert pull_grades(db, client, context).ok
            ids = {
                li.url: li.id
                for li in db.scalars(select(LineItem).where(LineItem.context_id == context.id))
            }

        # Not set up yet: the statement sends the instructor to its settings.
        settings = _open(browser, tool, home, "/statement")
        assert settings.status_code == 200 and "Weekly structure" in settings.text
        # Patterns find the columns by title or tag.
        filled = _post_form(
            browser,
            settings,
            "/statement/settings",
            {
                "action": "fill",
                "structure": "appendix2",
                "pattern_test": "week {n} test",
                "pattern_practical": "mentor-{n}",
                "pattern_attestation": "mentor-{n}",
                "pattern_sro": "SRO {n}",
                "pattern_exam": "exam",
            },
        )
        assert filled.status_code == 200
        assert "33 columns found by the patterns" in _text(filled)
        assert f'<option selected value="{ids[urls["exam"]]}">' in filled.text

        mapping = {}
        for week in range(1, 16):
            mentor = "attestation" if week in (4, 8, 12, 15) else "practical"
            mapping[f"slot_test_{week}"] = ids[urls[f"test:{week}"]]
            mapping[f"slot_{mentor}_{week}"] = ids[urls[f"mentor:{week}"]]
        mapping.update(
            slot_sro_rk1=ids[urls["sro:rk1"]],
            slot_sro_rk2=ids[urls["sro:rk2"]],
            slot_exam=ids[urls["exam"]],
        )
        start = _almaty_today() - timedelta(days=7)  # week 1 ended at the last midnight
        saved = _post_form(
            browser,
            settings,
            "/statement/settings",
            {
                "action": "save",
                "structure": "appendix2",
                "start_date": start.isoformat(),
                "group_name": "ИС-22-1",
                "final_line_item": ids[final_url],
                **mapping,
            },
        )
        assert saved.status_code == 200, saved.text[:300]
        html = saved.text
        # A: RK-1 = RK-2 = 100, exam 90: 30 + 30 + 36 = 96 -> A, 4.0, excellent.
        assert [
            _cell(html, a.sub, k) for k in ("rk1", "rk2", "admission", "exam", "final", "letter")
        ] == ["100.00", "100.00", "100.00", "90.00", "96.00", "A"]
        # B: 70 % of each part: RK 70, exam 75: 21 + 21 + 30 = 72 -> C+, 2.33, good.
        assert [
            _cell(html, b.sub, k)
            for k in ("rk1", "admission", "final", "letter", "points", "traditional")
        ] == ["70.00", "70.00", "72.00", "C+", "2.33", "Good"]
        # C: admission rating 45 is not positive: no final however good the exam.
        assert _cell(html, c.sub, "admission") == "45.00" and _cell(html, c.sub, "final") == "—"
        assert "no final: admission rating below 50" in _text(saved)

        # A second tab with the old version: refused, not merged.
        stale = _post_form(
            browser,
            settings,
            "/statement/settings",
            {"action": "save", "structure": "appendix2", "group_name": "other", **mapping},
        )
        assert stale.status_code == 409

        # The finals go back to the chosen column through the outbox.
        posted = _post_form(browser, saved, "/statement/post-final", {})
        assert posted.status_code == 200
        worker = build_score_worker(tool.app, FAST)
        try:
            worker.run_once()
            stored = lms.scores(final_url)
            assert {uid: s["scoreGiven"] for uid, s in stored.items()} == {
                a.sub: pytest.approx(96),
                b.sub: pytest.approx(72),
            }

            # Week 1's mentor scores: entered now, on the LMS after one worker cycle, in time.
            week_page = _open(browser, tool, home, "/statement/week/1")
            assert week_page.status_code == 200
            assert _week_state(saved.text, 1) == "due"
            with services(tool.app).db.new_session() as db:
                user_ids = dict(
                    db.execute(
                        select(User.sub, User.id).where(User.platform_id == platform_id)
                    ).all()
                )
            bad = _post_form(
                browser,
                week_page,
                "/statement/week/1",
                {"mentor_name": "Серік Ахметов", f"score_{user_ids[a.sub]}": "6"},
            )
            assert bad.status_code == 400 and "Enter a number from 0 to 5" in _text(bad)
            entered = _post_form(
                browser,
                week_page,
                "/statement/week/1",
                {
                    "mentor_name": "Серік Ахметов",
                    f"score_{user_ids[a.sub]}": "4",
                    f"score_{user_ids[b.sub]}": "2,5",
                    f"score_{user_ids[c.sub]}": "",
                },
            )
            assert entered.status_code == 200
            # Moodle refuses a score in the same second as the column's last one (409): the
            # worker sends it again a second later; the LMS ends on the tool's values.
            assert worker.drain(10)
            # 4 of the week's 5 on a column out of 100 is 80; 2.5 is 50.
            week1 = {uid: s["scoreGiven"] for uid, s in lms.scores(urls["mentor:1"]).items()}
            assert week1[a.sub] == pytest.approx(80) and week1[b.sub] == pytest.approx(50)
            page = _open(browser, tool, home, "/statement")
            assert _week_state(page.text, 1) == "on_time"
            assert _week_state(page.text, 2) == "running"
        finally:
            worker.close()

        # The same week with week 1 three weeks back: it reached the LMS two weeks late, and
        # week 2 (nothing entered) is late too.
        settings = _open(browser, tool, home, "/statement/settings")
        again = _post_form(
            browser,
            settings,
            "/statement/settings",
            {
                "action": "save",
                "structure": "appendix2",
                "start_date": (start - timedelta(days=14)).isoformat(),
                "group_name": "ИС-22-1",
                "final_line_item": ids[final_url],
                **mapping,
            },
        )
        assert again.status_code == 200
        assert _week_state(again.text, 1) == "late" and _week_state(again.text, 2) == "late"
        assert _week_state(again.text, 3) == "due"
        assert "Late: not on the LMS 24 hours after the week ended" in _text(again)

        # Exports: the PDF and the XLSX of the same statement.
        pdf = _open(browser, tool, home, "/statement/export.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        xlsx = _open(browser, tool, home, "/statement/export.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        ru = _open(browser, tool, home, "/statement?lang=ru")
        assert "Хорошо" in _text(ru) and "72,00" in ru.text

    # A student of the course sees no statement.
    student_plan = lms.plan(
        {"role": "student", "id": a.sub, "given_name": "A"},
        resource_link={"id": "statement-link", "title": "Statement"},
        course=course,
        nrps=False,
    )
    with LaunchDriver() as student:
        landed = student.launch(student_plan, params={"lti_storage_target": None})
        assert landed.status_code == 200
        for path in ("/statement", "/statement/export.xlsx", "/statement/week/1"):
            assert _open(student, tool, landed, path).status_code == 403


@pytest.fixture
def moodle_lms(st_tool):
    with Platform("moodle") as platform:
        st_tool.register(platform)
        park_leftovers(st_tool)
        yield platform


def test_bad_input_is_refused_and_simultaneous_week_entries_are_detected(st_tool, moodle_lms):
    tool, lms = st_tool, moodle_lms
    course = _course_id(lms)
    a, _b = lms.add_members(course, 2)
    week1 = lms.add_line_item(course, "Week 1 practical", 5)
    plan = lms.plan(
        "teacher", resource_link={"id": "statement-2", "title": "Statement"}, course=course
    )
    with LaunchDriver() as browser:
        home = browser.launch(plan, params={"lti_storage_target": None})
        _settle(tool)
        with services(tool.app).db.new_session() as db:
            platform_id = db.scalars(
                select(PlatformRow.id).where(
                    PlatformRow.issuer == lms.issuer, PlatformRow.client_id == lms.client_id
                )
            ).one()
            context = db.scalars(
                select(Context)
                .where(Context.platform_id == platform_id)
                .order_by(Context.id.desc())
            ).first()
            client = services(tool.app).gradebook.client(db, platform_id)
            assert pull_roster(db, client, context).ok and pull_grades(db, client, context).ok
            item_id = db.scalars(select(LineItem.id).where(LineItem.url == week1)).one()
            user_a = db.scalars(
                select(User.id).where(User.platform_id == platform_id, User.sub == a.sub)
            ).one()

        # Before any settings: exports and week forms say what to do (409), never a 500.
        assert _open(browser, tool, home, "/statement/export.pdf").status_code == 409
        assert _open(browser, tool, home, "/statement/week/1").status_code == 409
        settings = _open(browser, tool, home, "/statement/settings")
        for bad in (
            {"structure": "appendix9"},
            {"slot_practical_1": "999999"},
            {"start_date": "2026-13-40"},
            {"slot_exam": "1e3"},
        ):
            refused = _post_form(
                browser,
                settings,
                "/statement/settings",
                {"action": "save", "structure": "appendix2", **bad},
            )
            assert refused.status_code == 400, bad
        refused = _post_form(
            browser,
            settings,
            "/statement/settings",
            {"action": "save", "structure": "appendix2", "version": "x"},
        )
        assert refused.status_code == 400
        saved = _post_form(
            browser,
            settings,
            "/statement/settings",
            {"action": "save", "structure": "appendix2", "slot_practical_1": str(item_id)},
        )
        assert saved.status_code == 200

        for path in (
            "/statement/export.exe",
            "/statement/week/16",
            "/statement/week/0",
            "/statement/week/99999999999999999999999",
        ):
            assert _open(browser, tool, home, path).status_code == 404, path
        # Week 2's practical has no column yet: its form says so, and a save is refused.
        unmapped = _open(browser, tool, home, "/statement/week/2")
        assert "Choose the gradebook column of this week" in _text(unmapped)
        assert (
            _post_form(browser, unmapped, "/statement/week/2", {f"score_{user_a}": "3"}).status_code
            == 409
        )
        form = _open(browser, tool, home, "/statement/week/1")
        first = _post_form(browser, form, "/statement/week/1", {f"score_{user_a}": "5"})
        assert first.status_code == 200
        # A second tab opened before the first saved: refused, the first tab's score stays.
        second = _post_form(browser, form, "/statement/week/1", {f"score_{user_a}": "1"})
        assert second.status_code == 409
        assert "Someone else saved this after you opened it" in _text(second)
        reopened = _open(browser, tool, home, "/statement/week/1")
        assert re.search(rf'name="score_{user_a}"[^>]*value="5"', reopened.text)
