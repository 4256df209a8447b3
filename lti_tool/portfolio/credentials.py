"""A tutor-verified portfolio entry as an Open Badges 3.0 credential, at the student's choice
(issue 14), for the showcase. No Flask.

Only the owner issues, and only a verified entry. The credential keeps in its row a snapshot of
what it says (the entry may later change or go); signing, the status list and the verification
page are shared with staff learning (lti_tool/credentials). The student may withdraw it; the
tutor's verification withdrawn (return, reject), an edit that sends the entry back for
verification, or the entry deleted revoke it at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import Actor
from ..credentials import ob3
from ..credentials.kinds import Shown
from ..credentials.models import ENTRY, Credential
from ..db import utcnow
from ..errors import Forbidden, NotFound, ToolError
from .models import VERIFIED, Entry, Portfolio
from .rubric import Rubric

WITHDRAWN, UNVERIFIED, DELETED = "withdrawn", "unverified", "deleted"
OWNER_ONLY = _l(
    "Only the student themselves can issue or withdraw a credential of their portfolio achievement."
)


class NotVerified(ToolError):
    """The entry is not verified by the tutor (now): no credential."""

    status = 409
    code = "not_verified"
    message = _l("Only an entry verified by the tutor can be issued as a credential.")


class Revoked(ToolError):
    """A withdrawn or revoked credential is not handed out again."""

    status = 409
    code = "revoked"
    message = _l("This credential was withdrawn or revoked: it is no longer handed out.")


def _owned(db: Session, actor: Actor, entry_id: int) -> Entry:
    entry = db.get(Entry, entry_id)
    if entry is None or entry.portfolio.platform_id != actor.platform_id:
        raise NotFound()
    if entry.portfolio.user_id != actor.user_id:
        raise Forbidden(OWNER_ONLY)
    return entry


def live_credential(db: Session, entry_id: int) -> Credential | None:
    """The entry's credential that is not revoked, if any."""
    return db.scalars(
        select(Credential).where(Credential.entry_id == entry_id, Credential.revoked_at.is_(None))
    ).first()


def _snapshot(entry: Entry, rubric: Rubric) -> dict:
    portfolio: Portfolio = entry.portfolio
    entry_list = rubric.lists.get(entry.list_key)
    item = entry_list.item(entry.item_key) if entry_list else None
    section = rubric.sections.get(entry.section)
    return {
        "title": entry.title,
        "person": portfolio.full_name or portfolio.user.display_name,
        "section": entry.section,
        "section_names": section.as_dict() if section else {},
        "list": entry.list_key,
        "list_names": entry_list.names.as_dict() if entry_list else {},
        "item_names": item.names.as_dict() if item else {},
        "course_year": entry.course_year,
        "points": entry.verified_points or 0,
        "verified_on": (entry.decided_at or utcnow()).date().isoformat(),
        "regulations": rubric.names.en,
    }


def issue(db: Session, actor: Actor, entry_id: int, rubric: Rubric) -> Credential:
    """The owner issues their verified entry as a credential (the live one when it exists);
    caller commits."""
    entry = _owned(db, actor, entry_id)
    if entry.status != VERIFIED:
        raise NotVerified()
    found = live_credential(db, entry.id)
    if found is not None:
        return found
    credential = Credential(
        token=secrets.token_urlsafe(24),
        kind=ENTRY,
        platform_id=entry.portfolio.platform_id,
        user_id=entry.portfolio.user_id,
        entry_id=entry.id,
        snapshot=_snapshot(entry, rubric),
        issued_at=utcnow(),
    )
    try:
        with db.begin_nested():  # one live credential per entry, even on a double click
            db.add(credential)
    except IntegrityError:
        found = live_credential(db, entry.id)
        if found is None:
            raise
        return found
    return credential


def withdraw(db: Session, actor: Actor, credential_id: int) -> Credential:
    """The owner withdraws a credential: it reads revoked at once; caller commits."""
    credential = owned_credential(db, actor, credential_id)
    _revoke(credential, WITHDRAWN)
    return credential


def _revoke(credential: Credential, because: str, now: datetime | None = None) -> None:
    if credential.revoked_at is None:
        credential.revoked_at = now or utcnow()
        credential.snapshot = {**(credential.snapshot or {}), "revoked_because": because}


def revoke_for_entry(db: Session, entry_id: int, because: str) -> int:
    """The entry is no longer verified (or goes): its live credential is revoked; how many."""
    credential = live_credential(db, entry_id)
    if credential is None:
        return 0
    _revoke(credential, because)
    db.flush()
    return 1


def of_portfolio(db: Session, portfolio: Portfolio) -> list[Credential]:
    """The credentials issued from a portfolio, newest first."""
    return list(
        db.scalars(
            select(Credential)
            .where(
                Credential.kind == ENTRY,
                Credential.user_id == portfolio.user_id,
                Credential.platform_id == portfolio.platform_id,
            )
            .order_by(Credential.id.desc())
        )
    )


def live_of_entries(db: Session, entry_ids: list[int]) -> dict[int, Credential]:
    """The live credential of each of these entries that has one."""
    if not entry_ids:
        return {}
    rows = db.scalars(
        select(Credential).where(
            Credential.entry_id.in_(entry_ids), Credential.revoked_at.is_(None)
        )
    )
    return {row.entry_id: row for row in rows if row.entry_id is not None}


def owned_credential(db: Session, actor: Actor, credential_id: int) -> Credential:
    """A credential of the actor's own portfolio (for downloads)."""
    credential = db.get(Credential, credential_id)
    if credential is None or credential.kind != ENTRY:
        raise NotFound()
    if credential.platform_id != actor.platform_id:
        raise NotFound()
    if credential.user_id != actor.user_id:
        raise Forbidden(OWNER_ONLY)
    return credential


def credential_json(
    credential: Credential, issuer: ob3.Issuer, *, verify_url: str, criteria: str, description: str
) -> dict:
    """The OpenBadgeCredential of a verified entry (unsigned), from the credential's snapshot."""
    snap = credential.snapshot or {}
    achievement_id = f"{verify_url}#achievement"
    achievement = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Achievement",
        "name": snap.get("title", ""),
        "description": description,
        "criteria": {"narrative": criteria},
        "creator": issuer.profile(),
        "tag": [t for t in (snap.get("section"), snap.get("list")) if t],
        "resultDescription": [
            {
                "id": f"{achievement_id}-points",
                "type": ["ResultDescription"],
                "name": "Verified rubric points",
                "resultType": "ext:RubricPoints",
            }
        ],
    }
    subject = {
        "id": ob3.subject_id(issuer, credential.platform_id, credential.user_id),
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": snap.get("person", ""),
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": achievement,
        "result": [
            {
                "type": ["Result"],
                "resultDescription": f"{achievement_id}-points",
                "value": str(snap.get("points", 0)),
            }
        ],
    }
    return {
        "@context": ob3.CONTEXT,
        "id": verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.profile(),
        "validFrom": ob3.iso(credential.issued_at),
        "name": snap.get("title", ""),
        "description": description,
        "credentialSubject": subject,
        "credentialStatus": ob3.status_entry(issuer, credential),
    }


def shown(_db: Session, credential: Credential) -> Shown:
    """What the public verification page shows: the achievement, its category, the date and
    the student's name as the credential carries it (nothing read from the portfolio now)."""
    snap = credential.snapshot or {}
    return Shown(
        "portfolio/_verify_credential.html",
        {"snap": snap, "issued_at": credential.issued_at},
        title=snap.get("title", ""),
    )
