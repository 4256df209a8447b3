"""Response headers: a CSP whose frame-ancestors names only registered LMS origins."""

from __future__ import annotations

import logging
import secrets
import threading
import time

from flask import Flask, Response, g
from sqlalchemy.exc import SQLAlchemyError

from .db import get_db
from .lti.registry import allowed_frame_origins

log = logging.getLogger(__name__)


class FrameAncestors:
    """Registered platforms' origins, re-read at most every `ttl` seconds per process."""

    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: list[str] = []
        self._loaded_at = float("-inf")

    def get(self) -> list[str]:
        """The current list, from the database when the cached one is old."""
        if time.monotonic() - self._loaded_at > self.ttl:
            with self._lock:
                if time.monotonic() - self._loaded_at > self.ttl:
                    try:
                        self._value = allowed_frame_origins(get_db())
                        self._loaded_at = time.monotonic()
                    except SQLAlchemyError:
                        # The database is down: keep the last list (fail closed when empty)
                        # so error and health pages still get their headers.
                        log.warning("frame-ancestors: database unavailable, keeping %d origins",
                                    len(self._value))
        return self._value

    def invalidate(self) -> None:
        """Forget the cached list (after a platform is added or changed)."""
        self._loaded_at = float("-inf")


def csp_nonce() -> str:
    """The nonce of this response's inline scripts."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask, frame_ancestors: FrameAncestors) -> None:
    """Add the security headers to every response, framing allowed by `frame_ancestors`."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response: Response) -> Response:
        ancestors = " ".join(["'self'", *frame_ancestors.get()])
        response.headers["Content-Security-Policy"] = "; ".join([
            "default-src 'self'",
            f"script-src 'self' 'nonce-{csp_nonce()}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
            # A page that frames another site (the demo LMS's course page) names it.
            *([f"frame-src 'self' {g.csp_frame_src}"] if g.get("csp_frame_src") else []),
        ])
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The session token rides in our URLs: never hand it to another site.
        response.headers["Referrer-Policy"] = "same-origin"
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
