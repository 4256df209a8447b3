"""Staff see and steer the course's sync: roster and grade pulls, scores pending/sent/parked."""

import re
import time

from lti_platform import LaunchDriver, parse_forms
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.gradebook.models import ScoreOutbox, SyncState
from lti_tool.lti.models import Context, Membership


def _link(page, text):
    found = re.search(r'href="([^"]+)"[^>]*>' + re.escape(text), page.text)
    return found.group(1).replace("&amp;", "&")


def _post(browser, page, action_part):
    form = next(f for f in parse_forms(page.text, page.url) if action_part in f.action)
    return browser.post(form.action, data=form.fields, headers={"Accept-Language": "en"})


def test_teacher_pulls_roster_and_grades_from_the_sync_page(tool, moodle, browser):
    moodle.add_members(2, 12)
    home = browser.launch(moodle.plan("teacher", locale="en"))
    page = browser.get(tool.base_url + _link(home, "Gradebook sync"))
    assert page.status_code == 200 and "Roster pulled" in page.text
    after = _post(browser, page, "/gradebook/sync/roster")
    assert after.status_code == 200
    assert re.search(r"Roster updated: \d+ members", after.text)
    after = _post(browser, after, "/gradebook/sync/grades")
    assert "Grades updated" in after.text
    assert 'data-count="parked">0<' in after.text


def test_parked_scores_are_listed_with_their_error_and_can_be_sent_again(tool, moodle, browser):
    home = browser.launch(moodle.plan("teacher", locale="en"))
    with services(tool.app).db.new_session() as db:
        context = db.scalars(select(Context).order_by(Context.id.desc())).first()
        db.add(ScoreOutbox(platform_id=context.platform_id, context_id=context.id,
                           line_item_url="https://lms.example/li/1", user_sub="777",
                           score_given=5, score_maximum=10, activity_progress="Completed",
                           grading_progress="FullyGraded", status="parked", attempts=10,
                           last_error="HTTP 403: services are disabled"))
        db.commit()
    page = browser.get(tool.base_url + _link(home, "Gradebook sync"))
    assert "HTTP 403: services are disabled" in page.text
    assert 'data-count="parked">1<' in page.text
    after = _post(browser, page, "/gradebook/sync/retry")
    assert "1 score will be sent again." in after.text
    with services(tool.app).db.new_session() as db:
        row = db.scalars(select(ScoreOutbox).where(ScoreOutbox.user_sub == "777")).one()
        assert row.status == "pending" and row.attempts == 0


def test_students_cannot_open_the_sync_page(tool, moodle, browser):
    home = browser.launch(moodle.plan("student"))
    token = re.search(r"\?ls=([^\"&]+)", home.url).group(1)
    page = browser.get(f"{tool.base_url}/gradebook/sync?ls={token}")
    assert page.status_code == 403


def test_a_launch_refreshes_an_old_roster_in_the_background(tool, moodle):
    moodle.add_members(2, 7)
    with LaunchDriver() as browser:
        assert browser.launch(moodle.plan("teacher")).status_code == 200
    with services(tool.app).db.new_session() as db:
        context = db.scalars(select(Context).order_by(Context.id.desc())).first()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.expire_all()
            state = db.get(SyncState, context.id)
            if state and state.roster_pulled_at:
                break
            time.sleep(0.05)
        members = db.scalars(select(Membership).where(Membership.context_id == context.id,
                                                      Membership.source == "roster")).all()
    assert len(members) >= 7
