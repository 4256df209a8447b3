"""What the domains' views share for credentials: the issuer, the verification URL and the
downloads (VC-JWT, JSON, a baked SVG badge)."""

from __future__ import annotations

import json

from flask import Response, render_template, url_for
from flask_babel import gettext as _

from ..extensions import services, settings
from . import ob3


def issuer() -> ob3.Issuer:
    """The issuer of the tool's credentials ([learning] issuer_name, else a translated name)."""
    return ob3.Issuer(
        settings().tool.base_url, settings().learning.issuer_name or _("Staff learning")
    )


def verify_url(token: str) -> str:
    """The public verification page of a credential (the LMS-facing base URL, no session)."""
    return settings().tool.base_url + url_for("credentials_public.verify", token=token, ls=None)


def sign(body: dict) -> str:
    """The VC-JWT of a credential, signed with the tool's current key."""
    return ob3.sign(body, services().keyring.current(), subject=body["credentialSubject"]["id"])


def download(token: str, body: dict, fmt: str, *, caption: str) -> Response:
    """A signed credential as a file: jwt, json (with the proof) or a baked svg badge."""
    if fmt == "jwt":
        return Response(
            token,
            mimetype=ob3.MEDIA_TYPE,
            headers={"Content-Disposition": "attachment; filename=credential.jwt"},
        )
    if fmt == "json":
        return Response(
            json.dumps(
                {**body, "proof": {"type": "JwtProof2020", "jwt": token}},
                ensure_ascii=False,
                indent=2,
            ),
            mimetype="application/json",
            headers={"Content-Disposition": "attachment; filename=credential.json"},
        )
    svg = render_template(
        "credentials/badge.svg", token=token, title=body["name"], verify=body["id"], caption=caption
    )
    return Response(
        svg,
        mimetype="image/svg+xml",
        headers={"Content-Disposition": "attachment; filename=badge.svg"},
    )
