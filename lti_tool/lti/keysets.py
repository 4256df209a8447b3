"""Platform key sets: cached in memory and in the database, refetched on an unknown kid."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
import requests
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..cache import Cache, CacheError
from ..db import utcnow
from ..errors import LaunchError
from ..http import GuardedSession
from .models import PlatformKeySet

log = logging.getLogger(__name__)
# A key set holds a few keys; a bigger answer is not one (the guarded session stops reading).
MAX_KEY_SET_BYTES = 1 << 20


@dataclass
class _Entry:
    fetched_at: datetime
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    # When a token's unknown kid last made us refetch; rate-limits forged kids only.
    kid_refetch_at: datetime | None = None


def parse_jwks(document: object) -> dict[str, jwt.PyJWK]:
    """The RS256 signing keys of a JWKS document, by kid; anything else is skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JSON Web Key Set")
    keys: dict[str, jwt.PyJWK] = {}
    for raw in document["keys"]:
        if not isinstance(raw, dict) or raw.get("kty") != "RSA" or not raw.get("kid"):
            continue
        if raw.get("alg", "RS256") != "RS256" or raw.get("use", "sig") != "sig":
            continue
        try:
            keys[raw["kid"]] = jwt.PyJWK(raw, algorithm="RS256")
        except jwt.PyJWKError:
            log.warning("skipping an unusable key %s in a platform key set", raw.get("kid"))
    return keys


class PlatformKeySets:
    """Finds a platform's public key by kid without calling the platform when warm.

    Key sets are cached in this process, in a shared cache when there is one (Redis: a
    refetch by one process serves every process and host, and the refetch rate limit is
    shared), and in the database.
    """

    def __init__(self, http: GuardedSession, sessions: sessionmaker[Session], ttl: int,
                 refetch_interval: int, shared: Cache | None = None):
        self.http = http
        self.sessions = sessions
        self.shared = shared
        self.ttl = timedelta(seconds=ttl)
        self.refetch_interval = timedelta(seconds=refetch_interval)
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def key(self, url: str, kid: str) -> jwt.PyJWK:
        """The key named `kid` at `url`; refuses the launch when there is none."""
        entry = self._entries.get(url)
        now = utcnow()
        if entry and kid in entry.keys and now - entry.fetched_at < self.ttl:
            return entry.keys[kid]
        with self._lock_for(url):
            entry = self._entries.get(url)
            if entry is None or kid not in entry.keys or now - entry.fetched_at >= self.ttl:
                # Another process may have fetched a newer set (the platform rotated keys).
                entry = self._from_shared(url) or entry or self._from_database(url)
            # An unknown kid means the platform rotated its keys, or a forged token:
            # refetch, but not more often than refetch_interval.
            if entry is None or now - entry.fetched_at >= self.ttl:  # stale
                entry = self._fetch(url)
            elif kid not in entry.keys and self._may_refetch(url, entry, now):
                entry = self._fetch(url)
                entry.kid_refetch_at = now
            if kid not in entry.keys:
                raise LaunchError(
                    _l("The launch was signed with a key the platform does not publish."),
                    code="unknown_kid", detail=f"kid {kid!r} is not in {url}")
            return entry.keys[kid]

    def forget(self, url: str | None = None) -> None:
        """Drop cached key sets (all, or one URL) from memory."""
        if url is None:
            self._entries.clear()
        else:
            self._entries.pop(url, None)

    def _may_refetch(self, url: str, entry: _Entry, now: datetime) -> bool:
        if self.shared is not None:
            try:  # one refetch per interval across every process and host
                return self.shared.add("keyset-refetch:" + url, 1,
                                       self.refetch_interval.total_seconds())
            except CacheError:
                pass
        return entry.kid_refetch_at is None or now - entry.kid_refetch_at >= self.refetch_interval

    def _from_shared(self, url: str) -> _Entry | None:
        if self.shared is None:
            return None
        try:
            cached = self.shared.get("keyset:" + url)
        except CacheError:
            return None
        if cached is None:
            return None
        entry = _Entry(fetched_at=datetime.fromisoformat(cached["fetched_at"]),
                       keys=parse_jwks(cached["jwks"]))
        self._entries[url] = entry
        return entry

    def _lock_for(self, url: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(url, threading.Lock())

    def _from_database(self, url: str) -> _Entry | None:
        with self.sessions() as db:
            row = db.get(PlatformKeySet, url)
            if row is None:
                return None
            entry = _Entry(fetched_at=row.fetched_at, keys=parse_jwks(row.jwks))
        self._entries[url] = entry
        return entry

    def _fetch(self, url: str) -> _Entry:
        try:
            response = self.http.request("GET", url, headers={"Accept": "application/json"},
                                         max_bytes=MAX_KEY_SET_BYTES)
            response.raise_for_status()
            document = response.json()
            keys = parse_jwks(document)
        except (requests.RequestException, ValueError) as err:
            log.warning("could not fetch the platform key set %s: %s", url, err)
            raise LaunchError(
                _l("The tool could not fetch the platform's public keys to check this launch. "
                   "Please try again in a minute."),
                code="keyset_unavailable", status=502, detail=f"{url}: {err}") from err
        entry = _Entry(fetched_at=utcnow(), keys=keys)
        with self.sessions() as db:
            row = db.get(PlatformKeySet, url)
            if row is None:
                db.add(PlatformKeySet(url=url, jwks=document, fetched_at=entry.fetched_at))
            else:
                row.jwks, row.fetched_at = document, entry.fetched_at
            try:
                db.commit()
            except IntegrityError:  # another process stored the same key set first
                db.rollback()
        self._entries[url] = entry
        if self.shared is not None:
            try:
                self.shared.set("keyset:" + url, {"jwks": document,
                                                  "fetched_at": entry.fetched_at.isoformat()},
                                self.ttl.total_seconds())
            except CacheError:
                pass
        return entry
