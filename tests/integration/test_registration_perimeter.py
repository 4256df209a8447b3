"""Issue 9, findings 1, 3 and 4: registration only by invite, no SSRF, no stalled server.

The attacker is a small WSGI server on loopback (tests/fakes/attacker.py). Where the tool
must refuse internal addresses it runs with a public BASE_URL (https://tool.example.edu),
served on loopback; `http.allowed_private_hosts = ["localhost"]` then admits URLs named
`localhost` (the stand-in for a university's intranet LMS) and nothing else on loopback.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from fakes.attacker import SECRET, Attacker
from lti_platform import TOOL_CONFIGURATION
from servers import start_gunicorn_tool
from sqlalchemy import select
from tool_server import start_tool

from lti_tool.extensions import services
from lti_tool.lti.models import Platform as PlatformRow, RegistrationInvite

JSON = {"Accept": "application/json"}
CANVAS = "https://canvas.instructure.com"

# Deadlines and answer times are measured here: run alone, not beside other workers.
pytestmark = pytest.mark.serial


def _row(tool, issuer, client_id):
    with services(tool.app).db.new_session() as db:
        row = db.scalars(select(PlatformRow).where(PlatformRow.issuer == issuer,
                                                    PlatformRow.client_id == client_id)).one()
        return {"id": row.id, "login": row.auth_login_url, "token": row.auth_token_url,
                "keys": row.key_set_url, "status": row.status,
                "frames": sorted(row.frame_origins or []),
                "deployments": sorted(d.deployment_id for d in row.deployments)}


def _lms(attacker: Attacker, issuer: str, client_id: str, base: str | None = None) -> str:
    """Serve an LMS configuration + registration answer; return the configuration URL."""
    base = base or attacker.base_url
    attacker.documents["/openid"] = {
        "issuer": issuer, "authorization_endpoint": base + "/auth",
        "token_endpoint": base + "/token", "jwks_uri": base + "/jwks",
        "registration_endpoint": base + "/register",
    }
    attacker.documents["/register"] = {"client_id": client_id,
                                       TOOL_CONFIGURATION: {"deployment_id": "evil"}}
    return base + "/openid"


@pytest.fixture
def attacker():
    with Attacker() as server:
        yield server


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """The tool with a public BASE_URL: outbound calls to internal addresses are refused."""
    served = start_tool(str(tmp_path_factory.mktemp("guarded")), {
        "tool": {"base_url": "https://tool.example.edu"},
        "http": {"allowed_private_hosts": ["localhost"]},
        "registration": {"deadline_seconds": 2},
    })
    yield served
    served.stop()


# -- finding 1: no registration without an invite, and none changes an existing platform -------

def test_anonymous_registration_cannot_take_over_a_canvas_platform(tool, canvas, attacker):
    before = _row(tool, CANVAS, canvas.client_id)
    config_url = _lms(attacker, CANVAS, canvas.client_id)
    anonymous = requests.get(tool.base_url + "/lti/register", headers=JSON, timeout=10,
                             params={"openid_configuration": config_url})
    assert anonymous.status_code == 403
    assert anonymous.json()["error"] == "invite_required"
    assert attacker.hits == []  # refused before any outbound call
    page = requests.get(tool.base_url + "/lti/register", timeout=10,
                        params={"openid_configuration": config_url},
                        headers={"Accept-Language": "ru"})
    assert page.status_code == 403
    assert "Попросите администратора" in page.text
    assert attacker.hits == []

    # Even a valid invite (issued for another LMS, leaked) cannot touch the registration.
    leaked = requests.get(tool.invite(), headers=JSON, timeout=10,
                          params={"openid_configuration": config_url})
    assert leaked.status_code == 409
    assert leaked.json()["error"] == "already_registered"
    assert _row(tool, CANVAS, canvas.client_id) == before


def test_an_invite_is_single_use_and_expires(tool, attacker):
    url = tool.invite(name="Moodle of a test university")
    first = requests.get(url, headers=JSON, timeout=10,
                         params={"openid_configuration": _lms(attacker, attacker.base_url,
                                                              "once-1")})
    assert first.status_code == 200, first.text[:300]
    attacker.hits.clear()
    again = requests.get(url, headers=JSON, timeout=10,
                         params={"openid_configuration": _lms(attacker, attacker.base_url,
                                                              "once-2")})
    assert again.status_code == 403 and again.json()["error"] == "invite_required"
    expired = requests.get(tool.invite(expires_in=timedelta(seconds=-1)), headers=JSON,
                           timeout=10, params={"openid_configuration": attacker.url("/openid")})
    assert expired.status_code == 403
    forged = requests.get(tool.base_url + "/lti/register?invite=" + "A" * 43, headers=JSON,
                          timeout=10, params={"openid_configuration": attacker.url("/openid")})
    assert forged.status_code == 403
    assert attacker.hits == []
    with services(tool.app).db.new_session() as db:
        stored = db.scalars(select(RegistrationInvite.token_hash)).all()
    assert url.rsplit("=", 1)[1] not in stored  # only hashes are kept


def test_registering_the_same_lms_again_needs_an_update_invite(tool, attacker):
    config_url = _lms(attacker, attacker.base_url, "same-client")
    assert requests.get(tool.invite(), params={"openid_configuration": config_url},
                        timeout=10).status_code == 200
    before = _row(tool, attacker.base_url, "same-client")
    attacker.documents["/openid"]["jwks_uri"] = attacker.url("/new-jwks")
    refused = requests.get(tool.invite(), params={"openid_configuration": config_url},
                           headers=JSON, timeout=10)
    assert refused.status_code == 409
    assert _row(tool, attacker.base_url, "same-client") == before
    update = tool.invite(update_platform_id=before["id"])
    assert requests.get(update, params={"openid_configuration": config_url},
                        timeout=10).status_code == 200
    assert _row(tool, attacker.base_url, "same-client")["keys"] == attacker.url("/new-jwks")


# -- finding 3: server-side request forgery ---------------------------------------------------

def test_registration_refuses_internal_addresses(guarded, attacker):
    internal = [
        attacker.url("/secret"),  # 127.0.0.1: loopback, not allowlisted
        # Allowlisted host, then a redirect to an internal address: checked again.
        f"http://localhost:{attacker.server.port}/redirect?to={attacker.url('/secret')}",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        f"http://[::ffff:127.0.0.1]:{attacker.server.port}/secret",
    ]
    for url in internal:
        page = requests.get(guarded.invite(), params={"openid_configuration": url},
                            headers=JSON, timeout=10)
        assert page.status_code == 400, (url, page.text[:300])
        assert page.json()["error"] == "address_not_allowed"
        assert SECRET not in page.text
    assert attacker.hits == ["/redirect"]  # the allowlisted hop only
    html = requests.get(guarded.invite(), params={"openid_configuration": internal[0]},
                        headers={"Accept-Language": "kk"}, timeout=10)
    assert html.status_code == 400 and "ішкі мекенжай" in html.text


def test_the_registration_endpoint_is_checked_too(guarded, attacker):
    base = f"http://localhost:{attacker.server.port}"
    config_url = _lms(attacker, base, "client-x", base=base)
    attacker.documents["/openid"]["registration_endpoint"] = attacker.url("/secret")
    page = requests.get(guarded.invite(), params={"openid_configuration": config_url},
                        headers=JSON, timeout=10)
    assert page.status_code == 400 and page.json()["error"] == "address_not_allowed"
    assert attacker.hits == ["/openid"]


def test_an_upstream_body_is_never_shown(tool, attacker):
    page = requests.get(tool.invite(), params={"openid_configuration": attacker.url("/leak")},
                        headers=JSON, timeout=10)
    assert page.status_code == 502
    assert SECRET not in page.text
    assert "sha256" in page.json()["detail"]


# -- finding 4: slow and huge answers ---------------------------------------------------------

def test_a_dripping_lms_is_cut_at_the_deadline(guarded, attacker):
    """One byte every 4 s never trips a read timeout; the 2 s deadline ends the call."""
    url = f"http://localhost:{attacker.server.port}/drip"
    started = time.monotonic()
    page = requests.get(guarded.invite(), params={"openid_configuration": url}, headers=JSON,
                        timeout=15)
    elapsed = time.monotonic() - started
    assert page.status_code == 504, page.text[:300]
    assert page.json()["error"] == "lms_timeout"
    assert elapsed < 3.5


def test_a_huge_document_is_refused_after_the_cap(tool, attacker):
    page = requests.get(tool.invite(), params={"openid_configuration": attacker.url("/huge")},
                        headers={"Accept-Language": "en", **JSON}, timeout=30)
    assert page.status_code == 502
    assert "too large" in page.json()["message"]
    # 64 MiB offered; the tool stopped after 1 MiB (what the kernel buffered meanwhile aside).
    assert attacker.huge_bytes_sent < 16 << 20


def test_gunicorn_answers_health_checks_during_12_slow_registrations(tmp_path):
    # The deadline outlasts the health checks below (about 2.5 s) with room for a busy machine.
    with Attacker(drip_interval=1.5) as slow:
        served = start_gunicorn_tool(str(tmp_path), workers=2,
                                     overrides={"registration": {"deadline_seconds": 4.5}})
        try:
            invites = [served.invite() for _ in range(12)]

            def register(url: str) -> int:
                return requests.get(url, params={"openid_configuration": slow.url("/drip")},
                                    headers=JSON, timeout=30).status_code

            with ThreadPoolExecutor(12) as pool:
                answers = [pool.submit(register, url) for url in invites]
                time.sleep(1.0)  # every attempt is in flight (or already refused as busy)
                for _ in range(5):
                    started = time.monotonic()
                    health = requests.get(served.base_url + "/healthz", timeout=5)
                    assert health.status_code == 200
                    assert time.monotonic() - started < 1.0
                    time.sleep(0.3)
                statuses = sorted(answer.result() for answer in answers)
            # Each either reached its deadline (504) or was told at once to retry (503).
            assert set(statuses) <= {503, 504}, statuses
            assert 504 in statuses
        finally:
            served.stop()


def test_one_invite_serves_one_registration_at_a_time(guarded, attacker):
    url = guarded.invite()
    drip = {"openid_configuration": f"http://localhost:{attacker.server.port}/drip"}
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, url, params=drip, headers=JSON, timeout=15)
        time.sleep(0.5)
        second = requests.get(url, params=drip, headers=JSON, timeout=15)
        assert second.status_code == 409 and second.json()["error"] == "invite_in_use"
        assert slow.result().status_code == 504
    assert attacker.hits == ["/drip"]


def test_a_failed_registration_gives_the_invite_back(tool):
    from lti_platform import Platform

    with Platform("moodle") as lms:
        url = tool.invite()
        refused = requests.get(url, headers=JSON, timeout=10, params={
            "openid_configuration": lms.openid_configuration_url,
            "registration_token": "forged"})
        assert refused.status_code == 502
        retried = requests.get(lms.registration_initiation_url(url), timeout=10)
        assert retried.status_code == 200, retried.text[:300]
