"""Who may do what in TeachHub: coordinators, facilitators, participants (service layer).

- A coordinator is a platform administrator, a person an administrator named on the
  coordinators page, or anyone launching with a role URI of `teachhub.coordinator_roles`.
  A coordinator sees every module of their own platform.
- A facilitator is a person the module card names; they see only the modules they facilitate.
- A participant sees only their own cards. Nobody sees another platform's data.
- A launch as a mentor, a designer or a role the tool does not serve gives no staff rights.
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import CompoundSelect, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from ..auth import Actor
from ..errors import Forbidden, NotFound
from ..lti.models import Membership
from ..lti.roles import ToolRole, normalise
from .models import Coordinator, Module, ModuleFacilitator, Participant
from .status import COORDINATOR, FACILITATOR

# Rights follow the launch (issue 9): someone launched as an observer or mentor, a course
# designer or in a role the tool does not serve holds no TeachHub staff rights in that session,
# even when named on a card or the coordinators page; only `teachhub.coordinator_roles`, the
# institution's explicit choice, still counts.
LIMITED_ROLES = (ToolRole.MENTOR, ToolRole.DESIGNER, ToolRole.GUEST)


def roles_on(actor: Actor, module_id: int) -> frozenset[str]:
    """The TeachHub roles `actor` holds on one module."""
    roles = set()
    if actor.is_coordinator:
        roles.add(COORDINATOR)
    if module_id in actor.facilitates:
        roles.add(FACILITATOR)
    return frozenset(roles)


def manages(actor: Actor, module: Module) -> bool:
    """Coordinator of the module's platform, or one of its facilitators."""
    return module.platform_id == actor.platform_id and bool(roles_on(actor, module.id))


def _coordinator_by_launch(
    tool_role: ToolRole, launch_roles: list[str], coordinator_roles: frozenset[str]
) -> bool | None:
    """Whether the launch alone makes a coordinator (True) or rules it out (False); None when
    the coordinators page decides."""
    if tool_role == ToolRole.ADMIN:
        return True
    if coordinator_roles and {normalise(r) for r in launch_roles} & coordinator_roles:
        return True
    if tool_role in LIMITED_ROLES:
        return False
    return None


def is_coordinator(
    db: Session,
    *,
    user_id: int,
    platform_id: int,
    tool_role: ToolRole,
    launch_roles: list[str],
    coordinator_roles: frozenset[str],
) -> bool:
    """Whether a person is a TeachHub coordinator on their platform (see the module docstring)."""
    by_launch = _coordinator_by_launch(tool_role, launch_roles, coordinator_roles)
    if by_launch is not None:
        return by_launch
    return db.get(Coordinator, (platform_id, user_id)) is not None


# Every page's menu asks for a person's rights: the modules they facilitate and whether the
# coordinators page names them, in one plain statement built and compiled once (through the
# ORM, two queries cost about three times as much; bench/launch.py).
_FACILITATOR, _NAMED = 1, 2
_RIGHTS: CompoundSelect = union_all(
    select(literal(_FACILITATOR).label("kind"), ModuleFacilitator.module_id.label("module"))
    .join(Module, Module.id == ModuleFacilitator.module_id)
    .where(
        ModuleFacilitator.user_id == bindparam("user"), Module.platform_id == bindparam("platform")
    ),
    select(literal(_NAMED).label("kind"), literal(None).label("module")).where(
        Coordinator.platform_id == bindparam("platform"), Coordinator.user_id == bindparam("user")
    ),
)


def load_actor(db: Session, actor: Actor, coordinator_roles: frozenset[str]) -> Actor:
    """`actor` with their TeachHub rights (coordinator, facilitated modules): at most two
    small queries (one unless `teachhub.coordinator_roles` is set)."""
    user_id, platform_id, tool_role = actor.user_id, actor.platform_id, actor.role
    context_id = actor.context_id
    launch_roles: list[str] = []
    if coordinator_roles and context_id is not None:
        membership = db.scalars(
            select(Membership).where(
                Membership.user_id == user_id, Membership.context_id == context_id
            )
        ).first()
        launch_roles = list(membership.roles or []) if membership else []
    coordinator = _coordinator_by_launch(tool_role, launch_roles, coordinator_roles)
    facilitates: frozenset[int] = frozenset()
    if tool_role not in LIMITED_ROLES:
        db.flush()  # rows this session added but did not flush yet count (as a query's would)
        rows = db.connection().execute(_RIGHTS, {"user": user_id, "platform": platform_id})
        kinds = [(kind, module) for kind, module in rows]
        facilitates = frozenset(module for kind, module in kinds if kind == _FACILITATOR)
        if coordinator is None:
            coordinator = any(kind == _NAMED for kind, _module in kinds)
    return replace(actor, facilitates=facilitates, is_coordinator=bool(coordinator))


def module_for(db: Session, actor: Actor, module_id: int) -> Module:
    """A module of the actor's platform (404 for another platform's: it does not exist here)."""
    module = db.get(Module, module_id)
    if module is None or module.platform_id != actor.platform_id:
        raise NotFound()
    return module


def managed_module(db: Session, actor: Actor, module_id: int) -> Module:
    """A module the actor coordinates or facilitates; Forbidden otherwise."""
    module = module_for(db, actor, module_id)
    if not manages(actor, module):
        raise Forbidden(_l("Only the module's facilitators and TeachHub coordinators see this."))
    return module


def require_coordinator(actor: Actor) -> None:
    """Forbidden unless the actor is a TeachHub coordinator."""
    if not actor.is_coordinator:
        raise Forbidden(_l("Only TeachHub coordinators may do this."))


def card_for(db: Session, actor: Actor, card_id: int) -> tuple[Participant, Module]:
    """A participant card the actor may see: their own, or one of a module they manage."""
    card = db.get(Participant, card_id)
    module = db.get(Module, card.module_id) if card else None
    if card is None or module is None or module.platform_id != actor.platform_id:
        raise NotFound()
    if card.user_id != actor.user_id and not manages(actor, module):
        raise Forbidden(
            _l(
                "A participant card is seen only by its participant, the module's "
                "facilitators and TeachHub coordinators."
            )
        )
    return card, module
