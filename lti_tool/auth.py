"""Who is looking: the signed-in person from the session, for views."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g, session
from sqlalchemy import select

from .db import get_db
from .errors import Forbidden, NotSignedIn
from .lti.models import Context, Platform, ResourceLink, User
from .lti.roles import ToolRole


@dataclass(frozen=True)
class Viewer:
    """The person, course and role of the current session."""

    user: User
    platform: Platform
    context: Context | None
    resource_link: ResourceLink | None
    role: ToolRole

    @property
    def is_staff(self) -> bool:
        """Instructor or administrator in this context."""
        return self.role in (ToolRole.INSTRUCTOR, ToolRole.ADMIN)


def current_viewer() -> Viewer:
    """The viewer of this request; NotSignedIn when there was no launch."""
    if "viewer" in g:
        return g.viewer
    user_id = session.get("user_id")
    if not user_id:
        raise NotSignedIn()
    context_id, link_id = session.get("context_id"), session.get("resource_link_id")
    # One query for the four rows every page needs.
    row = get_db().execute(
        select(User, Platform, Context, ResourceLink)
        .join(Platform, Platform.id == User.platform_id)
        .outerjoin(Context, Context.id == context_id)
        .outerjoin(ResourceLink, ResourceLink.id == link_id)
        .where(User.id == user_id, Platform.id == session.get("platform_id"))
    ).first()
    if row is None:
        raise NotSignedIn()
    user, platform, context, resource_link = row
    g.viewer = Viewer(user=user, platform=platform, context=context,
                      resource_link=resource_link,
                      role=ToolRole(session.get("role", ToolRole.GUEST)))
    return g.viewer


def roles_required(*roles: ToolRole):
    """Decorator: the view needs a launch with one of `roles`."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_viewer().role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorate
