"""Rate limits on the anonymous endpoints (login, registration, certificate verification),
per client address.

Flask-Limiter counts in Redis when one is configured (every process and host shares the
counts) and in this process's memory otherwise. The client address is request.remote_addr,
which TrustedProxyFix (ops/proxy.py) has already taken from X-Forwarded-For only when a
trusted proxy sent it: a client cannot pick its own address to escape the limit.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

# What each limited endpoint is called in settings [rate_limits], and its default.
LIMITED = {"lti.login": ("login", "300 per minute"),
           "lti.register": ("register", "20 per hour"),
           # A certificate's public verification page: no enumeration of its random tokens.
           "learning_public.verify": ("verify", "30 per minute")}


def client_address() -> str:
    """The proxy-aware client address (the limit's key)."""
    return request.remote_addr or "unix"


def init_app(app: Flask) -> None:
    """One limiter per app (Redis when redis.url is set, memory otherwise), on the anonymous
    endpoints; called once the blueprints are registered."""
    settings = app.config["SETTINGS"]
    redis = settings.get("redis", {})
    limits = settings.get("rate_limits", {})
    limiter = Limiter(
        client_address, app=app, storage_uri=redis.get("url") or "memory://",
        key_prefix=redis.get("prefix", "lti-tool:") + "rate-limit",
        # Redis down: keep serving logins (counted in memory meanwhile) rather than refuse all.
        swallow_errors=True, in_memory_fallback_enabled=bool(redis.get("url")),
        headers_enabled=True, enabled=bool(limits.get("enabled", True)),
    )
    for endpoint, (name, default) in LIMITED.items():
        if endpoint not in app.view_functions:  # renamed: fail at start, never run unlimited
            raise RuntimeError(f"rate limit on a view that does not exist: {endpoint}")
        app.view_functions[endpoint] = limiter.limit(str(limits.get(name, default)))(
            app.view_functions[endpoint])
    app.extensions["rate_limiter"] = limiter
