"""Registration invites: dynamic registration only through a URL the tool's administrator issued.

An invite is single use and expires; only the sha256 of its token is stored. A registration
claims its invite with one conditional UPDATE before calling the LMS (two browsers with the
same URL cannot both register), marks it used when the platform is stored, and gives it back
when the registration fails (the administrator can retry from the LMS with the same URL).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..db import rowcount, utcnow
from ..errors import RegistrationError
from .models import RegistrationInvite

# A registration that died half-way (a killed worker) frees its invite after this.
CLAIM_LEASE = timedelta(minutes=5)
_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True)
class IssuedInvite:
    """A new invite: its URL (shown once, never stored) and when it expires."""

    id: int
    url: str
    expires_at: object


def parse_duration(text: str) -> timedelta:
    """'7d', '12h' or '30m' as a timedelta."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a duration like 7d, 12h or 30m: {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def token_hash(token: str) -> str:
    """The stored form of an invite token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_invite(db: Session, *, base_url: str, expires_in: timedelta, name: str = "",
                 update_platform_id: int | None = None) -> IssuedInvite:
    """Store a new invite (its hash) and return the registration URL to hand to the LMS admin."""
    token = secrets.token_urlsafe(32)
    invite = RegistrationInvite(token_hash=token_hash(token), name=name[:255],
                                expires_at=utcnow() + expires_in,
                                update_platform_id=update_platform_id)
    db.add(invite)
    db.commit()
    return IssuedInvite(id=invite.id, url=f"{base_url}/lti/register?invite={token}",
                        expires_at=invite.expires_at)


def _invalid() -> RegistrationError:
    return RegistrationError(
        _l("This registration link is missing, expired or already used. Ask the tool's "
           "administrator for a new one (lti-tool platform invite) and paste it into the LMS."),
        code="invite_required", status=403)


def find_invite(db: Session, token: str | None) -> RegistrationInvite:
    """The usable invite for `token`, or a 403 RegistrationError (nothing else is done)."""
    if not token or len(token) > 128:
        raise _invalid()
    invite = db.scalars(select(RegistrationInvite).where(
        RegistrationInvite.token_hash == token_hash(token))).first()
    now = utcnow()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise _invalid()
    if invite.claimed_at is not None and invite.claimed_at > now - CLAIM_LEASE:
        raise RegistrationError(
            _l("A registration with this link is already in progress."),
            code="invite_in_use", status=409)
    return invite


def claim_invite(db: Session, invite_id: int) -> None:
    """Take the invite for one registration; committed, so that a second one is refused."""
    now = utcnow()
    claimed = rowcount(db.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invite_id, RegistrationInvite.used_at.is_(None),
               RegistrationInvite.expires_at > now,
               or_(RegistrationInvite.claimed_at.is_(None),
                   RegistrationInvite.claimed_at <= now - CLAIM_LEASE))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ))
    db.commit()
    if claimed != 1:
        raise RegistrationError(_l("A registration with this link is already in progress."),
                                code="invite_in_use", status=409)


def release_invite(db: Session, invite_id: int) -> None:
    """Give an unused invite back after a failed registration."""
    db.execute(update(RegistrationInvite)
               .where(RegistrationInvite.id == invite_id, RegistrationInvite.used_at.is_(None))
               .values(claimed_at=None)
               .execution_options(synchronize_session=False))
    db.commit()


def mark_used(db: Session, invite_id: int, platform_id: int) -> None:
    """Record the registration the invite made (in the caller's transaction)."""
    db.execute(update(RegistrationInvite)
               .where(RegistrationInvite.id == invite_id)
               .values(used_at=utcnow(), platform_id=platform_id)
               .execution_options(synchronize_session=False))
