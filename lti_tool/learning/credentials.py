"""Certificates and verifiable credentials of recognised records (no Flask).

A recognised activity (any form of 4.1-4.4) or a recognised TeachHub module card is issued one
Credential row: a random token names its public verification page and its Open Badges
credential; the row's id is its index in the tool's status list. Revoking a recognition marks
the row at once, so the verification page and the status list say "revoked" from then on.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import Actor as TeachHubActor
from ..credentials.kinds import Shown
from ..credentials.models import ACTIVITY, CARD, Credential
from ..db import utcnow
from ..errors import Forbidden, NotFound
from ..lti.models import User
from ..teachhub.access import card_for
from ..teachhub.errors import InputError, Refused
from ..teachhub.hours import credit_units
from ..teachhub.models import ModuleVersion, Participant, Stream
from ..teachhub.status import RECOGNIZED as TH_RECOGNIZED
from . import rules
from .access import Actor, activity_for, department_of
from .models import Activity

KINDS = (ACTIVITY, CARD)
T = TypeVar("T")


@dataclass(frozen=True)
class Record:
    """What a certificate and a credential say of one recognised record."""

    kind: str  # activity | card
    record_id: int
    user_id: int
    platform_id: int
    person: str
    department: str
    title: str
    form: str
    format: str
    organiser: str
    starts_on: date | None
    ends_on: date | None
    hours: Decimal
    units: Decimal
    decision_date: date | None
    decision_number: str
    criteria: str
    area: str
    revoked: bool


def _get(db: Session, model: type[T], key: int | None) -> T:
    row = db.get(model, key)
    if row is None:
        raise NotFound()
    return row


def _name(user: User) -> str:
    return user.name or " ".join(p for p in (user.given_name, user.family_name) if p) or user.sub


def _activity_record(db: Session, activity: Activity, department: str, unit: Decimal) -> Record:
    user = _get(db, User, activity.user_id)
    hours = activity.hours_recognized or Decimal(0)
    return Record(
        ACTIVITY,
        activity.id,
        activity.user_id,
        activity.platform_id,
        _name(user),
        department,
        activity.title,
        activity.form,
        activity.format,
        activity.organiser,
        activity.starts_on,
        activity.ends_on,
        hours,
        credit_units(hours, unit),
        activity.decision_date,
        activity.decision_number,
        activity.content,
        activity.competence_area,
        activity.status == rules.REVOKED,
    )


def _card_record(db: Session, card: Participant, platform_id: int, unit: Decimal) -> Record:
    user = _get(db, User, card.user_id)
    version = _get(db, ModuleVersion, card.version_id)
    stream = _get(db, Stream, card.stream_id)
    credential = db.scalars(select(Credential).where(Credential.participant_id == card.id)).first()
    return Record(
        CARD,
        card.id,
        card.user_id,
        platform_id,
        _name(user),
        department_of(db, card.user_id),
        version.title,
        rules.TEACHHUB,
        version.module_format,
        version.curator_department,
        stream.starts_on,
        card.completed_on,
        card.total_hours,
        credit_units(card.total_hours, unit),
        card.commission_date,
        card.commission_number,
        version.completion_criteria,
        (version.competences or [""])[0],
        bool(credential and credential.revoked_at),
    )


def record_of(db: Session, actor: Actor, kind: str, record_id: int, unit: Decimal) -> Record:
    """A recognised record of the actor's own (or one the actor verifies), for its documents."""
    if kind == ACTIVITY:
        activity, department = activity_for(db, actor, record_id)
        if activity.status not in (rules.RECOGNIZED, rules.REVOKED):
            raise Refused(
                _l("A certificate is issued once the activity is recognised."),
                code="not_recognized",
            )
        return _activity_record(db, activity, department, unit)
    if kind == CARD:
        card, module = card_for(db, actor.teachhub, record_id)
        if card.status != TH_RECOGNIZED:
            raise Refused(
                _l("A certificate is issued once the module is recognised."), code="not_recognized"
            )
        return _card_record(db, card, module.platform_id, unit)
    raise NotFound()


def owner_only(actor: Actor | TeachHubActor, record: Record) -> None:
    """Documents are the person's own: only they download them."""
    if record.user_id != actor.user_id:
        raise Forbidden(
            _l("Only the person themselves downloads their certificate and credential.")
        )


def issue(db: Session, record: Record) -> Credential:
    """The record's credential, created on first use (one per record, even when two requests
    ask at once); refused for a revoked recognition."""
    column = Credential.activity_id if record.kind == ACTIVITY else Credential.participant_id
    found = db.scalars(select(Credential).where(column == record.record_id)).first()
    if found is None and not record.revoked:
        found = Credential(
            token=secrets.token_urlsafe(24),
            kind=record.kind,
            platform_id=record.platform_id,
            user_id=record.user_id,
            issued_at=utcnow(),
            activity_id=record.record_id if record.kind == ACTIVITY else None,
            participant_id=record.record_id if record.kind == CARD else None,
        )
        db.add(found)
        try:
            db.commit()
        except IntegrityError:  # the other request made it: read theirs
            db.rollback()
            found = db.scalars(select(Credential).where(column == record.record_id)).one()
    if found is None or found.revoked_at is not None or record.revoked:
        raise Refused(
            _l("The recognition was revoked: no certificate or credential is issued."),
            code="revoked",
        )
    return found


def issue_all(db: Session, records: Sequence[Record]) -> list[Credential]:
    """The credentials of many records at once (a list the commission recognises, the bench):
    the existing ones read in one query per kind, the missing ones inserted together, one
    commit. Revoked recognitions get none. Should another request issue one of them
    meanwhile, the records are issued one by one instead (each reads the other's)."""
    found: dict[tuple[str, int], Credential] = {}
    for kind, column in ((ACTIVITY, Credential.activity_id), (CARD, Credential.participant_id)):
        ids = [r.record_id for r in records if r.kind == kind]
        for row in db.scalars(select(Credential).where(column.in_(ids))) if ids else ():
            found[(kind, (row.activity_id if kind == ACTIVITY else row.participant_id) or 0)] = row
    now = utcnow()
    missing = [
        {
            "token": secrets.token_urlsafe(24),
            "kind": record.kind,
            "platform_id": record.platform_id,
            "user_id": record.user_id,
            "issued_at": now,
            "activity_id": record.record_id if record.kind == ACTIVITY else None,
            "participant_id": record.record_id if record.kind == CARD else None,
        }
        for record in records
        if not record.revoked and (record.kind, record.record_id) not in found
    ]
    try:
        if missing:
            # One executemany (no RETURNING row by row), then the new rows in one query.
            db.execute(insert(Credential), missing)
            tokens = [row["token"] for row in missing]
            for row in db.scalars(select(Credential).where(Credential.token.in_(tokens))):
                key = row.activity_id if row.kind == ACTIVITY else row.participant_id
                found[(row.kind, key or 0)] = row
        db.commit()
    except IntegrityError:
        db.rollback()
        return [issue(db, r) for r in records if not r.revoked]
    return [
        found[(r.kind, r.record_id)]
        for r in records
        if not r.revoked and found[(r.kind, r.record_id)].revoked_at is None
    ]


def revoke_card(db: Session, actor: Actor, card_id: int, reason: str) -> None:
    """The commission withdraws a module's recognition: its credential is revoked at once."""
    if rules.SECRETARY not in actor.roles:
        raise Forbidden(rules.ROLE_REFUSALS[rules.SECRETARY])
    card, _module = card_for(db, actor.teachhub, card_id)
    if not (reason or "").strip():
        raise InputError({"note": _l("Give the reason.")})
    credential = db.scalars(select(Credential).where(Credential.participant_id == card.id)).first()
    if credential is None:
        credential = Credential(
            token=secrets.token_urlsafe(24),
            kind=CARD,
            platform_id=actor.platform_id,
            user_id=card.user_id,
            participant_id=card.id,
            issued_at=utcnow(),
        )
        db.add(credential)
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
    db.commit()


def shown(db: Session, credential: Credential, unit: Decimal, label) -> Shown:
    """What the public verification page shows of a staff learning credential: the name, the
    activity, its dates, hours and decision (never the department)."""
    if credential.activity_id is not None:
        activity = _get(db, Activity, credential.activity_id)
        record = _activity_record(db, activity, "", unit)
    else:
        card = _get(db, Participant, credential.participant_id)
        record = _card_record(db, card, credential.platform_id, unit)
    return Shown(
        "learning/_verify_record.html",
        {"record": record, "la_label": label},
        revoked=record.revoked,
        title=record.title,
    )
