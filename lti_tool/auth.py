"""Who is looking: the signed-in person from the session, for views."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import NamedTuple

from flask import g, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .db import get_db
from .errors import Forbidden, NotSignedIn
from .lti.models import Context, Platform, ResourceLink, User
from .lti.roles import COURSE_STAFF, ToolRole


@dataclass(frozen=True)
class Viewer:
    """The person, course and role of the current session."""

    user: User
    platform: Platform
    context: Context | None
    resource_link: ResourceLink | None
    role: ToolRole
    # The `sub`s of the learners a Mentor follows (role_scope_mentor of the launch).
    mentees: tuple[str, ...] = ()
    # The launch's roles claim, for the page of a role the tool does not serve.
    lti_roles: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        """Instructor or administrator in this context."""
        return self.role in COURSE_STAFF


@dataclass(frozen=True)
class Actor:
    """The person acting, as every domain's services need them (no request, no session).

    One type for the portfolio, TeachHub and the gradebook: views build it from the Viewer
    (`actor_of`), TeachHub adds its rights on top (`teachhub.access.load_actor`).
    """

    user_id: int
    platform_id: int
    name: str = ""
    role: ToolRole = ToolRole.GUEST  # the launch's role in this session
    context_id: int | None = None  # the course they opened the tool from
    mentees: frozenset[str] = frozenset()  # `sub`s a mentor may read (role_scope_mentor)
    is_coordinator: bool = False  # a TeachHub coordinator on this platform
    facilitates: frozenset[int] = frozenset()  # TeachHub module ids

    @property
    def is_admin(self) -> bool:
        """An administrator of this platform (launch role)."""
        return self.role == ToolRole.ADMIN

    @property
    def is_staff(self) -> bool:
        """Instructor or administrator in the course of the launch."""
        return self.role in COURSE_STAFF

    @property
    def is_mentor(self) -> bool:
        """Follows some learners (read-only) and is not course staff here."""
        return bool(self.mentees) and not self.is_staff

    @property
    def is_teachhub_staff(self) -> bool:
        """A TeachHub coordinator, or a facilitator of at least one module."""
        return self.is_coordinator or bool(self.facilitates)


def actor_of(viewer: Viewer, **teachhub_rights) -> Actor:
    """The services' view of the signed-in person (`teachhub_rights`: is_coordinator,
    facilitates, as TeachHub loads them)."""
    return Actor(user_id=viewer.user.id, platform_id=viewer.platform.id,
                 name=viewer.user.display_name, role=viewer.role,
                 context_id=viewer.context.id if viewer.context else None,
                 mentees=frozenset(viewer.mentees), **teachhub_rights)


# Every page reads its viewer: the statement is built once, its values bound per request (the
# outer joins find nothing for a session without a course or a link).
_VIEWER = (
    select(User, Platform, Context, ResourceLink)
    .join(Platform, Platform.id == User.platform_id)
    .outerjoin(Context, Context.id == bindparam("context"))
    .outerjoin(ResourceLink, ResourceLink.id == bindparam("link"))
    .where(User.id == bindparam("user"), Platform.id == bindparam("platform"))
)


def current_viewer() -> Viewer:
    """The viewer of this request; NotSignedIn when there was no launch."""
    if "viewer" in g:
        return g.viewer
    user_id = session.get("user_id")
    if not user_id:
        raise NotSignedIn()
    # One query for the four rows every page needs.
    row = get_db().execute(_VIEWER, {
        "user": user_id, "platform": session.get("platform_id"),
        "context": session.get("context_id"), "link": session.get("resource_link_id"),
    }).first()
    if row is None:
        raise NotSignedIn()
    user, platform, context, resource_link = row
    g.viewer = Viewer(user=user, platform=platform, context=context,
                      resource_link=resource_link,
                      role=ToolRole(session.get("role", ToolRole.GUEST)),
                      mentees=tuple(session.get("mentees") or ()),
                      lti_roles=tuple(session.get("lti_roles") or ()))
    return g.viewer


# Why a role is refused a page, said to the person (issue 9: a clear page, not a bare 403).
REFUSALS = {
    ToolRole.MENTOR: _l("As an observer or mentor you can read, without changing anything, only "
                        "the portfolios of the learners you follow. Course lists, exports, "
                        "verification and grades are for the course's teachers."),
    ToolRole.DESIGNER: _l("As a course designer you can add the tool to the course, but the tool "
                          "shows designers no student data. Ask a teacher of the course if you "
                          "need it."),
    ToolRole.GUEST: _l("Your role in this course is not one the tool serves. Ask your course "
                       "administrator to give you a student or teacher role if you need it."),
    ToolRole.LEARNER: _l("This page is for the course's teachers."),
    ToolRole.INSTRUCTOR: _l("This page is for administrators of the platform."),
}


class Acting(NamedTuple):
    """What a view starts from: who looks, the request's database session, who acts."""

    viewer: Viewer
    db: Session
    actor: Actor


FROM_A_COURSE = _l("Open this page from a course.")


def acting(*roles: ToolRole, course: bool = False) -> Acting:
    """The view preamble in one call: the viewer (NotSignedIn without a launch), the request's
    session and Actor; Forbidden, saying why, unless the launch's role is one of `roles` (any
    role when none is given) and, with `course`, unless the tool was opened from a course."""
    viewer = current_viewer()
    if roles and viewer.role not in roles:
        raise Forbidden(REFUSALS.get(viewer.role))
    if course and viewer.context is None:
        raise Forbidden(FROM_A_COURSE)
    if "actor" not in g:
        g.actor = actor_of(viewer)
    return Acting(viewer, get_db(), g.actor)


def roles_required(*roles: ToolRole):
    """Decorator: the view needs a launch with one of `roles` (403 saying why otherwise)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            acting(*roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate
