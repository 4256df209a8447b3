"""LTI Dynamic Registration 1.0 (the tool side) and the Canvas developer key JSON."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

import requests
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import RegistrationError
from ..http import BlockedAddress, DeadlineExceeded, GuardedSession, ResponseTooLarge, digest
from . import invites
from .constants import ALL_SCOPES, MessageType
from .models import Platform
from .registry import add_platform, find_platform, origin

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
# Canvas names one issuer for all its customers, served from each school's own domain.
CANVAS_ISSUERS = {"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                  "https://canvas.test.instructure.com"}
MAX_DOCUMENT_BYTES = 1 << 20


def tool_configuration(base_url: str, tool_name: str) -> dict:
    """The registration request body (Dynamic Registration §3.5.2)."""
    host = urlsplit(base_url).netloc
    launch = base_url + "/lti/launch"
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base_url + "/lti/login",
        "redirect_uris": [launch],
        "client_name": tool_name,
        "jwks_uri": base_url + "/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(ALL_SCOPES),
        TOOL_CONFIGURATION: {
            "domain": host,
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
            "messages": [
                {"type": MessageType.RESOURCE_LINK.value, "target_link_uri": launch,
                 "label": tool_name},
                {"type": MessageType.DEEP_LINKING.value, "target_link_uri": launch,
                 "label": tool_name,
                 "placements": ["ContentArea", "link_selection", "assignment_selection"]},
            ],
            "description": "Student achievement portfolio and TeachHub staff development",
        },
    }


def _call_json(http: GuardedSession, url: str, what: str, *, deadline: float,
               **kwargs) -> dict:
    """One call to the LMS: its JSON object, or a RegistrationError that names the failure.

    The answer's body is never shown or logged: the detail keeps a digest of it.
    """
    host = urlsplit(url).netloc
    try:
        response = http.request(kwargs.pop("method", "GET"), url, deadline=deadline,
                                max_bytes=MAX_DOCUMENT_BYTES, **kwargs)
    except BlockedAddress as err:
        raise RegistrationError(
            _l("The LMS address given for the registration is an internal address the tool "
               "does not call."), code="address_not_allowed", status=400,
            detail=f"{what}: {err}") from err
    except DeadlineExceeded as err:
        raise RegistrationError(_l("The LMS did not answer the registration in time."),
                                code="lms_timeout", status=504,
                                detail=f"{what} at {host}: no answer in time") from err
    except ResponseTooLarge as err:
        raise RegistrationError(_l("The LMS answered the registration with a document that is "
                                   "too large."), status=502,
                                detail=f"{what} at {host}: {err}") from err
    except requests.RequestException as err:
        raise RegistrationError(_l("The LMS could not be reached during registration."),
                                detail=f"{what} at {host}: {err.__class__.__name__}",
                                status=502) from err
    summary = digest(response.status_code, response.content)
    if response.status_code >= 400:
        log.warning("registration: %s at %s refused: %s", what, host, summary)
        raise RegistrationError(_l("The LMS refused the registration."), status=502,
                                detail=f"{what}: {summary}")
    try:
        document = response.json()
    except ValueError as err:
        raise RegistrationError(_l("The LMS answered the registration with something that is "
                                   "not JSON."), detail=f"{what}: {summary}", status=502) from err
    if not isinstance(document, dict):
        raise RegistrationError(detail=f"{what}: not a JSON object ({summary})", status=502)
    return document


def _check_configuration(config: dict, config_url: str) -> None:
    required = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                "registration_endpoint"]
    missing = [name for name in required
               if not isinstance(config.get(name), str)
               or not config[name].startswith(("https://", "http://"))]
    if missing:
        raise RegistrationError(_l("The LMS configuration is incomplete."), status=502,
                                detail="missing or not a URL: " + ", ".join(missing))
    # §3.5.1: the issuer must match the configuration URL's host (Canvas excepted: its
    # issuer is shared and each school serves the configuration from its own domain).
    issuer = config["issuer"]
    if issuer not in CANVAS_ISSUERS and urlsplit(issuer).netloc != urlsplit(config_url).netloc:
        raise RegistrationError(_l("The LMS configuration names an issuer that does not match "
                                   "its address."), detail=f"issuer {issuer!r} vs {config_url!r}")


def register_with_platform(db: Session, http: GuardedSession, *, invite_token: str | None,
                           openid_configuration_url: str, registration_token: str | None,
                           base_url: str, tool_name: str, auto_activate: bool,
                           slots: threading.BoundedSemaphore, deadline_seconds: float) -> Platform:
    """Check the invite, fetch the platform's configuration, register, store a new platform.

    Nothing is called before the invite is found valid. An existing (issuer, client_id) is
    never changed, unless the invite was issued for that platform (`--update`).
    """
    invite = invites.find_invite(db, invite_token)
    invite_id, update_id = invite.id, invite.update_platform_id
    if not openid_configuration_url.startswith(("https://", "http://")):
        raise RegistrationError(_l("Open this page from the LMS's dynamic registration: the "
                                   "openid_configuration parameter is missing."),
                                code="missing_openid_configuration")
    # A few registrations at a time per process: slow LMS answers must not take every
    # thread of the server (health checks, launches) until their deadline.
    if not slots.acquire(blocking=False):
        raise RegistrationError(_l("The tool is busy with other registrations. Please try "
                                   "again in a minute."), code="registration_busy", status=503)
    try:
        invites.claim_invite(db, invite_id)
        try:
            platform = _register(db, http, openid_configuration_url, registration_token,
                                 base_url, tool_name, auto_activate, update_id,
                                 deadline=time.monotonic() + deadline_seconds)
            invites.mark_used(db, invite_id, platform.id)
            db.commit()
        except BaseException:
            db.rollback()
            invites.release_invite(db, invite_id)
            raise
    finally:
        slots.release()
    log.info("registered platform %s (%s, client %s) with invite %s", platform.id,
             platform.issuer, platform.client_id, invite_id)
    return platform


def _register(db: Session, http: GuardedSession, openid_configuration_url: str,
              registration_token: str | None, base_url: str, tool_name: str,
              auto_activate: bool, update_id: int | None, *, deadline: float) -> Platform:
    config = _call_json(http, openid_configuration_url, "openid configuration",
                        deadline=deadline, headers={"Accept": "application/json"})
    _check_configuration(config, openid_configuration_url)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    answer = _call_json(http, config["registration_endpoint"], "registration", method="POST",
                        deadline=deadline, json=tool_configuration(base_url, tool_name),
                        headers=headers)
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id or len(client_id) > 255:
        raise RegistrationError(_l("The LMS did not give the tool a client_id."), status=502)
    deployment_id = (answer.get(TOOL_CONFIGURATION) or {}).get("deployment_id")
    existing = find_platform(db, config["issuer"], client_id)
    if existing is not None and existing.id != update_id:
        raise RegistrationError(
            _l("This LMS registration already exists in the tool and a registration link "
               "never changes it. To register it again, the tool's administrator issues a link "
               "for it: lti-tool platform invite --update ID."),
            code="already_registered", status=409,
            detail=f"platform {existing.id} has this issuer and client_id")
    platform_config = config.get(PLATFORM_CONFIGURATION) or {}
    try:
        platform = add_platform(
            db, issuer=config["issuer"], client_id=client_id,
            auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"], key_set_url=config["jwks_uri"],
            deployment_ids=[str(deployment_id)] if deployment_id else [],
            name=str(platform_config.get("product_family_code") or config["issuer"]),
            product_family=str(platform_config.get("product_family_code") or ""),
            status="active" if auto_activate else "pending",
            frame_origins=[origin(openid_configuration_url)],
        )
    except IntegrityError as err:  # the same registration stored by a concurrent request
        raise RegistrationError(code="already_registered", status=409,
                                detail="the issuer and client_id were stored meanwhile") from err
    return platform


def canvas_configuration(base_url: str, tool_name: str) -> dict:
    """Canvas's LTI 1.3 developer key JSON, pasted by URL into a new LTI key."""
    host = urlsplit(base_url).netloc
    launch = base_url + "/lti/launch"
    return {
        "title": tool_name,
        "description": "Student achievement portfolio and TeachHub staff development",
        "oidc_initiation_url": base_url + "/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": base_url + "/.well-known/jwks.json",
        "scopes": ALL_SCOPES,
        "extensions": [{
            "domain": host,
            "tool_id": "lti-portfolio-teachhub",
            "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {
                "text": tool_name,
                "placements": [
                    {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                     "target_link_uri": launch, "text": tool_name, "enabled": True},
                    {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                     "target_link_uri": launch, "text": tool_name},
                    {"placement": "assignment_selection", "message_type": "LtiDeepLinkingRequest",
                     "target_link_uri": launch, "text": tool_name},
                ],
            },
        }],
        "custom_fields": {
            "canvas_course_id": "$Canvas.course.id",
            "canvas_user_id": "$Canvas.user.id",
            "section_ids": "$Canvas.course.sectionIds",
        },
    }


