"""Map LIS/LTI role URIs from Moodle and Canvas to the tool's roles, in one place.

Least privilege (issue 9): only Instructor (with its sub-roles) and the context Administrator
are course staff. A Mentor (Canvas observer, parent, advisor) reads only the learners the
launch's role_scope_mentor claim names; a ContentDeveloper (course designer) sees no student
data; any other role is not served. The README's role table says the same for administrators.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from .constants import LIS, RoleUri, SubRolePrefix


class ToolRole(StrEnum):
    """What a person is in the tool, in the course they launched from."""

    ADMIN = "admin"            # platform administrator: sees all of the platform's data
    INSTRUCTOR = "instructor"  # course staff: teacher, TA, grader, tutor, course administrator
    LEARNER = "learner"        # student, or staff taking a TeachHub module
    MENTOR = "mentor"          # observer, parent, advisor: reads the learners they follow
    DESIGNER = "designer"      # content developer: places the tool, sees no student data
    GUEST = "guest"            # a role the tool does not serve


ADMIN_ROLES = {
    RoleUri.INSTITUTION_ADMINISTRATOR, RoleUri.SYSTEM_ADMINISTRATOR, RoleUri.SYSTEM_SYSADMIN,
}
# The context Administrator is course staff (LTI 1.3 Core §A.2.3); its sub-roles alone are not
# (a platform sends the principal role with a sub-role, §A.2.3.1).
INSTRUCTOR_ROLES = {RoleUri.INSTRUCTOR, RoleUri.TEACHING_ASSISTANT, RoleUri.CONTEXT_ADMINISTRATOR}
LEARNER_ROLES = {RoleUri.LEARNER}
MENTOR_ROLES = {RoleUri.MENTOR}
DESIGNER_ROLES = {RoleUri.CONTENT_DEVELOPER}

# Which tool roles may do what, for the views' checks.
COURSE_STAFF = (ToolRole.INSTRUCTOR, ToolRole.ADMIN)
# Deep linking places content in a course: a designer's job too (it shows no student data).
PLACERS = (ToolRole.INSTRUCTOR, ToolRole.ADMIN, ToolRole.DESIGNER)

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


def _has(uris: set[str], principal: set[RoleUri], prefix: SubRolePrefix) -> bool:
    return bool(uris & principal) or any(u.startswith(prefix) for u in uris)


def tool_role(roles: Iterable[str]) -> ToolRole:
    """The tool role for a launch's roles claim; the most powerful one wins.

    Order: administrator, course staff, learner, mentor, designer, not served. A Learner who
    is also a Mentor stays a learner (their own portfolio) and keeps reading the learners they
    follow (`is_mentor`); a Mentor who is also a ContentDeveloper is a mentor: read-only, no
    placing.
    """
    uris = {normalise(role) for role in roles}
    if uris & ADMIN_ROLES:
        return ToolRole.ADMIN
    # Sub-roles (membership/Instructor#Grader, ...) belong to their principal role.
    if _has(uris, INSTRUCTOR_ROLES, SubRolePrefix.INSTRUCTOR):
        return ToolRole.INSTRUCTOR
    if _has(uris, LEARNER_ROLES, SubRolePrefix.LEARNER):
        return ToolRole.LEARNER
    if _has(uris, MENTOR_ROLES, SubRolePrefix.MENTOR):
        return ToolRole.MENTOR
    if _has(uris, DESIGNER_ROLES, SubRolePrefix.CONTENT_DEVELOPER):
        return ToolRole.DESIGNER
    return ToolRole.GUEST


def is_mentor(roles: Iterable[str]) -> bool:
    """Whether the roles include Mentor or one of its sub-roles (observer, advisor, ...)."""
    return _has({normalise(role) for role in roles}, MENTOR_ROLES, SubRolePrefix.MENTOR)


def short_name(role: str) -> str:
    """A role as people can read it: `membership#Mentor`, `institution/person#Student`."""
    uri = normalise(role)
    return uri[len(LIS):] if uri.startswith(LIS) else uri[:100]
