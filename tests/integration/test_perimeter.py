"""Issue 9, findings 6-9 and the perimeter they close, over HTTP against the tool on loopback.

- 7: anonymous login requests are bounded in size and rate (per proxy-aware client address);
- 8: a launch not bound to the browser that started it is not accepted silently (login CSRF);
- 6: no session or showcase token in any server's log; idle timeout, sign-out, and a relaunch
  as another person ends the earlier session in that browser;
- 9: the data directory is 0700, the database and evidence files 0600;
- frame-ancestors learns origins from active platforms' launches only.
"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from lti_platform import LaunchDriver, Platform
from servers import ROOT, clean_environment, free_port, start_gunicorn_tool, wait_for_http
from sqlalchemy import func, select, update
from tool_server import start_tool

from lti_tool.extensions import services
from lti_tool.lti.models import LoginState, Platform as PlatformRow

LAUNCH_PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


def _login_states(tool) -> int:
    with services(tool.app).db.new_session() as db:
        return db.scalar(select(func.count()).select_from(LoginState))


def _login(tool, params: dict, headers: dict | None = None) -> requests.Response:
    return requests.post(tool.login_url, data=params, headers=headers or {},
                         allow_redirects=False, timeout=10)


def _session_token(response: requests.Response) -> str:
    return parse_qs(urlsplit(response.url).query)["ls"][0]


# -- finding 7: bounded anonymous endpoints ----------------------------------------------------

def test_finding7_oversized_login_parameters_are_refused_and_not_stored(tool, moodle):
    """A 900 KiB login_hint is neither stored nor echoed: 400 naming the reason."""
    params = {k: v for k, v in moodle.plan("student").login_params.items()}
    before = _login_states(tool)

    huge = _login(tool, {**params, "login_hint": "x" * (900 * 1024)})
    assert huge.status_code == 400, huge.text[:300]
    assert "Location" not in huge.headers
    assert "request_too_large" in huge.text

    # Under the request's limit, over a parameter's: JSON when asked, naming the parameter.
    big = _login(tool, {**params, "lti_message_hint": "y" * 5000},
                 headers={"Accept": "application/json"})
    assert big.status_code == 400
    assert big.json()["error"] == "parameter_too_large"
    assert "lti_message_hint" in big.json()["message"]
    assert len(big.content) < 2000  # nothing of the value echoed
    assert _login_states(tool) == before

    # What Moodle really sends still logs in.
    assert _login(tool, params).status_code == 302
    assert _login_states(tool) == before + 1


@pytest.fixture(scope="module")
def limited_tool(tmp_path_factory):
    """A tool with low limits: 3 logins and 2 registrations a minute per client address."""
    served = start_tool(str(tmp_path_factory.mktemp("limited")), overrides={
        "rate_limits": {"login": "3 per minute", "register": "2 per minute"}})
    yield served
    served.stop()


def test_finding7_logins_and_registrations_are_rate_limited_per_client(limited_tool):
    with Platform("moodle") as moodle:
        limited_tool.register(moodle)
        params = dict(moodle.plan("student").login_params)
        answers = [_login(limited_tool, params).status_code for _ in range(3)]
        assert answers == [302, 302, 302]
        # A client that claims another address is still the same client: no trusted proxy.
        refused = _login(limited_tool, params,
                         headers={"X-Forwarded-For": "203.0.113.9", "Accept": "application/json"})
        assert refused.status_code == 429
        assert refused.json()["error"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) > 0
        page = _login(limited_tool, params, headers={"Accept-Language": "ru"})
        assert page.status_code == 429 and "Слишком много запросов" in page.text

    register = [requests.get(limited_tool.base_url + "/lti/register", timeout=10).status_code
                for _ in range(3)]
    assert 429 not in register[:2] and register[2] == 429, register


def test_finding7_rate_limit_key_is_the_address_a_trusted_proxy_saw(tmp_path):
    """Behind a trusted proxy each forwarded client has its own count."""
    served = start_tool(str(tmp_path), overrides={
        "rate_limits": {"login": "1 per minute"}, "proxy": {"trusted": ["127.0.0.1/32"]}})
    try:
        with Platform("moodle") as moodle:
            served.register(moodle)
            params = dict(moodle.plan("student").login_params)

            def login_from(address: str) -> int:
                return _login(served, params, headers={"X-Forwarded-For": address}).status_code

            assert [login_from("198.51.100.1"), login_from("198.51.100.1"),
                    login_from("198.51.100.2")] == [302, 429, 302]
    finally:
        served.stop()


def test_rate_limits_turned_off_leave_login_working_and_unlimited(tmp_path):
    """`rate_limits.enabled = false` (not for production): logins are answered, never 429.
    (Once, with Flask-Limiter turned off, the views it had wrapped failed with 500.)"""
    served = start_tool(str(tmp_path), overrides={
        "rate_limits": {"enabled": False, "login": "1 per minute"}})
    try:
        with Platform("moodle") as moodle:
            served.register(moodle)
            params = dict(moodle.plan("student").login_params)
            assert [_login(served, params).status_code for _ in range(3)] == [302, 302, 302]
    finally:
        served.stop()


# -- frame origins only from active platforms -------------------------------------------------

def _frame_ancestors(tool) -> list[str]:
    services(tool.app).frame_ancestors.invalidate()
    csp = requests.get(tool.base_url + "/healthz", timeout=5).headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", csp).group(1).split()


def test_a_pending_platform_adds_no_frame_origin(tool, moodle, browser):
    def plan(origin: str):
        return moodle.plan("student", extra_claims={LAUNCH_PRESENTATION: {
            "document_target": "iframe", "return_url": origin + "/course/view.php?id=2"}})

    assert browser.launch(plan("http://school-a.example.edu")).status_code == 200
    assert "http://school-a.example.edu" in _frame_ancestors(tool)

    # Set back to pending by another process (`lti-tool platform ...`, an admin's SQL): this
    # process's registration cache may still say active for a while.
    with services(tool.app).db.new_session() as db:
        db.execute(update(PlatformRow).where(PlatformRow.client_id == moodle.client_id)
                   .values(status="pending"))
        db.commit()
    try:
        browser.launch(plan("http://school-b.example.edu"))
        assert "http://school-b.example.edu" not in _frame_ancestors(tool)
        with services(tool.app).db.new_session() as db:
            row = db.scalar(select(PlatformRow).where(PlatformRow.client_id == moodle.client_id))
            assert "http://school-b.example.edu" not in row.frame_origins
        # And once the cache has caught up, the pending platform cannot launch at all.
        services(tool.app).platforms.invalidate()
        with LaunchDriver() as other:
            refused = other.send("POST", tool.login_url, data=plan("http://c.example").login_params)
        assert refused.status_code == 403 and "platform_pending" in refused.text
    finally:
        with services(tool.app).db.new_session() as db:
            db.execute(update(PlatformRow).where(PlatformRow.client_id == moodle.client_id)
                       .values(status="active"))
            db.commit()
        services(tool.app).platforms.invalidate()


# -- finding 8: login CSRF ---------------------------------------------------------------------

def _set_unbound(tool, platform, allowed: bool) -> None:
    with services(tool.app).db.new_session() as db:
        db.execute(update(PlatformRow).where(PlatformRow.client_id == platform.client_id)
                   .values(allow_unbound_launch=allowed))
        db.commit()
    services(tool.app).platforms.invalidate()


def test_finding8_an_attackers_launch_posted_from_another_browser_does_not_land(tool, platform):
    """The attacker's own valid id_token + state, posted by the victim's browser (which never
    started that login), gets the "open in a new window" page, not a session."""
    with LaunchDriver() as attacker:
        step = attacker.start_login(platform.plan("student"), params={"lti_storage_target": None})
        id_token, state = step.authorize()
    with LaunchDriver() as victim:
        answer = victim.post_launch(tool.launch_url, id_token, state, follow_redirects=False)
    assert answer.status_code == 400, answer.text[:300]
    assert "Location" not in answer.headers and "lti_session" not in answer.headers.get(
        "Set-Cookie", "")
    assert 'name="lti_new_window"' in answer.text  # finish in the tool's own window

    # Where the browser keeps the state cookie (every real browser but all-cookies-blocked),
    # the same platform's launch lands.
    with LaunchDriver(third_party_cookies_blocked=True) as browser:
        assert browser.launch(platform.plan("student"),
                              params={"lti_storage_target": None}).status_code == 200


def test_finding8_a_platform_may_accept_unbound_launches_at_its_own_risk(tool, moodle):
    _set_unbound(tool, moodle, True)
    try:
        with LaunchDriver() as attacker:
            id_token, state = attacker.start_login(moodle.plan("student")).authorize()
        with LaunchDriver() as victim:
            answer = victim.post_launch(tool.launch_url, id_token, state, follow_redirects=False)
        assert answer.status_code == 303, answer.text[:300]
    finally:
        _set_unbound(tool, moodle, False)


def test_finding8_no_cookie_even_in_the_tools_own_window_says_so(tool, moodle):
    """A login restarted from the new-window page that still arrives unbound: a clear refusal,
    not another window."""
    with LaunchDriver() as first:
        step = first.start_login(moodle.plan("student"), params={"lti_new_window": "1"})
        id_token, state = step.authorize()
        first.session.cookies.clear()  # the browser kept nothing, even first-party
        answer = first.send("POST", tool.launch_url, data={"id_token": id_token, "state": state},
                            headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "cookies_disabled"


# -- finding 6: sessions -----------------------------------------------------------------------

def test_finding6_a_relaunch_as_another_person_ends_the_earlier_session(tool, moodle, browser):
    first = browser.launch(moodle.plan("student"))
    assert first.status_code == 200
    assert browser.get(first.url).status_code == 200
    second = browser.launch(moodle.plan("teacher"))
    assert 'data-role="instructor"' in second.text
    # The student's session is gone, even by its URL token (nothing left to steal).
    with LaunchDriver() as anyone:
        assert anyone.get(first.url).status_code == 401
    assert browser.get(second.url).status_code == 200


def test_finding6_sign_out_ends_the_session(tool, moodle, browser):
    home = browser.launch(moodle.plan("student", locale="ru"))
    token = _session_token(home)
    assert 'class="sign-out"' in home.text and "Выйти" in home.text
    link = re.search(r'<a class="sign-out" href="([^"]+)"', home.text).group(1)
    ask = browser.get(urljoin(home.url, link.replace("&amp;", "&")))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', ask.text).group(1)
    done = browser.post(f"{tool.base_url}/signout?ls={token}", data={"csrf_token": csrf})
    assert done.status_code == 200 and 'id="signed-out"' in done.text
    assert browser.get(home.url).status_code == 401
    with LaunchDriver() as anyone:
        assert anyone.get(home.url).status_code == 401


def test_finding6_an_idle_session_ends_before_its_lifetime(tmp_path):
    served = start_tool(str(tmp_path), overrides={"session": {"idle_minutes": 0.05}})  # 3 s
    try:
        with Platform("moodle") as moodle, LaunchDriver() as browser:
            served.register(moodle)
            home = browser.launch(moodle.plan("student"))
            assert home.status_code == 200
            # Used within the idle time: still there, and its expiry moves on.
            for _ in range(4):  # 3.2 s in all: past the idle time of the launch
                time.sleep(0.8)
                assert browser.get(home.url).status_code == 200
            time.sleep(3.5)
            assert browser.get(home.url).status_code == 401
    finally:
        served.stop()


SECRET_SHAPED = re.compile(r"ls=|/s/(?!<token>)")


def _assert_no_token(log: str, *tokens: str) -> None:
    for token in tokens:
        assert token not in log, f"a token reached the log: {token[:6]}..."
    assert not SECRET_SHAPED.search(log), SECRET_SHAPED.search(log)


def _visit_with_tokens(base_url: str, browser: LaunchDriver, lms: Platform) -> list[str]:
    """A launch (the session token rides in the redirect and every link), a showcase URL and
    an unknown page with a token; returns the tokens used."""
    home = browser.launch(lms.plan("student"), params={"lti_storage_target": None})
    assert home.status_code == 200, home.text[:300]
    token = _session_token(home)
    browser.get(f"{base_url}/about?ls={token}")
    showcase = "showcase0secret0token0value"
    requests.get(f"{base_url}/s/{showcase}", timeout=10)
    requests.get(f"{base_url}/no-such-page?ls=stray0secret0token", timeout=10)
    return [token, showcase, "stray0secret0token"]


def test_finding6_the_embedded_server_logs_no_token(tmp_path):
    """`lti-tool serve` (werkzeug, with the in-process score worker): route patterns only."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = str(tmp_path)
    database_url = f"sqlite:///{data_dir}/tool.db"
    env = clean_environment(DATA_DIR=data_dir, KEYS_DIR=f"{data_dir}/keys",
                            DATABASE_URL=database_url, BASE_URL=base_url)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "lti_tool.cli", "serve"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(base_url + "/healthz", process=process)
        twin = start_tool(data_dir + "/twin", overrides={"tool": {
            "base_url": base_url, "data_dir": data_dir, "database_url": database_url},
            "keys": {"dir": f"{data_dir}/keys"}})
        try:
            with Platform("moodle") as lms, LaunchDriver() as browser:
                twin.register(lms)
                lms.set_tool(base_url + "/lti/login", base_url + "/lti/launch",
                             base_url + "/.well-known/jwks.json")
                tokens = _visit_with_tokens(base_url, browser, lms)
        finally:
            twin.stop()
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = log_path.read_text(errors="replace")
    assert '"GET /s/<token>" 404' in log and '"GET /about" 200' in log, log[-2000:]
    _assert_no_token(log, *tokens)


def test_finding6_gunicorn_logs_no_token(tmp_path):
    served = start_gunicorn_tool(str(tmp_path), workers=1)
    try:
        with Platform("moodle") as lms, LaunchDriver() as browser:
            served.register(lms)
            tokens = _visit_with_tokens(served.base_url, browser, lms)
    finally:
        served.stop()
    log = served.server.log()
    assert '"GET /s/<token>"' in log, log[-2000:]
    _assert_no_token(log, *tokens)


# -- finding 9: files --------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_finding9_data_directory_database_and_evidence_are_private(tool, moodle):
    from test_portfolio_flow import PDF, add_entry, launch

    student = launch(tool, moodle, "student")
    entry_id = add_entry(student)
    upload = student.post(f"/portfolio/entries/{entry_id}/evidence",
                          files={"file": ("diploma.pdf", PDF, "application/pdf")})
    assert "The file was attached." in upload.text

    data_dir = Path(services(tool.app).settings.tool.data_dir)
    assert _mode(data_dir) == 0o700
    database = services(tool.app).settings.tool.database_url
    if database.startswith("sqlite"):
        db_file = Path(database.removeprefix("sqlite:///"))
        files = [f for f in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm"))
                 if f.exists()]
        assert len(files) == 3  # WAL mode, in use
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    evidence = data_dir / "evidence"
    assert _mode(evidence) == 0o700
    stored = [f for f in evidence.iterdir() if f.is_file()]
    assert stored and {f.name: _mode(f) for f in stored} == {f.name: 0o600 for f in stored}


def test_finding9_an_old_world_readable_data_directory_is_made_private(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "lti_tool.db").touch(mode=0o644)
    (data_dir / "lti_tool.db").chmod(0o644)
    served = start_tool(str(data_dir), overrides={"tool": {
        "database_url": f"sqlite:///{data_dir}/lti_tool.db"}})
    try:
        assert requests.get(served.base_url + "/healthz", timeout=5).status_code == 200
        assert _mode(data_dir) == 0o700
        assert _mode(data_dir / "lti_tool.db") == 0o600
    finally:
        served.stop()
