"""The people named to the staff non-formal education rules' roles (7.1): TeachHub coordinators name
and remove them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import Forbidden
from ..lti.models import User
from ..teachhub.errors import InputError
from . import rules
from .access import Actor
from .models import NamedRole


def _coordinator(actor: Actor) -> None:
    if not actor.names_roles:
        raise Forbidden(_l("Only TeachHub coordinators name heads, experts, secretaries and HR."))


def named(db: Session, actor: Actor) -> list[tuple[NamedRole, User]]:
    """Everyone named on the actor's platform."""
    _coordinator(actor)
    return [
        (role, user)
        for role, user in db.execute(
            select(NamedRole, User)
            .join(User, User.id == NamedRole.user_id)
            .where(NamedRole.platform_id == actor.platform_id)
            .order_by(NamedRole.role, NamedRole.department, User.family_name, User.id)
        )
    ]


def people(db: Session, actor: Actor) -> list[User]:
    """The platform's people who could be named."""
    _coordinator(actor)
    return list(
        db.scalars(
            select(User)
            .where(User.platform_id == actor.platform_id)
            .order_by(User.family_name, User.given_name, User.name, User.id)
            .limit(2000)
        )
    )


def name(db: Session, actor: Actor, *, user_id: int, role: str, department: str) -> None:
    """Name a person of the platform to a role (a head: for one department)."""
    _coordinator(actor)
    errors: dict[str, object] = {}
    user = db.get(User, user_id) if user_id else None
    if user is None or user.platform_id != actor.platform_id:
        errors["user_id"] = _l("Choose a person from the list.")
    if role not in rules.NAMED_ROLES:
        errors["role"] = _l("Choose a role from the list.")
    department = (department or "").strip()
    if role == rules.HEAD and not department:
        errors["department"] = _l("Name the department or clinical base the person heads.")
    if len(department) > 255:
        errors["department"] = _l("At most %(n)d characters.", n=255)
    if errors:
        raise InputError(errors)
    department = department if role == rules.HEAD else ""
    if db.get(NamedRole, (actor.platform_id, user_id, role, department)) is None:
        db.add(
            NamedRole(
                platform_id=actor.platform_id,
                user_id=user_id,
                role=role,
                department=department,
                added_by_id=actor.user_id,
                added_at=utcnow(),
            )
        )
    db.commit()


def remove(db: Session, actor: Actor, *, user_id: int, role: str, department: str) -> None:
    """Take a person off a role."""
    _coordinator(actor)
    db.execute(
        delete(NamedRole).where(
            NamedRole.platform_id == actor.platform_id,
            NamedRole.user_id == user_id,
            NamedRole.role == role,
            NamedRole.department == (department or "").strip(),
        )
    )
    db.commit()
