"""The demo LMS as an LTI 1.3 platform: its key, its URLs, the id_token it signs, the access
tokens it grants and the AGS/NRPS answers it serves (no Flask here: the views call these).

It is a real platform, not a shortcut into the tool: the tool validates its id_tokens against
its key set over HTTP, asks its token endpoint for AGS/NRPS tokens with a signed client
assertion, posts scores to its line items and pulls its roster, as it does with Moodle.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..http import is_loopback_url
from ..lti.constants import LTI_VERSION, Claim, MessageType, Scope
from ..settings import Settings
from .models import DemoLineItem, DemoLink, DemoScore
from .people import BY_SUB, COURSES, Course, Person, members_of, roles_in

KEY_FILE = "demo-platform.pem"
CLIENT_ID = "demo-lms-client"
DEPLOYMENT_ID = "demo-deployment-1"
PRODUCT_FAMILY = "lti-tool-demo"  # marks the demo platform row in the tool's platforms table
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_SECONDS = 3600
ID_TOKEN_SECONDS = 300


@dataclass(frozen=True)
class DemoLms:
    """The demo LMS's parts, built once at start-up (demo.init_app)."""

    urls: Urls
    key: PlatformKey
    tokens: Tokens


def enabled(settings: Settings) -> bool:
    """The demo runs only on the embedded default: a loopback BASE_URL, development mode, and
    `demo.enabled` not switched off."""
    return (
        is_loopback_url(settings.tool.base_url)
        and not settings.is_production
        and settings.demo.enabled
    )


def demo_site(base_url: str) -> str:
    """The demo LMS's own site: the tool's address with the other loopback name, so that the
    course page frames the tool cross-site (a different port alone is the same site)."""
    parts = urlsplit(base_url)
    other = "127.0.0.1" if (parts.hostname or "") == "localhost" else "localhost"
    netloc = other + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "", "", "")).rstrip("/")


@dataclass(frozen=True)
class Urls:
    """The platform's endpoints, under its own site."""

    site: str
    tool: str

    @property
    def issuer(self) -> str:
        return self.site + "/demo"

    @property
    def auth(self) -> str:
        return self.site + "/demo/auth"

    @property
    def token(self) -> str:
        return self.site + "/demo/token"

    @property
    def jwks(self) -> str:
        return self.site + "/demo/jwks"

    @property
    def deep_link_return(self) -> str:
        return self.site + "/demo/deep-link-return"

    def lineitems(self, context_id: str) -> str:
        return f"{self.site}/demo/ags/{context_id}/lineitems"

    def lineitem(self, context_id: str, item_id: int) -> str:
        return f"{self.lineitems(context_id)}/{item_id}"

    def memberships(self, context_id: str) -> str:
        return f"{self.site}/demo/nrps/{context_id}/memberships"

    @property
    def tool_login(self) -> str:
        return self.tool + "/lti/login"

    @property
    def tool_launch(self) -> str:
        return self.tool + "/lti/launch"


def urls_for(base_url: str) -> Urls:
    """The demo platform's URLs for a tool served at `base_url`."""
    return Urls(site=demo_site(base_url), tool=base_url.rstrip("/"))


class PlatformKey:
    """The demo platform's own RSA key, a 0600 PEM file in the keys directory."""

    def __init__(self, keys_dir: str | Path):
        self.path = Path(keys_dir) / KEY_FILE
        self._lock = threading.Lock()
        self._pem: bytes | None = None

    def private_pem(self) -> bytes:
        """The private key, generated on first use."""
        with self._lock:
            if self._pem is None:
                if not self.path.exists():
                    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    pem = key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    except FileExistsError:
                        pass  # another process wrote it first: read theirs
                    else:
                        with os.fdopen(fd, "wb") as fh:
                            fh.write(pem)
                self._pem = self.path.read_bytes()
            return self._pem

    @property
    def kid(self) -> str:
        """The key's id: its JWK thumbprint."""
        return JWK.from_pem(self.private_pem()).thumbprint()

    def jwks(self) -> dict:
        """The public key set the tool fetches."""
        import json

        jwk = json.loads(JWK.from_pem(self.private_pem()).export_public())
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def sign(self, claims: dict) -> str:
        """An RS256 JWT signed with this key."""
        return jwt.encode(claims, self.private_pem(), algorithm="RS256", headers={"kid": self.kid})


def id_token_claims(
    urls: Urls,
    person: Person,
    course: Course,
    *,
    nonce: str,
    locale: str,
    deep_linking: bool = False,
    link_item_id: int | None = None,
    link_custom: dict | None = None,
) -> dict:
    """The id_token body of a launch from `course` as `person` (LTI 1.3 Core §5.3)."""
    now = int(time.time())
    claims: dict = {
        "iss": urls.issuer,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": person.sub,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "nonce": nonce,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        "locale": locale,
        Claim.VERSION.value: LTI_VERSION,
        Claim.DEPLOYMENT_ID.value: DEPLOYMENT_ID,
        Claim.TARGET_LINK_URI.value: urls.tool_launch,
        Claim.ROLES.value: roles_in(person, course.context_id),
        Claim.CONTEXT.value: {
            "id": course.context_id,
            "label": course.label,
            "title": course.title,
            "type": ["CourseOffering"],
        },
        Claim.TOOL_PLATFORM.value: {
            "guid": urls.issuer,
            "name": "Demo LMS",
            "product_family_code": PRODUCT_FAMILY,
            "version": "1",
        },
        Claim.LAUNCH_PRESENTATION.value: {
            "document_target": "iframe",
            "locale": locale,
            "return_url": f"{urls.site}/demo/course/{course.context_id}",
        },
        Claim.NRPS.value: {
            "context_memberships_url": urls.memberships(course.context_id),
            "service_versions": ["2.0"],
        },
    }
    ags: dict = {
        "scope": [
            s.value
            for s in (
                Scope.AGS_LINEITEM,
                Scope.AGS_LINEITEM_READONLY,
                Scope.AGS_RESULT_READONLY,
                Scope.AGS_SCORE,
            )
        ],
        "lineitems": urls.lineitems(course.context_id),
    }
    if deep_linking:
        claims[Claim.MESSAGE_TYPE.value] = MessageType.DEEP_LINKING.value
        claims[Claim.DEEP_LINKING_SETTINGS.value] = {
            "deep_link_return_url": urls.deep_link_return,
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
            "accept_multiple": True,
            "auto_create": True,
            "data": course.context_id,
        }
    else:
        claims[Claim.MESSAGE_TYPE.value] = MessageType.RESOURCE_LINK.value
        claims[Claim.RESOURCE_LINK.value] = {"id": course.link_id, "title": course.link_title}
        claims[Claim.CUSTOM.value] = {**(link_custom or {}), "placement": course.placement}
        if link_item_id is not None:
            ags["lineitem"] = urls.lineitem(course.context_id, link_item_id)
    claims[Claim.AGS_ENDPOINT.value] = ags
    return claims


class ClientError(Exception):
    """An OAuth2 or service request the platform refuses: (status, error code, description)."""

    def __init__(self, status: int, error: str, description: str = ""):
        super().__init__(description or error)
        self.status, self.error, self.description = status, error, description


@dataclass
class Grant:
    """An access token the platform issued."""

    scopes: frozenset[str]
    expires_at: float


@dataclass
class Tokens:
    """Issued access tokens and used assertion ids, in this process (the demo runs in one)."""

    grants: dict[str, Grant] = field(default_factory=dict)
    used_jtis: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, form: dict[str, str], *, token_url: str, tool_jwks: dict) -> dict:
        """OAuth2 client_credentials with a JWT client assertion (1EdTech Security Framework
        §4.1), checked against the tool's published key set."""
        if form.get("grant_type") != "client_credentials":
            raise ClientError(400, "unsupported_grant_type")
        if form.get("client_assertion_type") != JWT_BEARER:
            raise ClientError(400, "invalid_request", "client_assertion_type must be jwt-bearer")
        assertion = form.get("client_assertion") or ""
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            keys = {k.get("kid"): k for k in tool_jwks.get("keys", [])}
            if kid not in keys:
                raise ClientError(401, "invalid_client", "unknown kid")
            key = jwt.PyJWK(keys[kid]).key
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=token_url,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as err:
            raise ClientError(401, "invalid_client", f"assertion rejected: {err}") from err
        if claims["iss"] != CLIENT_ID or claims["sub"] != CLIENT_ID:
            raise ClientError(401, "invalid_client", "iss and sub must be the client_id")
        now = time.time()
        granted = frozenset(
            s for s in str(form.get("scope") or "").split() if s in {scope.value for scope in Scope}
        )
        if not granted:
            raise ClientError(400, "invalid_scope")
        token = secrets.token_urlsafe(32)
        with self.lock:
            for old in [j for j, exp in self.used_jtis.items() if exp < now]:
                del self.used_jtis[old]
            if claims["jti"] in self.used_jtis:
                raise ClientError(401, "invalid_client", "jti already used")
            self.used_jtis[claims["jti"]] = float(claims["exp"])
            for old in [t for t, g in self.grants.items() if g.expires_at < now]:
                del self.grants[old]
            self.grants[token] = Grant(granted, now + TOKEN_SECONDS)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": " ".join(sorted(granted)),
        }

    def check(self, authorization: str | None, *scopes: Scope) -> None:
        """Refuse a service request whose bearer token is unknown, expired or lacks the scope."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self.lock:
            grant = self.grants.get(token)
        if grant is None or grant.expires_at < time.time():
            raise ClientError(401, "invalid_token")
        if not {s.value for s in scopes} & grant.scopes:
            raise ClientError(403, "insufficient_scope")


# -- AGS 2.0 and NRPS 2.0, served from the demo's own tables ------------------------------------


def course_of(context_id: str) -> Course:
    """The demo course, or a 404-worthy KeyError."""
    return COURSES[context_id]


def line_item_json(urls: Urls, item: DemoLineItem) -> dict:
    """A line item as AGS 2.0 §3.2 describes it."""
    body: dict = {
        "id": urls.lineitem(item.context_id, item.id),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    if item.resource_link_id:
        body["resourceLinkId"] = item.resource_link_id
    if item.resource_id:
        body["resourceId"] = item.resource_id
    if item.tag:
        body["tag"] = item.tag
    return body


def line_items(db: Session, context_id: str, filters: dict[str, str]) -> list[DemoLineItem]:
    """The course's line items, filtered as AGS 2.0 §3.2.4 allows."""
    query = select(DemoLineItem).where(DemoLineItem.context_id == context_id)
    if filters.get("resource_link_id"):
        query = query.where(DemoLineItem.resource_link_id == filters["resource_link_id"])
    if filters.get("resource_id"):
        query = query.where(DemoLineItem.resource_id == filters["resource_id"])
    if filters.get("tag"):
        query = query.where(DemoLineItem.tag == filters["tag"])
    return list(db.scalars(query.order_by(DemoLineItem.id)))


def save_line_item(
    db: Session, context_id: str, body: object, item: DemoLineItem | None = None
) -> DemoLineItem:
    """Create a line item (POST) or replace one (PUT) from its JSON."""
    if not isinstance(body, dict):
        raise ClientError(400, "invalid_request", "a JSON object is expected")
    try:
        maximum = float(body.get("scoreMaximum", 100))
    except (TypeError, ValueError) as err:
        raise ClientError(400, "invalid_request", "scoreMaximum must be a number") from err
    if not maximum > 0 or not str(body.get("label") or "").strip():
        raise ClientError(400, "invalid_request", "label and a positive scoreMaximum needed")
    if item is None:
        item = DemoLineItem(context_id=context_id)
        db.add(item)
    item.label = str(body["label"])[:255]
    item.score_maximum = maximum
    item.resource_link_id = str(body.get("resourceLinkId") or "")[:255] or None
    item.resource_id = str(body.get("resourceId") or "")[:255]
    item.tag = str(body.get("tag") or "")[:255]
    db.flush()
    return item


def _time(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as err:
        raise ClientError(400, "invalid_request", "timestamp must be ISO 8601") from err


def post_score(db: Session, item: DemoLineItem, body: object) -> None:
    """Keep a score (AGS 2.0 §3.4): an older timestamp than the kept one is refused (409)."""
    if not isinstance(body, dict) or not isinstance(body.get("userId"), str):
        raise ClientError(400, "invalid_request", "userId is required")
    if body["userId"] not in BY_SUB:
        raise ClientError(404, "invalid_request", "no such user in the course")
    for name in ("activityProgress", "gradingProgress", "timestamp"):
        if not body.get(name):
            raise ClientError(400, "invalid_request", f"{name} is required")
    at = _time(body["timestamp"])
    score = db.get(DemoScore, (item.id, body["userId"]))
    if score is not None and score.timestamp >= at:
        raise ClientError(409, "invalid_request", "a newer score is already kept")
    if score is None:
        score = DemoScore(line_item_id=item.id, user_sub=body["userId"])
        db.add(score)
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None and not isinstance(given, int | float):
        raise ClientError(400, "invalid_request", "scoreGiven must be a number")
    if maximum is not None and not isinstance(maximum, int | float):
        raise ClientError(400, "invalid_request", "scoreMaximum must be a number")
    score.score_given = float(given) if given is not None else None
    score.score_maximum = float(maximum) if maximum is not None else None
    score.activity_progress = str(body["activityProgress"])[:32]
    score.grading_progress = str(body["gradingProgress"])[:32]
    score.comment = str(body.get("comment") or "")[:1024]
    score.timestamp = at
    db.flush()


def results(db: Session, urls: Urls, item: DemoLineItem) -> list[dict]:
    """The line item's results (AGS 2.0 §3.3)."""
    rows = db.scalars(
        select(DemoScore).where(DemoScore.line_item_id == item.id).order_by(DemoScore.user_sub)
    )
    own = urls.lineitem(item.context_id, item.id)
    return [
        {
            "id": f"{own}/results/{row.user_sub}",
            "scoreOf": own,
            "userId": row.user_sub,
            "resultScore": row.score_given,
            "resultMaximum": row.score_maximum or item.score_maximum,
            **({"comment": row.comment} if row.comment else {}),
        }
        for row in rows
        if row.score_given is not None
    ]


def memberships(urls: Urls, course: Course) -> dict:
    """The course roster (NRPS 2.0 §2.2)."""
    return {
        "id": urls.memberships(course.context_id),
        "context": {"id": course.context_id, "label": course.label, "title": course.title},
        "members": [
            {
                "user_id": p.sub,
                "roles": list(p.roles[course.context_id]),
                "status": "Active",
                "name": p.name,
                "given_name": p.given_name,
                "family_name": p.family_name,
                "email": p.email,
            }
            for p in members_of(course.context_id)
        ],
    }


def gradebook(db: Session, context_id: str) -> list[tuple[DemoLineItem, dict[str, DemoScore]]]:
    """The course's gradebook as the demo LMS shows it: each column and its scores."""
    items = line_items(db, context_id, {})
    scores: dict[int, dict[str, DemoScore]] = {item.id: {} for item in items}
    if items:
        for row in db.scalars(
            select(DemoScore).where(DemoScore.line_item_id.in_([item.id for item in items]))
        ):
            scores[row.line_item_id][row.user_sub] = row
    return [(item, scores[item.id]) for item in items]


def link_custom(db: Session, course: Course) -> dict:
    """The custom parameters the LMS keeps for the course's activity."""
    link = db.scalars(select(DemoLink).where(DemoLink.link_id == course.link_id)).first()
    return dict(link.custom) if link is not None else {}
