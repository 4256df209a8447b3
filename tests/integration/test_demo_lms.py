"""The built-in demo LMS over real HTTP: a real LTI 1.3 platform served by the tool's own
process on the other loopback name, on the embedded default only."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from lti_platform import BrowserSession, parse_forms
from sqlalchemy import select
from tool_server import start_tool

from lti_tool import create_app
from lti_tool.demo.platform import CLIENT_ID, PRODUCT_FAMILY, demo_site
from lti_tool.demo.service import demo_platform
from lti_tool.extensions import services
from lti_tool.lti.models import Platform

SEATS = ["student", "student2", "tutor", "facilitator", "coordinator", "admin"]


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory):
    """The tool at http://127.0.0.1:PORT; its demo LMS at http://localhost:PORT."""
    served = start_tool(str(tmp_path_factory.mktemp("demo")), host_name="127.0.0.1")
    yield served
    served.stop()


def site(tool) -> str:
    return demo_site(tool.base_url)


def launch_as(tool, seat: str, course: str = "demo-pedagogy-2", lang: str = "en"):
    """Follow the course page's frame as a browser would: login, auth, launch, landing."""
    browser = BrowserSession()
    page = browser.get(f"{site(tool)}/demo/course/{course}?as={seat}&lang={lang}", timeout=10)
    assert page.status_code == 200, page.text[:300]
    frame = re.search(r'id="tool-frame"[^>]*src="([^"]+)"', page.text, re.S)
    assert frame, "no framed launch on the course page"
    src = frame.group(1).replace("&amp;", "&")
    login = browser.get(site(tool) + src, timeout=10, allow_redirects=True)
    # The tool's login answered with a redirect to the demo platform's auth endpoint, which
    # answers with the form that posts the signed id_token back to the tool.
    assert urlsplit(login.url).path == "/demo/auth", login.url
    form = parse_forms(login.text)[0]
    assert form.action == tool.launch_url
    landed = browser.post(form.action, data=form.fields, timeout=15)
    return browser, landed


def test_home_offers_try_it_on_the_embedded_default(demo_tool):
    home = requests.get(demo_tool.base_url + "/", timeout=10)
    assert home.status_code == 200
    assert 'id="try-it"' in home.text
    assert f'href="{site(demo_tool)}/demo/?lang=' in home.text
    # The demo pages live on the other site: asked on the tool's host, they move there.
    moved = requests.get(demo_tool.base_url + "/demo/", timeout=10, allow_redirects=False)
    assert moved.status_code == 302
    assert moved.headers["Location"].startswith(site(demo_tool) + "/demo/")


def test_course_page_frames_the_tool_cross_site(demo_tool):
    page = requests.get(
        f"{site(demo_tool)}/demo/course/demo-pedagogy-2?as=student&lang=en", timeout=10
    )
    assert page.status_code == 200
    assert urlsplit(site(demo_tool)).hostname == "localhost"
    assert urlsplit(demo_tool.base_url).hostname == "127.0.0.1"
    assert f"frame-src 'self' {demo_tool.base_url}" in page.headers["Content-Security-Policy"]
    for label in (
        "Student",
        "Second student",
        "Tutor",
        "TeachHub facilitator",
        "Coordinator",
        "Administrator",
    ):
        assert label in page.text
    # The tool lets the demo site frame it (its origin is the platform's frame origin).
    tool_page = requests.get(demo_tool.base_url + "/", timeout=10)
    assert site(demo_tool) in tool_page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "seat, course, lands_on, shows",
    [
        ("student", "demo-pedagogy-2", "/", "Айгерім"),
        ("student2", "demo-pedagogy-2", "/", "Дмитрий"),
        ("tutor", "demo-pedagogy-2", "/", "Гүлнар"),
        ("facilitator", "demo-staff-development", "/teachhub/modules/", "Жанар"),
        ("coordinator", "demo-staff-development", "/teachhub/modules/", "Жанар"),
        ("admin", "demo-pedagogy-2", "/", "Қанат"),
    ],
)
def test_each_seat_launches_through_the_real_platform(demo_tool, seat, course, lands_on, shows):
    _browser, landed = launch_as(demo_tool, seat, course)
    assert landed.status_code == 200, landed.text[:500]
    assert urlsplit(landed.url).netloc == urlsplit(demo_tool.base_url).netloc
    assert urlsplit(landed.url).path.startswith(lands_on), landed.url
    assert shows in landed.text


def test_demo_platform_is_registered_once_and_marked(demo_tool):
    requests.get(f"{site(demo_tool)}/demo/course/demo-pedagogy-2", timeout=10)
    with services(demo_tool.app).db.new_session() as db:
        rows = db.scalars(select(Platform).where(Platform.product_family == PRODUCT_FAMILY))
        rows = list(rows)
        assert len(rows) == 1
        assert rows[0].client_id == CLIENT_ID
        assert rows[0].issuer == site(demo_tool) + "/demo"


def test_token_endpoint_checks_the_assertion_and_services_the_bearer(demo_tool):
    base = site(demo_tool)
    refused = requests.post(
        base + "/demo/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion": "not-a-jwt",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        },
        timeout=10,
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    anonymous = requests.get(base + "/demo/nrps/demo-pedagogy-2/memberships", timeout=10)
    assert anonymous.status_code == 401
    anonymous = requests.get(base + "/demo/ags/demo-pedagogy-2/lineitems", timeout=10)
    assert anonymous.status_code == 401


def test_the_tool_pulls_the_roster_and_reads_line_items_with_its_own_token(demo_tool):
    """The tool's own AGS/NRPS clients against the demo platform (token, then service)."""
    from lti_tool.gradebook.ags import list_line_items
    from lti_tool.gradebook.nrps import fetch_roster

    requests.get(f"{site(demo_tool)}/demo/course/demo-pedagogy-2", timeout=10)
    app = demo_tool.app
    with app.app_context(), services(app).db.new_session() as db:
        platform = demo_platform(db)
        client = services(app).gradebook.client(db, platform.id)
        roster = fetch_roster(client, f"{site(demo_tool)}/demo/nrps/demo-pedagogy-2/memberships")
        items = list_line_items(client, f"{site(demo_tool)}/demo/ags/demo-pedagogy-2/lineitems")
    assert len([m for m in roster.members if m.user_id.startswith("demo-student-")]) == 12
    assert any(i.resource_link_id == "demo-portfolio" for i in items)


def test_reset_starts_over_and_only_from_the_demo_site(demo_tool):
    base = site(demo_tool)
    foreign = requests.post(
        base + "/demo/reset",
        headers={"Origin": "http://evil.example"},
        timeout=10,
        allow_redirects=False,
    )
    assert foreign.status_code == 403
    before = time.time()
    reset = requests.post(
        base + "/demo/reset", headers={"Origin": base}, timeout=30, allow_redirects=False
    )
    assert reset.status_code == 303
    assert time.time() - before < 20
    _browser, landed = launch_as(demo_tool, "student")
    assert landed.status_code == 200 and "Айгерім" in landed.text


@pytest.mark.parametrize(
    "path",
    [
        "/demo/",
        "/demo/course/demo-pedagogy-2",
        "/demo/course/demo-pedagogy-2/grades",
        "/demo/launch/student/demo-pedagogy-2",
        "/demo/auth",
        "/demo/jwks",
        "/demo/token",
        "/demo/ags/demo-pedagogy-2/lineitems",
        "/demo/nrps/demo-pedagogy-2/memberships",
        "/demo/deep-link-return",
        "/demo/reset",
    ],
)
def test_production_base_url_has_no_demo(tmp_path, path):
    app = create_app(
        {
            "tool": {
                "base_url": "https://tool.example.edu",
                "data_dir": str(tmp_path),
                "database_url": f"sqlite:///{tmp_path}/t.db",
            },
            "keys": {"dir": str(tmp_path / "keys")},
        }
    )
    from lti_tool.migrate import upgrade

    upgrade(services(app).settings.tool.database_url)
    client = app.test_client()
    assert client.get(path).status_code == 404
    assert client.post(path).status_code in (404, 400)  # 400: the CSRF check comes first
    assert "DEMO_ENTRY_URL" not in app.config
    with services(app).db.new_session() as db:
        assert demo_platform(db) is None
    assert 'id="try-it"' not in client.get("/").get_data(as_text=True)


def test_demo_switched_off_on_loopback(tmp_path):
    app = create_app(
        {
            "tool": {"data_dir": str(tmp_path), "database_url": f"sqlite:///{tmp_path}/t.db"},
            "keys": {"dir": str(tmp_path / "keys")},
            "demo": {"enabled": False},
        }
    )
    assert app.test_client().get("/demo/").status_code == 404


def test_verified_points_reach_the_demo_gradebook_through_the_outbox(demo_tool):
    """The seed's verifications queued scores; the worker sends them to the demo platform's
    AGS with a token from its token endpoint, and the LMS's gradebook page shows them."""
    from outbox_helpers import drain

    from lti_tool.demo.models import DemoScore
    from lti_tool.gradebook.models import ScoreOutbox

    requests.get(f"{site(demo_tool)}/demo/course/demo-pedagogy-2", timeout=10)
    drain(demo_tool)
    with services(demo_tool.app).db.new_session() as db:
        sent = db.scalars(select(ScoreOutbox)).all()
        assert sent and {row.status for row in sent} <= {"sent", "superseded"}
        assert "sent" in {row.status for row in sent}
        scores = {s.user_sub: s for s in db.scalars(select(DemoScore))}
    # Айгерім's verified olympiad (republic, 2nd place: 85 points) reached the LMS.
    assert scores["demo-student-01"].score_given and scores["demo-student-01"].score_given > 0
    assert "demo-student-05" not in scores  # never opened the tool: no score
    page = requests.get(f"{site(demo_tool)}/demo/course/demo-pedagogy-2/grades?lang=en", timeout=10)
    assert "Айгерім Сейітқали" in page.text


def test_deep_linking_from_the_demo_course(demo_tool):
    """The tutor adds an activity: a deep linking launch, the tool's choices, and its signed
    answer verified by the demo platform against the tool's key set."""
    browser = BrowserSession()
    base = site(demo_tool)
    page = browser.get(f"{base}/demo/course/demo-pedagogy-2?as=tutor&deep=1&lang=en", timeout=10)
    assert 'id="add-activity"' in page.text
    src = re.search(r'id="tool-frame"[^>]*src="([^"]+)"', page.text, re.S).group(1)
    login = browser.get(base + src.replace("&amp;", "&"), timeout=10)
    form = parse_forms(login.text)[0]
    chooser = browser.post(form.action, data=form.fields, timeout=15)
    assert chooser.status_code == 200 and urlsplit(chooser.url).path == "/lti/deep-link"
    choice = parse_forms(chooser.text)[0]
    fields = dict(choice.fields)
    fields["kind"] = "portfolio"
    fields["title"] = "Портфолио 2"
    answer = browser.post(urljoin(chooser.url, choice.action), data=fields, timeout=15)
    back = parse_forms(answer.text)[0]
    assert back.action == base + "/demo/deep-link-return"
    shown = browser.post(back.action, data=back.fields, timeout=10)
    assert shown.status_code == 200
    assert "Портфолио 2" in shown.text
    forged = browser.post(back.action, data={"JWT": "e30.e30.x"}, timeout=10)
    assert forged.status_code == 400
    # A student has no deep linking link.
    student = requests.get(f"{base}/demo/course/demo-pedagogy-2?as=student", timeout=10)
    assert 'id="add-activity"' not in student.text


def test_loopback_stays_closed_to_platforms_in_production(tmp_path):
    """Production (a non-loopback BASE_URL): no demo, and the outbound guard still refuses a
    platform whose URLs point at loopback (the demo opened nothing)."""
    from lti_tool.http import BlockedAddress, make_session
    from lti_tool.settings import load

    settings = load({"tool": {"base_url": "https://tool.example.edu"}}, environ={})
    session = make_session(settings.http, base_url=settings.tool.base_url)
    with pytest.raises(BlockedAddress):
        session.get("http://127.0.0.1:9/demo/jwks", total_timeout=3)
    with pytest.raises(BlockedAddress):
        session.get("http://localhost:9/demo/token", total_timeout=3)


def test_seeded_cards_carry_their_history(demo_tool):
    """Every status is there, and a recognized card shows each move of its history."""
    from urllib.parse import parse_qs

    from lti_tool.teachhub.models import Participant

    browser, landed = launch_as(demo_tool, "facilitator", "demo-staff-development")
    with services(demo_tool.app).db.new_session() as db:
        cards = db.scalars(select(Participant)).all()
        assert {c.status for c in cards} >= {
            "registered",
            "in_progress",
            "completed",
            "submitted",
            "recognized",
        }
        recognized = next(c.id for c in cards if c.status == "recognized")
    token = parse_qs(urlsplit(landed.url).query)["ls"][0]
    card = browser.get(
        f"{demo_tool.base_url}/teachhub/cards/{recognized}?ls={token}&lang=en", timeout=10
    )
    assert card.status_code == 200
    assert "Enrolled from the course roster." in card.text
