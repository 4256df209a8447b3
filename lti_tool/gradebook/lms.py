"""Calling a platform's LTI Advantage services: OAuth2 token (JWT bearer assertion), cached.

One token per platform and scope set until it expires (1EdTech Security Framework §4.1),
shared by every thread: a burst of 1,000 score posts makes one token request.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import jwt
import requests
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from ..cache import Cache, CacheError
from ..db import utcnow
from ..http import body_digest
from ..lti.keys import parsed_private_key

MAX_BODY_BYTES = 16 << 20  # a roster page of ~50,000 members; anything bigger is not an LMS


class ServiceError(Exception):
    """A service call that did not work; `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Access tokens by (platform, scopes); one fetch at a time per key.

    With a shared cache (Redis) every process and host uses the same token: a process
    re-reads it from there at most every SHARED_REREAD_SECONDS.
    """

    # Renew a little early: a token that expires in flight costs a 401 and a retry.
    MARGIN_SECONDS = 30
    SHARED_REREAD_SECONDS = 60.0

    def __init__(self, shared: Cache | None = None):
        self._tokens: dict[tuple, _Token] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()
        self.shared = shared

    @staticmethod
    def _shared_key(key: tuple) -> str:
        return "access-token:" + hashlib.sha256(repr(key).encode()).hexdigest()

    def get(self, key: tuple, fetch) -> str:
        """The cached token for `key`, or a new one from `fetch() -> (token, expires_in)`."""
        token = self._tokens.get(key)
        if token and token.expires_at > time.monotonic():
            return token.value
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            token = self._tokens.get(key)
            if token and token.expires_at > time.monotonic():
                return token.value
            if self.shared is not None:
                try:
                    value = self.shared.get(self._shared_key(key))
                except CacheError:
                    value = None
                if value:
                    self._tokens[key] = _Token(value, time.monotonic() + self.SHARED_REREAD_SECONDS)
                    return value
            value, expires_in = fetch()
            lifetime = max(0.0, float(expires_in) - self.MARGIN_SECONDS)
            self._tokens[key] = _Token(value, time.monotonic() + lifetime)
            if self.shared is not None and lifetime > 0:
                try:
                    self.shared.set(self._shared_key(key), value, lifetime)
                except CacheError:
                    pass
            return value

    def drop(self, key: tuple, value: str | None = None) -> None:
        """Forget a token (after a 401); only if it is still `value`, when given."""
        token = self._tokens.get(key)
        if token and (value is None or token.value == value):
            self._tokens.pop(key, None)
        if self.shared is not None:
            try:
                self.shared.delete(self._shared_key(key), only_if=value)
            except CacheError:
                pass


class _Assertion(ServiceConnector):
    """pylti1p3's client-credentials grant; the cache is ours (TokenCache), and the assertion is
    signed with the parsed key (pylti1p3 hands PyJWT the PEM, which parses it on every token).

    The hooks overridden here are pinned by tests/unit/test_pylti1p3_contract.py.
    """

    def __init__(self, registration: Registration, http: requests.Session):
        super().__init__(registration, http)
        self.expires_in = 3600.0

    def _get_cached_access_token(self, scope_key):
        return None

    def _cache_access_token(self, scope_key, access_token, expires_in):
        self.expires_in = float(expires_in or 3600)

    def encode_jwt(self, message, private_key, headers):
        return jwt.encode(message, parsed_private_key(private_key), algorithm="RS256",
                          headers=headers)


class PlatformClient:
    """Authorised requests to one platform's services."""

    def __init__(self, platform_id: int, registration: Registration, http: requests.Session,
                 tokens: TokenCache, granted: list[str] | None = None):
        self.platform_id = platform_id
        self.registration = registration
        self.http = http
        self.tokens = tokens
        # The AGS scopes the launch said the tool may use: one token for all of them serves
        # line item lookups, creation and scores alike (instead of one token per call kind).
        self.granted = sorted(set(granted or []))

    def _token(self, scopes: tuple[str, ...]) -> str:
        def fetch():
            assertion = _Assertion(self.registration, self.http)
            try:
                token = assertion.get_access_token(list(scopes))
            except requests.RequestException as err:
                raise ServiceError(f"token request failed: {err}") from err
            except Exception as err:  # pylti1p3 raises LtiServiceException, KeyError, ...
                raise ServiceError(f"the platform refused a token: {err}", retryable=True) from err
            return token, assertion.expires_in

        return self.tokens.get((self.platform_id, scopes), fetch)

    def request(self, method: str, url: str, scopes: list[str], *, body: dict | None = None,
                content_type: str | None = None, accept: str = "application/json",
                params: dict | None = None) -> requests.Response:
        """One call with a bearer token; a 401 gets a fresh token and one more try."""
        key = tuple(self.granted) if set(scopes) <= set(self.granted) else tuple(sorted(scopes))
        for attempt in (1, 2):
            token = self._token(key)
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            data = None
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
                data = json.dumps(body)
            try:
                response = self.http.request(method, url, headers=headers, data=data,
                                             params=params, stream=True)
                content = _read_limited(response)
            except requests.Timeout as err:
                raise ServiceError(f"{method} {url}: timed out") from err
            except requests.RequestException as err:
                raise ServiceError(f"{method} {url}: {err.__class__.__name__}: {err}") from err
            response._content = content  # the body, read within our size limit
            if response.status_code == 401 and attempt == 1:
                self.tokens.drop((self.platform_id, key), token)
                continue
            return response
        return response

    def get_json(self, url: str, scopes: list[str], accept: str,
                 params: dict | None = None) -> tuple[object, requests.Response]:
        """GET a JSON document; any other answer is a ServiceError that says what came."""
        response = self.request("GET", url, scopes, accept=accept, params=params)
        check_status(response, f"GET {url}")
        return parse_json(response, f"GET {url}"), response


def _read_limited(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise requests.RequestException(f"answer larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
        except (TypeError, ValueError):
            return None


def check_status(response: requests.Response, what: str) -> None:
    """Raise a ServiceError for anything but 2xx, retryable or not as HTTP says."""
    status = response.status_code
    if 200 <= status < 300:
        return
    # Never the body itself: it is shown to staff and logged (a digest identifies it).
    snippet = body_digest(response.content)
    retryable = status in (401, 408, 409, 425, 429) or status >= 500
    raise ServiceError(f"{what}: HTTP {status}: {snippet}", status=status, retryable=retryable,
                       retry_after=retry_after_seconds(response))


def parse_json(response: requests.Response, what: str) -> object:
    """The JSON body, or a ServiceError naming what came instead (HTML, truncated, ...)."""
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        raise ServiceError(f"{what}: expected JSON, got {content_type or 'no content type'}: "
                           f"{body_digest(response.content)}",
                           status=response.status_code)
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as err:
        raise ServiceError(f"{what}: invalid JSON ({err})", status=response.status_code) from err


_LINK = re.compile(r"<([^>]*)>\s*;([^,<]*)")
_REL = re.compile(r"""rel\s*=\s*["'\u201c\u201d]?([^"'\u201c\u201d;\s]+)""")


def next_link(response: requests.Response, rel: str = "next") -> str | None:
    """The URL of a Link header relation (paging: next; NRPS: differences).

    Tolerant on purpose: Moodle has sent `rel=\u201cnext\u201d` (typographic quotes) and
    `&amp;` inside the URL, which a strict RFC 8288 parser (requests' .links) misses, and a
    missed next page is a silently truncated roster.
    """
    header = response.headers.get("Link", "")
    for url, params in _LINK.findall(header):
        match = _REL.search(params)
        if match and rel in match.group(1).split():
            return html.unescape(url.strip())
    return None
