"""Module cards as deep-linking choices: a placed card launches with placement=teachhub."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..lti.deep_linking import Placeable
from ..parsing import id_or_none
from .modules import published_modules

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
