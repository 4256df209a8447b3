"""Staff learning's pages and the portfolio's credentials looked at as users would (issue 14):
in a real browser, in the LMS frame (the public pages on their own), in Kazakh and Russian, on
a 390 px phone and a 1280 px desktop, nothing makes the page scroll sideways and axe-core finds
no serious or critical violation (at each width, in one of the two languages: a11y.axe_checks).
One browser; one launch per role; the tab is reused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import parse_qsl, urlsplit

import pytest
from a11y import axe_checks, axe_violations
from conftest import MODES, Chromium, run_chromium
from jwcrypto import jws
from learning_helpers import act, attach, member, record, staff
from sqlalchemy import select
from teachhub_helpers import today
from test_working_in_the_frame import DESKTOP, PHONE, UNLABELLED_SCROLLERS, wider_than_the_frame

from lti_tool.extensions import services
from lti_tool.portfolio.models import Entry, Showcase

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser

MEMBER = {
    "role": "student",
    "id": "60",
    "username": "staff60",
    "given_name": "Aliya",
    "family_name": "N60",
}
SERIOUS = ("serious", "critical")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class _Portfolio:
    """A portfolio user over HTTP (as tests/integration/test_portfolio_flow.py's Client)."""

    def __init__(self, tool, moodle, stack, user: str):
        from lti_platform import LaunchDriver

        self.tool, self.browser = tool, stack.enter_context(LaunchDriver())
        plan = moodle.plan(user, custom={"placement": "portfolio"})
        home = self.browser.launch(plan, params={"lti_storage_target": None})
        assert home.status_code == 200, home.text[:300]
        self.token = dict(parse_qsl(urlsplit(home.url).query))["ls"]

    def url(self, path: str) -> str:
        return f"{self.tool.base_url}{path}{'&' if '?' in path else '?'}ls={self.token}"

    def get(self, path: str):
        return self.browser.get(self.url(path))

    def post(self, path: str, data: dict, follow: bool = True):
        csrf = CSRF.search(self.get("/portfolio/showcase").text).group(1)
        return self.browser.post(
            self.url(path), data={"csrf_token": csrf, **data}, follow_redirects=follow
        )


def _version(tool, entry_id: int) -> str:
    with services(tool.app).db.new_session() as db:
        return str(db.get(Entry, entry_id).version)


@pytest.fixture(scope="module")
def chromium(playwright, tmp_path_factory) -> Iterator[Chromium]:
    """One browser, third-party cookies blocked (the pages are the same in every mode)."""
    yield from run_chromium(MODES[0], playwright, tmp_path_factory)


def _data(tool, moodle, stack) -> dict:
    """A recognised activity with its credential, and a student's verified entry issued as a
    credential and shown by a showcase link (all over HTTP); the URLs the pages need."""
    people = staff(tool, moodle, stack)
    person = member(tool, moodle, stack)
    activity_id = record(person, "online")
    attach(person, activity_id, "certificate")
    assert act(person, tool, activity_id, "submit").status_code == 303
    recognised = act(
        people.coordinator,
        tool,
        activity_id,
        "recognize",
        decision_date=today().isoformat(),
        decision_number="12/3",
    )
    assert recognised.status_code == 303
    token = person.get(f"/learning/activities/{activity_id}/credential.jwt").text
    learning_verify = json.loads(jws.base64url_decode(token.split(".")[1]))["id"]

    student = _Portfolio(tool, moodle, stack, "student")
    added = student.post(
        "/portfolio/entries/new?list=olympiads",
        {
            "list": "olympiads",
            "course_year": "2",
            "action": "submit",
            "item": "olympiad",
            "level": "republic",
            "result": "first",
            "f_title": "Республикалық анатомия олимпиадасы",
            "f_when": "2026-03-14",
            "f_note": "Диплом",
        },
    )
    entry_id = int(re.search(r"/portfolio/entries/(\d+)", added.url).group(1))
    tutor = _Portfolio(tool, moodle, stack, "teacher")
    tutor.post(
        f"/portfolio/entries/{entry_id}/decide",
        {"action": "verify", "version": _version(tool, entry_id)},
    )
    issued = student.post(f"/portfolio/entries/{entry_id}/credential", {}, follow=False)
    assert issued.status_code == 303
    student.post("/portfolio/showcase", {"sections": ["achievements"], "entries": [str(entry_id)]})
    page = student.get("/portfolio/showcase").text
    portfolio_verify = re.search(r'value="(http://[^"]+/verify/[A-Za-z0-9_-]{32})"', page).group(1)
    with services(tool.app).db.new_session() as db:
        link = db.scalars(select(Showcase.token).order_by(Showcase.id.desc())).first()
    return {
        "activity": activity_id,
        "entry": entry_id,
        "learning_verify": learning_verify,
        "portfolio_verify": portfolio_verify,
        "showcase": f"{tool.base_url}/s/{link}",
    }


def _framed(page, moodle, user, **plan):
    """Launch `user` in the LMS page's frame; the frame and its session token."""
    page.goto(moodle.course_url(moodle.plan(user, **plan)))
    expect(page.frame_locator("iframe[name=tool]").locator("main")).to_be_visible()
    frame = page.frame(name="tool")
    return frame, dict(parse_qsl(urlsplit(frame.url).query))["ls"]


def _problems(frame, width: dict, locale: str) -> dict:
    found = {
        "wider than the screen": wider_than_the_frame(frame),
        "scrollers": frame.evaluate(UNLABELLED_SCROLLERS),
        "axe-core": [
            (v["id"], v["impact"], v["nodes"][:3])
            for v in (axe_violations(frame) if axe_checks(locale, width) else [])
            if v["impact"] in SERIOUS
        ],
    }
    return {k: v for k, v in found.items() if v}


@pytest.mark.timeout(300)
def test_learning_and_credential_pages_fit_a_phone_and_a_desktop(tool, moodle, chromium):
    with ExitStack() as stack:
        data = _data(tool, moodle, stack)
        page = chromium.context.new_page()
        stack.callback(page.close)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        problems: dict = {}

        def look(frame, url: str, name: str, shows: str) -> None:
            for width in (PHONE, DESKTOP):
                page.set_viewport_size(width)
                for locale in ("kk", "ru"):
                    joiner = "&" if "?" in url else "?"
                    response = frame.goto(f"{url}{joiner}lang={locale}")
                    found = _problems(frame, width, locale)
                    if response.status >= 400:
                        found["status"] = response.status
                    if not frame.locator(shows).count():  # the page the test meant to see
                        found["missing"] = shows
                    if frame.locator("html").get_attribute("lang") != locale:
                        found["language"] = frame.locator("html").get_attribute("lang")
                    if found:
                        problems[f"{width['width']} {locale} {name}"] = found

        activity = f"a[href*='/learning/activities/{data['activity']}']"
        roles = (
            (
                MEMBER,
                {},
                [
                    ("/learning/", "own records", activity),
                    ("/learning/new", "new activity", "form select[name=form]"),
                    (
                        f"/learning/activities/{data['activity']}",
                        "activity, certificate",
                        "a[href*='certificate.pdf']",
                    ),
                ],
            ),
            ("admin", {}, [("/learning/list", "consolidated list", activity)]),
            (
                "student",
                {"custom": {"placement": "portfolio"}},
                [
                    ("/portfolio/", "own portfolio", f"#entry-{data['entry']} .pf-issued"),
                    (f"/portfolio/entries/{data['entry']}", "entry", "#evidence"),
                    ("/portfolio/showcase", "showcase credentials", "#credentials .pf-copy"),
                ],
            ),
        )
        for user, plan, paths in roles:
            frame, token = _framed(page, moodle, user, **plan)
            for path, name, shows in paths:
                look(frame, f"{tool.base_url}{path}?ls={token}", name, shows)
        for key, name, shows in (
            ("learning_verify", "verification page, learning", "#verdict[data-state=valid]"),
            ("portfolio_verify", "verification page, portfolio", "#verdict[data-state=valid]"),
            ("showcase", "showcase link", ".pf-credential a[href*='/verify/']"),
        ):
            look(page.main_frame, data[key], name, shows)
    assert problems == {}, problems
    assert errors == []
