"""Real launches over HTTP from Moodle- and Canvas-shaped platforms land on the right home page."""

import re

import pytest


def test_student_launch_lands_on_learner_home(tool, platform, browser):
    plan = platform.plan("student", locale="en")
    response = browser.launch(plan, params={"lti_storage_target": None})
    assert response.status_code == 200, response.text[:500]
    assert response.url.startswith(tool.base_url + "/?ls=")
    page = response.text
    assert plan.user.name in page
    assert 'data-role="learner"' in page
    assert "My portfolio" in page


@pytest.mark.parametrize("user, role", [("teacher", "instructor"), ("admin", "admin")])
def test_staff_launch_lands_on_their_home(platform, browser, user, role):
    response = browser.launch(platform.plan(user), params={"lti_storage_target": None})
    assert response.status_code == 200, response.text[:500]
    assert f'data-role="{role}"' in response.text


def test_session_carries_to_a_second_page_without_cookies(tool, moodle):
    from lti_platform import LaunchDriver

    with LaunchDriver(third_party_cookies_blocked=True) as browser:
        home = browser.launch(moodle.plan("student"))
        assert home.status_code == 200, home.text[:500]
        about_link = re.search(r'href="(/about\?ls=[^"]+)"', home.text).group(1)
        # A fresh browser with no cookies at all still follows the link: the token is in the URL.
    with LaunchDriver(third_party_cookies_blocked=True) as other:
        about = other.get(tool.base_url + about_link.replace("&amp;", "&"))
    assert about.status_code == 200
    assert "About this tool" in about.text


def test_concurrent_replays_of_one_launch_let_exactly_one_through(tool, moodle):
    """Two posts of the same id_token + state at the same moment: one session, one refusal."""
    from concurrent.futures import ThreadPoolExecutor

    from lti_platform import LaunchDriver

    with LaunchDriver() as browser:
        step = browser.start_login(moodle.plan("student"))
        id_token, state = step.authorize()

        def post(_):
            return browser.post_launch(tool.launch_url, id_token, state, follow_redirects=False)

        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = sorted(r.status_code for r in pool.map(post, range(4)))
    assert statuses == [303, 400, 400, 400]


def test_two_courses_in_two_tabs_keep_their_own_sessions(tool, moodle, browser):
    """One person launching a second course does not end their first course's session (a
    student of one course may teach another)."""
    plan = moodle.plan("student", context={"id": "101", "title": "Anatomy"})
    first = browser.launch(plan)
    second = browser.launch(moodle.plan({"role": "teacher", "sub": plan.user.sub},
                                        context={"id": "102", "title": "Pharmacology"}))
    assert "Pharmacology" in second.text and 'data-role="instructor"' in second.text
    again = browser.get(first.url)
    assert "Anatomy" in again.text and 'data-role="learner"' in again.text
