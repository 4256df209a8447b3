"""Launch validation: an id_token + state in, a validated Launch out, or a LaunchError that says
why.

pylti1p3's MessageLaunch is the frame (its registration lookup, deep linking and service
accessors are used as they are); the checks it leaves out are done here: `aud`/`azp`, RS256
only, single-use nonce bound to a server-side state, key-set cache with refetch on an
unknown kid, target_link_uri, claim types and sizes (see platforms.md, "pylti1p3's known gaps").
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from flask_babel import lazy_gettext as _l
from jwt.algorithms import RSAAlgorithm
from pylti1p3.cookie import CookieService
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import LaunchError
from .constants import LTI_VERSION, Claim, MessageType
from .keysets import PlatformKeySets
from .login import NEW_WINDOW_PARAM, STATE_COOKIE_PREFIX
from .models import LoginState, Platform
from .registry import DatabaseToolConf, PlatformCache, PlatformInfo, origin
from .roles import ToolRole, is_mentor, tool_role
from .states import LoginStates

DATABASE_STATES = LoginStates()


@dataclass(frozen=True)
class LaunchPolicy:
    """The knobs of validation, from settings."""

    base_url: str
    max_token_bytes: int = 65536
    leeway: int = 10
    require_browser_bound_state: bool = True


@dataclass
class Launch:
    """A validated launch: who, where, what for. Holds personal data: never log it."""

    platform: PlatformInfo
    deployment_id: str
    message_type: str
    claims: dict[str, Any]
    role: ToolRole
    state_binding: str  # "cookie", "storage" or "server"
    message_launch: MessageLaunch = field(repr=False)

    @property
    def sub(self) -> str:
        """The platform's id of the user."""
        return self.claims.get("sub", "")

    @property
    def roles(self) -> list[str]:
        """The roles claim as sent."""
        return list(self.claims.get(Claim.ROLES, []))

    @property
    def mentees(self) -> list[str]:
        """The `sub`s a Mentor may read (role_scope_mentor), only when the roles say Mentor."""
        if not is_mentor(self.roles):
            return []
        return list(dict.fromkeys(self.claims.get(Claim.ROLE_SCOPE_MENTOR) or []))

    def claim(self, name: str, default: Any = None) -> Any:
        """One claim's value."""
        return self.claims.get(name, default)


class _FormRequest(Request):
    """pylti1p3's request interface over the launch form."""

    def __init__(self, params: dict[str, str]):
        self.params = params

    @property
    def session(self):
        return {}

    def get_param(self, key):
        return self.params.get(key)

    def get_cookie(self, key):
        return None

    def is_secure(self):
        return True


class _NoCookies(CookieService):
    """State lives server-side here; pylti1p3's cookie service is never consulted."""

    def get_cookie(self, name):
        return None

    def set_cookie(self, name, value, exp=3600):
        return None


# Three base64url segments, nothing else (no padding, no junk the decoder would skip).
JWS_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64json(segment: str) -> Any:
    return json.loads(_b64(segment))


class ToolMessageLaunch(MessageLaunch):
    """pylti1p3's MessageLaunch with every check a production tool needs.

    What it overrides is pinned by tests/unit/test_pylti1p3_contract.py.
    """

    def __init__(self, db: Session, params: dict[str, str], cookies: dict[str, str],
                 tool_conf: DatabaseToolConf, keysets: PlatformKeySets, policy: LaunchPolicy,
                 platforms: PlatformCache, states: LoginStates | None = None,
                 http: requests.Session | None = None):
        request = _FormRequest(params)
        # The app's one outbound session (pylti1p3's service connectors would use it): without
        # it pylti1p3 builds a requests.Session for every launch (bench/launch.py).
        super().__init__(request, tool_conf, session_service=SessionService(request),
                         cookie_service=_NoCookies(), requests_session=http)
        self.db = db
        self.params = params
        self.cookies = cookies
        self.keysets = keysets
        self.policy = policy
        self.platforms = platforms
        self.states = states or DATABASE_STATES
        self.platform: PlatformInfo | None = None
        self.login_state: LoginState | None = None
        self.state_binding = "server"

    def _get_request_param(self, key):
        return self.params.get(key)

    def validate(self) -> ToolMessageLaunch:
        """Run every check; the nonce is consumed only once the signature is good."""
        self._validated = True
        try:
            (self.validate_jwt_format().validate_registration().validate_state()
             .validate_jwt_signature().validate_nonce().validate_deployment()
             .validate_message())
        except Exception:
            self._validated = False
            raise
        return self

    # -- format --------------------------------------------------------------------------
    def validate_jwt_format(self):
        id_token = self.params.get("id_token") or ""
        if not id_token:
            raise LaunchError(_l("The launch has no id_token."), code="missing_id_token")
        if len(id_token) > self.policy.max_token_bytes:
            raise LaunchError(_l("The launch token is too large."), code="token_too_large",
                              status=413, detail=f"{len(id_token)} bytes")
        parts = id_token.split(".")
        if len(parts) != 3 or not JWS_COMPACT.fullmatch(id_token):
            raise LaunchError(_l("The launch token is not a signed JWT."), code="malformed_token")
        try:
            header, body = _b64json(parts[0]), _b64json(parts[1])
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            raise LaunchError(_l("The launch token cannot be decoded."), code="malformed_token",
                              detail=str(err)) from err
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchError(_l("The launch token cannot be decoded."), code="malformed_token")
        # Only RS256: refuses "none", HS256 signed with the public key, and friends.
        if header.get("alg") != "RS256":
            raise LaunchError(_l("The launch token is not signed with RS256."),
                              code="unsupported_alg", detail=f"alg={header.get('alg')!r}")
        if not isinstance(header.get("kid"), str) or not header.get("kid"):
            raise LaunchError(_l("The launch token does not name its signing key (kid)."),
                              code="missing_kid")
        self._jwt = {"header": header, "body": body}
        return self

    def _client_id(self, body: Mapping[str, Any]) -> str:
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences or not all(
                isinstance(a, str) and a for a in audiences):
            raise LaunchError(_l("The launch token has no valid audience (aud)."),
                              code="invalid_audience")
        azp = body.get("azp")
        if len(audiences) > 1 and not azp:
            raise LaunchError(_l("The launch token has several audiences but no azp."),
                              code="missing_azp")
        if azp is not None and azp not in audiences:
            raise LaunchError(_l("The launch token's azp is not one of its audiences."),
                              code="invalid_azp")
        return azp or audiences[0]

    def get_client_id(self) -> str:
        return self._client_id(self._jwt.get("body", {}))

    def validate_registration(self):
        body = self._jwt["body"]
        issuer = body.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise LaunchError(_l("The launch token does not name the platform (iss)."),
                              code="missing_issuer")
        client_id = self._client_id(body)
        platform = self.platforms.get(self.db, issuer, client_id)
        if platform is None:
            issuer_known = self.db.scalar(
                select(Platform.id).where(Platform.issuer == issuer).limit(1)) is not None
            raise LaunchError(
                _l("This platform is not registered with the tool."),
                code="unknown_client_id" if issuer_known else "unknown_platform",
                detail=f"iss={issuer!r} aud/azp={client_id!r}")
        if platform.status != "active":
            raise LaunchError(_l("This platform's registration is waiting for approval by the "
                                 "tool's administrator."), code="platform_pending", status=403)
        self.platform = platform
        self._registration = self._tool_config.registration_for(self.platform)
        return self

    # -- state ---------------------------------------------------------------------------
    def validate_state(self):
        state = self.params.get("state") or ""
        if not state:
            raise LaunchError(_l("The launch has no state: it did not start with a login."),
                              code="missing_state")
        login_state = self.states.get(self.db, state)
        if login_state is None:
            raise LaunchError(_l("The launch state is unknown. Please open the tool again "
                                 "from your course."), code="unknown_state")
        if login_state.used_at is not None:
            raise LaunchError(_l("This launch was already used. Please open the tool again "
                                 "from your course."), code="replayed_launch")
        if login_state.expires_at < utcnow():
            raise LaunchError(_l("The launch took too long and expired. Please open the tool "
                                 "again from your course."), code="state_expired")
        assert self.platform is not None
        if login_state.platform_id != self.platform.id:
            raise LaunchError(_l("The launch state belongs to another platform."),
                              code="state_mismatch")
        cookie = self.cookies.get(STATE_COOKIE_PREFIX + state)
        stored = self.params.get("lti_storage_value")
        if cookie is not None:
            if cookie != state:
                raise LaunchError(_l("The launch state does not match this browser."),
                                  code="state_mismatch")
            self.state_binding = "cookie"
        elif stored:
            if stored != state:
                raise LaunchError(_l("The launch state does not match this browser."),
                                  code="state_mismatch")
            self.state_binding = "storage"
        elif self.policy.require_browser_bound_state and not self.platform.allow_unbound_launch:
            # Unbound, anyone's id_token + state could be posted here from another browser
            # (login CSRF). The browser is offered the tool's own window instead, where cookies
            # are first-party; if even there none is kept, it is told to allow them.
            if (login_state.login_params or {}).get(NEW_WINDOW_PARAM):
                raise LaunchError(_l("Your browser blocks the cookies this tool needs, even in "
                                     "its own window. Allow cookies for this site, then open "
                                     "the tool again from your course."),
                                  code="cookies_disabled")
            raise LaunchError(_l("Your browser blocked the cookie this launch needs."),
                              code="cookies_blocked")
        self.login_state = login_state
        return self

    # -- signature -----------------------------------------------------------------------
    def validate_jwt_signature(self):
        # RS256 (RFC 7518 §3.3) checked with PyJWT's RSA algorithm, claims per RFC 7519 §4.1
        # here: PyJWT's decode re-parses the token and checks it character by character in
        # Python, which was the largest single cost of a warm launch (bench/launch.py).
        assert self.platform is not None
        key = self.keysets.key(self.platform.key_set_url, self._jwt["header"]["kid"])
        signing_input, _, signature = self.params["id_token"].rpartition(".")
        try:
            valid = RS256.verify(signing_input.encode("ascii"), key.key, _b64(signature))
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise LaunchError(_l("The launch token's signature is not valid."),
                              code="bad_signature")
        body = self._jwt["body"]
        missing = [c for c in ("exp", "iat", "iss", "aud", "nonce") if body.get(c) is None]
        if missing:
            raise LaunchError(_l("The launch token lacks a required claim."),
                              code="missing_claim", detail=", ".join(missing))
        times = {c: body.get(c) for c in ("exp", "iat", "nbf") if c in body}
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in times.values()):
            raise LaunchError(_l("The launch token is not valid."), code="invalid_token",
                              detail="exp, iat and nbf must be numbers")
        now, leeway = time.time(), self.policy.leeway
        if body["exp"] <= now - leeway:
            raise LaunchError(_l("The launch token has expired. Please open the tool again "
                                 "from your course (check the server clocks if this repeats)."),
                              code="token_expired")
        if body["iat"] > now + leeway or times.get("nbf", now) > now + leeway:
            raise LaunchError(_l("The launch token is dated in the future (check the server "
                                 "clocks)."), code="token_not_yet_valid")
        audiences = [body["aud"]] if isinstance(body["aud"], str) else body["aud"]
        if self.platform.client_id not in audiences:
            raise LaunchError(_l("The launch token is addressed to another tool."),
                              code="invalid_audience")
        if body["iss"] != self.platform.issuer:
            raise LaunchError(_l("The launch token is not valid."), code="invalid_token",
                              detail="issuer does not match the registration")
        return self

    # -- nonce ---------------------------------------------------------------------------
    def validate_nonce(self):
        assert self.login_state is not None
        nonce = self._jwt["body"].get("nonce")
        if nonce != self.login_state.nonce:
            raise LaunchError(_l("The launch token's nonce does not belong to this login."),
                              code="nonce_mismatch")
        # The caller commits this with what the launch records (one transaction per launch).
        if not self.states.consume(self.db, self.login_state.state):
            raise LaunchError(_l("This launch was already used. Please open the tool again "
                                 "from your course."), code="replayed_launch")
        return self

    # -- deployment and message ----------------------------------------------------------
    def validate_deployment(self):
        assert self.platform is not None
        deployment_id = self._jwt["body"].get(Claim.DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchError(_l("The launch does not name its deployment."),
                              code="missing_deployment_id")
        if deployment_id not in self.platform.deployment_ids:
            raise LaunchError(_l("This deployment of the tool is not registered."),
                              code="unknown_deployment", detail=f"deployment_id={deployment_id!r}")
        return self

    def validate_message(self):
        body = self._jwt["body"]
        message_type = body.get(Claim.MESSAGE_TYPE)
        if not message_type:
            raise LaunchError(_l("The launch does not say what it is (message_type)."),
                              code="missing_message_type")
        if message_type not in set(MessageType):
            raise LaunchError(_l("The tool does not handle this kind of launch."),
                              code="unsupported_message_type", detail=f"{message_type!r}")
        if body.get(Claim.VERSION) != LTI_VERSION:
            raise LaunchError(_l("The launch is not LTI 1.3.0."), code="wrong_version",
                              detail=f"version={body.get(Claim.VERSION)!r}")
        _check_types(body)
        target = body.get(Claim.TARGET_LINK_URI)
        if not target:
            raise LaunchError(_l("The launch has no target_link_uri."),
                              code="missing_target_link_uri")
        if origin(target) != origin(self.policy.base_url):
            raise LaunchError(_l("The launch points to another tool, not this one."),
                              code="foreign_target_link_uri", detail=f"{target!r}")
        if message_type == MessageType.RESOURCE_LINK:
            if not body.get("sub"):
                raise LaunchError(_l("The launch does not say who the user is (sub)."),
                                  code="missing_sub")
            if not (body.get(Claim.RESOURCE_LINK) or {}).get("id"):
                raise LaunchError(_l("The launch has no resource link id."),
                                  code="missing_resource_link")
        if message_type == MessageType.DEEP_LINKING:
            settings = body.get(Claim.DEEP_LINKING_SETTINGS)
            if not settings or not settings.get("deep_link_return_url"):
                raise LaunchError(_l("The deep linking request has no return URL."),
                                  code="missing_deep_linking_settings")
            if "ltiResourceLink" not in (settings.get("accept_types") or []):
                raise LaunchError(_l("The platform does not accept LTI links here."),
                                  code="unsupported_deep_linking_types")
        if Claim.ROLES not in body:
            raise LaunchError(_l("The launch has no roles claim."), code="missing_roles")
        return self


# Claims whose shape we rely on; a platform sending another shape gets a clear refusal.
_OBJECT_CLAIMS = (Claim.RESOURCE_LINK, Claim.CONTEXT, Claim.CUSTOM, Claim.LAUNCH_PRESENTATION,
                  Claim.DEEP_LINKING_SETTINGS, Claim.AGS_ENDPOINT, Claim.NRPS, Claim.LIS,
                  Claim.TOOL_PLATFORM)
_STRING_CLAIMS = ("sub", "name", "given_name", "family_name", "email", Claim.TARGET_LINK_URI)
MAX_MENTEES = 200  # an observer or advisor follows a handful of learners, not a course


def _check_types(body: dict) -> None:
    bad: list[str] = [name for name in _OBJECT_CLAIMS
                      if name in body and not isinstance(body[name], dict)]
    bad += [name for name in _STRING_CLAIMS if name in body and not isinstance(body[name], str)]
    if not _is_string_list(body.get(Claim.ROLES, [])):
        bad.append(Claim.ROLES)
    # The mentor's scope is kept in the session: a list of short ids, bounded.
    mentees = body.get(Claim.ROLE_SCOPE_MENTOR)
    if mentees is not None and not (_is_string_list(mentees) and len(mentees) <= MAX_MENTEES
                                    and all(0 < len(sub) <= 255 for sub in mentees)):
        bad.append(Claim.ROLE_SCOPE_MENTOR)
    # Service endpoints are stored and called later: their shape is checked now.
    for claim, fields, lists in (
        (Claim.AGS_ENDPOINT, ("lineitems", "lineitem"), ("scope",)),
        (Claim.NRPS, ("context_memberships_url",), ()),
        (Claim.DEEP_LINKING_SETTINGS, ("deep_link_return_url",), ("accept_types",)),
    ):
        value = body.get(claim)
        if not isinstance(value, dict):
            continue
        bad += [f"{claim}.{f}" for f in fields if value.get(f) is not None
                and not isinstance(value[f], str)]
        bad += [f"{claim}.{f}" for f in lists if value.get(f) is not None
                and not _is_string_list(value[f])]
    if bad:
        raise LaunchError(_l("The launch carries a claim in a form the tool cannot read."),
                          code="invalid_claim", detail=", ".join(bad))


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def consume_state(db: Session, state: str) -> bool:
    """Mark a login state used; False when it already was (of two replays one wins)."""
    return DATABASE_STATES.consume(db, state)


def validate_launch(db: Session, params: dict[str, str], cookies: dict[str, str], *,
                    tool_conf: DatabaseToolConf, keysets: PlatformKeySets, policy: LaunchPolicy,
                    platforms: PlatformCache, states: LoginStates | None = None,
                    http: requests.Session | None = None) -> Launch:
    """Validate a launch form; returns the Launch or raises LaunchError.

    The login state is marked used in `db` but not committed: the caller commits it together
    with what it records of the launch.
    """
    message_launch = ToolMessageLaunch(db, params, cookies, tool_conf, keysets, policy,
                                       platforms, states, http).validate()
    # pylti1p3 types the body as a TypedDict of the claims it knows; it is the token's JSON.
    body = cast(dict[str, Any], message_launch._jwt["body"])
    assert message_launch.platform is not None
    return Launch(
        platform=message_launch.platform,
        deployment_id=body[Claim.DEPLOYMENT_ID],
        message_type=body[Claim.MESSAGE_TYPE],
        claims=body,
        role=tool_role(body.get(Claim.ROLES, [])),
        state_binding=message_launch.state_binding,
        message_launch=message_launch,
    )


def needs_storage_lookup(db: Session, params: dict[str, str], cookies: dict[str, str],
                         states: LoginStates | None = None) -> str | None:
    """The storage frame to ask for the state, when cookies did not bind it; else None.

    Canvas offers postMessage storage (lti_storage_target) because third-party cookies are
    blocked in its iframe: the first POST of such a launch renders a page that reads the
    state back from the platform window and posts the launch again with it.
    """
    state = params.get("state") or ""
    if not state or params.get("lti_storage_value") or params.get("lti_storage_checked"):
        return None
    if STATE_COOKIE_PREFIX + state in cookies:
        return None
    login_state = (states or DATABASE_STATES).get(db, state)
    if login_state is None or login_state.used_at is not None or not login_state.storage_target:
        return None
    return login_state.storage_target
