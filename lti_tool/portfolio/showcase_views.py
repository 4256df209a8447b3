"""Showcase links: the owner makes and revokes them; anyone with the link reads (no LTI)."""

from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..auth import acting
from ..db import get_db
from ..evidence.storage import send_evidence
from . import access, showcase
from .forms import ShowcaseForm
from .labels import SHOWCASE_STATES
from .models import DRAFT, REJECTED, Entry
from .web import academic_calendar, locale, rubric, settings
from .years import current_course_year

bp = Blueprint("showcase", __name__)


def _public_headers(response):
    response = make_response(response)
    # Employers open these links outside the LMS: no search engine indexing, no shared caches.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _share_url(token: str) -> str:
    # The public base URL (the LMS-facing one), and no session token in a link for employers.
    return settings().tool.base_url + url_for("showcase.public", token=token, ls=None)


@bp.route("/portfolio/showcase", methods=["GET", "POST"])
def manage():
    """The owner's showcase links and a form for a new one."""
    viewer, db, actor = acting()
    portfolio = access.own_portfolio(db, viewer.user)
    db.commit()
    shareable = list(db.scalars(select(Entry).where(
        Entry.portfolio_id == portfolio.id, Entry.status.not_in((DRAFT, REJECTED)))
        .order_by(Entry.section, Entry.course_year, Entry.list_key, Entry.id)))
    form = ShowcaseForm()
    form.entries.choices = [SelectChoice(e.id, e.title) for e in shareable]
    if request.method == "GET":
        form.sections.data = ["portrait", "achievements"]
        form.entries.data = [e.id for e in shareable if e.status == "verified"]
    status = 200
    if form.validate_on_submit():
        created = showcase.create_showcase(
            db, actor, portfolio, title=form.title.data or "",
            sections=form.sections.data, entry_ids=form.entries.data or [],
            hide_personal=bool(form.hide_personal.data), days=form.days.data)
        db.commit()
        flash(_("The link was made. Copy it and send it to whom you choose."), "success")
        return redirect(url_for(".manage") + f"#showcase-{created.id}", code=303)
    if request.method == "POST":
        status = 400
    db.commit()
    links = showcase.owner_showcases(db, portfolio)
    return render_template("portfolio/showcase_manage.html", viewer=viewer, form=form,
                           shareable=shareable, links=links, share_url=_share_url,
                           state=showcase.expires_label, STATES=SHOWCASE_STATES, rubric=rubric(),
                           locale=locale(), title=_("Showcase links")), status


@bp.route("/portfolio/showcase/<int:showcase_id>/revoke", methods=["POST"])
def revoke(showcase_id: int):
    """Stop a showcase link at once."""
    viewer, db, actor = acting()
    portfolio = access.own_portfolio(db, viewer.user)
    showcase.revoke_showcase(db, actor, portfolio, showcase_id)
    db.commit()
    flash(_("The link no longer works."), "success")
    return redirect(url_for(".manage"), code=303)


@bp.route("/s/<token>")
def public(token: str):
    """The read-only showcase: what the owner chose, without the LMS session."""
    g.no_session_in_urls = True
    db = get_db()
    view = showcase.open_showcase(db, token)
    db.commit()
    portfolio = view.portfolio
    return _public_headers(render_template(
        "portfolio/showcase.html", view=view, portfolio=portfolio, rubric=rubric(),
        locale=locale(), token=token,
        course_year=current_course_year(academic_calendar(), portfolio),
        title=view.showcase.title or portfolio.full_name or _("Portfolio")))


@bp.route("/s/<token>/files/<int:evidence_id>")
def public_file(token: str, evidence_id: int):
    """A file of a showcased entry (or the photo, when not hidden)."""
    g.no_session_in_urls = True
    db = get_db()
    view = showcase.open_showcase(db, token, count_view=False)
    evidence = showcase.showcase_evidence(view, evidence_id)
    return _public_headers(send_evidence(evidence, settings=settings(),
                                         thumbnail=bool(request.args.get("thumb")),
                                         download=bool(request.args.get("download"))))
