"""The public pages of credentials: the verification page a certificate's QR code or a badge
opens, the status list and the issuer's profile. No session; nothing lists people; unknown and
malformed tokens read alike; rate-limited per client address (ops/limits.py)."""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, make_response, render_template
from sqlalchemy import select

from ..db import get_db, utcnow
from ..extensions import services
from .kinds import CredentialKinds, Shown
from .models import Credential
from .ob3 import MEDIA_TYPE, status_list as signed_list
from .web import issuer as tool_issuer

bp = Blueprint("credentials_public", __name__)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _public(response, status: int = 200):
    response = make_response(response, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def by_token(db, token: str) -> Credential | None:
    """A credential by its token (None for malformed or unknown ones, alike)."""
    if not TOKEN.match(token or ""):
        return None
    return db.scalars(select(Credential).where(Credential.token == token)).first()


@bp.route("/verify/<token>")
def verify(token: str):
    """Whether a credential is valid, revoked or unknown, with the minimum its domain shows."""
    g.no_session_in_urls = True
    db = get_db()
    credential = by_token(db, token)
    shown: Shown | None = None
    if credential is not None:
        reader = services().get(CredentialKinds).reader(credential.kind)
        shown = reader(db, credential) if reader else None
    if credential is None or shown is None:
        state = "unknown"
    elif credential.revoked_at is not None or shown.revoked:
        state = "revoked"
    else:
        state = "valid"
    return _public(
        render_template(
            "credentials/verify.html",
            state=state,
            shown=shown,
            credential=credential,
            issuer=tool_issuer(),
            title=shown.title if shown else token[:8],
            **(shown.context if shown else {}),
        ),
        404 if state == "unknown" else 200,
    )


@bp.route("/learning/status-list")
def status_list():
    """The credentials' revocation bits as a signed Bitstring Status List credential."""
    g.no_session_in_urls = True
    body = signed_list(get_db(), tool_issuer(), services().keyring.current(), utcnow())
    response = make_response(body)
    response.headers["Content-Type"] = MEDIA_TYPE
    # Revocation is immediate: no cache may keep an old list.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/learning/issuer")
def issuer():
    """The issuer's Open Badges Profile (JSON)."""
    g.no_session_in_urls = True
    response = jsonify(tool_issuer().profile())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
