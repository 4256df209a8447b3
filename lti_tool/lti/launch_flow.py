"""A launch from the form to its outcome: validate, record, start the session, commit, and say
where to land. No Flask here: the view hands in what it owns (the session writer, the caches)
and renders or redirects on the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import LaunchError
from ..ops import metrics
from .constants import Claim, MessageType
from .keysets import PlatformKeySets
from .launch import LaunchPolicy, needs_storage_lookup, validate_launch
from .models import Platform
from .placements import Arrival, Landing, PlacementRegistry
from .records import RecordCache, launch_locale, record_launch
from .registry import DatabaseToolConf, PlatformCache, origin
from .states import LoginStates

log = logging.getLogger("lti_tool.lti.views")  # the launch log line keeps its logger name

DEEP_LINK_PAGE = "lti.deep_link"


@dataclass(frozen=True)
class LaunchServices:
    """What a launch uses beyond the database: the app's caches and the domains' hooks."""

    tool_conf: DatabaseToolConf
    keysets: PlatformKeySets
    platforms: PlatformCache
    states: LoginStates
    records: RecordCache
    placements: PlacementRegistry
    policy: LaunchPolicy
    # Called with the session data before the commit: writes the new web session in `db`.
    start_session: Callable[[dict[str, Any]], None]
    frame_origins_changed: Callable[[], None]  # a platform learned a frame origin
    refresh_roster: Callable[[Session, int], object]  # the course's roster, when it is old
    http: requests.Session | None = None  # the app's outbound session (lti_tool/http.py)


@dataclass(frozen=True)
class AskStorage:
    """Canvas: the state was not in a cookie; read it back from the platform window first."""

    target: str
    auth_origin: str


@dataclass(frozen=True)
class OpenNewWindow:
    """The browser blocked the state cookie: offer the tool's own window (the new login)."""

    message: str
    login_params: dict[str, Any]


@dataclass(frozen=True)
class Landed:
    """A committed launch: who, the session it started, and the page to land on."""

    user_id: int | None
    platform_id: int
    session: dict[str, Any]
    landing: Landing


LaunchOutcome = AskStorage | OpenNewWindow | Landed


def run_launch(
    db: Session, params: dict[str, str], cookies: dict[str, str], services: LaunchServices
) -> LaunchOutcome:
    """Take a launch form to its outcome; raises LaunchError when it is refused."""
    states = services.states
    storage_target = needs_storage_lookup(db, params, cookies, states)
    if storage_target:
        return AskStorage(storage_target, _auth_origin(db, states, params))
    try:
        result = validate_launch(
            db,
            params,
            cookies,
            tool_conf=services.tool_conf,
            keysets=services.keysets,
            policy=services.policy,
            platforms=services.platforms,
            states=states,
            http=services.http,
        )
    except LaunchError as err:
        db.rollback()
        if err.code == "cookies_blocked":
            metrics.launch_refused(err.code)
            login_state = states.get(db, params.get("state", ""))
            return OpenNewWindow(err.message, login_state.login_params if login_state else {})
        raise
    records = services.records
    try:
        record = record_launch(db, result, records)
    except IntegrityError:  # a concurrent first launch of the same person inserted first
        db.rollback()
        if not states.consume_again(db, params["state"]):
            raise LaunchError(code="replayed_launch") from None
        record = record_launch(db, result, records)
    custom = {str(k): str(v)[:500] for k, v in (result.claims.get(Claim.CUSTOM) or {}).items()}
    data = {
        "user_id": record.user_id,
        "platform_id": result.platform.id,
        "context_id": record.context_id,
        "resource_link_id": record.resource_link_id,
        "placement": record.placement,
        "role": result.role.value,
        # Least privilege: a mentor reads only these learners (role_scope_mentor `sub`s); the
        # roles themselves are named on the page of a role the tool does not serve.
        "mentees": result.mentees,
        "lti_roles": [str(role)[:255] for role in result.roles[:20]],
        "locale": launch_locale(result.claims),
        "deployment_id": result.deployment_id,
        "message_type": result.message_type,
        # This launch's own custom parameters (the placement's row keeps only the latest).
        "custom": custom,
    }
    if result.message_type == MessageType.DEEP_LINKING:
        data["deep_linking"] = result.claims[Claim.DEEP_LINKING_SETTINGS]
    services.start_session(data)
    # One commit for the whole launch: the consumed state, the records and the new session.
    db.commit()
    # What other requests and threads may now read: the rows are committed.
    records.put(record)
    if record.learned_frame_origin:
        services.frame_origins_changed()
    if record.context_id is not None:
        services.refresh_roster(db, record.context_id)
    log.info(
        "launch ok: platform=%s type=%s role=%s binding=%s",
        result.platform.id,
        result.message_type,
        result.role,
        result.state_binding,
    )
    metrics.launch_ok()
    if result.message_type == MessageType.DEEP_LINKING:
        landing = Landing(DEEP_LINK_PAGE)
    else:
        # Straight to the placement's own page: one redirect, not a chain through home.
        landing = services.placements.landing(
            db,
            record.placement,
            Arrival(
                platform_id=result.platform.id,
                user_id=record.user_id,
                context_id=record.context_id,
                resource_link_id=record.resource_link_id,
                role=result.role,
                custom=custom,
            ),
        )
    return Landed(record.user_id, result.platform.id, data, landing)


def _auth_origin(db: Session, states: LoginStates, params: dict[str, str]) -> str:
    login_state = states.get(db, params.get("state", ""))
    platform = db.get(Platform, login_state.platform_id) if login_state else None
    return origin(platform.auth_login_url) if platform else ""
