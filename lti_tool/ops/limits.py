"""Rate limits on the anonymous endpoints (login, registration, certificate verification),
per client address.

Flask-Limiter counts in Redis when one is configured (every process and host shares the
counts) and in this process's memory otherwise. The client address is request.remote_addr,
which TrustedProxyFix (ops/proxy.py) has already taken from X-Forwarded-For only when a
trusted proxy sent it: a client cannot pick its own address to escape the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage

from ..extensions import settings

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


def init_app(app: Flask) -> None:
    """One limiter per app (Redis when redis.url is set, memory otherwise), on the anonymous
    endpoints; called once the blueprints are registered."""
    redis, limits = settings(app).redis, settings(app).rate_limits
    if not limits.enabled:
        # Turned off (not for production): no limiter. A disabled Flask-Limiter is not kept by
        # the app, and the views it wrapped failed (500) once it was collected.
        return
    # One limiter per app, not one in extensions.py: it keeps its storage on itself, and a
    # process may hold several apps (tests) with different storages.
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=redis.url or "lti-tool-memory://",
        key_prefix=redis.prefix + "rate-limit",
        # Redis down: keep serving logins (counted in memory meanwhile) rather than refuse all.
        swallow_errors=True,
        in_memory_fallback_enabled=bool(redis.url),
        headers_enabled=True,
    )
    for endpoint, limit_of in LIMITED.items():
        if endpoint not in app.view_functions:  # renamed: fail at start, never run unlimited
            raise RuntimeError(f"rate limit on a view that does not exist: {endpoint}")
        # Flask types a view as sync or async; the limiter's decorator keeps either as it is.
        view: Callable[..., Any] = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit_of(limits))(view)
    _check_in_the_views_only(app, limiter)


def _check_in_the_views_only(app: Flask, limiter: Limiter) -> None:
    """Drop the limiter's check before every request: each limit here is on a view, checked
    (and counted) by the view's own wrapper; with no default, application or meta limits the
    check before the request finds nothing to count, on every page, at about 0.1 ms a request
    (bench/launch.py)."""
    if (
        limiter.limit_manager.default_limits
        or limiter.limit_manager.application_limits
        or limiter._meta_limits
    ):
        return  # a limit on every request: the check before the request applies it
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if getattr(hook, "__self__", None) is not limiter]
