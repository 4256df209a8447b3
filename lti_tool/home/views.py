"""The landing pages after a launch, one per role, and the health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from .. import web_session
from ..auth import current_viewer
from ..db import get_db
from ..errors import NotSignedIn
from ..extensions import placements, services
from ..lti.roles import COURSE_STAFF, ToolRole, short_name
from ..ops.health import check_database, check_redis
from ..portfolio.access import course_has_portfolio, mentee_portfolios
from .nav import DrawnMenus, menu_markup, nav_links, role_label

bp = Blueprint("home", __name__)

TEMPLATES = {
    ToolRole.LEARNER: "home/learner.html",
    ToolRole.INSTRUCTOR: "home/instructor.html",
    ToolRole.ADMIN: "home/admin.html",
    ToolRole.MENTOR: "home/mentor.html",
    ToolRole.DESIGNER: "home/designer.html",
    ToolRole.GUEST: "home/guest.html",
}


@bp.app_context_processor
def _menu() -> dict:
    def menu() -> Markup:
        """The signed-in role's menu (base.html); none on pages before a launch."""
        from ..learning.views import current_actor as learning_actor
        from ..teachhub.views import current_actor  # TeachHub registers itself after home

        try:
            viewer = current_viewer()
            context = viewer.context
            # The rights are read here on every request; only the drawing is reused.
            return menu_markup(nav_links(
                viewer.role, has_context=context is not None,
                course_has_portfolio=(viewer.role in COURSE_STAFF and context is not None
                                      and course_has_portfolio(get_db(), context.id)),
                teachhub_coordinator=current_actor().is_coordinator,
                learning_list=learning_actor().sees_list), services().get(DrawnMenus))
        except (NotSignedIn, SQLAlchemyError):
            # Before a launch, or on the error page of a database outage: no menu.
            return Markup("")

    return {"menu": menu, "role_label": role_label}


@bp.route("/")
def index():
    """Home for the launched role: who, which course, and what they can do here."""
    try:
        viewer = current_viewer()
    except NotSignedIn:
        # The embedded default offers the demo LMS ("Try it") instead of a dead end, to a
        # visitor who brought no session at all (an ended one still hears that it ended).
        if current_app.config.get("DEMO_ENTRY_URL") and not web_session.presented(request):
            g.no_session_in_urls = True
            return render_template("home/welcome.html",
                                   demo_url=current_app.config["DEMO_ENTRY_URL"])
        raise
    kind = placements(current_app).kind(
        viewer.resource_link.placement if viewer.resource_link is not None else None)
    if kind is not None and kind.landing:
        return redirect(url_for(kind.landing), code=303)  # a placement with a page of its own
    if viewer.role == ToolRole.GUEST:
        # Not served: say so (which roles came, which are served, what to do), as a refusal.
        return render_template(TEMPLATES[viewer.role], viewer=viewer,
                               roles=[short_name(r) for r in viewer.lti_roles]), 403
    mentees = (mentee_portfolios(get_db(), viewer.platform.id, viewer.mentees)
               if viewer.mentees else [])
    coordinator = False
    if viewer.role in COURSE_STAFF:
        from ..teachhub.views import current_actor

        coordinator = current_actor().is_coordinator
    return render_template(TEMPLATES[viewer.role], viewer=viewer, mentees=mentees,
                           coordinator=coordinator)


@bp.route("/about")
def about():
    """A second page inside the tool: the session must carry over without cookies."""
    return render_template("home/about.html", viewer=current_viewer())


@bp.route("/signout", methods=["GET", "POST"])
def sign_out():
    """Sign out (a shared computer): GET asks, POST (with its CSRF token) ends the session."""
    if request.method == "GET":
        return render_template("home/sign_out.html", signed_in=bool(session.get("user_id")))
    db = get_db()
    web_session.end(db, session)
    db.commit()
    g.no_session_in_urls = True
    return render_template("home/signed_out.html")


@bp.route("/healthz")
def healthz():
    """200 when the database (and Redis, when configured) answer; else 503 naming what is down."""
    g.no_session_in_urls = True
    checks = {"database": check_database(current_app)}
    if services().shared_cache is not None:
        checks["redis"] = check_redis(current_app)
    down = sorted(name for name, error in checks.items() if error)
    body = {name: error or "ok" for name, error in checks.items()}
    if down:
        return jsonify(status="unavailable", down=down, **body), 503
    return jsonify(status="ok", **body)
