"""LTI 1.3 vocabulary: claim URIs, message types, scopes and role URIs, in one place."""

from enum import StrEnum

LTI_VERSION = "1.3.0"


class Claim(StrEnum):
    """id_token claim names (LTI 1.3 Core §5, Deep Linking 2.0, AGS 2.0, NRPS 2.0)."""

    MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
    VERSION = "https://purl.imsglobal.org/spec/lti/claim/version"
    DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
    TARGET_LINK_URI = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
    RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
    ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"
    CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
    TOOL_PLATFORM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
    LAUNCH_PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
    CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
    LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"
    DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
    # The users a Mentor follows, as the platform's `sub` values (LTI 1.3 Core §5.4.5).
    ROLE_SCOPE_MENTOR = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"


class MessageType(StrEnum):
    """Message types the tool accepts."""

    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"


class Scope(StrEnum):
    """OAuth2 scopes of LTI Advantage services."""

    AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
    AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
    AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
    AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    NRPS_READONLY = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


ALL_SCOPES = [scope.value for scope in Scope]

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


class RoleUri(StrEnum):
    """LIS v2 role URIs (LTI 1.3 Core Appendix A) that change what the tool shows."""

    # Context (membership) roles.
    LEARNER = LIS + "membership#Learner"
    INSTRUCTOR = LIS + "membership#Instructor"
    TEACHING_ASSISTANT = LIS + "membership/Instructor#TeachingAssistant"
    CONTENT_DEVELOPER = LIS + "membership#ContentDeveloper"
    MENTOR = LIS + "membership#Mentor"
    CONTEXT_ADMINISTRATOR = LIS + "membership#Administrator"
    # Institution roles.
    INSTITUTION_ADMINISTRATOR = LIS + "institution/person#Administrator"
    INSTITUTION_STUDENT = LIS + "institution/person#Student"
    INSTITUTION_INSTRUCTOR = LIS + "institution/person#Instructor"
    INSTITUTION_FACULTY = LIS + "institution/person#Faculty"
    # System roles.
    SYSTEM_ADMINISTRATOR = LIS + "system/person#Administrator"
    SYSTEM_SYSADMIN = LIS + "system/person#SysAdmin"


class SubRolePrefix(StrEnum):
    """Prefixes of context sub-roles (LTI 1.3 Core §A.2.3.1): `membership/<Principal>#<Sub>`."""

    INSTRUCTOR = LIS + "membership/Instructor#"
    LEARNER = LIS + "membership/Learner#"
    MENTOR = LIS + "membership/Mentor#"
    CONTENT_DEVELOPER = LIS + "membership/ContentDeveloper#"
