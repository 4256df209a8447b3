"""What the domains' views share for credentials: the issuer, the verification URL and the
downloads (VC-JWT, JSON, a baked SVG badge)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Response, render_template, url_for

from ..extensions import services, settings
from . import ob3


def issuer_name() -> str:
    """Who issues, the same for every reader and every kind: [learning] issuer_name, else the
    university of [institution] (its English name when given by language), else the tool's
    host name."""
    named = settings().learning.issuer_name
    if named:
        return named
    university = settings().institution.university
    if isinstance(university, dict):
        university = university.get("en") or next(iter(university.values()), "")
    return university or urlsplit(settings().tool.base_url).netloc


def issuer() -> ob3.Issuer:
    """The issuer of the tool's credentials (its Profile: /learning/issuer)."""
    return ob3.Issuer(settings().tool.base_url, issuer_name())


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
