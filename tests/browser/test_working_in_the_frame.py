"""Working inside the LMS course page on a phone, in a real browser: a student keeps the
portfolio, and every page students, teachers, facilitators and coordinators reach fits the screen.

Saving inside the frame is what cookie blocking breaks first: every form must reach the tool
with the session (its token rides in the URLs) and its CSRF token, whatever cookies the browser
keeps for the cross-site frame (see conftest.MODES). The screen is a phone's: the pages must
fit it, and the script that previews the rubric points must run under the tool's CSP.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from a11y import axe_checks, axe_violations
from conftest import (
    ALL_COOKIES_BLOCKED,
    THIRD_PARTY_BLOCKED,
    TIMEOUT_MS,
    in_modes,
    open_course,
)
from lti_platform import Platform
from sqlalchemy import select
from teachhub_helpers import card_of, move, participant, placement, published_module

from lti_tool.extensions import services
from lti_tool.portfolio.models import Entry, EntryEvidence

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# A one-page PDF: the tool checks the type by content, not by the name.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


# Elements inside a box that scrolls sideways on purpose (a wide table's wrapper) do not count;
# a page that scrolls sideways for any other reason does.
WIDER_THAN_THE_FRAME = """() => {
  const width = document.documentElement.clientWidth;
  const inScroller = e => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !inScroller(e))
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
              + " " + Math.round(e.getBoundingClientRect().right) + "px");
  if (document.documentElement.scrollWidth > width + 1) {
    wide.push("the page, " + document.documentElement.scrollWidth + "px");
  }
  return wide;
}"""


def wider_than_the_frame(frame) -> list[str]:
    """What makes the page (a frame's or a top-level page's main frame) scroll sideways:
    elements reaching past its right edge, or the page itself."""
    return frame.evaluate(WIDER_THAN_THE_FRAME)


def add_olympiad(page, title: str) -> None:
    """From the portfolio page: add a republic olympiad won in year 1 and send it to the tutor
    (by field names, not labels: it works in every language). The form must fit the screen."""
    tool_frame = page.frame_locator("iframe[name=tool]")
    year_1 = tool_frame.locator("#year-1")
    if year_1.get_attribute("open") is None:
        year_1.locator("summary").click()
    tool_frame.locator("a.pf-add[href*='list=olympiads'][href*='year=1']").click()
    form = tool_frame.locator("#pf-entry-form")
    form.locator("select[name=level]").select_option("republic")
    form.locator("select[name=result]").select_option("first")
    form.locator("input[name=f_title]").fill(title)
    # The rubric's points, previewed by the page's script (which the CSP must let run).
    expect(tool_frame.locator("#pf-points")).to_have_text("100")
    assert wider_than_the_frame(page.frame(name="tool")) == []
    form.locator("button[name=action][value=submit]").click()
    expect(tool_frame.locator("#evidence")).to_be_visible()


def allow_unbound_where_needed(request, tool, platform: Platform, mode) -> None:
    """Moodle in a frame that keeps no cookie launches only where its institution accepts
    unbound launches (test_iframe_launch.py has the refusal): these tests are about working in
    such a frame once launched."""
    if platform.profile == "moodle" and mode.all_cookies_blocked:
        tool.allow_unbound_launches(platform)
        request.addfinalizer(lambda: tool.allow_unbound_launches(platform, False))


@pytest.mark.parametrize("profile", ["moodle", "canvas"])
def test_student_adds_an_entry_with_evidence_inside_the_lms_frame_on_a_phone(
        request, tool, chromium, browser_page, profile, tmp_path):
    platform: Platform = request.getfixturevalue(profile)
    allow_unbound_where_needed(request, tool, platform, chromium.mode)
    page = browser_page.page
    page.set_viewport_size(PHONE)
    plan = platform.plan("student", locale="en", custom={"placement": "portfolio"})
    open_course(page, platform.course_url(plan))
    tool_frame = page.frame_locator("iframe[name=tool]")

    tool_frame.get_by_role("link", name="Open my portfolio").click()
    expect(tool_frame.locator("h1").first).to_contain_text(plan.user.name)
    assert wider_than_the_frame(page.frame(name="tool")) == []

    # Section II, year 1: a republic olympiad won, with the points previewed before saving.
    title = f"Republic anatomy olympiad ({profile}, {chromium.mode.id})"
    add_olympiad(page, title)
    assert wider_than_the_frame(page.frame(name="tool")) == []
    expect(tool_frame.locator(".flash")).to_contain_text("Saved.")

    # Evidence: a PDF uploaded from the phone, listed on the entry.
    diploma = tmp_path / "diploma.pdf"
    diploma.write_bytes(PDF)
    tool_frame.locator("#evidence input[type=file]").set_input_files(str(diploma))
    tool_frame.locator("#evidence").get_by_role("button", name="Upload").click()
    expect(tool_frame.locator(".flash")).to_contain_text("The file was attached.")
    expect(tool_frame.locator(".pf-evidence li")).to_have_count(1)
    expect(tool_frame.locator(".pf-evidence li")).to_contain_text("diploma.pdf")
    assert wider_than_the_frame(page.frame(name="tool")) == []
    assert page.url == platform.course_url(plan)  # all of it inside the LMS page

    with services(tool.app).db.new_session() as db:
        entry = db.scalars(select(Entry).where(Entry.title == title)).one()
        files = db.scalars(select(EntryEvidence).where(EntryEvidence.entry_id == entry.id)).all()
        assert (entry.status, entry.course_year, entry.claimed_points) == ("submitted", 1, 100)
        assert len(files) == 1

    assert [line for line in browser_page.messages("error", "warning")
            if not line.endswith(f"@ {platform.base_url}/favicon.ico")] == []
    assert browser_page.page_errors == []


# Links a crawl does not follow: downloads and exports (not pages), and language switches (each
# crawl runs in one language).
NOT_PAGES = re.compile(r"/files/|/export|\.(pdf|csv|xlsx|json)\b|[?&](download|lang)=")
CRAWL_LIMIT = 60

# At 1280 px a table must fit the box it sits in, and no cell may hide part of its text: the HR
# list and the module report once cut "Признано ЗЕ" off in a 930 px column.
CUT_TABLES = """() => [...document.querySelectorAll("table")].flatMap(t => {
  const box = t.parentElement.getBoundingClientRect();
  const cut = t.getBoundingClientRect().right > box.right + 1
    || [...t.querySelectorAll("th, td")].some(c => c.scrollWidth > c.clientWidth + 1);
  return cut ? [(t.className || "table") + " " + Math.round(t.getBoundingClientRect().width)
                + "px in " + Math.round(box.width) + "px"] : [];
})"""
# A box that scrolls sideways must be a labelled region one can reach with the keyboard.
UNLABELLED_SCROLLERS = """() => [...document.querySelectorAll("body *")].filter(e =>
    ["auto", "scroll"].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth
    && !(e.getAttribute("role") === "region" && e.tabIndex === 0
         && (e.getAttribute("aria-label") || e.getAttribute("aria-labelledby"))))
  .map(e => e.tagName.toLowerCase() + "." + e.className)"""
MENU = "[...document.querySelectorAll('nav.menu a')].map(a => a.href)"
# What a Kazakh or Russian reader must never see: the tool's raw keys (roles, statuses, formats)
# and the English names that once leaked ("Peer-review", "UTC"). E-mail addresses are skipped.
RAW_KEYS = re.compile(r"\b(admin|instructor|learner|mentor|designer|guest|in_progress|registered|"
                      r"completed|submitted|recognized|draft|returned|rejected|peer_review|"
                      r"microteaching|Peer-review|Microteaching|UTC|None)\b")
EMAIL = re.compile(r"\S+@\S+")


# Query parameters that show the same page with other rows: one course year's page stands for
# the others, one order of a table (sort, dir) and one page of a list for every other.
SAME_PAGE_PARAMS = ("ls", "year", "sort", "dir", "page")
# Pages that are a person's own and the same whatever the launch role (the about and sign-out
# pages, the portfolio's forms, staff learning's forms): checked at every width by the first
# role that reaches them in a crawl; the roles after check only that they answer with the menu.
SAME_FOR_EVERY_ROLE = re.compile(
    r"^/(about|signout)$|^/portfolio/(entries/new|portrait/)|^/learning/new")


def page_key(url: str) -> str:
    """A page's URL without the session token and the parameters that only pick other rows of
    the same page."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query)
                       if k not in SAME_PAGE_PARAMS])
    return parts.path + ("?" + query if query else "")


def show_at(page, frame, width: dict) -> None:
    """Resize the LMS page to `width` and wait until the tool's frame has the new width (the
    frame is another site's, laid out in its own process: the resize reaches it later). No
    wait for painted frames after it: the checks measure layout, which the browser brings up to
    date when asked, and the tool has no script or transition that reacts to a resize."""
    if page.viewport_size == width:
        return
    before = frame.evaluate("innerWidth")
    page.set_viewport_size(width)
    # Not frame.wait_for_function: when its predicate needs a second look, Playwright evaluates
    # it with eval() inside the page, which the tool's CSP refuses (no 'unsafe-eval').
    frame.evaluate(WIDTH_CHANGED, [before, TIMEOUT_MS])


# Resolves once the page's width is no longer `before`; fails after `timeout` ms.
WIDTH_CHANGED = """([before, timeout]) => new Promise((done, fail) => {
  const stop = setTimeout(() => fail(new Error("the frame kept its width of " + before)), timeout);
  const look = () => innerWidth !== before ? (clearTimeout(stop), done()) : setTimeout(look, 10);
  look();
})"""


def checks_at(frame, width: dict, locale: str) -> dict[str, object]:
    """What is wrong with the frame's page at one screen width (axe-core: a11y.axe_checks)."""
    return {
        "wider than the screen": wider_than_the_frame(frame) if width == PHONE else [],
        "tables cut": frame.evaluate(CUT_TABLES) if width == DESKTOP else [],
        "scrollers without a label or focus": frame.evaluate(UNLABELLED_SCROLLERS),
        "axe-core": ([(v["id"], v["impact"], v["nodes"][:3]) for v in axe_violations(frame)]
                     if axe_checks(locale, width) else []),
        "raw keys": (sorted(set(RAW_KEYS.findall(EMAIL.sub("", frame.inner_text("body")))))
                     if locale in ("kk", "ru") else []),
    }


def crawl(page, tool_base_url: str, widths: tuple[dict, ...] = (PHONE,),
          locale: str = "en", checked: set[str] | None = None,
          check_only: re.Pattern | None = None) -> tuple[list[str], dict[str, object]]:
    """Follow the tool's links inside its frame, breadth first, from the page it shows: the
    pages seen, and those that failed, did not fit the screen, cut a table, had an unlabelled
    scroller, an axe-core violation, another menu than the first page or (in Kazakh and
    Russian) a raw key (with what was wrong).

    Each page is loaded once and checked at every width in `widths` (the viewport resized in
    between, alternating the order so that each page starts at the width the last one ended
    at; axe-core once per page and width: a11y.axe_checks); `widths=()` checks only that
    each page answers and shows the same menu. `checked`,
    shared by the crawls of one test, holds the pages SAME_FOR_EVERY_ROLE already checked at
    every width: another role's crawl checks only that they answer with the menu. With
    `check_only`, the pages whose path it does not match are checked only that way too."""
    checked = set() if checked is None else checked
    frame = page.frame(name="tool")
    queue, seen, problems, menu = [frame.url], [], {}, None
    order = list(widths)
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.pop(0)
        if page_key(url) in seen:
            continue
        seen.append(page_key(url))
        response = frame.goto(url)
        found: dict[str, object] = {"status": response.status if response.status >= 400 else None}
        key = page_key(url)
        path = urlsplit(url).path
        once = bool(SAME_FOR_EVERY_ROLE.search(path))
        elsewhere = check_only is not None and not check_only.search(path)
        widths_here = () if (once and key in checked) or elsewhere else order
        for width in widths_here:
            show_at(page, frame, width)
            for check, wrong in checks_at(frame, width, locale).items():
                if wrong:
                    found[f"{check} at {width['width']} px"] = wrong
        if once:
            checked.add(key)
        if widths_here:
            order.reverse()
        links = sorted({page_key(href) for href in frame.evaluate(MENU)})
        menu = links if menu is None else menu
        if links != menu:  # the same menu on every page (issue 11)
            found["menu differs from the first page's"] = sorted(set(links) ^ set(menu))
        if any(found.values()):
            problems[page_key(url)] = {k: v for k, v in found.items() if v}
        for href in frame.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
            href = href.partition("#")[0]
            if (href.startswith(tool_base_url + "/") and not NOT_PAGES.search(href)
                    and page_key(href) not in seen):
                queue.append(href)
    assert menu, "the crawl's first page had no menu"
    return seen, problems


LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ROLE_SCOPE_MENTOR = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"
# Every page each role reaches, in Kazakh and Russian, on a phone and a desktop: one load of a
# page serves both screens (checked at 390 px, then at 1280 px). Kazakh and Russian are the
# readers' languages and the longest words: a page that fits them fits English. axe-core's
# rules do not depend on the language: they run once per page and width, on the phone in
# Kazakh and on the desktop in Russian (a11y.axe_checks). The pages do not change with cookies,
# only the way the session reaches them: in the cookie mode where no cookie is kept in the
# frame, the crawl runs once more, in English, checking only that every page answers inside the
# frame with its menu (every link carries the session) and that none fails in English.
SCREENS = {"kk": (PHONE, DESKTOP), "ru": (PHONE, DESKTOP), "en": ()}


# The roles crawled by each half of the test (two tests per language, so that the browser
# workers share the longest test of the run): the portfolio's people, then TeachHub's.
PORTFOLIO_ROLES = ("student", "teacher", "mentor", "designer")
TEACHHUB_ROLES = ("participant", "facilitator", "coordinator")
# The TeachHub half checks at every width only the pages the portfolio half does not reach:
# TeachHub's and staff learning's, each role's home page and the coordinator's list of every
# portfolio. The portfolio's, grades' and statement's pages its people also reach (the forms,
# a course's queue, a student's portfolio) are those the portfolio half's student and teacher
# check in the same language: here they are checked to answer with the menu.
TEACHHUB_HALF_CHECKS = re.compile(r"^/$|^/(teachhub|learning)(/|$)|^/portfolio/all$")


@pytest.mark.timeout(900)
@pytest.mark.parametrize("roles", [PORTFOLIO_ROLES, TEACHHUB_ROLES],
                         ids=["portfolio", "teachhub"])
# Kazakh and Russian at both widths in 3pc-blocked, English answering in all-cookies-blocked
# (see SCREENS); the other cookie modes show the same pages.
@pytest.mark.parametrize(("chromium", "locale"),
                         [(THIRD_PARTY_BLOCKED, "kk"), (THIRD_PARTY_BLOCKED, "ru"),
                          (ALL_COOKIES_BLOCKED, "en")],
                         indirect=["chromium"],
                         ids=["3pc-blocked-kk", "3pc-blocked-ru", "all-cookies-blocked-en"])
def test_every_page_each_role_reaches_fits_the_screen_and_passes_axe_core(
        request, tool, moodle, chromium, browser_page, locale, roles, tmp_path):
    widths: tuple[dict, ...] = SCREENS[locale]
    allow_unbound_where_needed(request, tool, moodle, chromium.mode)
    page = browser_page.page
    page.set_viewport_size(PHONE)
    tool_frame = page.frame_locator("iframe[name=tool]")
    tag = f"{chromium.mode.id}-{locale}"

    # A student with an entry sent to the tutor, with a photo as evidence, so that staff pages
    # list something and thumbnails show (in both halves: the coordinator sees portfolios too).
    student = moodle.plan("student", locale=locale, custom={"placement": "portfolio"})
    open_course(page, moodle.course_url(student))
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", "learner")
    tool_frame.locator("a[href*='/portfolio/']").first.click()
    add_olympiad(page, f"Олимпиада ({tag})")
    photo = tmp_path / "diploma-photo.png"
    photo.write_bytes(png_bytes())
    tool_frame.locator("#evidence input[type=file]").set_input_files(str(photo))
    tool_frame.locator("#evidence button[type=submit]").click()
    expect(tool_frame.locator(".pf-evidence li")).to_have_count(1)
    frame = page.frame(name="tool")  # back to the home page, with the session's token
    frame.goto(f"{tool.base_url}/?ls={dict(parse_qsl(urlsplit(frame.url).query))['ls']}")
    checked: set[str] = set()
    check_only = None if roles == PORTFOLIO_ROLES else TEACHHUB_HALF_CHECKS
    crawls = {}
    if "student" in roles:
        crawls["student"] = crawl(page, tool.base_url, widths, locale, checked)
        assert any(key.startswith("/portfolio/entries/") for key in crawls["student"][0])

    student_sub = student.user.sub
    launches = {
        "teacher": (moodle.plan("teacher", locale=locale, custom={"placement": "portfolio"}),
                    "/portfolio/course"),
        "mentor": (moodle.plan({"role": "student", "id": "91", "given_name": "Parent",
                                "roles": [LIS + "Mentor"]}, locale=locale,
                               custom={"placement": "portfolio"},
                               extra_claims={ROLE_SCOPE_MENTOR: [student_sub]}),
                   "/portfolio/"),
        "designer": (moodle.plan({"role": "teacher", "id": "92", "given_name": "Dana",
                                  "roles": [LIS + "ContentDeveloper"]}, locale=locale,
                                 custom={"placement": "portfolio"}), "/about"),
    }
    if "coordinator" in roles:
        # TeachHub: a published module placed in the course, one participant who completed it
        # (so that the report and the HR list have rows); the participant, its facilitator
        # (the same teacher) and the coordinator open the placement.
        uid = f"7{len(tag)}"
        with ExitStack() as stack:
            setup = published_module(tool, moodle, stack)
            someone = participant(tool, moodle, stack, setup, uid=uid)
            card = card_of(tool, setup.module_id, someone.user_id).id
            setup.facilitator.post(f"/teachhub/cards/{card}/hours",
                                   {"contact_hours": "20", "self_study_hours": "25.5"})
            assert move(setup.facilitator, card, "in_progress").status_code == 303
            assert move(setup.facilitator, card, "completed").status_code == 303
        launches["participant"] = (moodle.plan(
            {"role": "student", "id": uid, "username": f"staff{uid}", "given_name": "Aigerim",
             "family_name": f"N{uid}"}, locale=locale, **placement(setup.module_id)),
            "/teachhub/my")
        launches["facilitator"] = (moodle.plan("teacher", locale=locale,
                                               **placement(setup.module_id)), "/teachhub/cards/")
        launches["coordinator"] = (moodle.plan("admin", locale=locale,
                                               **placement(setup.module_id)), "/teachhub/hr")
    launches = {who: launch for who, launch in launches.items() if who in roles}
    for who, (plan, must_reach) in launches.items():
        open_course(page, moodle.course_url(plan))
        expect(tool_frame.locator("main")).to_be_visible()
        crawls[who] = crawl(page, tool.base_url, widths, locale, checked, check_only)
        assert any(key.startswith(must_reach) for key in crawls[who][0]), (who, crawls[who][0])
        assert page.url == moodle.course_url(plan)
    problems = {who: found for who, (_seen, found) in crawls.items() if found}
    assert problems == {}, problems
    assert browser_page.page_errors == []


def png_bytes() -> bytes:
    """A real 40x30 PNG (a photo of a diploma, as far as the tool can tell)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab (only Tab) until the tool frame's focused element matches `selector`."""
    from playwright.sync_api import Error as PlaywrightError

    for _ in range(limit):
        frame = page.frame(name="tool")
        try:
            focused = frame.evaluate(
                "s => !!document.activeElement && document.activeElement.matches(s)", selector)
        except PlaywrightError:  # the frame is loading the page the last key opened
            page.frame(name="tool").wait_for_load_state()
            continue
        if focused:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def choose_with_arrows(page, selector: str, value: str, limit: int = 20) -> None:
    """On a focused <select>, press ArrowDown until `value` is chosen."""
    frame = page.frame(name="tool")
    for _ in range(limit):
        if frame.evaluate("s => document.querySelector(s).value", selector) == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{value} cannot be chosen in {selector} with the arrow keys")


@in_modes(THIRD_PARTY_BLOCKED)  # the keys do not depend on cookies: checked in 3pc-blocked
def test_an_entry_is_added_and_verified_with_the_keyboard_only(tool, moodle, chromium,
                                                                browser_page):
    """Issue 11: the main flows work without a mouse. From the portfolio page, Tab to "+ Add"
    of year 1's olympiads, fill the form and send it to the tutor; the tutor finds it from
    the menu's "Waiting" and verifies it: keys only."""
    page = browser_page.page
    page.set_viewport_size(DESKTOP)
    student = moodle.plan({"role": "student", "id": "95", "username": "keys"}, locale="kk",
                          custom={"placement": "portfolio"})
    open_course(page, moodle.course_url(student))
    tool_frame = page.frame_locator("iframe[name=tool]")
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", "learner")
    tab_to(page, "a[href*='/portfolio/']")
    page.keyboard.press("Enter")
    expect(tool_frame.locator("#year-1[open]")).to_be_visible()  # the current year is open
    tab_to(page, "a.pf-add[href*='list=olympiads'][href*='year=1']")
    page.keyboard.press("Enter")
    expect(tool_frame.locator("#pf-entry-form")).to_be_visible()
    tab_to(page, "select[name=level]")
    choose_with_arrows(page, "select[name=level]", "republic")
    tab_to(page, "select[name=result]")
    choose_with_arrows(page, "select[name=result]", "first")
    tab_to(page, "input[name=f_title]")
    page.keyboard.type("Пернетақтамен енгізілген олимпиада")
    tab_to(page, "button[name=action][value=submit]")
    page.keyboard.press("Enter")
    expect(tool_frame.locator("#evidence")).to_be_visible()
    with services(tool.app).db.new_session() as db:
        entry = db.scalars(select(Entry).where(
            Entry.title == "Пернетақтамен енгізілген олимпиада")).one()
        assert (entry.status, entry.course_year, entry.claimed_points) == ("submitted", 1, 100)

    tutor = moodle.plan("teacher", locale="ru", custom={"placement": "portfolio"})
    open_course(page, moodle.course_url(tutor))
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", "instructor")
    tab_to(page, "nav.menu a[href*='/portfolio/course/queue']")
    page.keyboard.press("Enter")
    tab_to(page, f"a[href*='/portfolio/entries/{entry.id}']")
    page.keyboard.press("Enter")
    tab_to(page, "button[name=action][value=verify]")
    page.keyboard.press("Enter")
    expect(tool_frame.locator(".flash")).to_be_visible()
    with services(tool.app).db.new_session() as db:
        assert db.get(Entry, entry.id).status == "verified"
    assert browser_page.page_errors == []


@in_modes(THIRD_PARTY_BLOCKED)  # the keys do not depend on cookies: checked in 3pc-blocked
def test_a_facilitator_moves_a_card_with_the_keyboard_only(tool, moodle, chromium, browser_page):
    """Issue 11: from the module page the placement opens, Tab to the participant's card, then
    to "Move to: In progress", and press Enter."""
    from lti_tool.teachhub.models import Participant

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        someone = participant(tool, moodle, stack, setup, uid="96")
        card = card_of(tool, setup.module_id, someone.user_id).id
    page = browser_page.page
    page.set_viewport_size(PHONE)
    open_course(page, moodle.course_url(moodle.plan("teacher", locale="kk",
                                            **placement(setup.module_id))))
    tool_frame = page.frame_locator("iframe[name=tool]")
    expect(tool_frame.locator("main")).to_be_visible()
    tab_to(page, f"a[href*='/teachhub/cards/{card}']")
    page.keyboard.press("Enter")
    tab_to(page, "#moves form:has(input[name=status][value=in_progress]) button")
    page.keyboard.press("Enter")
    expect(tool_frame.locator(".flash")).to_be_visible()
    with services(tool.app).db.new_session() as db:
        assert db.get(Participant, card).status == "in_progress"
    assert browser_page.page_errors == []
