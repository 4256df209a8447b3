"""Self-tests of the loopback LTI platform, driven over real HTTP with requests and tiny tools."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests
from flask import Blueprint, Flask, jsonify, redirect, request

from . import (
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_CONTENT_ITEMS,
    CLAIM_DL_DATA,
    CLAIM_DL_SETTINGS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_NRPS,
    CLAIM_ROLES,
    CLAIM_VERSION,
    JWT_BEARER,
    PLATFORM_CONFIGURATION,
    ROLE_SYS_SYSADMIN,
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_SCORE,
    TOOL_CONFIGURATION,
    DriverError,
    LaunchDriver,
    LoopbackServer,
    Platform,
    encode_jwt,
    parse_forms,
    public_jwk,
    rsa_private_key_pem,
)
from .claims import Profile

TOOL_PEM = rsa_private_key_pem("selftest-tool")
TOOL_KID = public_jwk(TOOL_PEM)["kid"]
PROFILES = ["moodle", "canvas"]


@pytest.fixture(params=PROFILES)
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """A started platform of each profile."""
    with Platform(request.param) as p:
        yield p


class Tool:
    """A throwaway LTI tool: login initiation, launch with state cookie and nonce checks, JWKS."""

    def __init__(self, platform: Platform, cookie: dict[str, Any]) -> None:
        self.platform = platform
        self.cookie = cookie
        self.nonces: dict[str, str] = {}
        self.launches: list[dict[str, Any]] = []
        self.app = Flask("selftest_tool")
        self.app.add_url_rule("/jwks", "jwks", lambda: jsonify({"keys": [public_jwk(TOOL_PEM)]}))
        self.app.add_url_rule("/login", "login", self.login, methods=["GET", "POST"])
        self.app.add_url_rule("/launch", "launch", self.launch, methods=["POST"])
        self.app.add_url_rule("/done", "done", lambda: f"launched {request.args['sub']}")
        self.server = LoopbackServer(self.app)

    def url(self, path: str) -> str:
        """Absolute URL of a tool path."""
        return self.server.base_url + path

    def login(self) -> Any:
        """OIDC third-party login initiation: remember state/nonce, go to the platform."""
        p = request.values
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        self.nonces[state] = nonce
        query = urlencode({
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
            "prompt": "none", "client_id": p["client_id"], "redirect_uri": self.url("/launch"),
            "login_hint": p["login_hint"], "lti_message_hint": p["lti_message_hint"],
            "state": state, "nonce": nonce,
        })
        resp = redirect(f"{self.platform.auth_login_url}?{query}")
        resp.set_cookie(f"lti_state_{state}", "1", **self.cookie)
        return resp

    def launch(self) -> Any:
        """Check the state cookie, the id_token signature (platform JWKS) and the nonce."""
        state = request.form["state"]
        if request.cookies.get(f"lti_state_{state}") != "1":
            return "state cookie missing", 403
        token = request.form["id_token"]
        jwks = requests.get(self.platform.key_set_url, timeout=5).json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
        claims = jwt.decode(
            token, key, algorithms=["RS256"], audience=self.platform.client_id,
            issuer=self.platform.issuer,
        )
        if claims["nonce"] != self.nonces.pop(state, None):
            return "bad nonce", 403
        self.launches.append(claims)
        return redirect(f"/done?sub={claims['sub']}")


SECURE_COOKIE = {"secure": True, "samesite": "None", "partitioned": True, "httponly": True}


@contextmanager
def serve_tool(platform: Platform, cookie: dict[str, Any] | None = None) -> Iterator[Tool]:
    """Start a throwaway tool and register it with the platform."""
    tool = Tool(platform, cookie or SECURE_COOKIE)
    with tool.server:
        platform.set_tool(tool.url("/login"), tool.url("/launch"), tool.url("/jwks"))
        yield tool


def client_assertion(platform: Platform, **overrides: Any) -> str:
    """A client assertion JWT signed with the tool key (overrides; None removes a claim)."""
    now = int(time.time())
    claims = {
        "iss": platform.client_id, "sub": platform.client_id, "aud": platform.auth_token_url,
        "iat": now, "exp": now + 300, "jti": secrets.token_hex(8),
    }
    headers = {"kid": overrides.pop("kid", TOOL_KID)}
    key = overrides.pop("key_pem", TOOL_PEM)
    claims.update(overrides)
    return encode_jwt({k: v for k, v in claims.items() if v is not None}, key_pem=key,
                      headers=headers)


def token_request(platform: Platform, assertion: str, **form: str) -> requests.Response:
    """POST a client-credentials token request."""
    data = {
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion, "scope": f"{SCOPE_SCORE} {SCOPE_LINEITEM}",
    }
    data.update(form)
    return requests.post(platform.auth_token_url, data=data, timeout=5)


# -- keys and signing ----------------------------------------------------------------------------


def test_sign_verifies_with_served_key_set(platform: Platform) -> None:
    jwks = requests.get(platform.key_set_url, timeout=5).json()
    assert [k["kid"] for k in jwks["keys"]] == [platform.kid]
    assert jwks["keys"][0]["alg"] == "RS256" and jwks["keys"][0]["use"] == "sig"
    token = platform.sign({"iss": platform.issuer, "hello": "world"})
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": platform.kid, "typ": "JWT"}
    claims = jwt.decode(token, jwt.PyJWK(jwks["keys"][0]), algorithms=["RS256"])
    assert claims["hello"] == "world"
    assert platform.counts["jwks"] == 1


def test_forged_tokens() -> None:
    with Platform("moodle") as p:
        unsigned = p.sign({"a": 1}, alg="none")
        assert unsigned.endswith(".") and jwt.get_unverified_header(unsigned)["alg"] == "none"
        hs = p.sign({"a": 1}, alg="HS256", secret="s" * 32)
        assert jwt.decode(hs, "s" * 32, algorithms=["HS256"]) == {"a": 1}
        no_kid = p.sign({"a": 1}, headers={"kid": None, "typ": None})
        assert jwt.get_unverified_header(no_kid) == {"alg": "RS256"}
        rogue = p.sign({"a": 1}, key_pem=rsa_private_key_pem("selftest-rogue"))
        published = {k["kid"] for k in p.public_jwks["keys"]}
        assert jwt.get_unverified_header(rogue)["kid"] not in published


def test_rotate_key_keeps_old_key_published() -> None:
    with Platform("canvas") as p:
        old = p.kid
        new = p.rotate_key()
        kids = [k["kid"] for k in requests.get(p.key_set_url, timeout=5).json()["keys"]]
        assert kids == [old, new] and p.kid == new
        assert jwt.get_unverified_header(p.sign({}))["kid"] == new
        p.remove_key(old)
        assert [k["kid"] for k in p.public_jwks["keys"]] == [new]


def test_key_set_delay_and_counts() -> None:
    with Platform("moodle", key_set_delay=0.2) as p:
        started = time.monotonic()
        requests.get(p.key_set_url, timeout=5)
        assert time.monotonic() - started >= 0.2
        assert p.counts["jwks"] == 1
        p.reset_counts()
        assert p.counts["jwks"] == 0


# -- launches ------------------------------------------------------------------------------------


def test_launch_through_driver(platform: Platform) -> None:
    with serve_tool(platform) as tool, LaunchDriver() as driver:
        plan = platform.plan("teacher", custom={"unit": "7"})
        resp = driver.launch(plan)
        assert resp.status_code == 200, resp.text
        assert resp.text == f"launched {plan.user.sub}"
        claims = tool.launches[0]
        assert claims[CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
        assert claims[CLAIM_VERSION] == "1.3.0"
        assert claims[CLAIM_DEPLOYMENT_ID] == platform.deployment_id
        assert claims["https://purl.imsglobal.org/spec/lti/claim/custom"]["unit"] == "7"
        if platform.profile == "moodle":
            assert "azp" not in claims and claims["exp"] - claims["iat"] == 60
            assert claims["iss"] == platform.base_url and claims["sub"] == "3"
            assert claims["aud"] == platform.client_id
        else:
            assert claims["azp"] == platform.client_id and claims["exp"] - claims["iat"] == 3600
            assert claims["iss"] == "https://canvas.instructure.com"
            assert "lti_storage_target" in plan.login_params
        assert platform.counts["auth"] == 1


def test_login_step_exposes_auth_request() -> None:
    with Platform("moodle") as p, serve_tool(p) as tool, LaunchDriver() as driver:
        step = driver.start_login(p.plan("student"), tool.url("/login"))
        assert step.is_redirect and step.redirect_uri == tool.url("/launch")
        assert step.nonce == tool.nonces[step.state or ""]
        id_token, state = step.authorize()
        claims = jwt.decode(id_token, options={"verify_signature": False})
        assert claims["nonce"] == step.nonce and state == step.state
        assert claims[CLAIM_ROLES] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"scope": "profile"}, "invalid_scope"),
        ({"response_type": "code"}, "unsupported_response_type"),
        ({"response_mode": "query"}, "response_mode"),
        ({"prompt": "login"}, "prompt"),
        ({"client_id": "nope"}, "unknown client_id"),
        ({"redirect_uri": "http://127.0.0.1:9/evil"}, "redirect_uri"),
        ({"nonce": ""}, "missing nonce"),
        ({"state": ""}, "missing state"),
        ({"login_hint": "999"}, "login_hint"),
        ({"lti_message_hint": "{}"}, "lti_message_hint"),
    ],
)
def test_auth_endpoint_refuses(change: dict[str, str], reason: str) -> None:
    with Platform("moodle") as p:
        p.set_tool("http://127.0.0.1:9/login", "http://127.0.0.1:9/launch", "http://127.0.0.1:9/j")
        plan = p.plan("student")
        assert p.tool is not None
        params = {
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
            "prompt": "none", "client_id": p.client_id, "redirect_uri": p.tool.launch_url,
            "login_hint": plan.login_hint, "lti_message_hint": plan.lti_message_hint,
            "state": "s", "nonce": "n",
        }
        ok = requests.get(p.auth_login_url, params=params, timeout=5)
        form = parse_forms(ok.text, ok.url)[0]
        assert ok.status_code == 200 and form.action == p.tool.launch_url
        assert set(form.fields) == {"id_token", "state"}
        params.update(change)
        resp = requests.post(p.auth_login_url, data=params, timeout=5)
        assert resp.status_code == 400 and reason in resp.text


def test_cookie_policy_models_a_framed_cross_site_tool() -> None:
    with Platform("moodle") as p:
        with serve_tool(p, {"samesite": "Lax"}), LaunchDriver() as driver:
            resp = driver.launch(p.plan("student"))
            assert resp.status_code == 403 and "state cookie missing" in resp.text
        unpartitioned = {"secure": True, "samesite": "None"}
        with serve_tool(p, unpartitioned), LaunchDriver(third_party_cookies_blocked=True) as d:
            assert d.launch(p.plan("student")).status_code == 403
        with serve_tool(p, unpartitioned), LaunchDriver() as driver:
            assert driver.launch(p.plan("student")).status_code == 200
        # A top-level window: cross-site POSTs carry only SameSite=None cookies either way.
        with serve_tool(p, {"samesite": "Lax"}), LaunchDriver(framed=False) as driver:
            assert driver.launch(p.plan("student")).status_code == 403


def test_plan_options_shape_the_id_token() -> None:
    with Platform("canvas") as p:
        p.set_tool("http://127.0.0.1:9/login", "http://127.0.0.1:9/launch", "http://127.0.0.1:9/j")
        plan = p.plan(
            {"role": "admin", "id": "42", "given_name": "Ann"},
            drop_claims=[CLAIM_NRPS],
            extra_claims={"exp": 1},
            ags=False,
            context={"title": "Anatomy"},
        )
        claims = p.claims_for(plan, "n")
        assert claims["given_name"] == "Ann" and claims["exp"] == 1 and CLAIM_NRPS not in claims
        assert "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint" not in claims
        assert ROLE_SYS_SYSADMIN in claims[CLAIM_ROLES]
        assert claims["https://purl.imsglobal.org/spec/lti/claim/custom"]["canvas_user_id"] == "42"
        assert claims["https://purl.imsglobal.org/spec/lti/claim/context"]["title"] == "Anatomy"


# -- token endpoint and bearer checks ------------------------------------------------------------


def _service_platform(profile: Profile) -> Platform:
    p = Platform(profile)
    bp = Blueprint("svc", __name__)

    @bp.get("/svc/lineitems")
    def lineitems() -> Any:
        issued = p.check_bearer(request, [SCOPE_LINEITEM, "x"])
        return jsonify({"client_id": issued.client_id})

    @bp.get("/svc/members")
    def members() -> Any:
        p.check_bearer(request, SCOPE_NRPS)
        return jsonify([])

    p.register_blueprint(bp)
    return p


@pytest.mark.parametrize("profile", PROFILES)
def test_token_endpoint_and_bearer(profile: Profile) -> None:
    with _service_platform(profile) as p, serve_tool(p):
        resp = token_request(p, client_assertion(p))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert set(body["scope"].split()) == {SCOPE_SCORE, SCOPE_LINEITEM}
        assert p.counts["tool_jwks"] == 1
        auth = {"Authorization": f"Bearer {body['access_token']}"}
        ok = requests.get(p.base_url + "/svc/lineitems", headers=auth, timeout=5)
        assert ok.json() == {"client_id": p.client_id}
        assert requests.get(p.base_url + "/svc/members", headers=auth, timeout=5).status_code == 403
        assert requests.get(p.base_url + "/svc/lineitems", timeout=5).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        resp = requests.get(p.base_url + "/svc/lineitems", headers=bad, timeout=5)
        assert resp.status_code == 401
        # Tokens survive a rotation of the platform key.
        p.rotate_key()
        assert requests.get(p.base_url + "/svc/lineitems", headers=auth, timeout=5).ok


@pytest.mark.parametrize(
    "claims, form, status, error",
    [
        ({"kid": None}, {}, 401, "invalid_client"),
        ({"kid": "unknown-kid"}, {}, 401, "invalid_client"),
        ({"key_pem": rsa_private_key_pem("selftest-rogue")}, {}, 401, "invalid_client"),
        ({"aud": "https://elsewhere.example"}, {}, 401, "invalid_client"),
        ({"exp": 1000}, {}, 401, "invalid_client"),
        ({"jti": None}, {}, 401, "invalid_client"),
        ({"iss": "someone-else"}, {}, 401, "invalid_client"),
        ({"sub": "unknown-client"}, {}, 401, "invalid_client"),
        ({}, {"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, {"client_assertion_type": "basic"}, 400, "invalid_request"),
        ({}, {"scope": "https://example.com/scope/all"}, 400, "invalid_scope"),
    ],
)
def test_token_endpoint_refuses(
    claims: dict[str, Any], form: dict[str, str], status: int, error: str
) -> None:
    with Platform("canvas") as p, serve_tool(p):
        resp = token_request(p, client_assertion(p, **claims), **form)
        assert (resp.status_code, resp.json()["error"]) == (status, error), resp.text


def test_token_endpoint_refuses_replayed_jti_and_accepts_issuer_audience() -> None:
    with Platform("moodle") as p, serve_tool(p):
        assertion = client_assertion(p, aud=[p.issuer])
        assert token_request(p, assertion).status_code == 200
        replay = token_request(p, assertion)
        assert replay.status_code == 401 and "jti" in replay.json()["error_description"]
        assert p.counts["token"] == 2 and p.counts["tool_jwks"] == 2


# -- deep linking --------------------------------------------------------------------------------


def deep_link_response(p: Platform, settings: dict[str, Any], **overrides: Any) -> str:
    """A deep-linking response JWT as the tool would send it (None removes a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": p.client_id, "aud": p.issuer, "iat": now, "exp": now + 300, "nonce": "dl-1",
        CLAIM_MESSAGE_TYPE: "LtiDeepLinkingResponse", CLAIM_VERSION: "1.3.0",
        CLAIM_DEPLOYMENT_ID: p.deployment_id,
        CLAIM_DL_CONTENT_ITEMS: [
            {"type": "ltiResourceLink", "title": "Portfolio", "url": "http://127.0.0.1:9/l"}
        ],
    }
    if "data" in settings:
        claims[CLAIM_DL_DATA] = settings["data"]
    headers = {"kid": overrides.pop("kid", TOOL_KID)}
    key = overrides.pop("key_pem", TOOL_PEM)
    claims.update(overrides)
    return encode_jwt({k: v for k, v in claims.items() if v is not None}, key_pem=key,
                      headers=headers)


def test_deep_link_return(platform: Platform) -> None:
    with serve_tool(platform):
        plan = platform.plan("teacher", "LtiDeepLinkingRequest")
        claims = platform.claims_for(plan, "n")
        assert "https://purl.imsglobal.org/spec/lti/claim/resource_link" not in claims
        settings = claims[CLAIM_DL_SETTINGS]
        assert settings["accept_types"] == ["ltiResourceLink"] and settings["data"]
        assert settings["deep_link_return_url"].startswith(platform.deep_link_return_url)
        resp = requests.post(
            settings["deep_link_return_url"], data={"JWT": deep_link_response(platform, settings)},
            timeout=5,
        )
        assert resp.status_code == 200 and "Content added" in resp.text, resp.text
        assert platform.deep_link_results == [
            {"type": "ltiResourceLink", "title": "Portfolio", "url": "http://127.0.0.1:9/l"}
        ]
        assert platform.deep_link_responses[0].plan_id == plan.id


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"aud": "someone"}, "aud"),
        ({CLAIM_DEPLOYMENT_ID: "99"}, "deployment_id"),
        ({CLAIM_DL_DATA: "tampered"}, "data"),
        ({"nonce": None}, "nonce"),
        ({"iss": "stranger"}, "client_id"),
        ({CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"}, "Deep Linking Response"),
        ({CLAIM_DL_CONTENT_ITEMS: [{"type": "file", "url": "x"}]}, "not supported"),
        ({"kid": None}, "KID"),
        ({"key_pem": rsa_private_key_pem("selftest-rogue")}, "Signature"),
        ({"exp": 1000}, "expired"),
    ],
)
def test_deep_link_return_refuses(profile_moodle: Platform, overrides: dict, reason: str) -> None:
    p = profile_moodle
    with serve_tool(p):
        settings = p.claims_for(p.plan("teacher", "LtiDeepLinkingRequest"), "n")[CLAIM_DL_SETTINGS]
        token = deep_link_response(p, settings, **overrides)
        resp = requests.post(settings["deep_link_return_url"], data={"JWT": token}, timeout=5)
        assert resp.status_code == 400 and reason in resp.text, resp.text
        assert p.deep_link_results == []


@pytest.fixture
def profile_moodle() -> Iterator[Platform]:
    """A started Moodle-shaped platform."""
    with Platform("moodle") as p:
        yield p


# -- dynamic registration ------------------------------------------------------------------------


def registration_body(tool: Tool) -> dict[str, Any]:
    """A tool's registration request (LTI Dynamic Registration 1.0 §3.5)."""
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.url("/login"),
        "redirect_uris": [tool.url("/launch")],
        "client_name": "Portfolio",
        "jwks_uri": tool.url("/jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{SCOPE_SCORE} {SCOPE_NRPS}",
        TOOL_CONFIGURATION: {
            "domain": "127.0.0.1",
            "target_link_uri": tool.url("/launch"),
            "claims": ["iss", "sub", "name", "email"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": tool.url("/launch")}],
        },
    }


def test_openid_configuration(platform: Platform) -> None:
    conf = requests.get(platform.openid_configuration_url, timeout=5).json()
    assert conf["issuer"] == platform.issuer
    assert conf["authorization_endpoint"] == platform.auth_login_url
    assert conf["token_endpoint"] == platform.auth_token_url
    assert conf["jwks_uri"] == platform.key_set_url
    assert conf["registration_endpoint"] == platform.registration_endpoint
    assert conf["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "openid" in conf["scopes_supported"]
    lti = conf[PLATFORM_CONFIGURATION]
    assert lti["product_family_code"] == platform.profile
    assert {m["type"] for m in lti["messages_supported"]} == {
        "LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert lti["variables"]


def test_issuer_override_for_dynamic_registration() -> None:
    with Platform("canvas", issuer="{base_url}") as p:
        assert p.issuer == p.base_url
        assert requests.get(p.openid_configuration_url, timeout=5).json()["issuer"] == p.base_url


def test_dynamic_registration_then_launch(platform: Platform) -> None:
    with serve_tool(platform) as tool, LaunchDriver() as driver:
        old_client = platform.client_id
        url = platform.registration_initiation_url(tool.url("/register"))
        token = dict(parse_qsl(urlsplit(url).query))["registration_token"]
        assert token in platform.registration_tokens
        endpoint = platform.registration_endpoint
        body = registration_body(tool)
        assert requests.post(endpoint, json=body, timeout=5).status_code == 401
        broken = {**body, "grant_types": ["implicit"]}
        bad = requests.post(endpoint, json=broken, headers={"Authorization": f"Bearer {token}"},
                            timeout=5)
        assert bad.status_code == 400 and "client_credentials" in bad.json()["error_description"]
        resp = requests.post(endpoint, json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=5)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["client_id"] != old_client and answer["client_id"] == platform.client_id
        assert answer[TOOL_CONFIGURATION]["deployment_id"] == platform.deployment_id
        assert answer["jwks_uri"] == body["jwks_uri"] and platform.registrations == [answer]
        again = requests.post(endpoint, json=body, headers={"Authorization": f"Bearer {token}"},
                              timeout=5)
        assert again.status_code == 401
        assert driver.launch(platform.plan("student")).status_code == 200
        assert tool.launches[-1]["aud"] == answer["client_id"]
        assert tool.launches[-1][CLAIM_DEPLOYMENT_ID] == platform.deployment_id


def test_moodle_registration_needs_client_name() -> None:
    with Platform("moodle") as p, serve_tool(p) as tool:
        body = registration_body(tool)
        del body["client_name"]
        headers = {"Authorization": f"Bearer {p.new_registration_token()}"}
        resp = requests.post(p.registration_endpoint, json=body, headers=headers, timeout=5)
        assert resp.status_code == 400 and "client_name" in resp.text


# -- LMS course page -----------------------------------------------------------------------------


def test_course_page_frames_the_tool(platform: Platform) -> None:
    with serve_tool(platform) as tool:
        plan = platform.plan("student")
        resp = requests.get(platform.course_url(plan), timeout=5)
        assert resp.status_code == 200
        assert '<iframe name="tool"' in resp.text and 'allow="' in resp.text
        (form,) = parse_forms(resp.text, resp.url)
        assert (form.action, form.method, form.target) == (tool.url("/login"), "POST", "tool")
        assert form.fields == plan.login_params
        has_storage = "lti.capabilities" in resp.text
        assert has_storage == (platform.profile == "canvas")
        assert ("lti_storage_target" in form.fields) == (platform.profile == "canvas")
        assert requests.get(platform.base_url + "/course/1?plan=nope", timeout=5).status_code == 404


def test_driver_reports_a_storage_page() -> None:
    with Platform("canvas") as p:
        app = Flask("storage_tool")
        app.add_url_rule("/login", "login", lambda: "<script>postMessage()</script>",
                         methods=["POST"])
        with LoopbackServer(app) as srv, LaunchDriver() as driver:
            p.set_tool(srv.base_url + "/login", srv.base_url + "/launch", srv.base_url + "/j")
            step = driver.start_login(p.plan("student"))
            assert not step.is_redirect and step.response.status_code == 200
            with pytest.raises(DriverError):
                step.authorize()
