"""The one guarded outbound client (lti_tool/http.py) against an attacker's server on loopback.

Every outbound URL kind (registration documents, platform key sets, token endpoints,
AGS/NRPS URLs from launch claims, Moodle WS and Canvas REST) goes through this session: the
last test shows each of them holds the app's one session.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from fakes.attacker import SECRET, Attacker

from lti_tool.errors import LaunchError
from lti_tool.extensions import services
from lti_tool.gradebook.lms import ServiceError
from lti_tool.gradebook.sync import Services
from lti_tool.http import BlockedAddress, DeadlineExceeded, ResponseTooLarge, make_session
from lti_tool.lti.registry import find_platform
from lti_tool.settings import load

PUBLIC_TOOL = "https://tool.example.edu"


@pytest.fixture
def attacker():
    with Attacker(drip_interval=1.0) as server:
        yield server


def _session(**http):
    return make_session(load({"http": http}, environ={}).http, base_url=PUBLIC_TOOL)


def test_internal_addresses_are_refused_without_connecting(attacker):
    session = _session()
    for url in (attacker.url("/secret"), f"http://localhost:{attacker.server.port}/secret",
                f"http://[::1]:{attacker.server.port}/secret", "http://10.1.2.3/",
                "http://169.254.169.254/latest/meta-data/", "http://224.0.0.1/",
                "http://0.0.0.0/", f"http://[::ffff:127.0.0.1]:{attacker.server.port}/"):
        with pytest.raises(BlockedAddress):
            session.get(url)
    assert attacker.hits == []


def test_the_allowlist_admits_an_intranet_lms_but_never_cloud_metadata(attacker):
    session = _session(allowed_private_hosts=["127.0.0.0/8", "169.254.0.0/16"])
    assert session.get(attacker.url("/secret")).json() == {"secret": SECRET}
    with pytest.raises(BlockedAddress):
        session.get("http://169.254.169.254/latest/meta-data/")


def test_redirects_are_checked_at_every_hop_and_bounded(attacker):
    by_name = _session(allowed_private_hosts=["localhost"])
    allowed = f"http://localhost:{attacker.server.port}"
    with pytest.raises(BlockedAddress):
        by_name.get(allowed + "/redirect?to=" + attacker.url("/secret"))
    assert attacker.hits == ["/redirect"]
    chain = allowed + "/secret"
    for _ in range(5):
        chain = allowed + "/redirect?to=" + requests.utils.quote(chain, safe="")
    with pytest.raises(requests.TooManyRedirects):
        by_name.get(chain)


def test_credentials_do_not_follow_a_redirect_to_another_host(attacker):
    session = _session(allowed_private_hosts=["localhost", "127.0.0.1"])
    to_other_host = attacker.url("/secret")
    session.get(f"http://localhost:{attacker.server.port}/redirect?to={to_other_host}",
                headers={"Authorization": "Bearer t0ken"})
    assert attacker.authorizations == ["Bearer t0ken", None]


def test_the_connection_goes_to_the_address_that_was_checked(attacker, monkeypatch):
    """DNS rebinding: a second lookup would answer 10.255.255.1; there is none."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.255.255.1", "10.255.255.1"])
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            lookups.append(host)
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    session = _session(allowed_private_hosts=["127.0.0.1"], total_timeout_seconds=3)
    answer = session.get(f"http://rebind.example:{attacker.server.port}/secret")
    assert answer.json() == {"secret": SECRET}
    assert lookups == ["rebind.example"]


def test_a_drip_is_cut_at_the_total_deadline(attacker):
    session = _session(allowed_private_hosts=["127.0.0.1"], read_timeout_seconds=20,
                       total_timeout_seconds=2, retries=0)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        session.get(attacker.url("/drip"))
    assert time.monotonic() - started < 2.5


def test_headers_dripped_byte_by_byte_are_cut_at_the_deadline():
    """http.client reads headers itself; the watchdog shuts the socket at the deadline."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip_headers():
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.5):
                try:
                    connection.sendall(b"a")
                except OSError:
                    return

    server = threading.Thread(target=drip_headers, daemon=True)
    server.start()
    session = _session(allowed_private_hosts=["127.0.0.1"], read_timeout_seconds=20,
                       total_timeout_seconds=2, retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded):
            session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
        assert time.monotonic() - started < 2.5
    finally:
        stop.set()
        listener.close()
        server.join(timeout=5)


def test_a_huge_body_is_refused_at_the_cap(attacker):
    session = _session(allowed_private_hosts=["127.0.0.1"], max_response_bytes=1 << 20)
    with pytest.raises(ResponseTooLarge):
        session.get(attacker.url("/huge"))
    assert attacker.huge_bytes_sent < 16 << 20


def test_every_outbound_kind_uses_the_one_guarded_session(tool, attacker):
    app = tool.app
    http = services(app).http
    assert services(app).keysets.http is http  # platform key sets
    assert services(app).gradebook.http is http  # token endpoint (pylti1p3), AGS, NRPS
    # Moodle WS and Canvas REST connectors get services(app).http from their callers.
    guarded = _session()
    keysets = type(services(app).keysets)(guarded, services(app).db.sessionmaker,
                                              ttl=60, refetch_interval=30)
    with pytest.raises(LaunchError) as refused:
        keysets.key(attacker.url("/secret"), "kid")
    assert refused.value.code == "keyset_unavailable"
    assert attacker.hits == []


def test_ags_and_nrps_urls_from_launch_claims_are_guarded(tool, moodle):
    """A launch claim naming an internal service URL: the call is refused, nothing shown."""
    lineitem_scope = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
    # The platform (127.0.0.1) is the allowlisted intranet LMS; 127.0.0.2 is not.
    with Attacker(host="127.0.0.2") as internal:
        guarded = _session(allowed_private_hosts=["127.0.0.1"])
        with services(tool.app).db.new_session() as db:
            platform_id = find_platform(db, moodle.issuer, moodle.client_id).id
            client = Services(guarded, services(tool.app).keyring).client(
                db, platform_id, granted=[lineitem_scope])
        with pytest.raises(ServiceError) as refused:
            client.get_json(internal.url("/secret"), [lineitem_scope], accept="application/json")
        assert "BlockedAddress" in str(refused.value)
        assert SECRET not in str(refused.value)
        assert internal.hits == []
        # The token came from the platform itself: the allowlist admitted it.
        assert moodle.issued_tokens
