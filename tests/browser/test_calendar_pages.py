"""The group leader's GPA table and the tutor summary in the LMS frame on a phone (issue 13):
the leader confirms a row with a tap, the student's table says who confirmed it, and the
summary reads the year's points, the total and the level; every page fits the screen and
passes axe-core."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest
from a11y import axe_violations
from conftest import THIRD_PARTY_BLOCKED, in_modes
from sqlalchemy import select
from test_working_in_the_frame import PHONE, wider_than_the_frame

from lti_tool.extensions import services
from lti_tool.gradebook.models import CourseGrading, LineItem, Result
from lti_tool.lti.models import Membership, User
from lti_tool.portfolio.models import GroupLeader, Portfolio, Summary

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser


@in_modes(THIRD_PARTY_BLOCKED)  # the pages are the same in every cookie mode
def test_the_leader_confirms_on_a_phone_and_the_summary_reads_points_and_level(
    tool, moodle, chromium, browser_page
):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    frame_locator = page.frame_locator("iframe[name=tool]")
    plan = moodle.plan(
        {"role": "student", "id": "61", "given_name": "Әлия", "family_name": "Сәрсенбаева"},
        locale="ru",
        custom={"placement": "portfolio"},
    )
    page.goto(moodle.course_url(plan))
    expect(frame_locator.locator("[data-role]")).to_have_attribute("data-role", "learner")
    frame = page.frame(name="tool")
    token = dict(parse_qsl(urlsplit(frame.url).query))["ls"]
    frame.goto(f"{tool.base_url}/portfolio/?ls={token}")  # creates the portfolio
    with services(tool.app).db.new_session() as db:
        user = db.scalar(select(User).where(User.sub == plan.user.sub))
        portfolio = db.scalar(select(Portfolio).where(Portfolio.user_id == user.id))
        portfolio.full_name, portfolio.group_name = "Әлия Сәрсенбаева", "МД-21"
        portfolio.admission_year = 2024
        db.add(GroupLeader(platform_id=portfolio.platform_id, group_name="МД-21", user_id=user.id))
        context_id = db.scalar(select(Membership.context_id).where(Membership.user_id == user.id))
        item = LineItem(
            context_id=context_id, url="https://lms/li/final-61", label="Final", score_maximum=100
        )
        db.add(item)
        db.flush()
        db.add(Result(line_item_id=item.id, user_id=user.id, result_score=72, result_maximum=100))
        db.add(
            CourseGrading(
                context_id=context_id,
                final_line_item_id=item.id,
                credits=5,
                academic_year="2025-2026",
            )
        )
        db.add(
            Summary(
                portfolio_id=portfolio.id,
                academic_year="2025-2026",
                course_year=2,
                group_name="МД-21",
                gpa="2.33",
                academic_level="good",
                points=155,
                points_total=230,
                achievement_level="high",
                level_overridden=True,
                tutor_name="Т. Тьютор",
                summary_date=date(2026, 6, 20),
                version=1,
            )
        )
        db.commit()
        summary_id = db.scalar(select(Summary.id).where(Summary.portfolio_id == portfolio.id))
    frame.goto(f"{tool.base_url}/portfolio/group-gpa?ls={token}")
    table = frame_locator.locator("#group-gpa")
    expect(table).to_contain_text("Әлия Сәрсенбаева")
    assert wider_than_the_frame(frame) == []
    assert axe_violations(frame) == []
    table.locator("button[type=submit]").first.click()
    expect(frame_locator.locator("#group-gpa")).to_contain_text("Әлия Сәрсенбаева,")
    frame.goto(f"{tool.base_url}/portfolio/?ls={token}")
    confirmed = frame_locator.locator(".pf-totals .pf-confirmed")
    expect(confirmed).to_contain_text("старост")
    expect(confirmed).to_be_visible()  # on a phone too (it sits in the GPA cell)
    assert wider_than_the_frame(frame) == []
    frame.goto(f"{tool.base_url}/portfolio/summaries/{summary_id}?ls={token}")
    level = frame_locator.locator("#achievement-level")
    expect(level).to_contain_text("высокий")
    expect(level).to_contain_text("установлен тьютором")
    expect(level).to_contain_text("155 за 2025-2026")
    assert wider_than_the_frame(frame) == []
    assert axe_violations(frame) == []
    assert browser_page.page_errors == []
