"""Keep what a validated launch says about the user, the course and the placement."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from .constants import Claim
from .launch import Launch
from .models import Context, Membership, Platform, ResourceLink, User
from .registry import origin

MAX_LEARNED_FRAME_ORIGINS = 50


@dataclass(frozen=True)
class LaunchRecord:
    """Database ids of what a launch touched."""

    user_id: int | None
    context_id: int | None
    resource_link_id: int | None
    placement: str
    learned_frame_origin: bool = False
    digest: str = ""  # RecordCache's key for the launch, when a cache was asked
    from_cache: bool = False


def _get_or_create(db: Session, model, **keys):
    row = db.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys)
        db.add(row)
    return row


# The claims record_launch writes from; a launch repeating them changes nothing. Of the
# launch presentation only what is kept counts: Moodle's return_url carries a new sesskey on
# every launch, which would make every launch look new.
RECORDED_CLAIMS = ("sub", "name", "given_name", "family_name", "email", "locale", Claim.ROLES,
                   Claim.CONTEXT, Claim.RESOURCE_LINK, Claim.CUSTOM, Claim.AGS_ENDPOINT,
                   Claim.NRPS)


class RecordCache:
    """What recent launches recorded, by a digest of their claims (per process, short-lived).

    Most launches repeat the previous one of the same person in the same place: they skip
    four reads. The TTL bounds how long a roster pull's change (e.g. a membership status) can
    go un-overwritten by an identical launch.
    """

    def __init__(self, ttl: float = 300.0, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, LaunchRecord]] = {}

    @staticmethod
    def digest(launch: Launch) -> str:
        """A fingerprint of everything the launch would write."""
        subset = {name: launch.claims.get(name) for name in RECORDED_CLAIMS}
        subset["platform"] = launch.platform.id
        subset["locale"] = launch_locale(launch.claims)
        subset["frame_origin"] = _frame_origin(launch.claims)
        return hashlib.sha256(json.dumps(subset, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> LaunchRecord | None:
        """The record for `key` while fresh."""
        entry = self._entries.get(key)
        return entry[1] if entry and time.monotonic() - entry[0] < self.ttl else None

    def clear(self) -> None:
        """Forget every record (a platform's rows were removed: its ids may come back)."""
        self._entries.clear()

    def put(self, record: LaunchRecord) -> None:
        """Remember a committed record (the whole cache is dropped when full: simple and
        bounded). Only after the commit: a rolled-back record names rows that do not exist."""
        if not record.digest or record.from_cache:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[record.digest] = (
            time.monotonic(), replace(record, learned_frame_origin=False, from_cache=True))


def record_launch(db: Session, launch: Launch, cache: RecordCache | None = None) -> LaunchRecord:
    """Upsert the user, context, membership and resource link of a launch; flushed, and
    committed by the caller together with the rest of the launch (the consumed login state,
    the new web session).

    Two first launches of one person at once (two tabs) race to insert the same rows: the
    loser gets an IntegrityError (here, at the flush) and may call this again once it has
    rolled back. Once committed, `cache.put(record)` lets the next identical launch skip this.
    """
    key = cache.digest(launch) if cache else ""
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    return replace(_record(db, launch), digest=key)


def _record(db: Session, launch: Launch) -> LaunchRecord:
    claims = launch.claims
    platform_id = launch.platform.id
    user = None
    if launch.sub:
        user = _get_or_create(db, User, platform_id=platform_id, sub=launch.sub)
        for attr in ("name", "given_name", "family_name", "email"):
            if claims.get(attr):
                setattr(user, attr, claims[attr][:255])
        user.locale = (launch_locale(claims) or user.locale or "")[:16]

    context = None
    context_claim = claims.get(Claim.CONTEXT) or {}
    if context_claim.get("id"):
        context = _get_or_create(db, Context, platform_id=platform_id,
                                 context_id=str(context_claim["id"])[:255])
        context.label = str(context_claim.get("label") or context.label or "")[:255]
        context.title = str(context_claim.get("title") or context.title or "")[:512]
        ags = claims.get(Claim.AGS_ENDPOINT) or {}
        if ags.get("lineitems"):
            context.lineitems_url = ags["lineitems"]
            context.ags_scopes = list(ags.get("scope") or [])
        nrps = claims.get(Claim.NRPS) or {}
        if nrps.get("context_memberships_url"):
            context.memberships_url = nrps["context_memberships_url"]

    db.flush()
    if user is not None and context is not None:
        membership = _get_or_create(db, Membership, user_id=user.id, context_id=context.id)
        membership.roles = launch.roles
        membership.role = launch.role.value

    link = None
    custom = claims.get(Claim.CUSTOM) or {}
    placement = str(custom.get("placement") or "")
    link_claim = claims.get(Claim.RESOURCE_LINK) or {}
    if context is not None and link_claim.get("id"):
        link = _get_or_create(db, ResourceLink, context_id=context.id,
                              resource_link_id=str(link_claim["id"])[:255])
        link.title = str(link_claim.get("title") or link.title or "")[:512]
        link.placement = placement[:64] or link.placement
        link.custom = {str(k): str(v) for k, v in custom.items()}
        lineitem = (claims.get(Claim.AGS_ENDPOINT) or {}).get("lineitem")
        if lineitem:
            link.lineitem_url = lineitem

    learned = _learn_frame_origin(db, platform_id, claims)
    db.flush()
    return LaunchRecord(
        user_id=user.id if user else None,
        context_id=context.id if context else None,
        resource_link_id=link.id if link else None,
        placement=placement or (link.placement if link else ""),
        learned_frame_origin=learned,
    )


def launch_locale(claims: dict) -> str:
    """The language the LMS shows the user in (Canvas: `locale`; Moodle: launch_presentation)."""
    presentation = claims.get(Claim.LAUNCH_PRESENTATION) or {}
    return str(claims.get("locale") or presentation.get("locale") or "")


def _frame_origin(claims: dict) -> str:
    """The origin of the launch's return URL: the LMS page that frames the tool ("" if none)."""
    presentation = claims.get(Claim.LAUNCH_PRESENTATION) or {}
    frame_origin = origin(str(presentation.get("return_url") or ""))
    return frame_origin if frame_origin.startswith(("https://", "http://")) else ""


def _learn_frame_origin(db: Session, platform_id: int, claims: dict) -> bool:
    # Canvas frames the tool from each school's domain, which the issuer does not tell;
    # the signed return_url does. Only validated launches get here.
    frame_origin = _frame_origin(claims)
    if not frame_origin:
        return False
    platform = db.get(Platform, platform_id)
    # Read now, not from the registration cache: a platform set back to pending (by another
    # process, within the cache's lifetime) must not widen frame-ancestors.
    if platform is None or platform.status != "active":
        return False
    origins = list(platform.frame_origins or [])
    if frame_origin in origins or len(origins) >= MAX_LEARNED_FRAME_ORIGINS:
        return False
    platform.frame_origins = [*origins, frame_origin]
    return True
