"""What the tool can be placed as in a course, registered by each domain from its `init_app`.

The LTI core knows no product: a domain (the portfolio, TeachHub) registers a PlacementKind
under the key its resource links carry as the custom parameter `placement`, with its title,
line item defaults and landing page. Deep linking offers the registered kinds; a launch lands
on its kind's page. Nothing here imports a domain (tests/unit/test_lti_imports.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .roles import PLACERS, ToolRole


@dataclass(frozen=True)
class Placeable:
    """One choice on the deep linking page: something the tool can put on a course page."""

    key: str  # the choice's id; the custom parameter `placement` unless `placement` is set
    title: str
    description: str
    tag: str  # the AGS line item tag when graded
    placement: str = ""  # the custom `placement` when it differs from `key` (TeachHub cards)
    custom: dict = field(default_factory=dict)  # more custom parameters (module_card=<id>)
    score_maximum: int = 100  # the line item's default maximum when graded


@dataclass(frozen=True)
class Arrival:
    """Who a committed launch brought where: what a domain needs to choose the landing page."""

    platform_id: int
    user_id: int | None
    context_id: int | None
    resource_link_id: int | None
    role: ToolRole
    custom: dict[str, str]  # this launch's own custom parameters


@dataclass(frozen=True)
class Landing:
    """A page to land on: a Flask endpoint and its values (the view builds the URL)."""

    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlacementKind:
    """What a domain can place: its key, how it is offered, where its launches land."""

    key: str  # the custom parameter `placement` of its resource links
    title: Any  # a lazy string: translated when shown
    description: Any  # a lazy string
    tag: str  # the AGS line item tag when graded
    score_maximum: int = 100  # the line item's default maximum when graded
    # Where its launches land; None: the role's home.
    landing: str | None = None
    # A more precise page, chosen after the launch is committed (None: `landing`).
    resolve: Callable[[Session, Arrival], Landing | None] | None = None
    # More choices than the kind itself (TeachHub: one per published module card).
    extra_choices: Callable[[Session, int], list[Placeable]] | None = None
    placers: tuple[ToolRole, ...] = PLACERS  # who may place it


class PlacementRegistry:
    """The registered placement kinds, in registration order, and the role's home page."""

    def __init__(self) -> None:
        self._kinds: dict[str, PlacementKind] = {}
        self.home: str | None = None  # the endpoint of the role's home (set by its domain)

    def register(self, kind: PlacementKind) -> None:
        """Add a kind; a key registered twice is a wiring mistake, said at start-up."""
        if kind.key in self._kinds:
            raise ValueError(f"placement {kind.key!r} is registered twice")
        self._kinds[kind.key] = kind

    def kind(self, key: str | None) -> PlacementKind | None:
        """The kind a resource link's `placement` names (None for none or an unknown one)."""
        return self._kinds.get(key or "")

    def choices(self, db: Session, platform_id: int, role: str) -> list[Placeable]:
        """What `role` may place on this platform: each kind, then its extra choices."""
        found: list[Placeable] = []
        for kind in self._kinds.values():
            if role not in kind.placers:
                continue
            found.append(
                Placeable(
                    kind.key,
                    str(kind.title),
                    str(kind.description),
                    kind.tag,
                    score_maximum=kind.score_maximum,
                )
            )
            if kind.extra_choices is not None:
                found += kind.extra_choices(db, platform_id)
        return found

    def landing(self, db: Session, placement: str | None, arrival: Arrival) -> Landing:
        """Where a launch of `placement` lands: the kind's page, else the role's home."""
        kind = self.kind(placement)
        if kind is not None and kind.resolve is not None:
            precise = kind.resolve(db, arrival)
            if precise is not None:
                return precise
        if kind is not None and kind.landing:
            return Landing(kind.landing)
        if self.home is None:
            raise RuntimeError("no domain registered the role's home page")
        return Landing(self.home)
