"""Map LIS/LTI role URIs from Moodle and Canvas to the tool's roles, in one place."""

from __future__ import annotations

from enum import StrEnum

from .constants import LIS, RoleUri


class ToolRole(StrEnum):
    """What a person is in the tool, in the course they launched from."""

    ADMIN = "admin"            # platform administrator: sees all of the platform's data
    INSTRUCTOR = "instructor"  # teacher, tutor, TeachHub facilitator or coordinator
    LEARNER = "learner"        # student, or staff taking a TeachHub module
    GUEST = "guest"            # observer or a role the tool does not serve


ADMIN_ROLES = {
    RoleUri.INSTITUTION_ADMINISTRATOR, RoleUri.SYSTEM_ADMINISTRATOR, RoleUri.SYSTEM_SYSADMIN,
}
INSTRUCTOR_ROLES = {
    RoleUri.INSTRUCTOR, RoleUri.TEACHING_ASSISTANT, RoleUri.CONTENT_DEVELOPER,
    RoleUri.MENTOR, RoleUri.CONTEXT_ADMINISTRATOR,
}
LEARNER_ROLES = {RoleUri.LEARNER}

# LTI 1.3 §A.2.3 lets platforms send a context role by its short name ("Instructor");
# LTI 1.1 style URNs also appear in the wild (Moodle upgrades, older Canvas shards).
SHORT_CONTEXT_ROLES = {
    "Learner": RoleUri.LEARNER,
    "Instructor": RoleUri.INSTRUCTOR,
    "ContentDeveloper": RoleUri.CONTENT_DEVELOPER,
    "Mentor": RoleUri.MENTOR,
    "Administrator": RoleUri.CONTEXT_ADMINISTRATOR,
    "TeachingAssistant": RoleUri.TEACHING_ASSISTANT,
}
LEGACY_PREFIXES = {
    "urn:lti:role:ims/lis/": LIS + "membership#",
    "urn:lti:instrole:ims/lis/": LIS + "institution/person#",
    "urn:lti:sysrole:ims/lis/": LIS + "system/person#",
}


def normalise(role: str) -> str:
    """The full LIS v2 URI for a role given in any form platforms use."""
    role = role.strip()
    if role in SHORT_CONTEXT_ROLES:
        return SHORT_CONTEXT_ROLES[role]
    for prefix, full in LEGACY_PREFIXES.items():
        if role.startswith(prefix):
            name = role[len(prefix):]
            if "/" in name:  # urn:lti:role:ims/lis/Instructor/TeachingAssistant
                parent, child = name.split("/", 1)
                return f"{LIS}membership/{parent}#{child}"
            return full + name
    return role


def tool_role(roles: list[str]) -> ToolRole:
    """The tool role for a launch's roles claim; the most powerful one wins."""
    uris = {normalise(role) for role in roles}
    if uris & ADMIN_ROLES:
        return ToolRole.ADMIN
    # Sub-roles (membership/Instructor#Grader, ...) belong to their principal role.
    if uris & INSTRUCTOR_ROLES or any(u.startswith(LIS + "membership/Instructor#") for u in uris):
        return ToolRole.INSTRUCTOR
    if uris & LEARNER_ROLES or any(u.startswith(LIS + "membership/Learner#") for u in uris):
        return ToolRole.LEARNER
    return ToolRole.GUEST
