"""TeachHub as a placement: what it offers to deep linking (itself and its published module
cards) and where its launches land. Registered with the LTI core by `teachhub.init_app`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..auth import Actor
from ..errors import NotFound
from ..lti.models import ResourceLink, User
from ..lti.placements import Arrival, Landing, Placeable, PlacementKind
from ..lti.roles import ToolRole
from ..parsing import id_or_none
from .access import load_actor, manages, module_for
from .config import TeachHubConfig
from .modules import published_modules
from .participants import Placement, open_placement

PLACEMENT = "teachhub"
CARD_PARAM = "module_card"


def placeable_cards(db: Session, platform_id: int) -> list[Placeable]:
    """One deep-linking choice per published module card of the platform (one query)."""
    return [
        Placeable(f"teachhub-card-{module.id}", version.title,
                  str(_l("TeachHub module card (version %(n)d): participants register when "
                         "they open it.", n=version.number)),
                  "teachhub", placement=PLACEMENT, custom={CARD_PARAM: str(module.id)})
        for module, version in published_modules(db, platform_id)
    ]


def card_id_of(custom: dict | None) -> int | None:
    """The module card a placement shows, from its custom parameters."""
    return id_or_none((custom or {}).get(CARD_PARAM))


def where_to_land(db: Session, actor: Actor, *, user: User, role: ToolRole,
                  resource_link: ResourceLink | None, launch_custom: dict | None,
                  config: TeachHubConfig, today: date) -> Landing | Placement:
    """A TeachHub placement's page: TeachHub home, the module (for those who manage it), the
    person's card (learners are registered on their first launch), or the placement itself to
    show (a Placement: not published, no open stream, ...)."""
    module_id = card_id_of(resource_link.custom if resource_link else None)
    if module_id is None:
        return Landing("teachhub.index")
    module = module_for(db, actor, module_id)
    if manages(actor, module):
        return Landing("teachhub.module_page", {"module_id": module.id})
    placed = open_placement(db, module_id=module.id, user=user, tool_role=role,
                            resource_link=resource_link, today=today, config=config,
                            launch_custom=launch_custom)
    if placed.card is not None:
        return Landing("teachhub.card_page", {"card_id": placed.card.id})
    return placed


def resolve_landing(db: Session, arrival: Arrival, config: TeachHubConfig) -> Landing | None:
    """Where a committed launch of a TeachHub placement lands (None: teachhub.launch, which
    shows the placement or says why it cannot, e.g. a module card that no longer exists)."""
    if arrival.user_id is None:
        return None
    user = db.get(User, arrival.user_id)
    link = (db.get(ResourceLink, arrival.resource_link_id)
            if arrival.resource_link_id is not None else None)
    if user is None:
        return None
    actor = load_actor(db, Actor(user_id=user.id, platform_id=arrival.platform_id,
                                 name=user.display_name, role=arrival.role,
                                 context_id=arrival.context_id), config.coordinator_roles)
    try:
        found = where_to_land(db, actor, user=user, role=arrival.role, resource_link=link,
                              launch_custom=arrival.custom, config=config, today=config.today())
    except NotFound:
        return None
    return found if isinstance(found, Landing) else None


def placement_kind(config: Callable[[], TeachHubConfig]) -> PlacementKind:
    """TeachHub's entry in the LTI placement registry; `config` gives the loaded settings."""
    return PlacementKind(
        key=PLACEMENT,
        title=_l("TeachHub modules"),
        description=_l("Staff-development module cards, participant cards and reports."),
        tag="teachhub",
        landing="teachhub.launch",
        resolve=lambda db, arrival: resolve_landing(db, arrival, config()),
        extra_choices=placeable_cards,
    )
