"""Showcase links for employers: read-only, chosen content, revocable, may expire (the web-portfolio
study)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from ..auth import Actor
from ..db import utcnow
from .access import NotFound, require_owner
from .models import DRAFT, REJECTED, Entry, EntryEvidence, Portfolio, Showcase

SHOWCASE_SECTIONS = ("portrait", "achievements", "chest")
MAX_DAYS = 366


def create_showcase(db: Session, actor: Actor, portfolio: Portfolio, *, title: str,
                    sections: Iterable[str], entry_ids: Iterable[int], hide_personal: bool,
                    days: int | None) -> Showcase:
    """Make a new link; only the owner's own, shareable entries can be in it; caller commits."""
    require_owner(actor, portfolio)
    wanted = {int(i) for i in entry_ids}
    chosen_sections = [s for s in SHOWCASE_SECTIONS if s in set(sections)]
    # Drafts and rejected entries are not shown to employers, whatever the form says.
    allowed = set(db.scalars(select(Entry.id).where(
        Entry.portfolio_id == portfolio.id, Entry.id.in_(wanted),
        Entry.status.not_in((DRAFT, REJECTED)), Entry.section.in_(chosen_sections))))
    showcase = Showcase(
        portfolio_id=portfolio.id, token=secrets.token_urlsafe(32), title=title.strip()[:200],
        sections=chosen_sections, entry_ids=sorted(allowed), hide_personal=hide_personal,
        expires_at=utcnow() + timedelta(days=days) if days else None)
    db.add(showcase)
    db.flush()
    return showcase


def revoke_showcase(db: Session, actor: Actor, portfolio: Portfolio, showcase_id: int) -> Showcase:
    """Stop a link at once; caller commits."""
    require_owner(actor, portfolio)
    showcase = db.get(Showcase, showcase_id)
    if showcase is None or showcase.portfolio_id != portfolio.id:
        raise NotFound()
    if showcase.revoked_at is None:
        showcase.revoked_at = utcnow()
    return showcase


def owner_showcases(db: Session, portfolio: Portfolio) -> list[Showcase]:
    """The owner's links, newest first."""
    return list(db.scalars(select(Showcase).where(Showcase.portfolio_id == portfolio.id)
                           .order_by(Showcase.id.desc())))


@dataclass
class ShowcaseView:
    """What a showcase link shows."""

    showcase: Showcase
    portfolio: Portfolio
    entries: list[Entry]


def open_showcase(db: Session, token: str, *, count_view: bool = True) -> ShowcaseView:
    """The live showcase for a token; NotFound for unknown, revoked or expired links."""
    if not token or len(token) > 64:
        raise NotFound()
    showcase = db.scalar(select(Showcase).where(Showcase.token == token))
    now = utcnow()
    if showcase is None or not showcase.is_live(now):
        raise NotFound()
    portfolio = db.get_one(Portfolio, showcase.portfolio_id)
    entries = list(db.scalars(
        select(Entry).where(Entry.portfolio_id == portfolio.id,
                            Entry.id.in_(showcase.entry_ids or []),
                            Entry.status.not_in((DRAFT, REJECTED)),
                            Entry.section.in_(showcase.sections or []))
        .options(selectinload(Entry.attachments))
        .order_by(Entry.section, Entry.course_year, Entry.list_key, Entry.id)))
    if count_view:
        db.execute(update(Showcase).where(Showcase.id == showcase.id)
                   .values(views=Showcase.views + 1, last_viewed_at=now))
    return ShowcaseView(showcase, portfolio, entries)


def showcase_evidence(view: ShowcaseView, evidence_id: int):
    """A file shown by the showcase (attached to one of its entries, or the photo)."""
    for entry in view.entries:
        for link in entry.attachments:
            if link.evidence_id == evidence_id:
                return link.evidence
    portfolio = view.portfolio
    if (evidence_id == portfolio.photo_id and not view.showcase.hide_personal
            and "portrait" in view.showcase.sections):
        return portfolio.photo
    raise NotFound()


def expires_label(showcase: Showcase, now: datetime | None = None) -> str:
    """live, expired or revoked."""
    now = now or utcnow()
    if showcase.revoked_at is not None:
        return "revoked"
    return "live" if showcase.is_live(now) else "expired"


__all__ = [
    "MAX_DAYS",
    "SHOWCASE_SECTIONS",
    "EntryEvidence",
    "create_showcase",
    "open_showcase",
    "owner_showcases",
    "revoke_showcase",
    "showcase_evidence",
]
