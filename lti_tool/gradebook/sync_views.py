"""Staff pages: the course's sync state (roster, grades, scores) and what to do about it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext

from ..auth import acting, roles_required
from ..extensions import services
from ..lti.roles import ToolRole
from .outbox import course_outbox_counts, parked_scores, retry_parked
from .sync import pull_grades, pull_roster, sync_state

bp = Blueprint("gradebook_sync", __name__, url_prefix="/gradebook")
STAFF = (ToolRole.INSTRUCTOR, ToolRole.ADMIN)


def _course():
    viewer, db, _actor = acting(*STAFF, course=True)
    return db, viewer.context


@bp.route("/sync")
@roles_required(*STAFF)
def sync_page():
    """Last roster and grade pull, scores pending, sent and parked (with their errors)."""
    db, context = _course()
    state = sync_state(db, context.id)
    db.commit()
    return render_template("gradebook/sync.html", context=context, state=state,
                           counts=course_outbox_counts(db, context.id),
                           parked=parked_scores(db, context.id), title=_("Gradebook sync"))


def _pull_now(pull, done_message):
    db, context = _course()
    client = services().gradebook.client(db, context.platform_id, context.ags_scopes)
    report = pull(db, client, context)
    if report.ok:
        flash(done_message(report.count), "ok")
    else:
        flash(_("The LMS did not give what was asked: %(error)s", error=report.error), "error")
    return redirect(url_for(".sync_page"))


@bp.route("/sync/roster", methods=["POST"])
@roles_required(*STAFF)
def pull_roster_now():
    """Pull the roster now (NRPS)."""
    return _pull_now(pull_roster, lambda n: ngettext(
        "Roster updated: %(num)d member.", "Roster updated: %(num)d members.", n))


@bp.route("/sync/grades", methods=["POST"])
@roles_required(*STAFF)
def pull_grades_now():
    """Pull line items and results now (AGS)."""
    return _pull_now(pull_grades, lambda n: ngettext(
        "Grades updated: %(num)d result.", "Grades updated: %(num)d results.", n))


@bp.route("/sync/retry", methods=["POST"])
@roles_required(*STAFF)
def retry_now():
    """Send the course's parked scores again."""
    db, context = _course()
    count = retry_parked(db, context.id)
    db.commit()
    flash(ngettext("%(num)d score will be sent again.", "%(num)d scores will be sent again.",
                   count), "ok")
    return redirect(url_for(".sync_page"))
