"""JWKS, Canvas JSON, health, security headers, key-set caching and key rotation over HTTP."""

import jwt
import requests
from flask import Flask
from lti_platform import LoopbackServer, Platform, parse_forms

from lti_tool import create_app
from lti_tool.extensions import services


def test_jwks_publishes_public_keys_with_kid_alg_use(tool):
    keys = requests.get(tool.jwks_url, timeout=5).json()["keys"]
    assert keys and all(k["kid"] and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)
    assert not any("d" in k or "p" in k for k in keys)


def test_canvas_developer_key_json(tool):
    config = requests.get(tool.base_url + "/lti/canvas.json", timeout=5).json()
    assert config["oidc_initiation_url"] == tool.login_url
    assert config["target_link_uri"] == tool.launch_url
    assert config["public_jwk_url"] == tool.jwks_url
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    placements = {p["placement"]: p["message_type"]
                  for p in config["extensions"][0]["settings"]["placements"]}
    assert placements["course_navigation"] == "LtiResourceLinkRequest"
    assert placements["link_selection"] == "LtiDeepLinkingRequest"


def test_healthz(tool, tmp_path):
    assert requests.get(tool.base_url + "/healthz", timeout=5).json()["status"] == "ok"
    # A database that cannot be opened: 503, not a 500 or a hang.
    broken: Flask = create_app({
        "tool": {"base_url": "http://127.0.0.1:1", "data_dir": str(tmp_path),
                 "database_url": f"sqlite:///{tmp_path}/missing/dir/x.db"},
        "keys": {"dir": str(tmp_path / "keys")}})
    with LoopbackServer(broken) as server:
        answer = requests.get(server.base_url + "/healthz", timeout=5)
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"


def test_frame_ancestors_name_only_registered_lms_origins(tool, canvas, browser):
    home = browser.launch(canvas.plan("student"), params={"lti_storage_target": None})
    csp = home.headers["Content-Security-Policy"]
    ancestors = next(p for p in csp.split("; ") if p.startswith("frame-ancestors")).split()[1:]
    assert "'self'" in ancestors
    assert canvas.base_url in ancestors  # auth login URL's origin
    # Canvas frames from the school's domain, learned from the signed return_url.
    assert "https://school.instructure.com" in ancestors
    assert "*" not in ancestors and "https:" not in ancestors
    assert home.headers["X-Content-Type-Options"] == "nosniff"
    assert home.headers["Referrer-Policy"] == "same-origin"
    assert "script-src 'self' 'nonce-" in csp


def test_warm_launch_makes_no_call_to_the_platform(tool, browser):
    with Platform("moodle", key_set_delay=0.02) as moodle:
        tool.register(moodle)
        assert browser.launch(moodle.plan("student")).status_code == 200
        # 1, or 0 when an earlier test platform on the same port left this key set cached.
        assert moodle.counts["jwks"] <= 1
        moodle.reset_counts()
        for user in ("student", "teacher", "admin"):
            assert browser.launch(moodle.plan(user)).status_code == 200
        assert moodle.counts["jwks"] == 0
        assert moodle.counts["auth"] == 3  # the browser's redirects, not the tool's calls


def test_key_set_survives_a_restart_from_the_database(tool, tmp_path, browser):
    with Platform("moodle") as moodle:
        tool.register(moodle)
        assert browser.launch(moodle.plan("student")).status_code == 200
        services(tool.app).keysets.forget()  # as after a restart: memory is empty
        moodle.reset_counts()
        assert browser.launch(moodle.plan("student")).status_code == 200
        assert moodle.counts["jwks"] == 0


def test_tool_key_rotation_keeps_deep_linking_working(tool, moodle, browser):
    keyring = services(tool.app).keyring
    old_kid = keyring.current().kid
    new_kid = keyring.rotate().kid
    published = {k["kid"] for k in requests.get(tool.jwks_url, timeout=5).json()["keys"]}
    assert {old_kid, new_kid} <= published
    page = browser.launch(moodle.plan("teacher", message_type="LtiDeepLinkingRequest"))
    form = next(f for f in parse_forms(page.text, page.url) if "csrf_token" in f.fields)
    answer = browser.post(form.action, data={"csrf_token": form.fields["csrf_token"],
                                             "kind": "portfolio"})
    (returned,) = parse_forms(answer.text, answer.url)
    assert jwt.get_unverified_header(returned.fields["JWT"])["kid"] == new_kid
    accepted = browser.post(returned.action, data=returned.fields)
    assert accepted.status_code == 200, accepted.text[:300]


def test_platform_key_rotation_right_after_a_fetch_is_followed(tool, browser):
    """A platform that rotates its key is followed at once; forged kids do not hammer it."""
    with Platform("moodle") as moodle:
        tool.register(moodle)
        assert browser.launch(moodle.plan("student")).status_code == 200
        moodle.rotate_key()
        moodle.reset_counts()
        assert browser.launch(moodle.plan("student")).status_code == 200
        assert moodle.counts["jwks"] == 1
        # Right after, a token naming a kid nobody publishes: refused without another fetch.
        step = browser.start_login(moodle.plan("student"))
        forged = moodle.sign(moodle.claims_for(step.plan, step.nonce), headers={"kid": "forged"})
        refused = browser.post_launch(tool.launch_url, forged, step.state, follow_redirects=False)
        assert refused.status_code == 400 and "unknown_kid" in refused.text
        assert moodle.counts["jwks"] == 1
