"""Platform registrations in the database, offered to pylti1p3 as its tool config."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..cache import Cache, CacheError
from .keys import Keyring
from .models import Deployment, Platform


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, or '' when it has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class PlatformInfo:
    """What a launch needs to know of a registration, detached from any DB session."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    status: str
    deployment_ids: frozenset[str]
    allow_unbound_launch: bool = False


def find_platform(db: Session, issuer: str, client_id: str | None) -> Platform | None:
    """The registration for (issuer, client_id); with no client_id, the issuer's only one."""
    query = select(Platform).options(selectinload(Platform.deployments)).where(
        Platform.issuer == issuer)
    if client_id:
        return db.scalars(query.where(Platform.client_id == client_id)).first()
    platforms = db.scalars(query.limit(2)).all()
    return platforms[0] if len(platforms) == 1 else None


def platform_info(platform: Platform) -> PlatformInfo:
    """A frozen copy of a registration."""
    return PlatformInfo(
        id=platform.id, issuer=platform.issuer, client_id=platform.client_id,
        auth_login_url=platform.auth_login_url, auth_token_url=platform.auth_token_url,
        key_set_url=platform.key_set_url, auth_audience=platform.auth_audience,
        status=platform.status,
        deployment_ids=frozenset(d.deployment_id for d in platform.deployments),
        allow_unbound_launch=bool(platform.allow_unbound_launch),
    )


class PlatformCache:
    """Registrations by (issuer, client_id), re-read from the database after `ttl` seconds.

    Every login and launch needs its registration; reading it costs two queries. Changes made
    in this process invalidate at once; changes by the CLI (another process) within `ttl`,
    or at once when a shared cache (Redis) carries the invalidation to every process.
    """

    GENERATION_KEY = "platforms-generation"

    def __init__(self, ttl: float = 30.0, shared: Cache | None = None):
        self.ttl = ttl
        self.shared = shared
        self._generation: int | None = None
        self._entries: dict[tuple[str, str | None], tuple[float, PlatformInfo]] = {}
        self._lock = threading.Lock()

    def get(self, db: Session, issuer: str, client_id: str | None) -> PlatformInfo | None:
        """The registration, or None when there is none (misses are not cached)."""
        self._follow_invalidations()
        key = (issuer, client_id)
        entry = self._entries.get(key)
        if entry and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        platform = find_platform(db, issuer, client_id)
        if platform is None:
            return None
        info = platform_info(platform)
        with self._lock:
            self._entries[key] = (time.monotonic(), info)
        return info

    def invalidate(self) -> None:
        """Forget every cached registration (in every process, with a shared cache)."""
        with self._lock:
            self._entries.clear()
        if self.shared is not None:
            try:
                self.shared.incr(self.GENERATION_KEY)
            except CacheError:
                pass  # the other processes re-read within ttl

    def _follow_invalidations(self) -> None:
        if self.shared is None:
            return
        try:
            generation = self.shared.get(self.GENERATION_KEY)
        except CacheError:
            return
        if generation != self._generation:
            with self._lock:
                self._entries.clear()
                self._generation = generation


def add_platform(db: Session, *, issuer: str, client_id: str, auth_login_url: str,
                 auth_token_url: str, key_set_url: str, deployment_ids: list[str],
                 name: str = "", auth_audience: str | None = None, status: str = "active",
                 product_family: str = "", frame_origins: list[str] | None = None) -> Platform:
    """Register a platform, or add deployments and update URLs of an existing one."""
    platform = find_platform(db, issuer, client_id)
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id, deployments=[],
                            frame_origins=[])
        db.add(platform)
    platform.name = name or platform.name or issuer
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.key_set_url = key_set_url
    platform.auth_audience = auth_audience
    platform.status = status
    platform.product_family = product_family or platform.product_family
    platform.frame_origins = sorted(set(platform.frame_origins or []) | set(frame_origins or []))
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            platform.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    db.flush()
    return platform


def allowed_frame_origins(db: Session) -> list[str]:
    """Origins of active platforms allowed to frame the tool (CSP frame-ancestors)."""
    origins: set[str] = set()
    for platform in db.scalars(select(Platform).where(Platform.status == "active")):
        origins.update(filter(None, (origin(platform.issuer), origin(platform.auth_login_url))))
        origins.update(platform.frame_origins or [])
    return sorted(origins)


class DatabaseToolConf(ToolConfAbstract):
    """pylti1p3's tool config over the platforms table (one issuer, many client_ids)."""

    def __init__(self, db: Session, keyring: Keyring):
        super().__init__()
        self.db = db
        self.keyring = keyring
        # Instance-level: pylti1p3 keeps this dict on the class by default.
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def registration_for(self, platform: PlatformInfo) -> Registration:
        """A pylti1p3 Registration carrying the tool's current signing key."""
        key = self.keyring.current()
        registration = Registration()
        registration.set_issuer(platform.issuer).set_client_id(platform.client_id)
        registration.set_auth_login_url(platform.auth_login_url)
        registration.set_auth_token_url(platform.auth_token_url)
        registration.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            registration.set_auth_audience(platform.auth_audience)
        registration.set_tool_private_key(key.private_pem)
        registration.set_tool_public_key(key.public_pem)
        return registration

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        platform = find_platform(self.db, iss, None)
        return self.registration_for(platform_info(platform)) if platform else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        platform = find_platform(self.db, iss, client_id)
        return self.registration_for(platform_info(platform)) if platform else None

    def find_deployment(self, iss, deployment_id):
        platform = find_platform(self.db, iss, None)
        return self._deployment(platform, deployment_id)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        return self._deployment(find_platform(self.db, iss, client_id), deployment_id)

    @staticmethod
    def _deployment(platform: Platform | None, deployment_id: str):
        if platform and any(d.deployment_id == deployment_id for d in platform.deployments):
            return LtiDeployment().set_deployment_id(deployment_id)
        return None

    def get_jwks(self, iss=None, client_id=None, **kwargs):
        return self.keyring.jwks()
