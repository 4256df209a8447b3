"""The menu of each role (issue 11): every page it may use, nothing it may not open."""

from __future__ import annotations

import pytest

from lti_tool.home.nav import nav_links
from lti_tool.lti.roles import ToolRole

STAFF_COURSE = ["portfolio_staff.course_view", "portfolio_staff.queue", "portfolio_staff.analytics"]


def endpoints(role, *, context=True, portfolio=True, coordinator=False) -> list[str]:
    return [
        link.endpoint
        for link in nav_links(
            role,
            has_context=context,
            course_has_portfolio=portfolio,
            teachhub_coordinator=coordinator,
        )
    ]


@pytest.mark.parametrize(
    "role, coordinator, expected",
    [
        (
            ToolRole.LEARNER,
            False,
            [
                "home.index",
                "portfolio.mine",
                "gradebook.my_grades",
                "teachhub.index",
                "learning.index",
                "home.about",
            ],
        ),
        (
            ToolRole.INSTRUCTOR,
            False,
            [
                "home.index",
                "portfolio.mine",
                *STAFF_COURSE,
                "gradebook.my_grades",
                "gradebook.course_settings",
                "gradebook_sync.sync_page",
                "statements.page",
                "teachhub.index",
                "learning.index",
                "home.about",
            ],
        ),
        (
            ToolRole.INSTRUCTOR,
            True,
            [
                "home.index",
                "portfolio.mine",
                *STAFF_COURSE,
                "gradebook.my_grades",
                "gradebook.course_settings",
                "gradebook_sync.sync_page",
                "statements.page",
                "teachhub.index",
                "learning.index",
                "teachhub.todo_page",
                "teachhub.hr_list",
                "learning.consolidated",
                "home.about",
            ],
        ),
        (
            ToolRole.ADMIN,
            True,
            [
                "home.index",
                *STAFF_COURSE,
                "portfolio_staff.all_portfolios",
                "gradebook.course_settings",
                "gradebook_sync.sync_page",
                "teachhub.index",
                "learning.index",
                "teachhub.todo_page",
                "teachhub.hr_list",
                "learning.consolidated",
                "teachhub.coordinators",
                "home.about",
            ],
        ),
        # Observers and designers: no student lists, no grades, no TeachHub (issue 9).
        (ToolRole.MENTOR, False, ["home.index", "home.about"]),
        (ToolRole.DESIGNER, False, ["home.index", "home.about"]),
        (ToolRole.GUEST, False, ["home.index"]),
    ],
)
def test_each_role_gets_the_pages_it_may_use(role, coordinator, expected):
    assert endpoints(role, coordinator=coordinator) == expected


def test_course_pages_need_a_course_with_the_portfolio():
    assert not set(STAFF_COURSE) & set(endpoints(ToolRole.INSTRUCTOR, portfolio=False))
    without_course = endpoints(ToolRole.INSTRUCTOR, context=False, portfolio=False)
    assert "gradebook_sync.sync_page" not in without_course
    assert "gradebook.course_settings" not in without_course


def test_a_coordinator_by_the_institutions_launch_role_gets_hr_whatever_the_tool_role():
    # teachhub.coordinator_roles is the institution's explicit choice (teachhub/access.py).
    assert endpoints(ToolRole.MENTOR, coordinator=True) == [
        "home.index",
        "teachhub.index",
        "learning.index",
        "teachhub.todo_page",
        "teachhub.hr_list",
        "learning.consolidated",
        "home.about",
    ]
