"""Open Badges 3.0 in the VC-JWT proof format, for every kind of credential (no Flask).

The credential is an `OpenBadgeCredential` (1EdTech Open Badges 3.0, on the W3C Verifiable
Credentials data model 2.0). Its JWT (OB 3.0, 8.2: the payload *is* the credential, with the
registered claims iss, nbf, jti and sub) is signed RS256 with the tool's current key; the
header's `kid` names that key in /.well-known/jwks.json, so any verifier can check it. Its
`credentialStatus` points into the tool's Bitstring Status List (W3C Bitstring Status List 1.0),
itself served as a signed credential: a revoked credential reads revoked there from the moment
it is revoked. The domains build the achievement (learning/ob3.py, portfolio/credentials.py).
"""

from __future__ import annotations

import base64
import gzip
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..lti.keys import ToolKey
from .models import Credential

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
STATUS_LIST_BITS = 131_072  # the minimum length (16 KB), so no list reveals how many exist
MEDIA_TYPE = "application/vc+jwt"


@dataclass(frozen=True)
class Issuer:
    """Who issues: the tool's public base URL and the institution's name."""

    base_url: str
    name: str

    @property
    def id(self) -> str:
        """The issuer's id (a URL of the tool; kept from the first, staff learning, issues)."""
        return f"{self.base_url}/learning/issuer"

    @property
    def status_list(self) -> str:
        """The status list credential's URL."""
        return f"{self.base_url}/learning/status-list"

    def profile(self) -> dict:
        """The issuer Profile."""
        return {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.base_url}


def iso(moment: datetime) -> str:
    """A moment as the credential writes it (UTC, seconds, Z)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subject_id(issuer: Issuer, platform_id: int, user_id: int) -> str:
    """A pseudonymous, stable id of the person for this issuer (no e-mail or LMS id in it)."""
    return "urn:uuid:" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer.id}/people/{platform_id}/{user_id}")
    )


def status_entry(issuer: Issuer, credential: Credential) -> dict:
    """The credential's `credentialStatus`: its bit in the tool's revocation list."""
    return {
        "id": f"{issuer.status_list}#{credential.id}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(credential.id),
        "statusListCredential": issuer.status_list,
    }


def sign(body: dict, key: ToolKey, *, subject: str | None = None) -> str:
    """The VC-JWT of a credential: the payload is the credential plus iss, nbf, jti (and sub)."""
    valid_from = datetime.strptime(body["validFrom"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    claims = {
        **body,
        "iss": body["issuer"]["id"],
        "nbf": int(valid_from.timestamp()),
        "jti": body["id"],
    }
    if subject:
        claims["sub"] = subject
    return jwt.encode(
        claims,
        key.signing_key,  # parsed once per key, not per credential
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT", "cty": "vc"},
    )


def status_list(db: Session, issuer: Issuer, key: ToolKey, now: datetime) -> str:
    """The Bitstring Status List credential of every credential's revocation bit, signed."""
    # One query whatever the number of credentials: the revoked ids and the last id (the
    # list's length), never a query per credential.
    last_id = select(func.max(Credential.id)).scalar_subquery()
    rows = db.execute(
        select(Credential.id, Credential.revoked_at.is_not(None)).where(
            or_(Credential.revoked_at.is_not(None), Credential.id == last_id)
        )
    ).all()
    revoked = [index for index, is_revoked in rows if is_revoked]
    last = max((index for index, _ in rows), default=0)
    bits = max(STATUS_LIST_BITS, -(-(last + 1) // 8) * 8)
    raw = bytearray(bits // 8)
    for index in revoked:  # big-endian within each byte: index 0 is the first byte's top bit
        raw[index // 8] |= 0x80 >> (index % 8)
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(raw), mtime=0)).decode().rstrip(
        "="
    )
    body = {
        "@context": [CONTEXT[0]],
        "id": issuer.status_list,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.profile(),
        "validFrom": iso(now),
        "credentialSubject": {
            "id": f"{issuer.status_list}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
    return sign(body, key)
