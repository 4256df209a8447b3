"""Launch plans: the id_token bodies a Moodle or Canvas platform signs, shaped after real ones."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .server import Platform

Profile = Literal["moodle", "canvas"]

# Claim names (LTI 1.3 core §5, Deep Linking 2.0 §4.4, AGS 2.0 §3.1, NRPS 2.0 §3.6).
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_VERSION = LTI + "version"
CLAIM_DEPLOYMENT_ID = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_ROLES = LTI + "roles"
CLAIM_CONTEXT = LTI + "context"
CLAIM_TOOL_PLATFORM = LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = LTI + "launch_presentation"
CLAIM_LIS = LTI + "lis"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_EXT = LTI + "ext"
CLAIM_LTI11_LEGACY_USER_ID = LTI + "lti11_legacy_user_id"
CLAIM_LTI1P1 = LTI + "lti1p1"
CLAIM_BASIC_OUTCOME = "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
CLAIM_DL_LOG = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
CLAIM_DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
CLAIM_DL_ERRORLOG = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"
CLAIM_CANVAS_PLACEMENT = "https://www.instructure.com/placement"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_CANVAS_PROGRESS = "https://canvas.instructure.com/lti-ags/progress/scope/show"

ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_INST_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
ROLE_INST_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"
ROLE_INST_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
ROLE_SYS_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
ROLE_SYS_SYSADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin"
ROLE_SYS_USER = "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"

MOODLE_VERSION = "2025100600"
CANVAS_DEPLOYMENT_ID = "7:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"

ROLES: dict[str, dict[str, list[str]]] = {
    "moodle": {
        "student": [ROLE_LEARNER],
        "teacher": [ROLE_INSTRUCTOR],
        # Moodle sends the site admin's institution and system roles beside the course role.
        "admin": [ROLE_INST_ADMIN, ROLE_INSTRUCTOR, ROLE_SYS_ADMIN],
    },
    "canvas": {
        "student": [ROLE_INST_STUDENT, ROLE_LEARNER, ROLE_SYS_USER],
        "teacher": [ROLE_INST_INSTRUCTOR, ROLE_INSTRUCTOR, ROLE_SYS_USER],
        # An account admin not enrolled in the course: no membership role at all.
        "admin": [ROLE_INST_ADMIN, ROLE_SYS_SYSADMIN, ROLE_SYS_USER],
    },
}

# id is Moodle's numeric user id (admin is always 2) or Canvas's numeric user id.
_BASE_USERS: dict[str, dict[str, dict[str, str]]] = {
    "moodle": {
        "admin": {"id": "2", "username": "admin", "given_name": "Admin", "family_name": "User"},
        "teacher": {"id": "3", "username": "teacher1", "given_name": "Terry",
                    "family_name": "Teacher"},
        "student": {"id": "4", "username": "student1", "given_name": "Sam",
                    "family_name": "Student"},
    },
    "canvas": {
        "admin": {"id": "1", "username": "admin", "given_name": "Ada", "family_name": "Admin"},
        "teacher": {"id": "2", "username": "teacher1", "given_name": "Terry",
                    "family_name": "Teacher"},
        "student": {"id": "3", "username": "student1", "given_name": "Sam",
                    "family_name": "Student"},
    },
}


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass(frozen=True)
class PlatformUser:
    """A user of the platform, as its id_tokens describe them."""

    role: str
    id: str
    username: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    sub: str
    # Canvas's opaque 40-hex user id: login_hint, lti11_legacy_user_id, lti1p1.user_id.
    opaque_id: str

    @property
    def name(self) -> str:
        """Full name as the platform shows it."""
        return f"{self.given_name} {self.family_name}"


def make_user(profile: Profile, user: str | Mapping[str, Any]) -> PlatformUser:
    """Build a user from "student" / "teacher" / "admin" or a dict overriding one of those."""
    spec: dict[str, Any] = {"role": user} if isinstance(user, str) else dict(user)
    role = spec.get("role", "student")
    if role not in ROLES[profile]:
        raise ValueError(f"unknown role {role!r}; use student, teacher or admin")
    base = dict(_BASE_USERS[profile][role])
    base.update({k: str(v) for k, v in spec.items() if k in base})
    uid = base["id"]
    opaque = spec.get("opaque_id") or _sha1(f"canvas-user:{uid}")
    if profile == "moodle":
        sub = str(spec.get("sub", uid))
    else:
        # Canvas's sub is the user's lti_id, a UUID stable across launches.
        sub = str(spec.get("sub", uuid.uuid5(uuid.NAMESPACE_URL, f"canvas-user:{uid}")))
    email = spec.get("email") or f"{base['username']}@example.edu"
    roles = tuple(spec.get("roles", ROLES[profile][role]))
    return PlatformUser(
        role=role,
        id=uid,
        username=base["username"],
        given_name=base["given_name"],
        family_name=base["family_name"],
        email=email,
        roles=roles,
        sub=sub,
        opaque_id=opaque,
    )


def _merge(base: dict[str, Any], override: bool | Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(override, Mapping):
        base.update(override)
    return base


@dataclass
class LaunchPlan:
    """One launch a platform is ready to make: who, where, what message, and its hints."""

    platform: Platform = field(repr=False)
    id: str
    user: PlatformUser
    message_type: str
    course: int
    client_id: str
    deployment_id: str
    login_hint: str
    lti_message_hint: str
    locale: str = "en"
    document_target: str = "iframe"
    context: Mapping[str, Any] | None = None
    resource_link: Mapping[str, Any] | None = None
    custom: Mapping[str, Any] | None = None
    target_link_uri: str | None = None
    extra_claims: Mapping[str, Any] | None = None
    drop_claims: tuple[str, ...] = ()
    ags: bool | Mapping[str, Any] = True
    nrps: bool | Mapping[str, Any] = True
    deep_linking: Mapping[str, Any] | None = None
    dl_data: str | None = None
    # Moodle's per-session key, carried in return URLs; also tells deep-link returns apart.
    sesskey: str = ""

    @property
    def is_deep_link(self) -> bool:
        """True for an LtiDeepLinkingRequest plan."""
        return self.message_type == "LtiDeepLinkingRequest"

    @property
    def target(self) -> str:
        """The target_link_uri of this launch (the tool's launch or deep-linking URL by default)."""
        if self.target_link_uri:
            return self.target_link_uri
        tool = self.platform.tool
        if tool is None:
            raise RuntimeError("call platform.set_tool(...) before using a plan")
        if self.is_deep_link and tool.deep_link_url:
            return tool.deep_link_url
        return tool.launch_url

    @property
    def login_params(self) -> dict[str, str]:
        """The third-party login initiation parameters the platform POSTs to the tool."""
        p = self.platform
        if p.profile == "moodle":
            # Moodle: no lti_storage_target, login_hint is the user id (platforms.md).
            return {
                "iss": p.issuer,
                "target_link_uri": self.target,
                "login_hint": self.login_hint,
                "lti_message_hint": self.lti_message_hint,
                "client_id": self.client_id,
                "lti_deployment_id": self.deployment_id,
            }
        return {
            "iss": p.issuer,
            "login_hint": self.login_hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
            "target_link_uri": self.target,
            "lti_message_hint": self.lti_message_hint,
            "canvas_region": "us-east-1",
            "canvas_environment": "prod",
            "lti_storage_target": "_parent",
        }

    @property
    def deep_link_return_url(self) -> str:
        """The return URL this plan's deep-linking settings carry."""
        p = self.platform
        if p.profile == "moodle":
            return (
                f"{p.deep_link_return_url}?course={self.course}&id={self.deployment_id}"
                f"&sesskey={self.sesskey}"
            )
        return f"{p.deep_link_return_url}?modal=true"

    def claims(self, nonce: str) -> dict[str, Any]:
        """The full id_token body for this plan and `nonce` (drop_claims, extra_claims applied)."""
        now = int(time.time())
        if self.platform.profile == "moodle":
            body = self._moodle_claims()
            lifetime = 60
        else:
            body = self._canvas_claims()
            lifetime = 3600
        body.update({"nonce": nonce, "iat": now, "exp": now + lifetime})
        for name in self.drop_claims:
            body.pop(name, None)
        body.update(self.extra_claims or {})
        return body

    # -- Moodle ---------------------------------------------------------------------------------

    def _moodle_claims(self) -> dict[str, Any]:
        p = self.platform
        base = p.base_url
        u = self.user
        course = str(self.course)
        type_id = self.deployment_id
        services = f"{base}/mod/lti/services.php"
        body: dict[str, Any] = {
            "iss": p.issuer,
            "aud": self.client_id,
            CLAIM_DEPLOYMENT_ID: self.deployment_id,
            CLAIM_TARGET_LINK_URI: self.target,
            "sub": u.sub,
            CLAIM_LIS: {"person_sourcedid": "", "course_section_sourcedid": ""},
            CLAIM_ROLES: list(u.roles),
            CLAIM_CONTEXT: _merge(
                {"id": course, "label": f"C{course}", "title": f"Course {course}",
                 "type": ["CourseSection"]},
                self.context,
            ),
            "given_name": u.given_name,
            "family_name": u.family_name,
            "name": u.name,
            CLAIM_EXT: {"user_username": u.username, "lms": "moodle-2"},
            "email": u.email,
            CLAIM_LAUNCH_PRESENTATION: {
                "locale": self.locale,
                "document_target": self.document_target,
                "return_url": (
                    f"{base}/mod/lti/return.php?course={course}&launch_container=3"
                    f"&instanceid=1&sesskey={self.sesskey}"
                ),
            },
            CLAIM_TOOL_PLATFORM: {
                "product_family_code": "moodle",
                "version": MOODLE_VERSION,
                "guid": p.host,
                "name": "Test Moodle",
                "description": "Moodle test site on loopback",
            },
            CLAIM_VERSION: "1.3.0",
            CLAIM_MESSAGE_TYPE: self.message_type,
        }
        # Moodle also puts its service URLs in `custom` (custom_<param> of each enabled service).
        custom: dict[str, Any] = {}
        if self.is_deep_link:
            body[CLAIM_DL_SETTINGS] = _merge(
                {
                    "deep_link_return_url": self.deep_link_return_url,
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "accept_copy_advice": False,
                    "accept_multiple": True,
                    "accept_unsigned": False,
                    "auto_create": True,
                    "can_confirm": False,
                    "title": "",
                    "text": "",
                    **({"data": self.dl_data} if self.dl_data is not None else {}),
                },
                self.deep_linking,
            )
        else:
            body[CLAIM_RESOURCE_LINK] = _merge(
                {"title": "Portfolio", "description": "", "id": "1"}, self.resource_link
            )
        if self.ags:
            ags: dict[str, Any] = {
                "scope": [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY,
                          SCOPE_SCORE],
                "lineitems": f"{services}/{course}/lineitems?type_id={type_id}",
            }
            if not self.is_deep_link:
                rl_id = body[CLAIM_RESOURCE_LINK]["id"]
                # The activity's own grade item; its URL keeps the query string at the end
                # (platforms.md).
                ags["lineitem"] = p.resource_link_line_item_url(
                    self.course, str(rl_id), str(body[CLAIM_RESOURCE_LINK].get("title") or "")
                    or "Portfolio", type_id=type_id)
                sourced = json.dumps(
                    {"data": {"instanceid": rl_id, "userid": u.id, "typeid": type_id,
                              "launchid": int(self.sesskey, 16) % 10**9},
                     "hash": hashlib.sha256(f"{rl_id}:{u.id}:{type_id}".encode()).hexdigest()},
                    separators=(",", ":"),
                )
                body[CLAIM_BASIC_OUTCOME] = {
                    "lis_result_sourcedid": sourced,
                    "lis_outcome_service_url": f"{base}/mod/lti/service.php",
                }
            body[CLAIM_AGS] = _merge(ags, self.ags)
            custom["gradebookservices_scope"] = ",".join(body[CLAIM_AGS]["scope"])
            custom["lineitems_url"] = body[CLAIM_AGS]["lineitems"]
            if "lineitem" in body[CLAIM_AGS]:
                custom["lineitem_url"] = body[CLAIM_AGS]["lineitem"]
        if self.nrps:
            body[CLAIM_NRPS] = _merge(
                {
                    "context_memberships_url": (
                        f"{services}/CourseSection/{course}/bindings/{type_id}/memberships"
                    ),
                    "service_versions": ["1.0", "2.0"],
                },
                self.nrps,
            )
            custom["context_memberships_url"] = body[CLAIM_NRPS]["context_memberships_url"]
        custom.update(self.custom or {})
        body[CLAIM_CUSTOM] = custom
        return body

    # -- Canvas ---------------------------------------------------------------------------------

    def _canvas_claims(self) -> dict[str, Any]:
        p = self.platform
        base = p.base_url
        u = self.user
        course = str(self.course)
        no_errors: dict[str, dict[str, Any]] = {"errors": {}}
        body: dict[str, Any] = {
            CLAIM_MESSAGE_TYPE: self.message_type,
            CLAIM_VERSION: "1.3.0",
            "aud": self.client_id,
            "azp": self.client_id,
            CLAIM_DEPLOYMENT_ID: self.deployment_id,
            "iss": p.issuer,
            "sub": u.sub,
            CLAIM_TARGET_LINK_URI: self.target,
            "picture": "https://canvas.instructure.com/images/messages/avatar-50.png",
            "email": u.email,
            "name": u.name,
            "given_name": u.given_name,
            "family_name": u.family_name,
            "locale": self.locale,
            CLAIM_LIS: {"person_sourcedid": None, "course_offering_sourcedid": None,
                        "validation_context": None, "errors": no_errors},
            CLAIM_CONTEXT: _merge(
                {
                    "id": _sha1(f"canvas-course:{course}"),
                    "label": f"C{course}",
                    "title": f"Course {course}",
                    "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                    "validation_context": None,
                    "errors": no_errors,
                },
                self.context,
            ),
            CLAIM_TOOL_PLATFORM: {
                "guid": "8865aa05b4b79b64a91a86042e43af5ea8ae79eb:canvas-lms",
                "name": "Test School",
                "version": "cloud",
                "product_family_code": "canvas",
                "validation_context": None,
                "errors": no_errors,
            },
            CLAIM_LAUNCH_PRESENTATION: {
                "document_target": self.document_target,
                "return_url": (
                    "https://school.instructure.com/courses/1/external_content/success/"
                    "external_tool_redirect"
                ),
                "locale": self.locale,
                "height": 400,
                "width": 800,
                "validation_context": None,
                "errors": no_errors,
            },
            CLAIM_ROLES: list(u.roles),
            CLAIM_CUSTOM: {"canvas_course_id": course, "canvas_user_id": u.id,
                           **dict(self.custom or {})},
            CLAIM_LTI11_LEGACY_USER_ID: u.opaque_id,
            CLAIM_LTI1P1: {"user_id": u.opaque_id, "validation_context": None,
                           "errors": no_errors},
            "errors": no_errors,
            CLAIM_CANVAS_PLACEMENT: "link_selection" if self.is_deep_link else "course_navigation",
        }
        if self.is_deep_link:
            body[CLAIM_DL_SETTINGS] = _merge(
                {
                    "deep_link_return_url": self.deep_link_return_url,
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "accept_media_types": "application/vnd.ims.lti.v1.ltilink",
                    "accept_multiple": True,
                    "auto_create": False,
                    **({"data": self.dl_data} if self.dl_data is not None else {}),
                    "validation_context": None,
                    "errors": no_errors,
                },
                self.deep_linking,
            )
        else:
            body[CLAIM_RESOURCE_LINK] = _merge(
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"canvas-link:{course}:1")),
                    "description": None,
                    "title": "Portfolio",
                    "validation_context": None,
                    "errors": no_errors,
                },
                self.resource_link,
            )
        if self.ags:
            body[CLAIM_AGS] = _merge(
                {
                    "scope": [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY,
                              SCOPE_SCORE, SCOPE_CANVAS_PROGRESS],
                    "lineitems": f"{base}/api/lti/courses/{course}/line_items",
                    "validation_context": None,
                    "errors": no_errors,
                },
                self.ags,
            )
        if self.nrps:
            body[CLAIM_NRPS] = _merge(
                {
                    "context_memberships_url": f"{base}/api/lti/courses/{course}/names_and_roles",
                    "service_versions": ["2.0"],
                    "validation_context": None,
                    "errors": no_errors,
                },
                self.nrps,
            )
        return body
