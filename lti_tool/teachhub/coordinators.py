"""The coordinator list platform administrators keep in the tool (see access.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..auth import Actor
from ..db import utcnow
from ..errors import Forbidden
from ..lists import Page, matches, page_of
from ..lti.models import User
from .errors import InputError
from .models import Coordinator
from .modules import eligible_query


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(_l("Only platform administrators name TeachHub coordinators."))


def coordinators(db: Session, actor: Actor) -> list[User]:
    """The people named coordinators on the actor's platform."""
    _admin(actor)
    return list(db.scalars(
        select(User).join(Coordinator, Coordinator.user_id == User.id)
        .where(Coordinator.platform_id == actor.platform_id)
        .order_by(User.family_name, User.given_name, User.name, User.id)))


def candidates(db: Session, actor: Actor, *, search: str = "", page: int = 1) -> Page[User]:
    """Staff of the platform who could be named, searched by name or email, one page."""
    _admin(actor)
    query = eligible_query(actor.platform_id)
    condition = matches(search, (User.name, User.given_name, User.family_name, User.email))
    if condition is not None:
        query = query.where(condition)
    return page_of(db, query, page, search=search)


def add_coordinator(db: Session, actor: Actor, user_id: int) -> None:
    """Name a staff member of the platform a coordinator."""
    _admin(actor)
    eligible = eligible_query(actor.platform_id).where(User.id == user_id)
    if db.scalars(eligible).first() is None:
        raise InputError({"user_id": _l("Choose a person from the list.")})
    if db.get(Coordinator, (actor.platform_id, user_id)) is None:
        db.add(Coordinator(platform_id=actor.platform_id, user_id=user_id,
                           added_by_id=actor.user_id, added_at=utcnow()))
    db.commit()


def remove_coordinator(db: Session, actor: Actor, user_id: int) -> None:
    """Take a person off the coordinator list."""
    _admin(actor)
    db.execute(delete(Coordinator).where(Coordinator.platform_id == actor.platform_id,
                                         Coordinator.user_id == user_id))
    db.commit()
