"""Bad logins and launches over real HTTP: a 4xx page with a stable code, logged, never a 500.

Every refusal is checked twice, as a browser sees it (an HTML page with a human message) and as
a script sees it (`Accept: application/json` -> `{"error": code, "message", ...}`), and each one
must leave a WARNING from `lti_tool.errors` (the tool serves from a thread of this process).

The id_tokens are built from the platform's own claims for the nonce the tool issued
(`platform.claims_for(plan, step.nonce)`) with one thing changed. Forged tokens and bad forms
are refused before the login state is spent, so the genuine token still launches with the same
state afterwards. Tokens the platform really signed spend the state (one login per attempt).
Cases that do not depend on the platform's shape run once, alternating Moodle and Canvas, to
keep the module fast; the aud/azp, signature and format cases run against both.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import jwt
import pytest
import requests
from lti_platform import (
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_SETTINGS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_TARGET_LINK_URI,
    CLAIM_VERSION,
    ROLE_LEARNER,
    LaunchDriver,
    LoginStep,
    Platform,
    rsa_private_key_pem,
)
from markupsafe import escape
from sqlalchemy import update

from lti_tool.db import utcnow
from lti_tool.extensions import services
from lti_tool.lti.login import STATE_COOKIE_PREFIX
from lti_tool.lti.models import LoginState, Platform as PlatformRow, PlatformKeySet

ACCEPT = {
    "json": "application/json",
    "html": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
VARIANTS = tuple(ACCEPT)
# Another RSA key than any platform's: what an attacker signs with.
ATTACKER_PEM = rsa_private_key_pem("attacker")
FOREIGN_URL = "https://other-tool.example.org/lti/launch"

Claims = dict[str, Any]
# (platform, claims for the tool's nonce) -> id_token
Build = Callable[[Platform, Claims], str]


# -- helpers ------------------------------------------------------------------------------------

def send(browser: LaunchDriver, method: str, url: str, variant: str,
         data: dict[str, str] | None = None) -> requests.Response:
    """One request from the LMS page (a cross-site form post), asking for HTML or JSON."""
    with browser._cross_site():
        return browser.send(method, url, data=data, headers={"Accept": ACCEPT[variant]})


def login(browser: LaunchDriver, plan) -> LoginStep:
    """Login initiation as the platform sends it; the step carries the tool's state and nonce."""
    step = browser.start_login(plan, params={"lti_storage_target": None})
    assert step.state and step.nonce, step.response.text[:300]
    return step


def assert_launches(tool, browser: LaunchDriver, id_token: str, state: str) -> None:
    """The launch is accepted: a session starts and the browser is sent to the home page.

    (That the home page then shows the learner's portfolio is test_launch.py's business.)
    """
    response = browser.post_launch(tool.launch_url, id_token, state, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    assert urljoin(tool.base_url, response.headers["Location"]).startswith(
        tool.base_url + "/?ls="), response.headers["Location"]


def assert_fresh_launch_works(tool, browser: LaunchDriver, platform: Platform) -> None:
    """A new login from the same platform still launches (the refusal broke nothing)."""
    step = login(browser, platform.plan("student"))
    assert_launches(tool, browser, *step.authorize())


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segments(token: str) -> list[str]:
    return token.split(".")


def on(profile: str, *values: Any, id: str):
    """A case that does not depend on the platform's shape: run it once, from `profile`."""
    return pytest.param(profile, *values, id=f"{profile}-{id}")


@pytest.fixture
def expect_refusal(caplog):
    """Check a refusal in both variants: status, exact code, human page, WARNING logged."""
    caplog.set_level(logging.WARNING, logger="lti_tool.errors")

    def check(make_request: Callable[[str], requests.Response], status: int, code: str) -> None:
        message = None
        for variant in VARIANTS:
            caplog.clear()
            response = make_request(variant)
            where = f"{variant} variant"
            assert response.status_code == status, (
                f"{where}: expected {status} {code}, got {response.status_code}: "
                f"{response.text[:400]}")
            assert "Traceback" not in response.text, where
            if variant == "json":
                assert response.headers["Content-Type"].startswith("application/json"), where
                body = response.json()
                assert body["error"] == code, f"{where}: {body}"
                message = body["message"]
                assert message and message != code, f"{where}: {body}"
            else:
                assert response.headers["Content-Type"].startswith("text/html"), where
                page = response.text
                assert f"<code>{code}</code>" in page, f"{where}: {page[:600]}"
                # The same human message as the JSON variant, in the page's heading.
                assert message is None or f"<h1>{escape(message)}</h1>" in page, page[:600]
            errors = [r for r in caplog.records if r.name == "lti_tool.errors"]
            assert any(r.levelno == logging.WARNING and code in r.getMessage()
                       for r in errors), f"{where}: no WARNING for {code}: {caplog.text}"
            crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert not crashes, f"{where}: {caplog.text}"

    return check


# -- login initiation ---------------------------------------------------------------------------

def _login_without(name: str) -> Callable[[Platform, dict], dict]:
    return lambda platform, params: {k: v for k, v in params.items() if k != name}


def _login_with(**changes: str) -> Callable[[Platform, dict], dict]:
    return lambda platform, params: {**params, **changes}


@pytest.mark.parametrize("profile, change, status, code", [
    on("moodle", _login_with(iss="https://lms.unknown.example"), 400, "unknown_platform",
       id="unknown-issuer"),
    on("canvas", _login_with(iss="https://canvas.unknown.example"), 400, "unknown_platform",
       id="unknown-issuer"),
    on("canvas", _login_without("iss"), 400, "missing_issuer", id="no-iss"),
    on("moodle", _login_without("login_hint"), 400, "missing_login_hint", id="no-login_hint"),
    on("canvas", _login_without("login_hint"), 400, "missing_login_hint", id="no-login_hint"),
    on("moodle", _login_without("target_link_uri"), 400, "missing_target_link_uri",
       id="no-target_link_uri"),
    on("canvas", _login_with(target_link_uri=FOREIGN_URL), 400, "foreign_target_link_uri",
       id="target_link_uri-on-another-host"),
    on("moodle", _login_with(lti_deployment_id="99999"), 400, "unknown_deployment",
       id="unknown-lti_deployment_id"),
    on("canvas", _login_with(lti_deployment_id="99:0000"), 400, "unknown_deployment",
       id="unknown-lti_deployment_id"),
])
def test_bad_login_initiation_is_refused(tool, request, browser, expect_refusal,
                                         profile, change, status, code):
    """A login initiation the tool cannot trust shows an error page instead of redirecting."""
    platform = request.getfixturevalue(profile)
    plan = platform.plan("student")
    params = change(platform, dict(plan.login_params))
    params.pop("lti_storage_target", None)
    expect_refusal(lambda variant: send(browser, "POST", tool.login_url, variant, params),
                   status, code)


# -- forged or unusable tokens: refused before the state is spent --------------------------------

def _with(changes: Claims) -> Build:
    return lambda platform, claims: platform.sign({**claims, **changes})


def _without(*names: str) -> Build:
    return lambda platform, claims: platform.sign(
        {k: v for k, v in claims.items() if k not in names})


def _timed(iat: int, exp: int) -> Build:
    """Signed by the platform with iat/exp this many seconds from now."""
    def build(platform: Platform, claims: Claims) -> str:
        now = int(time.time())
        return platform.sign({**claims, "iat": now + iat, "exp": now + exp})
    return build


_DROP = object()


def _addressed(aud: Any, azp: Any = _DROP) -> Build:
    """Signed by the platform with another `aud` (and `azp`, dropped by default).

    `aud` and `azp` may be functions of the platform (its client_id is known only then).
    """
    def build(platform: Platform, claims: Claims) -> str:
        body = {k: v for k, v in claims.items() if k != "azp"}
        body["aud"] = aud(platform) if callable(aud) else aud
        if azp is not _DROP:
            body["azp"] = azp(platform) if callable(azp) else azp
        return platform.sign(body)
    return build


def _bad_signature(platform: Platform, claims: Claims) -> str:
    return platform.sign(claims, key_pem=ATTACKER_PEM, headers={"kid": platform.kid})


def _oversized(platform: Platform, claims: Claims) -> str:
    return platform.sign({**claims, "https://example.org/padding": "x" * 70_000})


def _body_not_json(platform: Platform, claims: Claims) -> str:
    header, _, signature = _segments(platform.sign(claims))
    return f"{header}.{b64('this is {not json')}.{signature}"


def _body_not_object(platform: Platform, claims: Claims) -> str:
    header, _, signature = _segments(platform.sign(claims))
    return f"{header}.{b64(json.dumps(['iss', 'aud']))}.{signature}"


def _body_nested_too_deep(platform: Platform, claims: Claims) -> str:
    # Valid JSON, but nested deeper than Python's parser recursion limit (~1000): 14 kB.
    header, _, signature = _segments(platform.sign(claims))
    depth = 5000
    nested = "[" * depth + "]" * depth
    body = json.dumps(claims)[:-1] + f', "https://example.org/deep": {nested}}}'
    return f"{header}.{b64(body)}.{signature}"


def _header_not_base64(platform: Platform, claims: Claims) -> str:
    _, body, signature = _segments(platform.sign(claims))
    return f"@@not-base64@@.{body}.{signature}"


def _two_parts(platform: Platform, claims: Claims) -> str:
    header, body, _ = _segments(platform.sign(claims))
    return f"{header}.{body}"


def _five_parts(platform: Platform, claims: Claims) -> str:
    return platform.sign(claims) + ".e30.e30"


FORGED_TOKENS = [
    # Registration
    pytest.param(_with({"iss": "https://lms.unknown.example"}), 400, "unknown_platform",
                 id="unknown-issuer"),
    pytest.param(_addressed("client-of-another-tool"), 400, "unknown_client_id",
                 id="unknown-client_id"),
    pytest.param(_addressed([]), 400, "invalid_audience", id="aud-empty-list"),
    pytest.param(_addressed(42), 400, "invalid_audience", id="aud-not-a-string"),
    pytest.param(_addressed(lambda p: [p.client_id, "other-tool"]), 400, "missing_azp",
                 id="several-audiences-without-azp"),
    pytest.param(_addressed(lambda p: [p.client_id, "other-tool"], azp="third-tool"), 400,
                 "invalid_azp", id="azp-not-among-audiences"),
    pytest.param(_addressed(lambda p: p.client_id, azp="other-tool"), 400, "invalid_azp",
                 id="azp-not-the-audience"),
    # Signature and algorithm
    pytest.param(_bad_signature, 400, "bad_signature", id="signed-by-another-key"),
    pytest.param(lambda p, c: p.sign(c, headers={"kid": "kid-the-platform-never-published"}),
                 400, "unknown_kid", id="unknown-kid"),
    pytest.param(lambda p, c: p.sign(c, headers={"kid": None}), 400, "missing_kid",
                 id="no-kid"),
    pytest.param(lambda p, c: p.sign(c, alg="none"), 400, "unsupported_alg", id="alg-none"),
    pytest.param(lambda p, c: p.sign(c, alg="HS256"), 400, "unsupported_alg",
                 id="hs256-with-the-public-key"),
    # Time and required claims
    pytest.param(_timed(iat=-120, exp=-60), 400, "token_expired", id="expired"),
    pytest.param(_timed(iat=+60, exp=+120), 400, "token_not_yet_valid", id="iat-in-the-future"),
    pytest.param(_without("nonce"), 400, "missing_claim", id="no-nonce"),
    pytest.param(_without("exp"), 400, "missing_claim", id="no-exp"),
    # Shape
    pytest.param(_body_not_json, 400, "malformed_token", id="body-not-json"),
    pytest.param(_body_not_object, 400, "malformed_token", id="body-a-json-list"),
    pytest.param(_body_nested_too_deep, 400, "malformed_token", id="body-nested-too-deep"),
    pytest.param(_header_not_base64, 400, "malformed_token", id="header-not-base64"),
    pytest.param(_two_parts, 400, "malformed_token", id="two-parts"),
    pytest.param(_five_parts, 400, "malformed_token", id="five-parts"),
    pytest.param(_oversized, 413, "token_too_large", id="over-64-KiB"),
]


@pytest.mark.parametrize("build, status, code", FORGED_TOKENS)
def test_forged_token_is_refused_and_the_login_survives(tool, platform, browser, expect_refusal,
                                                        build, status, code):
    """A token the tool cannot trust is refused; the genuine one still launches with that state."""
    step = login(browser, platform.plan("student"))
    id_token = build(platform, platform.claims_for(step.plan, step.nonce))
    form = {"id_token": id_token, "state": step.state}
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant, form),
                   status, code)
    assert_launches(tool, browser, *step.authorize())


# -- bad forms ----------------------------------------------------------------------------------

FORMS = [
    on("moodle", lambda step, token: {"state": step.state}, 400, "missing_id_token",
       id="no-id_token"),
    on("canvas", lambda step, token: {"id_token": token}, 400, "missing_state", id="no-state"),
    on("moodle", lambda step, token: {"id_token": token, "state": "a-state-never-issued"}, 400,
       "unknown_state", id="unknown-state"),
]


@pytest.mark.parametrize("profile, make_form, status, code", FORMS)
def test_bad_launch_form_is_refused_and_the_login_survives(tool, request, browser,
                                                           expect_refusal, profile, make_form,
                                                           status, code):
    """A launch form missing its id_token or state is refused without spending the login."""
    platform = request.getfixturevalue(profile)
    step = login(browser, platform.plan("student"))
    genuine = platform.sign(platform.claims_for(step.plan, step.nonce))
    form = make_form(step, genuine)
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant, form),
                   status, code)
    assert_launches(tool, browser, *step.authorize())


def test_launch_form_with_absurdly_many_fields_is_refused(tool, moodle, browser, expect_refusal):
    """A launch form stuffed with ten thousand fields is refused cheaply; the login survives."""
    step = login(browser, moodle.plan("student"))
    id_token, state = step.authorize()
    form = {"id_token": id_token, "state": state, **{f"field{i}": "x" for i in range(10_000)}}
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant, form),
                   400, "too_many_parameters")
    assert_launches(tool, browser, id_token, state)


def test_get_on_the_launch_url_is_a_405_page(tool, browser, expect_refusal):
    """Opening the launch URL directly shows a 'cannot be used this way' page, not a crash."""
    expect_refusal(lambda variant: send(browser, "GET", tool.launch_url, variant),
                   405, "method_not_allowed")


def test_405_on_the_launch_url_names_the_allowed_method(tool, browser):
    """The 405 answer says which method the launch URL takes (HTTP requires an Allow header)."""
    for variant in VARIANTS:
        response = send(browser, "GET", tool.launch_url, variant)
        assert response.status_code == 405
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert "POST" in allowed, f"{variant}: Allow={response.headers.get('Allow')!r}"


# -- tokens the platform really signed, with bad content: the state is spent ---------------------

def _set_claim(name: str, value: Any) -> Build:
    return _with({name: value})


def _ags(**changes: Any) -> Build:
    return lambda platform, claims: platform.sign(
        {**claims, CLAIM_AGS: {**claims[CLAIM_AGS], **changes}})


SIGNED_BAD_CONTENT = [
    on("moodle", _set_claim(CLAIM_DEPLOYMENT_ID, "99999"), "unknown_deployment",
       id="unknown-deployment_id"),
    on("canvas", _set_claim(CLAIM_DEPLOYMENT_ID, "99:0000"), "unknown_deployment",
       id="unknown-deployment_id"),
    on("canvas", _without(CLAIM_DEPLOYMENT_ID), "missing_deployment_id", id="no-deployment_id"),
    on("moodle", _without(CLAIM_MESSAGE_TYPE), "missing_message_type", id="no-message_type"),
    on("canvas", _set_claim(CLAIM_MESSAGE_TYPE, "LtiSubmissionReviewRequest"),
       "unsupported_message_type", id="unsupported-message_type"),
    on("moodle", _set_claim(CLAIM_VERSION, "1.1.0"), "wrong_version", id="version-1.1.0"),
    on("moodle", _without("sub"), "missing_sub", id="resource-link-without-sub"),
    on("canvas", _without("sub"), "missing_sub", id="resource-link-without-sub"),
    on("canvas", _without(CLAIM_TARGET_LINK_URI), "missing_target_link_uri",
       id="no-target_link_uri"),
    on("moodle", _set_claim(CLAIM_TARGET_LINK_URI, FOREIGN_URL), "foreign_target_link_uri",
       id="target_link_uri-on-another-host"),
    on("moodle", _without(CLAIM_RESOURCE_LINK), "missing_resource_link", id="no-resource_link"),
    on("canvas", _set_claim(CLAIM_RESOURCE_LINK, {"title": "Portfolio"}),
       "missing_resource_link", id="resource_link-without-id"),
    on("canvas", _without(CLAIM_ROLES), "missing_roles", id="no-roles"),
    on("moodle", _set_claim(CLAIM_ROLES, ROLE_LEARNER), "invalid_claim", id="roles-a-string"),
    on("canvas", _set_claim(CLAIM_CONTEXT, ["course", "1"]), "invalid_claim",
       id="context-a-list"),
    on("moodle", _ags(scope=5), "invalid_claim", id="ags-scope-a-number"),
    on("canvas", _ags(lineitems={"url": "https://lms.example/lineitems"}), "invalid_claim",
       id="ags-lineitems-an-object"),
]


@pytest.mark.parametrize("profile, build, code", SIGNED_BAD_CONTENT)
def test_signed_launch_with_bad_content_is_refused(tool, request, browser, expect_refusal,
                                                   profile, build, code):
    """A launch the platform really signed but the tool cannot use is refused with its reason."""
    platform = request.getfixturevalue(profile)

    def attempt(variant: str) -> requests.Response:
        step = login(browser, platform.plan("student"))  # the state is spent: one per attempt
        id_token = build(platform, platform.claims_for(step.plan, step.nonce))
        return send(browser, "POST", tool.launch_url, variant,
                    {"id_token": id_token, "state": step.state})

    expect_refusal(attempt, 400, code)


def test_deep_linking_request_with_accept_types_not_a_list_is_refused(tool, canvas, browser,
                                                                      expect_refusal):
    """A deep linking request whose accept_types is a number is refused, not a crash."""
    def attempt(variant: str) -> requests.Response:
        step = login(browser, canvas.plan("teacher", message_type="LtiDeepLinkingRequest"))
        claims = canvas.claims_for(step.plan, step.nonce)
        claims[CLAIM_DL_SETTINGS] = {**claims[CLAIM_DL_SETTINGS], "accept_types": 1}
        return send(browser, "POST", tool.launch_url, variant,
                    {"id_token": canvas.sign(claims), "state": step.state})

    expect_refusal(attempt, 400, "invalid_claim")


# -- single use, state binding, expiry ------------------------------------------------------------

def test_replayed_launch_is_refused(tool, platform, browser, expect_refusal):
    """Posting the exact same successful launch again is refused as already used."""
    step = login(browser, platform.plan("student"))
    id_token, state = step.authorize()
    assert_launches(tool, browser, id_token, state)
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": id_token, "state": state}),
                   400, "replayed_launch")
    assert_fresh_launch_works(tool, browser, platform)


def test_nonce_of_another_login_is_refused(tool, platform, browser, expect_refusal):
    """A valid token carrying another login's nonce is refused; both logins still launch."""
    first = login(browser, platform.plan("student"))
    second = login(browser, platform.plan("student"))
    swapped = platform.sign(platform.claims_for(second.plan, second.nonce))
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": swapped, "state": first.state}),
                   400, "nonce_mismatch")
    assert_launches(tool, browser, *first.authorize())
    assert_launches(tool, browser, *second.authorize())


def test_expired_state_is_refused(tool, platform, browser, expect_refusal):
    """A launch that comes back after the login state expired asks the user to start again."""
    step = login(browser, platform.plan("student"))
    with services(tool.app).db.new_session() as db:
        db.execute(update(LoginState).where(LoginState.state == step.state)
                   .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    id_token, state = step.authorize()
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": id_token, "state": state}),
                   400, "state_expired")
    assert_fresh_launch_works(tool, browser, platform)


def _state_cookie(browser: LaunchDriver, state: str):
    cookies = [c for c in browser.session.cookies if c.name == STATE_COOKIE_PREFIX + state]
    assert len(cookies) == 1, [c.name for c in browser.session.cookies]
    return cookies[0]


def test_state_cookie_not_matching_is_refused(tool, platform, browser, expect_refusal):
    """A state cookie that does not match the posted state is refused; the real one launches."""
    step = login(browser, platform.plan("student"))
    id_token, state = step.authorize()
    cookie = _state_cookie(browser, state)
    cookie.value = "another-browsers-state"
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": id_token, "state": state}),
                   400, "state_mismatch")
    cookie.value = state
    assert_launches(tool, browser, id_token, state)


def test_storage_value_not_matching_is_refused(tool, canvas, browser, expect_refusal):
    """A postMessage-storage state that does not match the posted state is refused."""
    step = login(browser, canvas.plan("student"))
    id_token, state = step.authorize()
    browser.session.cookies.clear()  # cookies blocked: the state comes from Canvas's storage
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": id_token, "state": state,
                                         "lti_storage_value": "another-state"}),
                   400, "state_mismatch")
    # The state Canvas's storage really holds binds the launch to this browser.
    response = browser.post_launch(tool.launch_url, id_token, state, follow_redirects=False,
                                   lti_storage_value=state)
    assert response.status_code == 303, response.text[:500]


def test_token_for_another_registration_of_the_issuer_is_refused(tool, platform, browser,
                                                                 expect_refusal):
    """A token addressed to another client_id of the same issuer cannot use this login."""
    other_client = platform.client_id + "-second"
    tool.register(platform, client_id=other_client)
    step = login(browser, platform.plan("student"))
    claims = platform.claims_for(step.plan, step.nonce)
    claims["aud"] = other_client
    if "azp" in claims:
        claims["azp"] = other_client
    forged = platform.sign(claims)
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": forged, "state": step.state}),
                   400, "state_mismatch")
    assert_launches(tool, browser, *step.authorize())


# -- platform keys ------------------------------------------------------------------------------

def _age_cached_key_set(tool, platform: Platform, seconds: int) -> None:
    """Make the tool's cached copy of the platform key set `seconds` old (as after a restart)."""
    with services(tool.app).db.new_session() as db:
        db.execute(update(PlatformKeySet).where(PlatformKeySet.url == platform.key_set_url)
                   .values(fetched_at=utcnow() - timedelta(seconds=seconds)))
        db.commit()
    services(tool.app).keysets.forget(platform.key_set_url)


def test_unknown_kid_refetches_the_key_set_once(tool, platform, browser, expect_refusal):
    """A token naming an unpublished kid is refused after one refetch of the platform's keys."""
    assert_fresh_launch_works(tool, browser, platform)  # the key set is cached now
    refetch_interval = services(tool.app).settings.lti.keyset_refetch_interval_seconds
    _age_cached_key_set(tool, platform, refetch_interval + 5)
    platform.reset_counts()
    step = login(browser, platform.plan("student"))
    forged = platform.sign(platform.claims_for(step.plan, step.nonce),
                           headers={"kid": "kid-the-platform-never-published"})
    expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                        {"id_token": forged, "state": step.state}),
                   400, "unknown_kid")
    # Refetched once for the first attempt, not again within the refetch interval.
    assert platform.counts["jwks"] == 1
    assert_launches(tool, browser, *step.authorize())
    assert platform.counts["jwks"] == 1


def test_launch_signed_with_a_rotated_key_succeeds(tool, platform, browser):
    """After the platform rotates its key, the next launch works: the tool refetches the keys."""
    assert_fresh_launch_works(tool, browser, platform)
    refetch_interval = services(tool.app).settings.lti.keyset_refetch_interval_seconds
    _age_cached_key_set(tool, platform, refetch_interval + 5)
    platform.reset_counts()
    new_kid = platform.rotate_key()
    step = login(browser, platform.plan("student"))
    id_token, state = step.authorize()
    assert jwt.get_unverified_header(id_token)["kid"] == new_kid
    assert_launches(tool, browser, id_token, state)
    assert platform.counts["jwks"] == 1


# -- pending registrations ----------------------------------------------------------------------

def _set_status(tool, platform: Platform, status: str) -> None:
    with services(tool.app).db.new_session() as db:
        db.execute(update(PlatformRow).where(PlatformRow.issuer == platform.issuer,
                                             PlatformRow.client_id == platform.client_id)
                   .values(status=status))
        db.commit()
    services(tool.app).platforms.invalidate()  # as `lti-tool platform activate` does in time


def test_pending_platform_cannot_log_in_or_launch(tool, platform, browser, expect_refusal):
    """A registration awaiting approval gets a 403 page at login and launch; approved, it works."""
    plan = platform.plan("student")
    step = login(browser, plan)  # started while still active
    id_token, state = step.authorize()
    _set_status(tool, platform, "pending")
    try:
        params = {k: v for k, v in plan.login_params.items() if k != "lti_storage_target"}
        expect_refusal(lambda variant: send(browser, "POST", tool.login_url, variant, params),
                       403, "platform_pending")
        expect_refusal(lambda variant: send(browser, "POST", tool.launch_url, variant,
                                            {"id_token": id_token, "state": state}),
                       403, "platform_pending")
    finally:
        _set_status(tool, platform, "active")
    assert_launches(tool, browser, id_token, state)


# -- what must still be accepted ----------------------------------------------------------------

@pytest.mark.parametrize("build", [
    pytest.param(_timed(iat=-70, exp=-5), id="expired-5s-ago-within-leeway"),
    pytest.param(_timed(iat=+5, exp=+65), id="iat-5s-ahead-within-leeway"),
    pytest.param(_addressed(lambda p: [p.client_id, "other-tool"], azp=lambda p: p.client_id),
                 id="several-audiences-with-azp"),
    pytest.param(_addressed(lambda p: [p.client_id]), id="aud-a-one-item-list-without-azp"),
])
def test_tolerated_variations_still_launch(tool, platform, browser, build):
    """Clock skew within the leeway and aud/azp forms the spec allows are accepted."""
    step = login(browser, platform.plan("student"))
    assert_launches(tool, browser, build(platform, platform.claims_for(step.plan, step.nonce)),
                    step.state)
