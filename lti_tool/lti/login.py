"""OIDC third-party initiated login (LTI 1.3 Core §5.1.1 / 1EdTech Security Framework §5.1)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import LaunchError
from .models import LoginState, Platform
from .registry import PlatformCache, origin
from .states import LoginStates

STATE_COOKIE_PREFIX = "lti_state_"
# Marks a login started again in the tool's own window (lti/new_window.html): if the browser
# keeps no cookie even there, the launch says so instead of offering yet another window.
NEW_WINDOW_PARAM = "lti_new_window"
RELAUNCH_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id",
                   "lti_deployment_id", NEW_WINDOW_PARAM)


_last_sweep = [float("-inf")]


def _sweep_due(every_seconds: float = 60.0) -> bool:
    now = time.monotonic()
    if now - _last_sweep[0] < every_seconds:
        return False
    _last_sweep[0] = now
    return True


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser next, and what to remember about it."""

    auth_url: str
    state: str
    storage_target: str | None
    auth_origin: str


def check_sizes(params: dict[str, str], *, max_param_bytes: int, max_total_bytes: int) -> None:
    """Refuse login parameters larger than any LMS sends: each is stored and echoed."""
    total = 0
    for name, value in params.items():
        size = len(name.encode()) + len(value.encode())
        if size > max_param_bytes:
            raise LaunchError(_l("A login parameter (%(name)s) is too large.", name=name[:40]),
                              code="parameter_too_large", detail=f"{size} bytes")
        total += size
    if total > max_total_bytes:
        raise LaunchError(_l("The login request is too large."), code="request_too_large",
                          detail=f"{total} bytes")


def begin_login(db: Session, params: dict[str, str], *, platforms: PlatformCache, base_url: str,
                launch_url: str, state_ttl: int, states: LoginStates | None = None,
                max_param_bytes: int = 4096, max_total_bytes: int = 16384) -> LoginStart:
    """Check a login initiation request and store a fresh state + nonce for it."""
    check_sizes(params, max_param_bytes=max_param_bytes, max_total_bytes=max_total_bytes)
    issuer = params.get("iss", "").strip()
    if not issuer:
        raise LaunchError(_l("The login request does not name the platform (iss)."),
                          code="missing_issuer")
    login_hint = params.get("login_hint", "")
    if not login_hint:
        raise LaunchError(_l("The login request has no login_hint."), code="missing_login_hint")
    target_link_uri = params.get("target_link_uri", "")
    if not target_link_uri:
        raise LaunchError(_l("The login request has no target_link_uri."),
                          code="missing_target_link_uri")
    if origin(target_link_uri) != origin(base_url):
        raise LaunchError(_l("The launch points to another tool, not this one."),
                          code="foreign_target_link_uri",
                          detail=f"target_link_uri {target_link_uri!r} is not under {base_url}")
    client_id = params.get("client_id") or None
    platform = platforms.get(db, issuer, client_id)
    if platform is None:
        issuer_known = db.scalar(select(Platform.id).where(Platform.issuer == issuer).limit(1))
        raise LaunchError(_l("This platform is not registered with the tool."),
                          code="unknown_client_id" if issuer_known else "unknown_platform",
                          detail=f"iss={issuer!r} client_id={client_id!r}")
    if platform.status != "active":
        raise LaunchError(_l("This platform's registration is waiting for approval by the "
                             "tool's administrator."), code="platform_pending", status=403)
    deployment_id = params.get("lti_deployment_id")
    if deployment_id and deployment_id not in platform.deployment_ids:
        raise LaunchError(_l("This deployment of the tool is not registered."),
                          code="unknown_deployment", detail=f"deployment_id={deployment_id!r}")

    now = utcnow()
    # Expired states are useless; sweeping them now and then keeps the table small, no cron.
    if _sweep_due():
        db.execute(delete(LoginState).where(LoginState.expires_at < now - timedelta(hours=1)))
    storage_target = params.get("lti_storage_target") or None
    login_state = LoginState(
        state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
        platform_id=platform.id, target_link_uri=target_link_uri,
        storage_target=storage_target, created_at=now,
        login_params={k: v for k, v in params.items() if k in RELAUNCH_PARAMS},
        expires_at=now + timedelta(seconds=state_ttl),
    )
    (states or LoginStates()).put(db, login_state)

    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "state": login_state.state,
        "nonce": login_state.nonce,
        "login_hint": login_hint,
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(
        auth_url=platform.auth_login_url + separator + urlencode(auth_params),
        state=login_state.state,
        storage_target=storage_target,
        auth_origin=origin(platform.auth_login_url),
    )
