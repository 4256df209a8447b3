"""The app's extension objects and typed access to the services `create_app` builds.

Flask extensions that keep their per-app state in the app (CSRF, Babel) are created here,
unbound, and bound by `create_app`: a view imports `csrf` from here, at module top. What
holds per-app state of its own (the database engine, the HTTP session, the caches, the
rate limiter) is made by `create_app` for each app and reached through `services(app)`, one
typed object, instead of `app.extensions["..."]` strings that mypy cannot check.

Domains keep what they load at start-up (TeachHub's configuration, the portfolio rubric, the
grading policy) in the same object by type: `services(app).provide(value)` at start-up,
`services(app).get(TeachHubConfig)` later.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, current_app
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

if TYPE_CHECKING:
    from .cache import RedisCache
    from .calendar import AcademicCalendar
    from .db import Database
    from .gradebook.doorbell import Doorbell
    from .gradebook.refresh import RosterRefresher
    from .gradebook.sync import Services
    from .http import GuardedSession
    from .lti.keys import Keyring
    from .lti.keysets import PlatformKeySets
    from .lti.placements import PlacementRegistry
    from .lti.records import RecordCache
    from .lti.registry import PlatformCache
    from .lti.states import LoginStates
    from .security import FrameAncestors
    from .settings import Settings

csrf = CSRFProtect()
babel = Babel()

T = TypeVar("T")
KEY = "lti_tool"  # the one entry of app.extensions this module reads and writes


@dataclass(eq=False)
class ToolServices:
    """Everything `create_app` builds for one app, typed."""

    settings: Settings  # read once, at start-up
    db: Database
    http: GuardedSession
    keyring: Keyring
    # Redis (redis.url / REDIS_URL), None without it: then everything stays in this process.
    shared_cache: RedisCache | None
    login_states: LoginStates
    platforms: PlatformCache
    launch_records: RecordCache
    keysets: PlatformKeySets
    # Dynamic registrations calling an LMS at once, per process (lti/registration.py).
    registration_slots: threading.BoundedSemaphore
    frame_ancestors: FrameAncestors
    placements: PlacementRegistry
    academic_calendar: AcademicCalendar
    # The platform services of AGS/NRPS calls and the score worker (tokens, scorers).
    gradebook: Services
    roster_refresher: RosterRefresher
    score_doorbell: Doorbell
    _parts: dict[type, Any] = field(default_factory=dict, repr=False)

    def provide(self, value: T) -> T:
        """Keep a part loaded at start-up under its own type (one per type); returns it."""
        kind = type(value)
        if kind in self._parts:
            raise RuntimeError(f"{kind.__name__} is provided already")
        self._parts[kind] = value
        return value

    def get(self, kind: type[T]) -> T:
        """The part of this type provided at start-up (KeyError names it when none was)."""
        try:
            return self._parts[kind]
        except KeyError:
            raise KeyError(f"no {kind.__name__} was provided at start-up") from None

    def find(self, kind: type[T]) -> T | None:
        """The part of this type, or None when the domain providing it is not installed."""
        return self._parts.get(kind)


def install(app: Flask, tool_services: ToolServices) -> ToolServices:
    """Attach the services to the app (create_app, once)."""
    app.extensions[KEY] = tool_services
    return tool_services


def services(app: Flask | None = None) -> ToolServices:
    """The services of `app` (default: the current app)."""
    return (app or current_app).extensions[KEY]


def placements(app: Flask | None = None) -> PlacementRegistry:
    """The app's placement registry (domains register in their init_app, in any order)."""
    return services(app).placements


def settings(app: Flask | None = None) -> Settings:
    """The settings of `app` (default: the current app), read once at start-up."""
    return services(app).settings
