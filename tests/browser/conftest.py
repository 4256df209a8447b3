"""Debian's chromium through Playwright: one browser per cookie mode for the whole module.

The browser is never downloaded (`playwright install` fails here): `make test` installs
Debian's chromium when it is missing, and it is launched directly, headless. Third-party cookies are
blocked or allowed through the profile's Preferences, the only switch Chromium obeys, and every
mode is checked on a probe page before any test relies on it.
"""

from __future__ import annotations

import faulthandler
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from lti_platform import LoopbackServer

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Playwright

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Waits inside tests: a launch takes well under a second; a failure should not cost 30 s. One
# limit for actions, navigations and assertions: 5 s for an assertion was seen to run out on a
# busy machine (a Canvas launch through platform storage, with every cookie blocked).
TIMEOUT_MS = 10_000
# A whole launch, from the course page to the tool's landed page (open_course).
LAUNCH_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class CookieMode:
    """A cookie policy of the browser, and which probe cookies a cross-site frame keeps in it."""

    id: str
    preferences: dict[str, Any]
    third_party_cookies_blocked: bool
    all_cookies_blocked: bool = False  # no cookie in the cross-site frame
    first_party_cookies: bool = True  # cookies kept in the tool's own window

    @property
    def kept_probe_cookies(self) -> set[str]:
        if self.all_cookies_blocked:
            return set()
        if self.third_party_cookies_blocked:
            return {"probe_chips"}
        return {"probe_chips", "probe_plain"}


MODES = [
    # Chrome's default in incognito and for many institutions: third-party cookies blocked,
    # partitioned (CHIPS) cookies still kept.
    CookieMode("3pc-blocked", {"profile": {"cookie_controls_mode": 1}}, True),
    CookieMode("3pc-allowed", {"profile": {"cookie_controls_mode": 0}}, False),
    # No cookie at all in the frame, partitioned or not (what Safari does to third parties):
    # the only mode where the login state can reach the launch by platform storage alone.
    CookieMode(
        "all-cookies-blocked",
        {"profile": {"cookie_controls_mode": 1, "default_content_setting_values": {"cookies": 2}}},
        True, all_cookies_blocked=True, first_party_cookies=False,
    ),
]
THIRD_PARTY_BLOCKED, THIRD_PARTY_ALLOWED, ALL_COOKIES_BLOCKED = MODES


def in_modes(*modes: CookieMode) -> pytest.MarkDecorator:
    """Run a test with the `chromium` fixture in these cookie modes only. Decided at collection:
    a test that skipped itself in the other modes had already paid for their chromium, tool and
    platform (a third of the browser step's setup time)."""
    return pytest.mark.parametrize("chromium", modes, indirect=True, ids=[m.id for m in modes])


# No cookie in frames, but cookies for localhost as a top-level site (the pattern pair is
# cookie host, top-level host): Safari's behaviour, where the tool's own window keeps cookies.
FRAME_COOKIES_BLOCKED = CookieMode(
    "frame-cookies-blocked",
    {"profile": {"cookie_controls_mode": 1, "default_content_setting_values": {"cookies": 2},
                 "content_settings": {"exceptions": {"cookies": {
                     "localhost,localhost": {"setting": 1}}}}}},
    True, all_cookies_blocked=True, first_party_cookies=True,
)


def _missing(what: str) -> str:
    return (f"{what}: run `make test`, which installs Debian's chromium at {CHROMIUM} and the "
            "test extras (playwright, pinned in setup.cfg). Never `playwright install`.")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (sync API), for one test module."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(_missing(f"chromium is not installed at {CHROMIUM}"), pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(_missing(f"playwright is not importable ({err})"), pytrace=False)
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


# The cookie-mode probe: a top page on 127.0.0.2 frames a page on localhost (another site)
# that sets a plain third-party cookie and a partitioned one.
def _probe_app(environ: dict, start_response: Any) -> list[bytes]:
    path = environ.get("PATH_INFO", "/")
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    status = "200 OK"
    if path == "/top":
        port = environ["QUERY_STRING"].partition("=")[2]
        body = ('<!doctype html><title>top</title>'
                f'<iframe src="http://localhost:{port}/set"></iframe>')
    elif path == "/set":
        headers += [
            ("Set-Cookie", "probe_plain=1; Path=/; Secure; SameSite=None"),
            ("Set-Cookie", "probe_chips=1; Path=/; Secure; SameSite=None; Partitioned"),
        ]
        body = "<!doctype html><title>set</title><p>set</p>"
    else:  # /favicon.ico of the top page, say: it must not set first-party cookies
        status, body = "404 Not Found", "not found"
    start_response(status, headers)
    return [body.encode()]


def _check_cookie_mode(context: BrowserContext, mode: CookieMode) -> None:
    """Fail loudly if chromium does not apply `mode`: every test in that mode would lie."""
    with LoopbackServer(_probe_app) as framed, \
            LoopbackServer(_probe_app, host="127.0.0.2") as top:
        page = context.new_page()
        try:
            page.goto(f"{top.base_url}/top?port={framed.port}", wait_until="load")
            kept = {c["name"] for c in context.cookies() if c["domain"] == "localhost"}
            context.clear_cookies()
            # The same page as a top-level site (the tool's own window).
            page.goto(f"{framed.base_url.replace('127.0.0.1', 'localhost')}/set",
                      wait_until="load")
            first_party = bool([c for c in context.cookies() if c["domain"] == "localhost"])
        finally:
            page.close()
            context.clear_cookies()
    if kept != mode.kept_probe_cookies or first_party != mode.first_party_cookies:
        pytest.fail(
            f"chromium ignored the cookie mode {mode.id} ({mode.preferences}): a cross-site "
            f"frame kept {sorted(kept)}, expected {sorted(mode.kept_probe_cookies)}; "
            f"first-party cookies kept: {first_party}, expected {mode.first_party_cookies}",
            pytrace=False)


@dataclass
class Chromium:
    """One running chromium (a persistent context) in one cookie mode."""

    context: BrowserContext
    mode: CookieMode


@pytest.fixture(scope="module", params=MODES, ids=[m.id for m in MODES])
def chromium(request, playwright, tmp_path_factory) -> Iterator[Chromium]:
    """Chromium in each cookie mode, launched once per mode and module (about 1 s a launch)."""
    yield from run_chromium(request.param, playwright, tmp_path_factory)


def run_chromium(mode: CookieMode, playwright, tmp_path_factory) -> Iterator[Chromium]:
    """Launch chromium in `mode`, check the mode took, yield it, close it."""
    profile = tmp_path_factory.mktemp(f"chromium-{mode.id}")
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(json.dumps(mode.preferences))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        # Every wait has an end: actions, navigations (a frame that never loads) and assertions.
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        _check_cookie_mode(context, mode)
        yield Chromium(context=context, mode=mode)
    finally:
        context.close()


@dataclass
class BrowserPage:
    """A fresh tab, with everything the console said in it (any frame)."""

    page: Page
    mode: CookieMode
    console: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def messages(self, *types: str) -> list[str]:
        """Console lines "type: text @ url", of the given types (all when none given)."""
        return [f"{m.type}: {m.text} @ {m.location.get('url', '')}" for m in self.console
                if not types or m.type in types]


def open_course(page: Page, course_url: str) -> None:
    """Open an LMS course page and wait until the launch has landed in the tool's frame (a page
    of the tool with the session's `ls=` in its URL) and loaded: nothing is evaluated inside a
    frame that is still hopping between the LMS's and the tool's processes (login, auth,
    platform storage, launch). Assertions made in such a frame were once seen to wait past
    their own timeout with every cookie blocked, under three browser workers.

    The frame is looked up by name again at every look: a launch moves it between the two
    sites' processes several times, and under load the Frame object taken before the launch
    was seen to report none of the navigations after the platform's auto-posted form (the tool
    had logged the launch and its threads were idle). A launch gets LAUNCH_TIMEOUT_MS; when it
    has not landed by then, every thread's stack is dumped (the tool and the LMS are threads of
    this process) and the failure says where the frame stopped."""
    page.goto(course_url)
    landed = re.compile(r"[?&]ls=")
    deadline = time.monotonic() + LAUNCH_TIMEOUT_MS / 1000
    frame = page.frame(name="tool")
    while frame is None or not landed.search(frame.url):
        if time.monotonic() > deadline:
            faulthandler.dump_traceback(all_threads=True)
            raise AssertionError(f"the launch did not land in {LAUNCH_TIMEOUT_MS} ms: the "
                                 f"tool's frame is at {frame.url if frame else None}")
        page.wait_for_timeout(25)  # Playwright takes in the browser's events meanwhile
        frame = page.frame(name="tool")
    frame.wait_for_load_state("load", timeout=LAUNCH_TIMEOUT_MS)


@pytest.fixture
def browser_page(chromium: Chromium) -> Iterator[BrowserPage]:
    """A new tab in the mode's browser; closed, and every cookie cleared, after the test."""
    chromium.context.clear_cookies()
    page = chromium.context.new_page()
    watched = BrowserPage(page=page, mode=chromium.mode)
    # Lambdas: Playwright cannot wrap a builtin such as list.append as a handler.
    page.on("console", lambda message: watched.console.append(message))  # noqa: PLW0108
    page.on("pageerror", lambda err: watched.page_errors.append(str(err)))
    try:
        yield watched
    finally:
        page.close()
        chromium.context.clear_cookies()

