"""Rate limits on the anonymous endpoints (login, registration, certificate verification),
per client address.

Counted with `limits` (fixed windows) in Redis when one is configured (every process and host
shares the counts) and in this process's memory otherwise; while Redis does not answer, in
memory (logins keep being answered and limited). The client address is request.remote_addr,
which TrustedProxyFix (ops/proxy.py) has already taken from X-Forwarded-For only when a
trusted proxy sent it: a client cannot pick its own address to escape the limit. Too many
answers 429 with Retry-After (errors.TooManyRequests).

Each limit is on one view, checked by a wrapper around that view: nothing runs on other
requests. (Flask-Limiter did this until issue 15: its per-request machinery, a context, hooks
after every request, exemption scopes and the X-RateLimit-* headers from a second read of the
count, cost about 0.2 ms of each login, bench/launch.py.)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ..errors import TooManyRequests
from ..extensions import services, settings

log = logging.getLogger(__name__)

# The limited endpoints, and where settings [rate_limits] gives their limit.
LIMITED = {
    "lti.login": lambda limits: limits.login,
    "lti.register": lambda limits: limits.registration,
    # A certificate's public verification page: no enumeration of its random tokens.
    "credentials_public.verify": lambda limits: limits.verify,
}


# How often the in-memory counts drop the expired keys of clients that did not come back.
SWEEP_EVERY_SECONDS = 60.0


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage without a thread per counted request.

    Its MemoryStorage starts a 10 ms threading.Timer on every hit whose last timer has run (on
    every login, bench/launch.py: about 0.15 ms each, plus the thread's turn at the GIL), only to
    drop expired counts of keys nobody asks for again; every strategy on memory storage
    (fixed, moving, sliding window) does so. Here the request that counts sweeps instead, at
    most once a minute. A key that is read again is expired on reading, as before.
    """

    STORAGE_SCHEME = ["lti-tool-memory"]  # noqa: RUF012 (limits reads the class attribute)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept_at = time.monotonic()
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent calls it by this name
        now = time.monotonic()
        if now - self._swept_at < SWEEP_EVERY_SECONDS or not self._sweeping.acquire(False):
            return
        try:
            self._swept_at = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()


def client_address() -> str:
    """The proxy-aware client address (the limit's key)."""
    return request.remote_addr or "unix"


# While the shared storage (Redis) does not answer, counts go to memory for this long before
# the next try, so that a login does not wait on a dead server every time.
STORAGE_REST_SECONDS = 5.0


class AddressLimits:
    """Hits per client address and endpoint, in `storage_uri` (fixed windows); in this
    process's memory while a shared storage fails (`fallback`)."""

    def __init__(self, storage_uri: str, prefix: str, fallback: bool) -> None:
        self.prefix = prefix
        # Redis with short timeouts, as the cache's (cache.py): a limit that hangs every login
        # while Redis does not answer is worse than one counted in memory meanwhile.
        options = ({"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
                   if storage_uri.startswith(("redis://", "rediss://", "redis+unix://")) else {})
        storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        if not isinstance(storage, Storage):  # an asyncio storage ("async+redis://")
            raise ValueError(f"rate limits need a synchronous storage, not {storage_uri!r}")
        self.storage = storage
        self.counter = FixedWindowRateLimiter(storage)
        self.memory = (FixedWindowRateLimiter(SweptMemoryStorage(wrap_exceptions=True))
                       if fallback else None)
        self._rest_until = 0.0

    def _counter(self) -> FixedWindowRateLimiter:
        if self.memory is not None and time.monotonic() < self._rest_until:
            return self.memory
        return self.counter

    def hit(self, limit: RateLimitItem, endpoint: str, address: str) -> float | None:
        """Count one request; None when it is within `limit`, else the seconds until the
        window ends (at least 1)."""
        ids = (self.prefix, endpoint, address)
        counter = self._counter()
        try:
            allowed = counter.hit(limit, *ids)
        except StorageError as err:
            if self.memory is None:
                raise
            self._rest_until = time.monotonic() + STORAGE_REST_SECONDS
            log.warning("rate limits: storage unavailable, counting in memory: %s",
                        type(err.storage_error).__name__)
            counter = self.memory
            allowed = counter.hit(limit, *ids)
        if allowed:
            return None
        try:
            reset = counter.get_window_stats(limit, *ids).reset_time
        except StorageError:
            reset = time.time() + limit.get_expiry()
        return max(1.0, math.ceil(reset - time.time()))


def limited(view: Callable[..., Any], limit: RateLimitItem, endpoint: str,
            counts: AddressLimits) -> Callable[..., Any]:
    """`view`, answering 429 (Retry-After) to a client address over `limit`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        retry_after = counts.hit(limit, endpoint, client_address())
        if retry_after is not None:
            raise TooManyRequests(retry_after=int(retry_after))
        return view(*args, **kwargs)

    return wrapper


def init_app(app: Flask) -> None:
    """The limits (Redis when redis.url is set, memory otherwise) on the anonymous endpoints;
    called once the blueprints are registered."""
    redis, limits = settings(app).redis, settings(app).rate_limits
    if not limits.enabled:
        return  # turned off (not for production): the views as they are
    # Per app, not per module: it holds its storage, and a process may hold several apps
    # (tests) with different storages.
    counts = services(app).provide(AddressLimits(
        redis.url or "lti-tool-memory://", prefix=redis.prefix + "rate-limit",
        fallback=bool(redis.url)))
    for endpoint, limit_of in LIMITED.items():
        if endpoint not in app.view_functions:  # renamed: fail at start, never run unlimited
            raise RuntimeError(f"rate limit on a view that does not exist: {endpoint}")
        app.view_functions[endpoint] = limited(app.view_functions[endpoint],
                                               parse(limit_of(limits)), endpoint, counts)
