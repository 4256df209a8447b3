"""The coordinator's to-do (issue 12): what waits for a TeachHub coordinator, on one page.

- module cards whose passport misses mandatory fields (the staff non-formal education rules, 4.5.2),
  not archived;
- participant cards completed and waiting for the coordinator's verification of hours and
  evidence, verified and ready to submit for recognition, and submitted, waiting for the
  recognition commission's decision (the staff non-formal education rules, 7.1);
- streams that start or end this month;
- TeachHub scores the gradebook outbox parked after its retries.

Each list is read in a fixed number of queries (a count and one page of rows), however many
modules and cards the platform has: bench/desk.py counts them with 6,000 cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..gradebook.models import ScoreOutbox
from ..lti.models import User
from .access import Actor, require_coordinator
from .models import Module, Participant, Stream
from .modules import facilitator_names, passport_of
from .passport import missing_fields
from .status import COMPLETED, SUBMITTED

T = TypeVar("T")
LIMIT = 50  # lines shown per list; the count says how many there are in all


@dataclass(frozen=True)
class CardLine:
    """A participant card waiting for the coordinator."""

    card_id: int
    person: str
    module_id: int
    module_title: str
    stream_name: str
    since: date | None  # completed on / submitted on


@dataclass(frozen=True)
class ModuleLine:
    """A module card whose passport is incomplete, with the names of what is missing."""

    module_id: int
    title: str
    missing: tuple[str, ...]  # field keys (passport.FIELDS)
    published: bool


@dataclass(frozen=True)
class StreamLine:
    """A stream starting or ending this month."""

    module_id: int
    module_title: str
    stream_name: str
    starts_on: date
    ends_on: date
    starts_now: bool  # starts this month (else: ends this month)


@dataclass(frozen=True)
class ParkedLine:
    """A TeachHub score the outbox gave up sending."""

    card_id: int | None
    person: str
    error: str


@dataclass
class Section(Generic[T]):
    """One list of the to-do: `total` lines in all, the first `LIMIT` of them in `lines`."""

    total: int = 0
    lines: list[T] = field(default_factory=list)


@dataclass
class ToDo:
    """Everything on the coordinator's to-do."""

    passports: Section[ModuleLine]
    to_verify: Section[CardLine]
    to_submit: Section[CardLine]
    at_commission: Section[CardLine]
    streams: Section[StreamLine]
    parked: Section[ParkedLine]

    @property
    def empty(self) -> bool:
        """Nothing waits."""
        return not any(
            s.total
            for s in (
                self.passports,
                self.to_verify,
                self.to_submit,
                self.at_commission,
                self.streams,
                self.parked,
            )
        )


def _month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return first, following


def _cards(db: Session, platform_id: int, condition, since_column, limit: int) -> Section[CardLine]:
    base = (
        select(Participant.id)
        .join(Module, Module.id == Participant.module_id)
        .where(Module.platform_id == platform_id, *condition)
    )
    total = db.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.execute(
        select(Participant.id, User, Module.id, Module.title, Stream.name, since_column)
        .join(Module, Module.id == Participant.module_id)
        .join(Stream, Stream.id == Participant.stream_id)
        .join(User, User.id == Participant.user_id)
        .where(Module.platform_id == platform_id, *condition)
        .order_by(since_column, Participant.id)
        .limit(limit)
    ).all()
    return Section(
        total,
        [
            CardLine(card_id, user.display_name, module_id, title, stream, since)
            for card_id, user, module_id, title, stream, since in rows
        ],
    )


def _count_and_rows(db: Session, query: Select, limit: int) -> tuple[int, list]:
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return total, list(db.execute(query.limit(limit)).all())


def coordinator_todo(db: Session, actor: Actor, *, today: date, limit: int = LIMIT) -> ToDo:
    """What waits for a coordinator of the actor's platform (Forbidden for anyone else)."""
    require_coordinator(actor)
    platform = actor.platform_id

    # Passports: completeness is a rule in Python (passport.missing_fields) over every field,
    # so the platform's live modules are read in one query and their facilitators in another.
    modules = list(
        db.scalars(
            select(Module)
            .where(Module.platform_id == platform, Module.archived_at.is_(None))
            .order_by(Module.updated_at.desc(), Module.id)
        )
    )
    names = facilitator_names(db, [m.id for m in modules])
    incomplete = []
    for module in modules:
        missing = missing_fields(passport_of(module, names[module.id]))
        if missing:
            incomplete.append(
                ModuleLine(
                    module.id, module.title, tuple(missing), module.published_number is not None
                )
            )

    first, following = _month(today)
    stream_query = (
        select(Module.id, Module.title, Stream.name, Stream.starts_on, Stream.ends_on)
        .join(Module, Module.id == Stream.module_id)
        .where(
            Module.platform_id == platform,
            or_(
                (Stream.starts_on >= first) & (Stream.starts_on < following),
                (Stream.ends_on >= first) & (Stream.ends_on < following),
            ),
        )
        .order_by(Stream.starts_on, Stream.id)
    )
    stream_total, stream_rows = _count_and_rows(db, stream_query, limit)

    parked_query = (
        select(ScoreOutbox.source, User, ScoreOutbox.last_error)
        .outerjoin(User, User.id == ScoreOutbox.user_id)
        .where(
            ScoreOutbox.platform_id == platform,
            ScoreOutbox.status == "parked",
            ScoreOutbox.source.like("teachhub:%"),
        )
        .order_by(ScoreOutbox.id)
    )
    parked_total, parked_rows = _count_and_rows(db, parked_query, limit)

    return ToDo(
        passports=Section(len(incomplete), incomplete[:limit]),
        to_verify=_cards(
            db,
            platform,
            (Participant.status == COMPLETED, Participant.verified_at.is_(None)),
            Participant.completed_on,
            limit,
        ),
        to_submit=_cards(
            db,
            platform,
            (Participant.status == COMPLETED, Participant.verified_at.is_not(None)),
            Participant.completed_on,
            limit,
        ),
        at_commission=_cards(
            db, platform, (Participant.status == SUBMITTED,), Participant.submitted_on, limit
        ),
        streams=Section(
            stream_total,
            [
                StreamLine(module_id, title, name, starts, ends, first <= starts < following)
                for module_id, title, name, starts, ends in stream_rows
            ],
        ),
        parked=Section(
            parked_total,
            [
                ParkedLine(_card_id(source), user.display_name if user else "", error[:200])
                for source, user, error in parked_rows
            ],
        ),
    )


def _card_id(source: str) -> int | None:
    """The card id of an outbox row's source, "teachhub:12" -> 12."""
    _kind, _sep, number = (source or "").partition(":")
    return int(number) if number.isdigit() else None
