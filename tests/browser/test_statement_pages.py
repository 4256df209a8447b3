"""The rating statement's pages inside the LMS frame, in a real browser: on a 390 px phone and a
desktop, in Kazakh and Russian, they fit the screen, label their scrollers and pass axe-core (at
each width, in one of the two languages: a11y.axe_checks)."""

from __future__ import annotations

import pytest
from a11y import axe_checks, axe_violations
from conftest import THIRD_PARTY_BLOCKED, in_modes
from sqlalchemy import select
from test_working_in_the_frame import (
    CUT_TABLES,
    DESKTOP,
    PHONE,
    UNLABELLED_SCROLLERS,
    wider_than_the_frame,
)

from lti_tool.extensions import services
from lti_tool.gradebook.models import LineItem
from lti_tool.gradebook.sync import pull_grades, pull_roster
from lti_tool.lti.models import Context, Platform as PlatformRow
from lti_tool.statements.service import Settings, save_settings
from lti_tool.statements.structure import Structures

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser


def _set_up_course(tool, moodle, course: int) -> None:
    """Roster and line items pulled, the statement mapped (weeks 1-15 tests, mentor parts)."""
    with services(tool.app).db.new_session() as db:
        platform_id = db.scalars(
            select(PlatformRow.id).where(
                PlatformRow.issuer == moodle.issuer, PlatformRow.client_id == moodle.client_id
            )
        ).one()
        context = db.scalars(
            select(Context).where(Context.platform_id == platform_id).order_by(Context.id.desc())
        ).first()
        client = services(tool.app).gradebook.client(db, platform_id)
        assert pull_roster(db, client, context).ok and pull_grades(db, client, context).ok
        items = {
            li.label: li.id
            for li in db.scalars(select(LineItem).where(LineItem.context_id == context.id))
        }
        structures = services(tool.app).get(Structures)
        mapping = {s.key: items.get(f"{s.part} {s.week}") for s in structures["appendix2"].slots}
        save_settings(
            db,
            context.id,
            actor_name="T",
            seen_version=0,
            structures=structures,
            settings=Settings("appendix2", None, "ИС-22-1", None, mapping),
        )
        db.commit()


@pytest.mark.timeout(600)
@in_modes(THIRD_PARTY_BLOCKED)  # the pages are the same in every cookie mode
def test_statement_pages_fit_a_phone_and_a_desktop(tool, moodle, chromium, browser_page):
    course = 7
    for n in range(1, 16):
        moodle.add_line_item(course, f"test {n}", 3)
        moodle.add_line_item(course, f"practical {n}", 5)
    students = moodle.add_members(course, 4)
    for student in students:
        moodle.set_result(moodle.line_items(course)[0]["id"], student.sub, 2, 3)
    plan = moodle.plan(
        "teacher", course=course, context={"id": "dual-7", "title": "Дуальды"}, locale="kk"
    )
    page = browser_page.page
    page.goto(moodle.course_url(plan))
    tool_frame = page.frame_locator("iframe[name=tool]")
    expect(tool_frame.locator("main")).to_be_visible()
    _set_up_course(tool, moodle, course)
    frame = page.frame(name="tool")
    token = frame.url.split("ls=")[1].split("&")[0]
    problems = {}
    for width in (PHONE, DESKTOP):
        page.set_viewport_size(width)
        for locale in ("kk", "ru"):
            for path in ("/statement", "/statement/settings", "/statement/week/1"):
                response = frame.goto(f"{tool.base_url}{path}?ls={token}&lang={locale}")
                found = {
                    "status": response.status if response.status >= 400 else None,
                    "wider than the screen": wider_than_the_frame(frame) if width == PHONE else [],
                    "tables cut": frame.evaluate(CUT_TABLES) if width == DESKTOP else [],
                    "scrollers": frame.evaluate(UNLABELLED_SCROLLERS),
                    "axe-core": [
                        (v["id"], v["impact"], v["nodes"][:3])
                        for v in (axe_violations(frame) if axe_checks(locale, width) else [])
                    ],
                }
                if any(found.values()):
                    problems[f"{width['width']} {locale} {path}"] = {
                        k: v for k, v in found.items() if v
                    }
    assert problems == {}, problems
    assert browser_page.page_errors == []
