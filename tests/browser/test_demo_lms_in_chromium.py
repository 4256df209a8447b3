"""The demo LMS in Debian's chromium with third-party cookies blocked, from a fresh database:
the home page's "Try it", each role's launch framed cross-site (the course page on localhost,
the tool on 127.0.0.1), and one action per role done inside the frame."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from a11y import axe_checks, axe_violations
from conftest import MODES, run_chromium
from sqlalchemy import select
from test_working_in_the_frame import PHONE, wider_than_the_frame
from tool_server import start_tool

from lti_tool.extensions import services
from lti_tool.lti.models import User
from lti_tool.portfolio.models import Entry
from lti_tool.teachhub.models import Module, ModuleFacilitator, Participant

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures say what to install
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

BLOCKED = MODES[0]  # third-party cookies blocked, partitioned cookies kept (Chrome's default)
assert BLOCKED.id == "3pc-blocked"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def fresh_tool(tmp_path_factory):
    """`make run` on a fresh database: the tool at http://127.0.0.1:PORT, nothing registered."""
    served = start_tool(str(tmp_path_factory.mktemp("demo-browser")), host_name="127.0.0.1")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def blocked(playwright, tmp_path_factory):
    """Chromium with third-party cookies blocked (checked on a probe page first)."""
    yield from run_chromium(BLOCKED, playwright, tmp_path_factory)


def open_seat(page, seat: str):
    """Pick a role on the demo course page; the frame that holds the launched tool."""
    page.locator(f"a[data-seat={seat}]").click()
    frame_element = page.locator("#tool-frame")
    expect(frame_element).to_be_visible()
    tool = page.frame_locator("#tool-frame")
    # The menu, not just a <main>: the login and platform-storage pages the launch passes
    # through have a <main> too, and a click made there is lost when the launch moves on.
    expect(tool.locator("nav.menu")).to_be_visible()
    return tool


def framed_url(page) -> str:
    """The URL of the tool's frame (the only child frame of the course page)."""
    children = page.main_frame.child_frames
    assert len(children) == 1
    return children[0].url


def test_try_it_and_every_role_from_a_fresh_database(fresh_tool, blocked):
    page = blocked.context.new_page()
    page.set_viewport_size(DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    with services(fresh_tool.app).db.new_session() as db:
        assert db.scalars(select(Entry)).first() is None  # fresh: nothing seeded yet

    page.goto(fresh_tool.base_url + "/?lang=en")
    page.locator("#try-it").click()
    expect(page.locator("h1")).to_contain_text("Педагогика")
    top = urlsplit(page.url)
    assert top.hostname == "localhost" and top.port == urlsplit(fresh_tool.base_url).port

    # Every role lands framed, cross-site: the course page on localhost, the tool on 127.0.0.1.
    names = {
        "student": "Айгерім",
        "student2": "Дмитрий",
        "tutor": "Гүлнар",
        "facilitator": "Жанар",
        "coordinator": "Жанар",
        "admin": "Қанат",
    }
    for seat, name in names.items():
        tool = open_seat(page, seat)
        expect(tool.locator("body")).to_contain_text(name)
        assert urlsplit(framed_url(page)).hostname == "127.0.0.1", (seat, framed_url(page))
        assert urlsplit(page.url).hostname == "localhost"

    # The student adds an entry and sends it to the tutor.
    tool = open_seat(page, "student")
    tool.locator("a[href*='/portfolio/']").first.click()
    year = tool.locator("#year-2")
    expect(year).to_be_visible()
    if year.get_attribute("open") is None:
        year.locator("summary").click()
    tool.locator("a.pf-add[href*='list=olympiads'][href*='year=2']").click()
    form = tool.locator("#pf-entry-form")
    form.locator("select[name=level]").select_option("republic")
    form.locator("select[name=result]").select_option("first")
    form.locator("input[name=f_title]").fill("Демо: республикалық химия олимпиадасы")
    form.locator("button[name=action][value=submit]").click()
    expect(tool.locator("#evidence")).to_be_visible()
    with services(fresh_tool.app).db.new_session() as db:
        entry = db.scalars(
            select(Entry).where(Entry.title == "Демо: республикалық химия олимпиадасы")
        ).one()
        assert entry.status == "submitted"

    # The second student sees their own portfolio, not the first student's entry.
    tool = open_seat(page, "student2")
    tool.locator("a[href*='/portfolio/']").first.click()
    expect(tool.locator("h1").first).to_contain_text("Дмитрий")
    expect(tool.locator("body")).not_to_contain_text("химия олимпиадасы")

    # The tutor verifies it from the queue.
    tool = open_seat(page, "tutor")
    tool.locator("nav.menu a[href*='/portfolio/course/queue']").click()
    tool.locator(f"a[href*='/portfolio/entries/{entry.id}']").first.click()
    tool.locator("button[name=action][value=verify]").click()
    expect(tool.locator(".flash")).to_be_visible()
    with services(fresh_tool.app).db.new_session() as db:
        assert db.get(Entry, entry.id).status == "verified"

    # The facilitator moves a registered card into progress.
    with services(fresh_tool.app).db.new_session() as db:
        registered = db.scalars(
            select(Participant).where(Participant.status == "registered")
        ).first()
    tool = open_seat(page, "facilitator")
    tool.locator(f"a[href*='/teachhub/cards/{registered.id}']").first.click()
    tool.locator("#moves form:has(input[name=status][value=in_progress]) button").click()
    expect(tool.locator(".flash")).to_be_visible()
    with services(fresh_tool.app).db.new_session() as db:
        assert db.get(Participant, registered.id).status == "in_progress"

    # The coordinator sees every card of the module, in every status.
    tool = open_seat(page, "coordinator")
    for name in ("Жанар", "Марат", "Ирина", "Ардақ", "Виктор", "Сәуле"):
        expect(tool.locator("main")).to_contain_text(name)

    # The administrator opens every portfolio of the institution.
    tool = open_seat(page, "admin")
    tool.locator("a[href*='/portfolio/all']").first.click()
    expect(tool.locator("main")).to_contain_text("Сейітқали")
    expect(tool.locator("main")).to_contain_text("Волков")
    assert errors == []
    page.close()


def test_the_demo_lms_pages_pass_axe_on_a_phone_and_a_desktop(fresh_tool, blocked):
    """The course page (header, course menu, role picker), the page framing the tool and the
    gradebook, in kk, ru and en at 390 px and 1280 px: nothing wider than a phone's screen, and
    no serious or critical axe-core violation (at each width, in one language: a11y.axe_checks)."""
    page = blocked.context.new_page()
    page.goto(fresh_tool.base_url + "/demo/")  # the demo site (localhost), seeded on first use
    expect(page.locator("#tool-frame")).to_have_count(0)
    course = urlsplit(page.url)
    demo = f"{course.scheme}://{course.netloc}"
    paths = {
        "role picker": course.path + "?lang={lang}",
        "framing page": course.path + "?lang={lang}&as=tutor",
        "gradebook": course.path + "/grades?lang={lang}",
    }
    problems = {}
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        for lang in ("kk", "ru", "en"):
            for name, path in paths.items():
                response = page.goto(demo + path.format(lang=lang))
                assert response is not None and response.status == 200, (name, lang)
                assert page.locator("html").get_attribute("lang") == lang
                if name == "framing page":
                    expect(page.frame_locator("#tool-frame").locator("main")).to_be_visible()
                found = {
                    "axe-core": [
                        (v["id"], v["impact"], v["nodes"][:3])
                        for v in (axe_violations(page.main_frame) if axe_checks(lang, size) else [])
                        if v["impact"] in ("serious", "critical")
                    ],
                    "wider than the screen": (
                        wider_than_the_frame(page.main_frame) if size == PHONE else []
                    ),
                }
                if any(found.values()):
                    problems[f"{size['width']} {lang} {name}"] = {
                        k: v for k, v in found.items() if v
                    }
    page.close()
    assert problems == {}


def test_the_coordinator_adds_a_facilitator_by_inline_search_without_losing_typed_text(
    fresh_tool, blocked
):
    """The module card form's search (static/js/facilitator_search.js, under the tool's CSP):
    a part of a Kazakh name finds the tutor, a click ticks her, the save keeps the typed goal."""
    page = blocked.context.new_page()
    page.set_viewport_size(PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on(  # a CSP refusal of the script would show here
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(fresh_tool.base_url + "/demo/?lang=kk")
    open_seat(page, "tutor")  # the tutor has opened the tool: staff the coordinator can name
    tool = open_seat(page, "coordinator")
    if tool.locator("a[href*='/edit']").count() == 0:
        tool.locator("a[href*='/teachhub/modules/']").first.click()
    tool.locator("a[href*='/edit']").first.click()
    goal = "Жаңа мақсат: фасилитатор іздеу арқылы қосылды"
    tool.locator("#module_form-goal").fill(goal)
    search = tool.locator("#facilitator-search-q")
    expect(search).to_be_visible()
    search.fill("АХМЕТ")
    found = tool.locator("#facilitator-search-found button")
    expect(found).to_contain_text("Гүлнар Ахметова")
    found.first.click()
    with services(fresh_tool.app).db.new_session() as db:
        tutor = db.scalars(select(User).where(User.sub == "demo-tutor")).one()
    expect(tool.locator(f"input[name=facilitator_ids][value='{tutor.id}']")).to_be_checked()
    expect(tool.locator("#module_form-goal")).to_have_value(goal)
    tool.locator("form button.primary").click()
    expect(tool.locator(".flash")).to_be_visible()
    with services(fresh_tool.app).db.new_session() as db:
        module = db.scalars(select(Module).where(Module.goal == goal)).one()
        named = set(
            db.scalars(
                select(ModuleFacilitator.user_id).where(ModuleFacilitator.module_id == module.id)
            )
        )
    assert tutor.id in named
    assert errors == []
    page.close()
