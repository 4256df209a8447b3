"""Verifiable credentials the tool issues, whatever the domain: the Credential row (a random
token, the status list index), Open Badges 3.0 signing (VC-JWT), the Bitstring Status List and
the public verification page. Each domain registers the kinds it issues (staff learning:
activities and TeachHub cards; the portfolio: tutor-verified entries) from its own init_app;
this package imports no domain."""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from .kinds import CredentialKinds


def init_app(app: Flask) -> None:
    """Offer the kinds registry and register the public pages (/verify, the status list)."""
    from .public import bp

    services(app).provide(CredentialKinds())
    app.register_blueprint(bp)
