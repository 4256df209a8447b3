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
from conftest import MODES
from lti_platform import Platform
from sqlalchemy import select
from teachhub_helpers import participant, placement, published_module

from lti_tool.portfolio.models import Entry, EntryEvidence

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ALL_COOKIES_BLOCKED = next(m for m in MODES if m.id == "all-cookies-blocked")
# A one-page PDF: the tool checks the type by content, not by the name.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


# Elements inside a box that scrolls sideways on purpose (a wide table's wrapper) do not count.
WIDER_THAN_THE_FRAME = """() => {
  const width = document.documentElement.clientWidth;
  const inScroller = e => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !inScroller(e))
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
              + " " + Math.round(e.getBoundingClientRect().right) + "px");
}"""


def wider_than_the_frame(frame) -> list[str]:
    """What makes the page scroll sideways: elements reaching past the frame's right edge."""
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
    page.goto(platform.course_url(plan))
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

    with tool.app.extensions["db"].new_session() as db:
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
CRAWL_LIMIT = 20


def page_key(url: str) -> str:
    """A page's URL without the session token (and the course year: one year's page stands
    for the others)."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("ls", "year")])
    return parts.path + ("?" + query if query else "")


def crawl(page, tool_base_url: str) -> tuple[list[str], dict[str, object]]:
    """Follow the tool's links inside its frame, breadth first, from the page it shows: the
    pages seen, and those that failed or did not fit the screen (with what stuck out)."""
    frame = page.frame(name="tool")
    queue, seen, problems = [frame.url], [], {}
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.pop(0)
        if page_key(url) in seen:
            continue
        seen.append(page_key(url))
        response = frame.goto(url)
        wide = wider_than_the_frame(frame)
        if response.status >= 400 or wide:
            problems[page_key(url)] = (response.status, wide)
        for href in frame.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
            href = href.partition("#")[0]
            if (href.startswith(tool_base_url + "/") and not NOT_PAGES.search(href)
                    and page_key(href) not in seen):
                queue.append(href)
    return seen, problems


# The crawl checks layout and links, which no cookie policy changes: it runs once, in the mode
# that keeps no cookie in the frame, where every link must carry the session itself (the entry
# test above saves forms in every mode).
@pytest.mark.parametrize("chromium", [ALL_COOKIES_BLOCKED], indirect=True,
                         ids=[ALL_COOKIES_BLOCKED.id])
def test_every_page_a_student_and_a_teacher_reach_fits_a_phone_in_kazakh_and_russian(
        request, tool, moodle, chromium, browser_page):
    allow_unbound_where_needed(request, tool, moodle, chromium.mode)
    page = browser_page.page
    page.set_viewport_size(PHONE)
    tool_frame = page.frame_locator("iframe[name=tool]")

    student = moodle.plan("student", locale="kk", custom={"placement": "portfolio"})
    page.goto(moodle.course_url(student))
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", "learner")
    tool_frame.locator("a[href*='/portfolio/']").first.click()
    add_olympiad(page, f"Олимпиада ({chromium.mode.id})")  # so that staff pages list something
    frame = page.frame(name="tool")  # back to the home page, with the session's token
    frame.goto(f"{tool.base_url}/?ls={dict(parse_qsl(urlsplit(frame.url).query))['ls']}")
    seen, problems = crawl(page, tool.base_url)
    assert problems == {}, problems
    assert any(key.startswith("/portfolio/entries/") for key in seen), seen

    teacher = moodle.plan("teacher", locale="ru", custom={"placement": "portfolio"})
    page.goto(moodle.course_url(teacher))
    expect(tool_frame.locator("[data-role]")).to_have_attribute("data-role", "instructor")
    seen, problems = crawl(page, tool.base_url)
    assert problems == {}, problems
    assert any(key.startswith("/portfolio/course") for key in seen), seen

    # TeachHub: a published module placed in the course, with one participant registered;
    # its facilitator (the same teacher) and the coordinator open the placement.
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        participant(tool, moodle, stack, setup, uid=f"7{len(chromium.mode.id)}")
    for role, locale, must_reach in (("teacher", "kk", "/teachhub/cards/"),
                                     ("admin", "ru", "/teachhub/hr")):
        plan = moodle.plan(role, locale=locale, **placement(setup.module_id))
        page.goto(moodle.course_url(plan))
        expect(tool_frame.locator("main")).to_be_visible()
        seen, problems = crawl(page, tool.base_url)
        assert problems == {}, problems
        assert any(key.startswith(must_reach) for key in seen), seen
        assert page.url == moodle.course_url(plan)
    assert browser_page.page_errors == []
