"""The tool launched inside an LMS course page's iframe, in a real browser (Debian's chromium).

The course page is on http://127.0.0.1:PORT (the test platform), the tool on
http://localhost:PORT2: another site, so the tool lives in a cross-site iframe exactly as under
Moodle or Canvas. Each test runs with third-party cookies blocked, with them allowed, and with
no cookie at all in the frame (see conftest.MODES).

What binds the login state to the browser, as observed in chromium:
- third-party cookies allowed or blocked: the state cookie is Partitioned (CHIPS), so chromium
  keeps it even with third-party cookies blocked -> binding "cookie" for Moodle and Canvas.
  Canvas still gets the state put into platform storage at login, but the launch never needs
  to read it back.
- no cookie in the frame (all cookies blocked; or, Safari-like, only in frames): Canvas's launch
  reads the state back from platform storage -> "storage"; Moodle offers no storage, so its
  launch is unbound: refused with "open in a new window" (test_unbound_moodle_launch_...), where
  the tool's own window keeps the state cookie when the browser allows first-party cookies, and
  says that cookies are off when it does not. Accepted as "server" only for a platform allowed
  unbound launches (`lti-tool platform unbound`).
"""

from __future__ import annotations

import logging
import re
import urllib.request

import pytest
from conftest import FRAME_COOKIES_BLOCKED, MODES, open_course, run_chromium
from flask import Blueprint, Flask
from lti_platform import LoopbackServer, Platform

from lti_tool.extensions import services
from lti_tool.lti.models import LoginState
from lti_tool.lti.registry import allowed_frame_origins

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

# A launch takes under a second; a test stuck on a frame that never lands (once seen for minutes
# with every cookie blocked) fails within the minute instead of holding the run.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

VIEWS_LOGGER = "lti_tool.lti.views"

LAUNCHES = [
    pytest.param("moodle", "student", "learner", id="moodle-student"),
    pytest.param("moodle", "teacher", "instructor", id="moodle-teacher"),
    pytest.param("canvas", "student", "learner", id="canvas-student"),
    pytest.param("canvas", "teacher", "instructor", id="canvas-teacher"),
]


@pytest.fixture(scope="module", params=[*MODES, FRAME_COOKIES_BLOCKED],
                ids=[m.id for m in [*MODES, FRAME_COOKIES_BLOCKED]])
def chromium(request, playwright, tmp_path_factory):
    """conftest's chromium, plus the Safari-like mode (no cookie in frames only)."""
    yield from run_chromium(request.param, playwright, tmp_path_factory)


def expected_binding(profile: str, all_cookies_blocked: bool) -> str:
    """How the tool must have bound the login state to the browser (see the module docstring)."""
    if not all_cookies_blocked:
        return "cookie"
    return "storage" if profile == "canvas" else "server"


def launch_log(caplog) -> list[dict[str, str]]:
    """The tool's "launch ok: k=v ..." log lines of this test, as dicts."""
    lines = [r.getMessage() for r in caplog.records
             if r.name == VIEWS_LOGGER and r.getMessage().startswith("launch ok:")]
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines]


def unexpected_console(browser_page, platform) -> list[str]:
    """Console errors and warnings of the tab, but the LMS page's own missing favicon."""
    return [line for line in browser_page.messages("error", "warning")
            if not line.endswith(f"@ {platform.base_url}/favicon.ico")]


def wait_for_console(browser_page, text: str, timeout_ms: int = 2000) -> None:
    """Wait until some console message of the tab contains `text`."""
    for _ in range(timeout_ms // 20):
        if any(text in m.text for m in browser_page.console):
            return
        browser_page.page.wait_for_timeout(20)
    pytest.fail(f"no console message with {text!r}; saw {browser_page.messages()}")


def csp_lines(browser_page) -> list[str]:
    return [line for line in browser_page.messages()
            if re.search(r"content.security.policy|frame-ancestors", line, re.I)]


@pytest.mark.parametrize("profile, user, role", LAUNCHES)
def test_launch_in_lms_iframe_keeps_session_on_the_next_page(
        request, tool, chromium, browser_page, caplog, profile, user, role):
    platform: Platform = request.getfixturevalue(profile)
    mode = chromium.mode
    caplog.set_level(logging.INFO, logger=VIEWS_LOGGER)
    plan = platform.plan(user, locale="en")
    page = browser_page.page
    if profile == "moodle" and mode.all_cookies_blocked:
        # Nothing can bind Moodle's launch in this frame: only an institution that accepts
        # the login CSRF risk lands here (the refusal is test_unbound_moodle_launch_...).
        tool.allow_unbound_launches(platform)
        request.addfinalizer(lambda: tool.allow_unbound_launches(platform, False))

    open_course(page, platform.course_url(plan))  # landed in the frame (conftest.open_course)
    assert page.url.startswith(platform.base_url + "/course/")  # the LMS is the top page
    tool_frame = page.frame_locator("iframe[name=tool]")

    # The launch lands on the role's home page inside the iframe.
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", role)
    expect(tool_frame.locator("section.identity h1")).to_have_text(f"Hello, {plan.user.name}")
    frame = page.frame(name="tool")
    assert frame is not None and frame.url.startswith(tool.base_url + "/?ls="), frame and frame.url

    # One more click inside the tool: the session carries over to /about.
    tool_frame.get_by_role("link", name="About", exact=True).click()
    expect(tool_frame.locator("#about h1")).to_have_text("About this tool")
    expect(tool_frame.locator("#about")).to_contain_text(f"Signed in as {plan.user.name}.")
    assert page.frame(name="tool").url.startswith(tool.base_url + "/about?ls=")
    assert page.url == platform.course_url(plan)  # all of it happened inside the frame

    # How the login state was bound to this browser.
    binding = expected_binding(profile, mode.all_cookies_blocked)
    launches = launch_log(caplog)
    assert [(x["role"], x["binding"]) for x in launches] == [(role, binding)], launches

    # What the tool keeps in the browser: one partitioned session cookie (the state cookie is
    # deleted at launch), or nothing at all where cookies are blocked.
    tool_cookies = [c for c in chromium.context.cookies() if c["domain"] == "localhost"]
    if mode.all_cookies_blocked:
        assert tool_cookies == []
    else:
        assert [(c["name"], c.get("partitionKey")) for c in tool_cookies] == [
            ("lti_session", "http://127.0.0.1")], tool_cookies

    # Platform storage (Canvas only): the tool asked for capabilities, put the state at login,
    # and read it back at launch only when no cookie carried it.
    if profile == "canvas":
        messages = page.evaluate("window.ltiMessages")
        assert {m["origin"] for m in messages} == {tool.base_url}, messages
        subjects = [m["data"]["subject"] for m in messages]
        assert subjects[0] == "lti.capabilities", subjects
        puts = [m["data"] for m in messages if m["data"]["subject"] == "lti.put_data"]
        gets = [m["data"] for m in messages if m["data"]["subject"] == "lti.get_data"]
        assert len(puts) == 1, subjects
        state = puts[0]["value"]
        assert puts[0]["key"] == f"state-{state}"
        stored = page.evaluate("Object.values(window.ltiStorage)")
        assert stored == [state]
        if binding == "storage":
            assert [g["key"] for g in gets] == [puts[0]["key"]], subjects
        else:
            assert gets == [], subjects
        # ... and that state is the one the launch consumed.
        with services(tool.app).db.new_session() as db:
            login_state = db.get(LoginState, state)
            assert login_state is not None and login_state.used_at is not None
    else:
        assert page.evaluate("typeof window.ltiMessages") == "undefined"

    # No CSP complaint (nor any other error) in the course page or the tool's frame. The probe
    # proves the listener hears the cross-site frame's console.
    frame.evaluate("console.info('probe from the tool frame')")
    wait_for_console(browser_page, "probe from the tool frame")
    assert csp_lines(browser_page) == []
    assert unexpected_console(browser_page, platform) == []
    assert browser_page.page_errors == []


def test_unbound_moodle_launch_finishes_in_the_tools_own_window(
        tool, moodle, chromium, browser_page, caplog):
    """Moodle in a frame that keeps no cookie: the launch is refused with a button that
    finishes it in a window of the tool's own, where the state cookie is first-party."""
    mode = chromium.mode
    if not mode.all_cookies_blocked:
        pytest.skip("the frame keeps the partitioned state cookie: the launch lands in it")
    caplog.set_level(logging.INFO, logger=VIEWS_LOGGER)
    plan = moodle.plan("student", locale="en")
    page = browser_page.page
    page.goto(moodle.course_url(plan))
    tool_frame = page.frame_locator("iframe[name=tool]")
    expect(tool_frame.locator("h1")).to_have_text(
        "Your browser blocked the cookie this launch needs.")
    assert launch_log(caplog) == []

    with chromium.context.expect_page() as opened:
        tool_frame.get_by_role("button", name="Open in a new window").click()
    window = opened.value
    if mode.first_party_cookies:
        expect(window.locator("[data-role]")).to_have_attribute("data-role", "learner")
        expect(window.locator("section.identity h1")).to_have_text(f"Hello, {plan.user.name}")
        assert window.url.startswith(tool.base_url + "/?ls="), window.url
        assert [(x["role"], x["binding"]) for x in launch_log(caplog)] == [("learner", "cookie")]
    else:
        # Chromium with every cookie blocked keeps none even in the tool's own window.
        expect(window.locator("code")).to_have_text("cookies_disabled")
        expect(window.locator("h1")).to_contain_text("Allow cookies for this site")
        assert launch_log(caplog) == []
    window.close()
    assert browser_page.page_errors == []


def _framing_page(src: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Framing test</title></head>'
            f'<body><iframe name="tool" src="{src}"></iframe></body></html>')


def test_only_registered_platforms_can_frame_the_tool(tool, browser_page):
    """CSP frame-ancestors: the same page frames the tool from a registered platform's origin,
    and is refused from another site (127.0.0.2) or another port of the same host."""
    page = browser_page.page
    # A page that needs no launch: in the frame it shows the tool's "no_session" error page.
    target = tool.base_url + "/about?lang=en"
    framing = Blueprint("framing", __name__)
    framing.add_url_rule("/framing", "framing", lambda: _framing_page(target))
    stranger = Flask("stranger")
    stranger.register_blueprint(framing)

    with Platform("moodle", blueprints=[framing]) as platform:
        tool.register(platform)
        # Allowed: the registered platform's origin is in frame-ancestors.
        page.goto(platform.base_url + "/framing", wait_until="load")
        expect(page.frame_locator("iframe[name=tool]").locator("code")).to_have_text("no_session")
        assert page.frame(name="tool").url == target
        assert csp_lines(browser_page) == []

        with LoopbackServer(stranger, host="127.0.0.2") as other_site:
            _assert_refused(page, other_site.base_url + "/framing", tool.base_url)
        other_port = _unregistered_server(tool, stranger)
        try:
            _assert_refused(page, other_port.base_url + "/framing", tool.base_url)
        finally:
            other_port.stop()

    # The header says why: only registered origins (and the tool itself) are ancestors.
    with urllib.request.urlopen(tool.base_url + "/healthz") as response:
        csp = response.headers["Content-Security-Policy"]
    ancestors = re.search(r"frame-ancestors ([^;]*)", csp).group(1).split()
    assert "'self'" in ancestors and platform.base_url in ancestors
    assert not any(a.startswith("http://127.0.0.2") for a in ancestors), ancestors


def _unregistered_server(tool, app) -> LoopbackServer:
    """A server on 127.0.0.1 whose origin no platform in the tool's database ever had (ports of
    stopped test platforms are reused by the OS)."""
    with services(tool.app).db.new_session() as db:
        allowed = set(allowed_frame_origins(db))
    for _ in range(20):
        server = LoopbackServer(app).start()
        if server.base_url not in allowed:
            return server
        server.stop()
    pytest.fail("every port tried belongs to a registered platform")


def _assert_refused(page, url: str, tool_origin: str) -> None:
    """The page at `url` frames the tool; chromium must refuse, naming frame-ancestors."""
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refusal:
        page.goto(url, wait_until="load")
    assert f"Framing '{tool_origin}/'" in refusal.value.text, refusal.value.text
    assert "has been blocked" in refusal.value.text
    # Chromium puts its own error page in the frame instead of the tool's. (The frame of an
    # error page may lose its name for a moment: look at the page's only child frame.)
    for _ in range(100):
        children = page.main_frame.child_frames
        if children and children[0].url.startswith("chrome-error://"):
            break
        page.wait_for_timeout(20)
    assert [f.url for f in children] == ["chrome-error://chromewebdata/"]
    assert "no_session" not in children[0].content()
