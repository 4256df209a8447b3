"""The staff desk in a real browser inside the LMS frame on a phone (issue 12): the tutor's
overview reads as a list of students, sorts and searches by query string, and a name opens the
student; the coordinator's to-do links to where the work is done."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from conftest import THIRD_PARTY_BLOCKED, in_modes
from teachhub_helpers import card_of, move, participant, placement, published_module
from test_working_in_the_frame import PHONE, add_olympiad, wider_than_the_frame

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser


@in_modes(THIRD_PARTY_BLOCKED)  # the pages are the same in every cookie mode
def test_tutor_overview_and_coordinator_todo_on_a_phone(tool, moodle, chromium, browser_page):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    tool_frame = page.frame_locator("iframe[name=tool]")
    moodle.add_members(2, 3)  # three learners who never open the tool

    student = moodle.plan("student", locale="en", custom={"placement": "portfolio"})
    page.goto(moodle.course_url(student))
    tool_frame.get_by_role("link", name="Open my portfolio").click()
    add_olympiad(page, "Olympiad for the overview")
    tool_frame.locator("nav a[href*='/portfolio/?']").first.click()
    expect(tool_frame.locator("#points-chart svg")).to_be_visible()
    assert wider_than_the_frame(page.frame(name="tool")) == []

    teacher = moodle.plan("teacher", locale="en", custom={"placement": "portfolio"})
    page.goto(moodle.course_url(teacher))
    tool_frame.locator("nav a[href*='/portfolio/course?']").first.click()
    table = tool_frame.locator("#overview")
    expect(table).to_be_visible()
    # A phone shows each student as a small card: no header row, label: value lines.
    expect(table.locator("thead")).to_be_hidden()
    assert table.locator("tbody tr").first.evaluate("r => getComputedStyle(r).display") == "block"
    assert wider_than_the_frame(page.frame(name="tool")) == []
    # Search by name: one row; the name opens the student's portfolio.
    tool_frame.locator("input[name=q]").fill(student.user.family_name)
    tool_frame.locator("form[role=search] button[type=submit]").click()
    expect(tool_frame.locator("#overview tbody tr")).to_have_count(1)
    tool_frame.locator("#overview tbody tr a").first.click()
    expect(tool_frame.locator("h1").first).to_contain_text(student.user.name)
    assert page.url == moodle.course_url(teacher)  # all of it inside the LMS page

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        someone = participant(tool, moodle, stack, setup, uid="88")
        card = card_of(tool, setup.module_id, someone.user_id).id
        setup.facilitator.post(
            f"/teachhub/cards/{card}/hours", {"contact_hours": "20", "self_study_hours": "4"}
        )
        assert move(setup.facilitator, card, "in_progress").status_code == 303
        assert move(setup.facilitator, card, "completed").status_code == 303
    coordinator = moodle.plan("admin", locale="en", **placement(setup.module_id))
    page.goto(moodle.course_url(coordinator))
    tool_frame.locator("nav a[href*='/teachhub/todo?']").first.click()
    expect(tool_frame.locator("[data-count=to-verify]")).to_have_text("1")
    assert wider_than_the_frame(page.frame(name="tool")) == []
    tool_frame.locator("#to-verify a[href*='/teachhub/cards/']").first.click()
    expect(tool_frame.locator("h1").first).to_be_visible()
    assert f"/teachhub/cards/{card}" in page.frame(name="tool").url
    assert browser_page.page_errors == []
