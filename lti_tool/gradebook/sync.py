"""Pull rosters (NRPS) and grades (AGS) into the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import insert_ignore, utcnow
from ..lti.keys import Keyring
from ..lti.models import Context, Membership, Platform, User
from ..lti.registry import DatabaseToolConf, platform_info
from ..lti.roles import tool_role
from . import ags, nrps
from .lms import PlatformClient, ServiceError, TokenCache
from .models import LineItem, Result, SyncState

log = logging.getLogger(__name__)
CHUNK = 500  # keeps IN (...) lists under every database's parameter limit


class Services:
    """What a sync or the score worker needs to call platforms: HTTP, keys, token cache."""

    def __init__(self, http: requests.Session, keyring: Keyring):
        self.http = http
        self.keyring = keyring
        self.tokens = TokenCache()
        # Per outbox source ("portfolio", "teachhub"): fn(db, row) -> the score's fields
        # computed from committed state, or None to send the row as queued. Each domain
        # registers its own at start-up; the worker calls it just before sending.
        self.scorers: dict[str, Callable[[Session, Any], dict | None]] = {}

    def client(self, db: Session, platform_id: int,
               granted: list[str] | None = None) -> PlatformClient:
        """A client for one platform, signing token requests with the tool's current key."""
        platform = db.get_one(Platform, platform_id)  # the caller's row holds its foreign key
        registration = DatabaseToolConf(db, self.keyring).registration_for(platform_info(platform))
        return PlatformClient(platform_id, registration, self.http, self.tokens, granted)


def sync_state(db: Session, context_id: int) -> SyncState:
    """The course's sync state row (created on first use, race-free)."""
    state = db.get(SyncState, context_id)
    if state is None:
        insert_ignore(db, SyncState, context_id=context_id, roster_error="", grades_error="")
        state = db.get_one(SyncState, context_id)  # inserted just now, or by a concurrent call
    return state


def _once_more_on_conflict(pull):
    # A background pull and a staff "update now" may insert the same new users at once:
    # the loser rolls back and runs again, finding the rows the winner made.
    @wraps(pull)
    def wrapper(db: Session, *args, **kwargs) -> PullReport:
        try:
            return pull(db, *args, **kwargs)
        except IntegrityError:
            db.rollback()
            return pull(db, *args, **kwargs)

    return wrapper


def _users_by_sub(db: Session, platform_id: int, subs: list[str]) -> dict[str, User]:
    users: dict[str, User] = {}
    for start in range(0, len(subs), CHUNK):
        chunk = subs[start:start + CHUNK]
        users.update((u.sub, u) for u in db.scalars(
            select(User).where(User.platform_id == platform_id, User.sub.in_(chunk))))
    return users


@dataclass(frozen=True)
class PullReport:
    """What a pull did."""

    ok: bool
    count: int = 0
    requests: int = 0
    error: str = ""


@_once_more_on_conflict
def pull_roster(db: Session, client: PlatformClient, context: Context, *,
                role: str | None = None, limit: int | None = None) -> PullReport:
    """Fetch the course roster (or its differences since last time) and store members."""
    if not context.memberships_url:
        return PullReport(False, error="the platform offers no roster service for this course")
    # Read what we need, then end the transaction: no database lock is held while the LMS
    # answers (SQLite has one writer; a slow LMS would stall every launch).
    known = db.get(SyncState, context.id)
    url = (known.roster_differences_url if known else None) or context.memberships_url
    db.commit()
    try:
        roster = nrps.fetch_roster(client, url, role=role, limit=limit)
    except ServiceError as err:
        sync_state(db, context.id).roster_error = str(err)[:2000]
        db.commit()
        log.warning("roster pull failed for context %s: %s", context.id, err)
        return PullReport(False, error=str(err))
    state = sync_state(db, context.id)

    members = {m.user_id: m for m in roster.members}  # a later page wins
    users = _users_by_sub(db, context.platform_id, list(members))
    for sub, member in members.items():
        user = users.get(sub)
        if user is None:
            user = users[sub] = User(platform_id=context.platform_id, sub=sub[:255])
            db.add(user)
        for attr in ("name", "given_name", "family_name", "email"):
            if getattr(member, attr):
                setattr(user, attr, getattr(member, attr))
    db.flush()
    existing = {m.user_id: m for m in db.scalars(
        select(Membership).where(Membership.context_id == context.id))}
    for sub, member in members.items():
        user = users[sub]
        membership = existing.get(user.id)
        if membership is None:
            membership = Membership(user_id=user.id, context_id=context.id)
            db.add(membership)
        membership.roles = list(member.roles)
        membership.role = tool_role(list(member.roles)).value
        membership.status = member.status
        membership.source = "roster"
    if url == context.memberships_url and not role:
        # A full roster lists the course's active members (Moodle and Canvas list nobody
        # else): whoever is missing has left or been suspended.
        listed = {users[sub].id for sub in members}
        for user_id, membership in existing.items():
            if user_id not in listed and membership.status == "Active":
                membership.status = "Inactive"
    state.roster_pulled_at = utcnow()
    state.roster_error = ""
    state.roster_differences_url = roster.differences_url
    db.commit()
    return PullReport(True, count=len(members), requests=roster.pages)


@_once_more_on_conflict
def pull_grades(db: Session, client: PlatformClient, context: Context) -> PullReport:
    """Fetch the course's line items and every result, and store them."""
    if not context.lineitems_url:
        return PullReport(False, error="the platform offers no grade service for this course")
    db.commit()  # no transaction (no lock) while the LMS answers
    try:
        items = ags.list_line_items(client, context.lineitems_url)
        results = {item.url: ags.list_results(client, item.url) for item in items}
    except ServiceError as err:
        sync_state(db, context.id).grades_error = str(err)[:2000]
        db.commit()
        log.warning("grade pull failed for context %s: %s", context.id, err)
        return PullReport(False, error=str(err))
    state = sync_state(db, context.id)

    stored = {li.url: li for li in db.scalars(
        select(LineItem).where(LineItem.context_id == context.id))}
    for item in items:
        row = stored.get(item.url)
        if row is None:
            row = stored[item.url] = LineItem(context_id=context.id, url=item.url)
            db.add(row)
        row.label, row.score_maximum = item.label[:512], item.score_maximum
        row.resource_id, row.resource_link_id, row.tag = (
            item.resource_id[:255], item.resource_link_id[:255], item.tag[:255])
        row.pulled_at = utcnow()
    db.flush()

    subs = sorted({r.user_id for rs in results.values() for r in rs})
    users = _users_by_sub(db, context.platform_id, subs)
    for sub in subs:
        if sub not in users:  # graded before the roster told us about them
            users[sub] = User(platform_id=context.platform_id, sub=sub[:255])
            db.add(users[sub])
    db.flush()
    line_item_ids = [stored[item.url].id for item in items]
    existing = {(r.line_item_id, r.user_id): r for start in range(0, len(line_item_ids), CHUNK)
                for r in db.scalars(select(Result).where(
                    Result.line_item_id.in_(line_item_ids[start:start + CHUNK])))}
    count = 0
    for item in items:
        line_item_id = stored[item.url].id
        for result in results[item.url]:
            key = (line_item_id, users[result.user_id].id)
            stored_result = existing.get(key)
            if stored_result is None:
                stored_result = existing[key] = Result(line_item_id=key[0], user_id=key[1])
                db.add(stored_result)
            stored_result.result_score = result.result_score
            stored_result.result_maximum = result.result_maximum
            stored_result.comment, stored_result.pulled_at = result.comment, utcnow()
            count += 1
    state.grades_pulled_at = utcnow()
    state.grades_error = ""
    db.commit()
    return PullReport(True, count=count)
