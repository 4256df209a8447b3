"""Role URIs as Moodle and Canvas send them map to the tool's roles."""

import pytest

from lti_tool.lti.roles import ToolRole, normalise, tool_role

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
    # Observers, mentors of nobody, empty: not served
    ([LIS + "membership#Observer"], ToolRole.GUEST),
    ([], ToolRole.GUEST),
])
def test_tool_role(roles, expected):
    assert tool_role(roles) == expected


def test_normalise_keeps_unknown_roles():
    assert normalise("http://example.edu/roles#Dean") == "http://example.edu/roles#Dean"
    assert normalise(" Mentor ") == LIS + "membership#Mentor"
