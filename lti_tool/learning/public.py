"""Public pages of staff learning: the verification page a certificate's QR code opens, and the
credentials' status list. No session; nothing lists people; unknown and malformed tokens read
alike; rate-limited per client address (ops/limits.py)."""

from __future__ import annotations

from flask import Blueprint, g, make_response, render_template

from ..db import get_db
from ..extensions import services
from ..teachhub.config import TeachHubConfig
from . import credentials
from .views import label

bp = Blueprint("learning_public", __name__)


def _public(response, status: int = 200):
    response = make_response(response, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/verify/<token>")
def verify(token: str):
    """Whether a certificate or credential is valid, revoked or unknown, with the minimum of
    personal data (the name, the activity, its dates, hours and decision)."""
    g.no_session_in_urls = True
    verdict = credentials.verify(get_db(), token, services().get(TeachHubConfig).hours_per_unit)
    return _public(
        render_template(
            "learning/verify.html",
            verdict=verdict,
            la_label=label,
            title=verdict.record.title if verdict.record else token[:8],
        ),
        404 if verdict.state == "unknown" else 200,
    )


@bp.route("/learning/status-list")
def status_list():
    """The credentials' revocation bits as a signed Bitstring Status List credential."""
    from ..db import utcnow
    from .ob3 import MEDIA_TYPE, status_list as signed_list
    from .views import ob3_issuer

    g.no_session_in_urls = True
    body = signed_list(get_db(), ob3_issuer(), services().keyring.current(), utcnow())
    response = make_response(body)
    response.headers["Content-Type"] = MEDIA_TYPE
    # Revocation is immediate: no cache may keep an old list.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/learning/issuer")
def issuer():
    """The issuer's Open Badges Profile (JSON)."""
    from flask import jsonify

    from .views import ob3_issuer

    g.no_session_in_urls = True
    response = jsonify(ob3_issuer().profile())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
