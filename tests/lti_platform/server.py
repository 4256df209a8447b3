"""A real LTI 1.3 platform (Moodle- or Canvas-shaped) served over HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Blueprint, Flask, Response, jsonify, request
from lti1p3platform.constants import LTI_1P3_ACCESS_TOKEN_SCOPES
from lti1p3platform.exceptions import (
    InvalidKeySetUrl,
    LtiDeepLinkingResponseException,
    LtiException,
    MissingRequiredClaim,
    UnsupportedGrantType,
)
from lti1p3platform.ltiplatform import JWKS, LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from werkzeug.datastructures import Headers
from werkzeug.exceptions import Forbidden, Unauthorized

from . import pages
from .claims import (
    CANVAS_DEPLOYMENT_ID,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_CONTENT_ITEMS,
    CLAIM_DL_DATA,
    CLAIM_DL_ERRORMSG,
    CLAIM_DL_MSG,
    CLAIM_DL_SETTINGS,
    CLAIM_MESSAGE_TYPE,
    MOODLE_VERSION,
    SCOPE_CANVAS_PROGRESS,
    LaunchPlan,
    Profile,
    make_user,
)
from .keys import (
    encode_jwt,
    private_key,
    public_jwk,
    public_key_pem,
    rsa_private_key_pem,
    unverified_parts,
)
from .services import ServicesMixin
from .serving import LoopbackServer

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

PATHS: dict[str, dict[str, str]] = {
    "moodle": {
        "auth": "/mod/lti/auth.php",
        "token": "/mod/lti/token.php",
        "jwks": "/mod/lti/certs.php",
        "openid_configuration": "/mod/lti/openid-configuration.php",
        "registration": "/mod/lti/openid-registration.php",
        "deep_link_return": "/mod/lti/contentitem_return.php",
    },
    "canvas": {
        "auth": "/api/lti/authorize_redirect",
        "token": "/login/oauth2/token",
        "jwks": "/api/lti/security/jwks",
        "openid_configuration": "/api/lti/security/openid-configuration",
        "registration": "/api/lti/registrations",
        "deep_link_return": "/courses/<int:course>/deep_linking_response",
    },
}

# Substitution variables each platform advertises in its configuration (a representative subset).
_VARIABLES = {
    "moodle": [
        "basic-lti-launch-request", "ContentItemSelectionRequest", "ToolProxyRegistrationRequest",
        "Context.id", "Context.title", "Context.label", "Context.sourcedId",
        "Context.longDescription",
        "Context.timeFrame.begin", "CourseSection.title", "CourseSection.label",
        "CourseSection.sourcedId", "ResourceLink.id", "ResourceLink.title",
        "ResourceLink.description", "User.id", "User.username", "Person.name.full",
        "Person.name.given", "Person.name.family", "Person.email.primary", "Person.sourcedId",
        "Membership.role", "Result.sourcedId", "Result.autocreate", "Moodle.Person.userGroupIds",
    ],
    "canvas": [
        "Context.id", "Context.title", "Context.label", "CourseSection.sourcedId",
        "ResourceLink.id", "ResourceLink.title", "User.id", "User.username", "Person.name.full",
        "Person.name.given", "Person.name.family", "Person.email.primary", "Person.sourcedId",
        "Membership.role", "Canvas.course.id", "Canvas.user.id", "Canvas.user.loginId",
        "Canvas.api.domain", "Canvas.course.sectionIds", "com.instructure.PostMessageToken",
    ],
}

_CLAIMS_SUPPORTED = [
    "iss", "sub", "aud", "iat", "exp", "nonce", "name", "given_name", "family_name", "email",
    "locale", "picture",
]


class RequestCounts(Counter):
    """A Counter of requests per endpoint name that server threads can bump safely."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        """Count one request to `name`."""
        with self._lock:
            self[name] += 1

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self.clear()


@dataclass(frozen=True)
class ToolEndpoints:
    """The tool's URLs as the platform has them registered."""

    login_url: str
    launch_url: str
    jwks_url: str
    deep_link_url: str | None = None
    redirect_uris: tuple[str, ...] = ()

    def allowed_redirects(self) -> set[str]:
        """Every redirect_uri the auth endpoint accepts for this tool."""
        return {u for u in (self.launch_url, self.deep_link_url, *self.redirect_uris) if u}


@dataclass(frozen=True)
class IssuedToken:
    """An access token the token endpoint handed out."""

    access_token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    # The key that signed it, so rotation after issue does not invalidate it.
    public_key_pem: str


@dataclass
class DeepLinkReturn:
    """One accepted deep-linking response."""

    claims: dict[str, Any]
    items: list[dict[str, Any]]
    plan_id: str | None = None


@dataclass
class _PlanRegistry:
    by_id: dict[str, LaunchPlan] = field(default_factory=dict)
    by_hint: dict[str, LaunchPlan] = field(default_factory=dict)
    by_sesskey: dict[str, LaunchPlan] = field(default_factory=dict)
    by_dl_data: dict[str, LaunchPlan] = field(default_factory=dict)


class _PlatformConf(LTI1P3PlatformConfAbstract):
    """lti1p3platform's platform configuration bound to one Registration and our key-set fetcher."""

    def init_platform_config(self, **kwargs: Any) -> None:
        """Keep the registration and fetcher the platform hands in."""
        self._fixed_registration: Registration = kwargs["registration"]
        self._fetch: Callable[[str, Callable[[str], JWKS]], JWKS] = kwargs["fetch"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        """Return the one registration this configuration serves."""
        return self._fixed_registration

    def fetch_public_key(self, key_set_url: str) -> JWKS:
        """Fetch the tool's key set through the platform (counted, optionally cached)."""
        return self._fetch(key_set_url, super().fetch_public_key)


def _json_error(status: int, error: str, description: str = "") -> tuple[Response, int]:
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return jsonify(body), status


def _text_error(message: str, status: int = 400) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _bearer(headers: Mapping[str, str] | Headers) -> str | None:
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_CANVAS_CLIENT_SERIAL = itertools.count(1)


def _canvas_client_id() -> str:
    """A Canvas-shaped developer key id, unique in this process."""
    return str(10000000000000 + next(_CANVAS_CLIENT_SERIAL))


def _moodle_client_id() -> str:
    # Moodle's random_string(15).
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(15))


def _aud_list(aud: Any) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


class Platform(ServicesMixin):
    """An LTI 1.3 platform on loopback shaped after Moodle or Canvas (use as a context manager).

    It serves AGS 2.0 and NRPS 2.0 (services.ServicesMixin) at the URLs its launch claims give.
    """

    def __init__(
        self,
        profile: Profile = "moodle",
        *,
        key_set_delay: float = 0.0,
        issuer: str | None = None,
        cache_tool_keys: bool = False,
        blueprints: Iterable[Blueprint] = (),
    ) -> None:
        if profile not in PATHS:
            raise ValueError(f"profile must be 'moodle' or 'canvas', not {profile!r}")
        self.profile: Profile = profile
        self.key_set_delay = key_set_delay
        # "{base_url}" in the override is filled in at start(): the port is unknown before.
        self._issuer_template = issuer
        self._issuer: str | None = None
        self.cache_tool_keys = cache_tool_keys
        self.counts = RequestCounts()
        self._lock = threading.RLock()

        self._keys: dict[str, str] = {}
        self._jwk_cache: dict[str, dict[str, Any]] = {}
        self._signing_kid = self._publish(rsa_private_key_pem(f"platform-{profile}"))
        self._key_serial = 0
        # Canvas signs lti_message_hint with a secret of its own: the tool sees an opaque JWT.
        self._hint_secret = secrets.token_bytes(32)

        if profile == "moodle":
            # Moodle: a generated client id; the deployment is the tool type's id.
            self.client_id = _moodle_client_id()
            self.deployment_id = "1"
        else:
            # Canvas: numeric ids, unique across platforms of this process (one tool may
            # register many Canvas customers under the same issuer).
            self.client_id = _canvas_client_id()
            self.deployment_id = CANVAS_DEPLOYMENT_ID
        # Every client_id ever valid here -> its deployment_id (old ones stay valid).
        self._clients: dict[str, str] = {self.client_id: self.deployment_id}
        self._next_deployment = 2

        self.tool: ToolEndpoints | None = None
        self._tool_key_cache: dict[str, JWKS] = {}
        self._plans = _PlanRegistry()
        self._plan_serial = 0
        self._used_jtis: set[str] = set()
        self.issued_tokens: dict[str, IssuedToken] = {}
        self.granted_scopes: set[str] = set(LTI_1P3_ACCESS_TOKEN_SCOPES)
        if profile == "canvas":
            self.granted_scopes.add(SCOPE_CANVAS_PROGRESS)
        self.deep_link_results: list[dict[str, Any]] = []
        self.deep_link_responses: list[DeepLinkReturn] = []
        self.registration_tokens: set[str] = set()
        self.registrations: list[dict[str, Any]] = []
        self.require_token_for_configuration = False

        self._base_url: str | None = None
        self._init_services()
        self.app = self._build_app(blueprints)
        self._server = LoopbackServer(self.app)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Platform:
        """Serve the platform on 127.0.0.1 at a free port, in a daemon thread."""
        if self._server.running:
            return self
        self._services_started()
        self._base_url = self._server.start().base_url
        if self._issuer_template is not None:
            self._issuer = self._issuer_template.replace("{base_url}", self._base_url)
        elif self.profile == "moodle":
            self._issuer = self._base_url
        else:
            # Canvas uses one issuer for every customer; endpoints stay on loopback.
            self._issuer = "https://canvas.instructure.com"
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (hung or delayed service answers end at once)."""
        self._services_stopping()
        self._server.stop()

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Add more platform endpoints (AGS, NRPS, ...); only before start()."""
        if self._server.running:
            raise RuntimeError("register blueprints before start(): Flask forbids it after")
        self.app.register_blueprint(blueprint, **options)

    # -- addresses ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (after start())."""
        if self._base_url is None:
            raise RuntimeError("platform not started")
        return self._base_url

    @property
    def host(self) -> str:
        """The host part of base_url."""
        return "127.0.0.1"

    @property
    def issuer(self) -> str:
        """The `iss` of every id_token (moodle: base_url; canvas: https://canvas.instructure.com)."""
        if self._issuer is None:
            raise RuntimeError("platform not started")
        return self._issuer

    @issuer.setter
    def issuer(self, value: str) -> None:
        self._issuer = value

    def _url(self, name: str, **values: Any) -> str:
        path = PATHS[self.profile][name]
        if "<int:course>" in path:
            path = path.replace("<int:course>", str(values.get("course", 1)))
        return self.base_url + path

    @property
    def auth_login_url(self) -> str:
        """OIDC authorization endpoint."""
        return self._url("auth")

    @property
    def auth_token_url(self) -> str:
        """OAuth 2 token endpoint (client credentials with a JWT client assertion)."""
        return self._url("token")

    @property
    def key_set_url(self) -> str:
        """The platform's JWKS."""
        return self._url("jwks")

    @property
    def openid_configuration_url(self) -> str:
        """Dynamic registration: the platform's OpenID configuration."""
        return self._url("openid_configuration")

    @property
    def registration_endpoint(self) -> str:
        """Dynamic registration: where the tool POSTs its registration."""
        return self._url("registration")

    @property
    def deep_link_return_url(self) -> str:
        """Where deep-linking responses go (plans add the query string the real platform adds)."""
        return self._url("deep_link_return", course=1)

    def course_url(self, plan: LaunchPlan, course: int | None = None) -> str:
        """URL of the LMS course page that launches `plan` in an iframe."""
        return f"{self.base_url}/course/{course or plan.course}?plan={plan.id}"

    # -- keys -----------------------------------------------------------------------------------

    def _publish(self, pem: str) -> str:
        jwk = public_jwk(pem)
        with self._lock:
            self._keys[jwk["kid"]] = pem
            self._jwk_cache[jwk["kid"]] = jwk
        return str(jwk["kid"])

    @property
    def kid(self) -> str:
        """kid of the key the platform signs with now."""
        return self._signing_kid

    @property
    def private_key_pem(self) -> str:
        """The private key the platform signs with now."""
        return self._keys[self._signing_kid]

    @property
    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The key set served at key_set_url."""
        with self._lock:
            return {"keys": [dict(self._jwk_cache[k]) for k in self._keys]}

    def add_key(self) -> str:
        """Publish one more key (process-wide cache) without signing with it; return its kid."""
        with self._lock:
            self._key_serial += 1
            name = f"platform-{self.profile}-{self._key_serial}"
        return self._publish(rsa_private_key_pem(name))

    def rotate_key(self, retire_old: bool = False) -> str:
        """Publish a new key and sign with it from now on; return its kid."""
        old = self._signing_kid
        kid = self.add_key()
        with self._lock:
            self._signing_kid = kid
            if retire_old:
                self._keys.pop(old, None)
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing the key `kid` (it cannot be the signing key)."""
        with self._lock:
            if kid == self._signing_kid:
                raise ValueError("cannot unpublish the signing key; rotate first")
            self._keys.pop(kid, None)

    def sign(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, Any] | None = None,
        key_pem: str | None = None,
        alg: str = "RS256",
        secret: str | bytes | None = None,
    ) -> str:
        """Sign `claims` as this platform (RS256), or forge `alg="none"` / `alg="HS256"` tokens.

        `headers` are merged over {kid, alg, typ}; a value of None drops that header. HS256 uses
        `secret`, by default the platform's public key PEM (the key-confusion attack).
        """
        pem = key_pem or self.private_key_pem
        header: dict[str, Any] = {"kid": public_jwk(pem)["kid"] if key_pem else self.kid}
        header.update(headers or {})
        if alg == "RS256":
            extra = {k: v for k, v in header.items() if v is not None and k != "alg"}
            # PyJWT adds typ: JWT unless typ is given empty: that is how a caller drops it.
            if "typ" in header and header["typ"] is None:
                extra["typ"] = ""
            # lti1p3platform's signer; given the loaded key object (see keys.private_key).
            return Registration.encode_and_sign(
                dict(claims), private_key(pem), headers=extra
            )
        if alg == "HS256" and secret is None:
            secret = public_key_pem(self.private_key_pem)
        return encode_jwt(dict(claims), alg=alg, secret=secret, headers=header)

    # -- tool -----------------------------------------------------------------------------------

    def set_tool(
        self,
        login_url: str,
        launch_url: str,
        jwks_url: str,
        deep_link_url: str | None = None,
        *,
        redirect_uris: Iterable[str] = (),
    ) -> None:
        """Register the tool's endpoints (login initiation, launch, key set, deep linking)."""
        with self._lock:
            self.tool = ToolEndpoints(
                login_url, launch_url, jwks_url, deep_link_url, tuple(redirect_uris)
            )
            self._tool_key_cache.clear()

    def forget_tool_keys(self) -> None:
        """Drop the cached tool key set (only used with cache_tool_keys=True)."""
        with self._lock:
            self._tool_key_cache.clear()

    def _fetch_tool_keys(self, url: str, fetch: Callable[[str], JWKS]) -> JWKS:
        """Fetch the tool's key set with lti1p3platform's `fetch`, counted and maybe cached."""
        with self._lock:
            cached = self._tool_key_cache.get(url) if self.cache_tool_keys else None
        if cached is not None:
            return cached
        self.counts.add("tool_jwks")
        keys = fetch(url)
        if self.cache_tool_keys:
            with self._lock:
                self._tool_key_cache[url] = keys
        return keys

    def _conf(self, client_id: str, public_pem: str | None = None) -> _PlatformConf:
        """A fresh lti1p3platform configuration: no tool key set kept between requests."""
        reg = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(client_id)
            .set_deployment_id(self._clients.get(client_id, self.deployment_id))
            # The loaded key object, not the PEM: PyJWT accepts both and skips a ~20 ms reload.
            .set_platform_private_key(private_key(self.private_key_pem))
            .set_platform_public_key(public_pem or public_key_pem(self.private_key_pem))
        )
        if self.tool is not None:
            reg.set_tool_key_set_url(self.tool.jwks_url)
            reg.set_oidc_login_url(self.tool.login_url)
            reg.set_launch_url(self.tool.launch_url)
            if self.tool.deep_link_url:
                reg.set_deeplink_launch_url(self.tool.deep_link_url)
        conf = _PlatformConf(registration=reg, fetch=self._fetch_tool_keys)
        conf.get_registration()
        return conf

    # -- launch plans ---------------------------------------------------------------------------

    def plan(
        self,
        user: str | Mapping[str, Any] = "student",
        message_type: str = "LtiResourceLinkRequest",
        *,
        context: Mapping[str, Any] | None = None,
        resource_link: Mapping[str, Any] | None = None,
        custom: Mapping[str, Any] | None = None,
        target_link_uri: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        drop_claims: Iterable[str] = (),
        ags: bool | Mapping[str, Any] = True,
        nrps: bool | Mapping[str, Any] = True,
        locale: str = "en",
        course: int | None = None,
        document_target: str = "iframe",
        deep_linking: Mapping[str, Any] | None = None,
        dl_data: str | bool = True,
    ) -> LaunchPlan:
        """Register a launch the platform will sign when the tool's auth request names it."""
        if message_type not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
            raise ValueError(f"unsupported message_type {message_type!r}")
        who = make_user(self.profile, user)
        course = course if course is not None else (2 if self.profile == "moodle" else 1)
        with self._lock:
            self._plan_serial += 1
            serial = self._plan_serial
        plan_id = f"p{serial}{secrets.token_hex(3)}"
        sesskey = secrets.token_hex(5)
        data: str | None
        if dl_data is True:
            data = (
                secrets.token_urlsafe(16)
                if self.profile == "moodle"
                # Canvas's `data` is a JWT of its own.
                else encode_jwt({"verifier": secrets.token_hex(16), "plan": plan_id},
                                alg="HS256", secret=self._hint_secret)
            )
        elif dl_data is False:
            data = None
        else:
            data = dl_data
        if self.profile == "moodle":
            login_hint = who.id
            instance = (resource_link or {}).get("id", "1")
            hint = json.dumps(
                {"cmid": serial, "launchid": f"ltilaunch{instance}_{secrets.randbelow(10**9)}"},
                separators=(",", ":"),
            )
        else:
            login_hint = who.opaque_id
            hint = encode_jwt(
                {
                    "verifier": secrets.token_hex(64),
                    "canvas_domain": self.host,
                    "context_type": "Course",
                    "context_id": course,
                    "canvas_locale": locale,
                    "include_storage_target": True,
                    "exp": int(time.time()) + 300,
                },
                alg="HS256",
                secret=self._hint_secret,
            )
        plan = LaunchPlan(
            platform=self,
            id=plan_id,
            user=who,
            message_type=message_type,
            course=course,
            client_id=self.client_id,
            deployment_id=self.deployment_id,
            login_hint=login_hint,
            lti_message_hint=hint,
            locale=locale,
            document_target=document_target,
            context=context,
            resource_link=resource_link,
            custom=custom,
            target_link_uri=target_link_uri,
            extra_claims=extra_claims,
            drop_claims=tuple(drop_claims),
            ags=ags,
            nrps=nrps,
            deep_linking=deep_linking,
            dl_data=data,
            sesskey=sesskey,
        )
        with self._lock:
            self._plans.by_id[plan.id] = plan
            self._plans.by_hint[hint] = plan
            self._plans.by_sesskey[sesskey] = plan
            if data is not None and plan.is_deep_link:
                self._plans.by_dl_data[data] = plan
        self._services_on_plan(plan)
        return plan

    @property
    def plans(self) -> dict[str, LaunchPlan]:
        """Every plan made so far, by id."""
        return self._plans.by_id

    def claims_for(self, plan: LaunchPlan, nonce: str) -> dict[str, Any]:
        """The id_token body the auth endpoint would sign for `plan` and `nonce`."""
        return plan.claims(nonce)

    # -- services -------------------------------------------------------------------------------

    def check_bearer(self, req: Any, scope: str | Iterable[str]) -> IssuedToken:
        """Check `Authorization: Bearer` on a service request; raise 401/403 JSON HTTPExceptions."""
        token = _bearer(req.headers)
        if token is None:
            raise Unauthorized(
                response=self._bearer_error(401, "invalid_request", "no bearer token")
            )
        with self._lock:
            issued = self.issued_tokens.get(token)
        if issued is None:
            raise Unauthorized(response=self._bearer_error(401, "invalid_token", "unknown token"))
        reg = Registration().set_iss(self.issuer).set_platform_public_key(issued.public_key_pem)
        conf = _PlatformConf(registration=reg, fetch=self._fetch_tool_keys)
        conf.get_registration()
        try:
            conf.validate_token(token)
        except (LtiException, jwt.PyJWTError) as err:
            raise Unauthorized(response=self._bearer_error(401, "invalid_token", str(err))) from err
        wanted = {scope} if isinstance(scope, str) else set(scope)
        if not wanted & issued.scopes:
            raise Forbidden(
                response=self._bearer_error(403, "insufficient_scope", " or ".join(sorted(wanted)))
            )
        return issued

    @staticmethod
    def _bearer_error(status: int, error: str, description: str) -> Response:
        resp = Response(
            json.dumps({"error": error, "error_description": description}),
            status=status,
            mimetype="application/json",
        )
        resp.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
        return resp

    # -- dynamic registration -------------------------------------------------------------------

    def new_registration_token(self) -> str:
        """Make a single-use registration token (a signed JWT naming the client_id to come)."""
        with self._lock:
            client_id = _moodle_client_id() if self.profile == "moodle" else _canvas_client_id()
        now = int(time.time())
        token = self.sign(
            {"sub": client_id, "scope": "reg", "iat": now, "exp": now + 3600,
             "jti": secrets.token_hex(8)}
        )
        with self._lock:
            self.registration_tokens.add(token)
        return token

    def registration_initiation_url(self, tool_registration_url: str) -> str:
        """The URL a platform admin opens to start dynamic registration with the tool."""
        sep = "&" if "?" in tool_registration_url else "?"
        query = urlencode(
            {
                "openid_configuration": self.openid_configuration_url,
                "registration_token": self.new_registration_token(),
            }
        )
        return f"{tool_registration_url}{sep}{query}"

    def openid_configuration(self) -> dict[str, Any]:
        """The platform's OpenID configuration (LTI Dynamic Registration 1.0 §3.4)."""
        scopes = ["openid", *sorted(self.granted_scopes)]
        messages: list[dict[str, Any]]
        if self.profile == "moodle":
            version = MOODLE_VERSION
            messages = [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]
        else:
            version = "OpenSource"
            messages = [
                {"type": "LtiResourceLinkRequest",
                 "placements": ["course_navigation", "assignment_selection", "link_selection"]},
                {"type": "LtiDeepLinkingRequest",
                 "placements": ["assignment_selection", "link_selection", "editor_button"]},
            ]
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_login_url,
            "token_endpoint": self.auth_token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.key_set_url,
            "registration_endpoint": self.registration_endpoint,
            "scopes_supported": scopes,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": list(_CLAIMS_SUPPORTED),
            PLATFORM_CONFIGURATION: {
                "product_family_code": self.profile,
                "version": version,
                "messages_supported": messages,
                "variables": list(_VARIABLES[self.profile]),
            },
        }

    def _registration_problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["body must be a JSON object"]
        problems = []
        if body.get("application_type") != "web":
            problems.append("application_type must be web")
        if "id_token" not in (body.get("response_types") or []):
            problems.append("response_types must contain id_token")
        grants = body.get("grant_types") or []
        for grant in ("implicit", "client_credentials"):
            if grant not in grants:
                problems.append(f"grant_types must contain {grant}")
        for name in ("initiate_login_uri", "jwks_uri"):
            if not isinstance(body.get(name), str) or not body[name]:
                problems.append(f"{name} is required")
        uris = body.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            problems.append("redirect_uris must be a non-empty list of URLs")
        if body.get("token_endpoint_auth_method") != "private_key_jwt":
            problems.append("token_endpoint_auth_method must be private_key_jwt")
        if self.profile == "moodle" and not body.get("client_name"):
            # Moodle's registration_helper refuses a registration without client_name.
            problems.append("client_name is required")
        conf = body.get(TOOL_CONFIGURATION)
        if not isinstance(conf, dict):
            problems.append(f"{TOOL_CONFIGURATION} is required")
        else:
            for name in ("domain", "target_link_uri"):
                if not isinstance(conf.get(name), str) or not conf[name]:
                    problems.append(f"{TOOL_CONFIGURATION}.{name} is required")
            if not isinstance(conf.get("messages"), list):
                problems.append(f"{TOOL_CONFIGURATION}.messages must be a list")
        return problems

    def _new_deployment_id(self) -> str:
        with self._lock:
            n = self._next_deployment
            self._next_deployment += 1
        if self.profile == "moodle":
            return str(n)
        return f"{n + 6}:{secrets.token_hex(20)}"

    # -- HTTP -----------------------------------------------------------------------------------

    def _build_app(self, blueprints: Iterable[Blueprint]) -> Flask:
        app = Flask(f"lti_platform_{self.profile}")
        paths = PATHS[self.profile]
        app.add_url_rule(paths["jwks"], "jwks", self._view_jwks, methods=["GET"])
        app.add_url_rule(paths["auth"], "auth", self._view_auth, methods=["GET", "POST"])
        app.add_url_rule(paths["token"], "token", self._view_token, methods=["POST"])
        app.add_url_rule(
            paths["deep_link_return"], "deep_link_return", self._view_deep_link_return,
            methods=["POST"],
        )
        app.add_url_rule(
            paths["openid_configuration"], "openid_configuration",
            self._view_openid_configuration, methods=["GET"],
        )
        app.add_url_rule(
            paths["registration"], "registration", self._view_registration, methods=["POST"]
        )
        app.add_url_rule("/course/<int:course>", "course", self._view_course, methods=["GET"])
        self._register_services(app)
        for bp in blueprints:
            app.register_blueprint(bp)
        return app

    def _view_jwks(self) -> Response:
        self.counts.add("jwks")
        if self.key_set_delay:
            time.sleep(self.key_set_delay)
        return jsonify(self.public_jwks)

    def _view_auth(self) -> Response:
        self.counts.add("auth")
        params = request.values
        for name in ("scope", "response_type", "response_mode", "prompt", "client_id",
                     "redirect_uri", "login_hint", "nonce", "state"):
            if not params.get(name):
                return _text_error(f"invalid_request: missing {name}")
        if "openid" not in params["scope"].split():
            return _text_error("invalid_scope: scope must include openid")
        if params["response_type"] != "id_token":
            return _text_error("unsupported_response_type: response_type must be id_token")
        if params["response_mode"] != "form_post":
            return _text_error("invalid_request: response_mode must be form_post")
        if params["prompt"] != "none":
            return _text_error("invalid_request: prompt must be none")
        client_id = params["client_id"]
        if client_id not in self._clients:
            return _text_error("unauthorized_client: unknown client_id")
        tool = self.tool
        if tool is None:
            return _text_error("invalid_request: no tool registered")
        redirect_uri = params["redirect_uri"]
        if redirect_uri not in tool.allowed_redirects():
            return _text_error("invalid_request: unregistered redirect_uri")
        plan = self._plans.by_hint.get(params.get("lti_message_hint", ""))
        if plan is None:
            return _text_error("invalid_request: unknown lti_message_hint")
        if plan.login_hint != params["login_hint"]:
            return _text_error("access_denied: login_hint is not the launching user")
        if plan.client_id != client_id:
            return _text_error("unauthorized_client: client_id does not match the launch")
        id_token = self.sign(plan.claims(params["nonce"]))
        html = pages.auto_post_form(redirect_uri, {"id_token": id_token, "state": params["state"]})
        return Response(html, mimetype="text/html")

    def _view_token(self) -> Response | tuple[Response, int]:
        self.counts.add("token")
        form = request.form
        for name in ("grant_type", "client_assertion_type", "client_assertion", "scope"):
            if not form.get(name):
                return _json_error(400, "invalid_request", f"missing {name}")
        if form["grant_type"] != "client_credentials":
            return _json_error(400, "unsupported_grant_type")
        if form["client_assertion_type"] != JWT_BEARER:
            return _json_error(400, "invalid_request", "client_assertion_type must be jwt-bearer")
        if self.tool is None:
            return _json_error(401, "invalid_client", "no tool registered")
        assertion = form["client_assertion"]
        try:
            header, unverified = unverified_parts(assertion)
        except jwt.PyJWTError as err:
            return _json_error(401, "invalid_client", f"malformed assertion: {err}")
        client_id = unverified.get("sub")
        if not isinstance(client_id, str) or client_id not in self._clients:
            return _json_error(401, "invalid_client", "sub is not a known client_id")
        if not header.get("kid"):
            # Canvas refuses an assertion without kid; lti1p3platform does too.
            return _json_error(401, "invalid_client", "assertion header has no kid")
        conf = self._conf(client_id)
        try:
            claims = conf.tool_validate_and_decode(assertion)
        except (LtiException, InvalidKeySetUrl, jwt.PyJWTError) as err:
            return _json_error(401, "invalid_client", f"assertion rejected: {err}")
        missing = [c for c in ("iss", "sub", "aud", "exp", "iat", "jti") if c not in claims]
        if missing:
            return _json_error(401, "invalid_client", f"assertion lacks {', '.join(missing)}")
        if claims["iss"] != client_id:
            return _json_error(401, "invalid_client", "iss must equal sub (the client_id)")
        if not {self.auth_token_url, self.issuer} & set(_aud_list(claims["aud"])):
            return _json_error(401, "invalid_client", "aud must name the token endpoint")
        with self._lock:
            if claims["jti"] in self._used_jtis:
                return _json_error(401, "invalid_client", "jti already used")
            self._used_jtis.add(claims["jti"])
        requested = form["scope"].split()
        granted = [s for s in requested if s in self.granted_scopes]
        if not granted:
            return _json_error(400, "invalid_scope", "no requested scope is granted")
        data = dict(form)
        data["scope"] = " ".join(granted)
        try:
            answer = dict(conf.get_access_token(data))
        except (MissingRequiredClaim, UnsupportedGrantType, LtiException, jwt.PyJWTError) as err:
            return _json_error(400, "invalid_request", str(err))
        # lti1p3platform answers "bearer" and keeps only its own scope list; RFC 6750 spells
        # "Bearer", and Canvas grants scopes outside that list.
        answer["token_type"] = "Bearer"
        answer["scope"] = " ".join(granted)
        issued = IssuedToken(
            access_token=answer["access_token"],
            client_id=client_id,
            scopes=frozenset(granted),
            expires_at=time.time() + answer["expires_in"],
            public_key_pem=public_key_pem(self.private_key_pem),
        )
        with self._lock:
            self.issued_tokens[issued.access_token] = issued
        return jsonify(answer)

    def _find_dl_plan(self, sesskey: str | None, data: Any) -> tuple[LaunchPlan | None, str]:
        plans = self._plans
        if sesskey:
            plan = plans.by_sesskey.get(sesskey)
            if plan is None or not plan.is_deep_link:
                return None, "unknown sesskey"
            return plan, ""
        if isinstance(data, str):
            plan = plans.by_dl_data.get(data)
            return (plan, "") if plan else (None, "data does not match any deep-linking request")
        if plans.by_dl_data:
            return None, "data claim missing"
        return None, ""

    def _view_deep_link_return(self, course: int | None = None) -> Response:
        self.counts.add("deep_link_return")
        token = request.form.get("JWT")
        if not token:
            return _text_error("missing JWT form field")
        try:
            _, claims = unverified_parts(token)
        except jwt.PyJWTError as err:
            return _text_error(f"malformed JWT: {err}")
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or client_id not in self._clients:
            return _text_error("iss is not a known client_id")
        if self.tool is None:
            return _text_error("no tool registered")
        plan, problem = self._find_dl_plan(request.args.get("sesskey"), claims.get(CLAIM_DL_DATA))
        if problem:
            return _text_error(problem)
        conf = self._conf(client_id)
        settings: Mapping[str, Any] = {}
        if plan is not None:
            settings = plan.claims("-")[CLAIM_DL_SETTINGS]
            conf.set_accepted_deeplinking_types(list(settings.get("accept_types", [])))
        try:
            # Checks kid, signature (tool JWKS), exp, message_type and content item types.
            items = conf.validate_deeplinking_resp({"JWT": token})
        except (LtiException, LtiDeepLinkingResponseException, InvalidKeySetUrl,
                jwt.PyJWTError, KeyError, TypeError) as err:
            return _text_error(f"deep linking response rejected: {err}")
        if claims.get(CLAIM_MESSAGE_TYPE) != "LtiDeepLinkingResponse":
            return _text_error("message_type must be LtiDeepLinkingResponse")
        if self.issuer not in _aud_list(claims.get("aud")):
            return _text_error("aud must be the platform issuer")
        if claims.get(CLAIM_DEPLOYMENT_ID) != self._clients[client_id]:
            return _text_error("deployment_id does not match")
        for name in ("nonce", "iat", "exp"):
            if name not in claims:
                return _text_error(f"{name} claim missing")
        if plan is not None:
            if plan.client_id != client_id:
                return _text_error("iss does not match the deep-linking request's client_id")
            if plan.dl_data is not None and claims.get(CLAIM_DL_DATA) != plan.dl_data:
                return _text_error("data claim does not echo the request's data")
            if not settings.get("accept_multiple", True) and len(items) > 1:
                return _text_error("several content items but accept_multiple is false")
        if not isinstance(claims.get(CLAIM_DL_CONTENT_ITEMS, []), list):
            return _text_error("content_items must be a list")
        with self._lock:
            self.deep_link_results.extend(items)
            self.deep_link_responses.append(
                DeepLinkReturn(claims=claims, items=list(items), plan_id=plan.id if plan else None)
            )
        html = pages.content_added_page(
            list(items), claims.get(CLAIM_DL_MSG), claims.get(CLAIM_DL_ERRORMSG)
        )
        return Response(html, mimetype="text/html")

    def _view_openid_configuration(self) -> Response | tuple[Response, int]:
        self.counts.add("openid_configuration")
        if self.require_token_for_configuration:
            token = _bearer(request.headers)
            with self._lock:
                known = token in self.registration_tokens
            if not known:
                return _json_error(401, "invalid_token", "registration token required")
        return jsonify(self.openid_configuration())

    def _view_registration(self) -> Response | tuple[Response, int]:
        self.counts.add("registration")
        token = _bearer(request.headers)
        with self._lock:
            known = token is not None and token in self.registration_tokens
        if not known:
            return _json_error(401, "invalid_token", "unknown or used registration token")
        body = request.get_json(silent=True)
        problems = self._registration_problems(body)
        if problems:
            return _json_error(400, "invalid_client_metadata", "; ".join(problems))
        assert token is not None and isinstance(body, dict)
        with self._lock:
            if token not in self.registration_tokens:
                return _json_error(401, "invalid_token", "registration token already used")
            # Single use, spent only on success so a tool can fix its request and retry.
            self.registration_tokens.discard(token)
        _, token_claims = unverified_parts(token)
        client_id = str(token_claims["sub"])
        deployment_id = self._new_deployment_id()
        tool_conf = dict(body[TOOL_CONFIGURATION])
        deep_link_url = next(
            (m.get("target_link_uri") for m in tool_conf["messages"]
             if isinstance(m, dict) and m.get("type") == "LtiDeepLinkingRequest"),
            None,
        )
        self.set_tool(
            login_url=body["initiate_login_uri"],
            launch_url=tool_conf["target_link_uri"],
            jwks_url=body["jwks_uri"],
            deep_link_url=deep_link_url,
            redirect_uris=body["redirect_uris"],
        )
        answer = dict(body)
        answer["client_id"] = client_id
        tool_conf["deployment_id"] = deployment_id
        answer[TOOL_CONFIGURATION] = tool_conf
        with self._lock:
            self._clients[client_id] = deployment_id
            self.client_id = client_id
            self.deployment_id = deployment_id
            self.registrations.append(answer)
        return jsonify(answer)

    def _view_course(self, course: int) -> Response:
        self.counts.add("course")
        plan = self._plans.by_id.get(request.args.get("plan", ""))
        if plan is None:
            return _text_error("unknown plan", 404)
        if self.tool is None:
            return _text_error("no tool registered")
        html = pages.course_page(
            course, self.tool.login_url, plan.login_params, storage=self.profile == "canvas"
        )
        return Response(html, mimetype="text/html")

    def reset_counts(self) -> None:
        """Zero the per-endpoint request counts."""
        self.counts.reset()


__all__ = [
    "DeepLinkReturn",
    "IssuedToken",
    "Platform",
    "RequestCounts",
    "ToolEndpoints",
]
