"""Showcase links: the owner makes and revokes them; anyone with the link reads (no LTI)."""

from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..auth import acting
from ..credentials import web as credential_web
from ..credentials.models import Credential
from ..db import get_db
from ..errors import NotFound
from ..evidence.storage import send_evidence
from . import access, credentials as entry_credentials, showcase
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
                           issued=entry_credentials.of_portfolio(db, portfolio),
                           verify_url=credential_web.verify_url,
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
    issued = entry_credentials.live_of_entries(db, [e.id for e in view.entries])
    return _public_headers(render_template(
        "portfolio/showcase.html", view=view, portfolio=portfolio, rubric=rubric(),
        locale=locale(), token=token, issued=issued, verify_url=credential_web.verify_url,
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


# ---- Open Badges 3.0 credentials of verified entries (issue 14) -----------------------------


@bp.route("/portfolio/entries/<int:entry_id>/credential", methods=["POST"])
def issue_credential(entry_id: int):
    """The owner issues a verified entry as an Open Badges credential for the showcase."""
    _viewer, db, actor = acting()
    credential = entry_credentials.issue(db, actor, entry_id, rubric())
    db.commit()
    flash(_("The credential was issued. Download it or share its verification link."), "success")
    return redirect(url_for(".manage") + f"#credential-{credential.id}", code=303)


@bp.route("/portfolio/credentials/<int:credential_id>/withdraw", methods=["POST"])
def withdraw_credential(credential_id: int):
    """The owner withdraws a credential: its verification page and status say revoked."""
    _viewer, db, actor = acting()
    entry_credentials.withdraw(db, actor, credential_id)
    db.commit()
    flash(_("The credential is withdrawn: it reads revoked from now on."), "success")
    return redirect(url_for(".manage") + "#credentials", code=303)


def _signed(credential: Credential) -> tuple[str, dict]:
    snap = credential.snapshot or {}
    with force_locale("en"):  # the credential's text is the same for every reader
        description = _(
            "An achievement of the student's portfolio (%(list)s), verified by the tutor: "
            "%(points)s rubric points.",
            list=(snap.get("list_names") or {}).get("en", snap.get("list", "")),
            points=snap.get("points", 0),
        )
        criteria = _(
            "Recorded by the student in the portfolio with its evidence and verified by the "
            "student's tutor against that evidence, as the %(regulations)s provides; the tutor "
            "confirmed %(points)s points of its scoring rubric.",
            regulations=snap.get("regulations", ""),
            points=snap.get("points", 0),
        )
    body = entry_credentials.credential_json(
        credential,
        credential_web.issuer(),
        verify_url=credential_web.verify_url(credential.token),
        criteria=criteria,
        description=description,
    )
    return credential_web.sign(body), body


@bp.route("/portfolio/credentials/<int:credential_id>.<any(jwt, json, svg):fmt>")
def credential_file(credential_id: int, fmt: str):
    """The owner's credential as a file: VC-JWT, JSON or a baked SVG badge."""
    _viewer, db, actor = acting()
    credential = entry_credentials.owned_credential(db, actor, credential_id)
    if credential.revoked_at is not None:
        raise entry_credentials.Revoked()
    token, body = _signed(credential)
    return credential_web.download(token, body, fmt, caption=_("Portfolio"))


@bp.route("/s/<token>/credentials/<int:credential_id>.<any(jwt, json, svg):fmt>")
def public_credential_file(token: str, credential_id: int, fmt: str):
    """A live credential of a showcased entry, for the employer who has the link."""
    g.no_session_in_urls = True
    db = get_db()
    view = showcase.open_showcase(db, token, count_view=False)
    live = entry_credentials.live_of_entries(db, [e.id for e in view.entries])
    credential = next((c for c in live.values() if c.id == credential_id), None)
    if credential is None:
        raise NotFound()
    signed, body = _signed(credential)
    return _public_headers(credential_web.download(signed, body, fmt, caption=_("Portfolio")))
