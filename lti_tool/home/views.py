"""The landing pages after a launch, one per role, and the health check."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, render_template, url_for
from sqlalchemy import text

from ..auth import current_viewer
from ..db import get_db
from ..lti.roles import ToolRole

bp = Blueprint("home", __name__)

TEMPLATES = {
    ToolRole.LEARNER: "home/learner.html",
    ToolRole.INSTRUCTOR: "home/instructor.html",
    ToolRole.ADMIN: "home/admin.html",
    ToolRole.GUEST: "home/guest.html",
}


@bp.route("/")
def index():
    """Home for the launched role: who, which course, and what they can do here."""
    viewer = current_viewer()
    if viewer.resource_link is not None and viewer.resource_link.placement == "teachhub":
        return redirect(url_for("teachhub.launch"), code=303)
    return render_template(TEMPLATES[viewer.role], viewer=viewer)


@bp.route("/about")
def about():
    """A second page inside the tool: the session must carry over without cookies."""
    return render_template("home/about.html", viewer=current_viewer())


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitors)."""
    g.no_session_in_urls = True
    try:
        get_db().execute(text("SELECT 1"))
    except Exception as err:  # any database failure means "not healthy"
        return jsonify(status="unavailable", database=type(err).__name__), 503
    return jsonify(status="ok", database="ok")
