"""Role URIs as Moodle and Canvas send them map to the tool's roles."""

import pytest

from lti_tool.lti.roles import ToolRole, is_mentor, normalise, short_name, tool_role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize("roles, expected", [
    # Moodle student and teacher
    ([LIS + "membership#Learner"], ToolRole.LEARNER),
    ([LIS + "membership#Instructor"], ToolRole.INSTRUCTOR),
    # Moodle site admin launching in a course
    ([LIS + "institution/person#Administrator", LIS + "membership#Instructor",
      LIS + "system/person#Administrator"], ToolRole.ADMIN),
    # Canvas student, teacher, TA, account admin
    ([LIS + "institution/person#Student", LIS + "membership#Learner",
      LIS + "system/person#User"], ToolRole.LEARNER),
    ([LIS + "institution/person#Instructor", LIS + "membership#Instructor",
      LIS + "system/person#User"], ToolRole.INSTRUCTOR),
    ([LIS + "membership/Instructor#TeachingAssistant", LIS + "system/person#User"],
     ToolRole.INSTRUCTOR),
    ([LIS + "institution/person#Administrator", LIS + "system/person#SysAdmin"], ToolRole.ADMIN),
    # Short context roles (LTI 1.3 §A.2.3) and LTI 1.1 URNs
    (["Instructor"], ToolRole.INSTRUCTOR),
    (["Learner"], ToolRole.LEARNER),
    (["urn:lti:role:ims/lis/Learner"], ToolRole.LEARNER),
    (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], ToolRole.INSTRUCTOR),
    (["urn:lti:instrole:ims/lis/Administrator"], ToolRole.ADMIN),
    # A member of staff taking a TeachHub module is a learner in that course
    ([LIS + "institution/person#Instructor", LIS + "membership#Learner"], ToolRole.LEARNER),
    # Instructor sub-roles and the context Administrator are course staff
    ([LIS + "membership/Instructor#Grader"], ToolRole.INSTRUCTOR),
    ([LIS + "membership#Administrator"], ToolRole.INSTRUCTOR),
    (["Administrator"], ToolRole.INSTRUCTOR),
    # ...an Administrator sub-role alone is not (the principal role comes with it)
    ([LIS + "membership/Administrator#Support"], ToolRole.GUEST),
    # Canvas observers, parents, advisors: mentors, never staff (issue 9)
    ([LIS + "membership#Mentor", LIS + "system/person#User"], ToolRole.MENTOR),
    ([LIS + "membership/Mentor#Advisor"], ToolRole.MENTOR),
    (["Mentor"], ToolRole.MENTOR),
    (["urn:lti:role:ims/lis/Mentor/Advisor"], ToolRole.MENTOR),
    # Canvas course designers: no student data
    ([LIS + "membership#ContentDeveloper", LIS + "system/person#User"], ToolRole.DESIGNER),
    ([LIS + "membership/ContentDeveloper#Librarian"], ToolRole.DESIGNER),
    # Combinations: the most powerful wins
    ([LIS + "membership#Learner", LIS + "membership#Mentor"], ToolRole.LEARNER),
    ([LIS + "membership#Mentor", LIS + "membership#ContentDeveloper"], ToolRole.MENTOR),
    ([LIS + "membership#Instructor", LIS + "membership#Mentor"], ToolRole.INSTRUCTOR),
    ([LIS + "membership#ContentDeveloper", LIS + "membership#Learner"], ToolRole.LEARNER),
    # Roles the tool does not serve
    ([LIS + "membership#Observer"], ToolRole.GUEST),
    ([LIS + "membership#Member"], ToolRole.GUEST),
    ([LIS + "institution/person#Instructor"], ToolRole.GUEST),
    ([], ToolRole.GUEST),
])
def test_tool_role(roles, expected):
    assert tool_role(roles) == expected


def test_normalise_keeps_unknown_roles():
    assert normalise("http://example.edu/roles#Dean") == "http://example.edu/roles#Dean"
    assert normalise(" Mentor ") == LIS + "membership#Mentor"


def test_is_mentor_and_short_names():
    assert is_mentor([LIS + "membership/Mentor#Auditor"])
    assert is_mentor(["Mentor"]) and not is_mentor([LIS + "membership#Learner"])
    assert short_name(LIS + "membership#Mentor") == "membership#Mentor"
    assert short_name("urn:lti:instrole:ims/lis/Staff") == "institution/person#Staff"
    assert short_name("http://example.edu/roles#Dean") == "http://example.edu/roles#Dean"
