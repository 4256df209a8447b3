"""The view preamble (auth.acting) and the one Actor every domain's services take."""

from __future__ import annotations

import pytest
from flask import g

from lti_tool import create_app
from lti_tool.auth import FROM_A_COURSE, REFUSALS, Actor, Viewer, acting
from lti_tool.db import get_db
from lti_tool.errors import Forbidden, NotSignedIn
from lti_tool.lti.models import Context, Platform, User
from lti_tool.lti.roles import COURSE_STAFF, ToolRole


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("acting")
    return create_app({"tool": {"data_dir": str(data), "database_url": f"sqlite:///{data}/t.db"}})


def _viewer(role: ToolRole, *, course: bool = True, mentees: tuple[str, ...] = ()) -> Viewer:
    return Viewer(
        user=User(id=7, platform_id=3, sub="s7", name="Aigerim"),
        platform=Platform(id=3),
        context=Context(id=11, platform_id=3, context_id="C11") if course else None,
        resource_link=None,
        role=role,
        mentees=mentees,
    )


def test_acting_gives_viewer_session_and_one_actor_per_request(app):
    with app.test_request_context("/"):
        g.viewer = _viewer(ToolRole.INSTRUCTOR)
        viewer, db, actor = acting(*COURSE_STAFF, course=True)
        assert viewer is g.viewer and db is get_db()
        assert actor == Actor(
            user_id=7, platform_id=3, name="Aigerim", role=ToolRole.INSTRUCTOR, context_id=11
        )
        assert actor.is_staff and not actor.is_admin and not actor.is_mentor
        assert acting().actor is actor  # built once per request


@pytest.mark.parametrize("role", [ToolRole.LEARNER, ToolRole.MENTOR, ToolRole.DESIGNER])
def test_acting_refuses_other_roles_saying_why(app, role):
    with app.test_request_context("/?lang=ru"):
        g.viewer = _viewer(role)
        with pytest.raises(Forbidden) as refused:
            acting(*COURSE_STAFF)
        assert str(refused.value.message) == str(REFUSALS[role])
        assert refused.value.status == 403


def test_acting_refuses_a_course_page_opened_outside_a_course(app):
    with app.test_request_context("/"):
        g.viewer = _viewer(ToolRole.ADMIN, course=False)
        assert acting(*COURSE_STAFF).actor.is_admin  # no course needed
        with pytest.raises(Forbidden) as refused:
            acting(*COURSE_STAFF, course=True)
        assert str(refused.value.message) == str(FROM_A_COURSE)


def test_acting_without_a_launch_is_not_signed_in(app):
    with app.test_request_context("/"), pytest.raises(NotSignedIn):
        acting()


def test_one_actor_serves_portfolio_and_teachhub_rules():
    mentor = Actor(1, 3, role=ToolRole.MENTOR, mentees=frozenset({"s1"}))
    assert mentor.is_mentor and not mentor.is_staff and not mentor.is_teachhub_staff
    teacher_following = Actor(2, 3, role=ToolRole.INSTRUCTOR, mentees=frozenset({"s1"}))
    assert not teacher_following.is_mentor  # course staff here: not read-only
    facilitator = Actor(4, 3, role=ToolRole.LEARNER, facilitates=frozenset({9}))
    assert facilitator.is_teachhub_staff and not facilitator.is_staff
    assert Actor(5, 3).role == ToolRole.GUEST  # least privilege by default
