"""Portfolio pages: the owner's portfolio, Section I pages, entries, evidence, and a staff
member's view of one student's portfolio (verify, comment, mark)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from .. import parsing
from ..auth import acting, current_viewer
from ..calendar import StudentYears
from ..errors import NotFound, ToolError, UnknownAction
from ..evidence.models import EvidenceFile
from ..evidence.storage import (
    allow_upload,
    human_size,
    send_evidence,
    usage_line,
)
from ..exports import content_disposition, download_name
from ..gradebook.academic import may_view_record
from ..i18n import today, when
from ..versioning import parse_version
from . import access, credentials as entry_credentials, leaders, service
from .charts import points_per_year_chart
from .entries import check_entry
from .forms import PAGE_FORMS
from .labels import ACTION_NAMES, FIELD_NAMES, PAGE_NAMES, SKIP_REASONS, STATUS_NAMES
from .models import PORTRAIT_PAGES, VERIFIED, Entry, EntryEvidence, Portfolio
from .pdf import portfolio_pdf
from .summary import ACADEMIC_LEVELS, ACHIEVEMENT_LEVELS, institution_header, level_names
from .web import (
    Links,
    academic_calendar,
    entry_views,
    grade_labeller,
    load_page,
    locale,
    rubric,
    settings,
)
from .years import current_course_year, student_years

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")
UPLOAD_ENDPOINTS = {"portfolio.upload_evidence", "portfolio.upload_photo"}


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Runs before the app's before_request (CSRF reads the form, which enforces the limit):
    # uploads may be as large as [evidence] max_bytes, everything else keeps the global limit.
    if endpoint in UPLOAD_ENDPOINTS:
        allow_upload(settings())


_NAMES_BY_LOCALE: dict[str, dict] = {}


@bp.app_context_processor
def _names():
    # Translated once per language and process: every page of the app renders with these,
    # and translating ~30 lazy strings per request was a visible share of a launch.
    locale = str(get_locale() or "")
    names = _NAMES_BY_LOCALE.get(locale)
    if names is None:
        def plain(mapping):
            return {k: str(v) for k, v in mapping.items()}

        names = _NAMES_BY_LOCALE[locale] = {
            "STATUS_NAMES": plain(STATUS_NAMES), "ACTION_NAMES": plain(ACTION_NAMES),
            "PAGE_NAMES": plain(PAGE_NAMES), "FIELD_NAMES": plain(FIELD_NAMES),
            "ACADEMIC_LEVELS": plain(ACADEMIC_LEVELS),
            "ACHIEVEMENT_LEVELS": plain(ACHIEVEMENT_LEVELS)}
    return {**names, "Links": Links, "grade_labeller": grade_labeller,
            "entry_views": entry_views, "points_per_year_chart": points_per_year_chart}


def _own():
    viewer, db, actor = acting()
    portfolio = access.own_portfolio(db, viewer.user)
    # A first visit creates it: commit now, before the response saves the web session (SQLite
    # has one writer; an open write transaction here would make that save wait).
    db.commit()
    return viewer, db, actor, portfolio


def _year_arg() -> int | None:
    year = parsing.arg_int(request.args, "year", maximum=parsing.MAX_PAGE)
    return year if year and 1 <= year <= rubric().course_years else None


# ---- the portfolio page ----------------------------------------------------------------------


def _score(db, viewer, page) -> service.ScoreExplained | None:
    """How the verified total reaches this course's gradebook (issue 11: 155 points read as
    15.5 / 100 surprised students), when the course has the portfolio and scores are sent."""
    if viewer.context is None or not access.course_has_portfolio(db, viewer.context.id):
        return None
    grade = service.course_grade(db, viewer.context.id, settings())
    return service.explain_score(page.totals.verified_total, grade) if grade["enabled"] else None


@bp.route("/")
def mine():
    """The signed-in person's own portfolio."""
    viewer, db, actor, portfolio = _own()
    page = load_page(db, portfolio, include_drafts=True)
    issued = entry_credentials.live_of_entries(
        db, [e.id for e in page.entries if e.status == VERIFIED])
    return render_template("portfolio/portfolio.html", viewer=viewer, page=page, own=True,
                           leads=leaders.led_group(db, actor), issued=issued,
                           reviewer=False, rubric=rubric(), locale=locale(), year=_year_arg(),
                           score=_score(db, viewer, page), title=_("My portfolio"))


@bp.route("/<int:portfolio_id>")
def view(portfolio_id: int):
    """A student's portfolio for their tutor, teacher or an administrator (read and review)."""
    viewer, db, actor = acting()
    portfolio = access.viewable_portfolio(db, actor, portfolio_id)
    if portfolio.user_id == viewer.user.id:
        return redirect(url_for(".mine"))
    # The GPA row is the student's grades: shown only to who may see their record (README,
    # roles table: a mentor reads the portfolio but sees no grades).
    grades = may_view_record(db, viewer_id=viewer.user.id, viewer_role=viewer.role,
                             viewer_platform_id=viewer.platform.id, student=portfolio.user)
    page = load_page(db, portfolio, include_drafts=False, with_gpa=grades)
    leader = leaders.leader_of(db, portfolio.platform_id, portfolio.group_name)
    return render_template("portfolio/portfolio.html", viewer=viewer, page=page, own=False,
                           is_leader=leader is not None and leader.user_id == portfolio.user_id,
                           gpa_hidden=not grades,
                           reviewer=access.may_review(db, actor, portfolio), rubric=rubric(),
                           locale=locale(), year=_year_arg(), score=_score(db, viewer, page),
                           title=_("Portfolio of %(name)s",
                                   name=portfolio.full_name or portfolio.user.display_name))


# ---- Section I -------------------------------------------------------------------------------


@bp.route("/portrait/<page>", methods=["GET", "POST"])
def edit_page(page: str):
    """Edit a Section I page; every save is a new version; a stale save shows both texts."""
    if page not in PORTRAIT_PAGES:
        raise NotFound()
    viewer, db, actor, portfolio = _own()
    form_class = PAGE_FORMS[page]
    form = form_class(obj=portfolio if request.method == "GET" else None)
    calendar = academic_calendar()
    if request.method == "GET":
        form.version.data = str(portfolio.page_version(page))
        if page == "profile":
            # Today's course year by the calendar (a course year stated last year moved on).
            form.course_year.data = current_course_year(calendar, portfolio)
    status, conflict = 200, False
    if form.validate_on_submit() and _course_year_agrees(form, calendar):
        try:
            saved = service.save_page(db, actor, portfolio, page, form.values(),
                                      form.base_version(), today=calendar.today())
        except service.StaleEdit as err:
            db.rollback()
            flash(str(err.message), "error")
            conflict, status = True, 409
        else:
            db.commit()
            flash(_("Saved.") if saved else _("Nothing changed."), "success")
            return redirect(url_for(".mine") + "#portrait", code=303)
    elif request.method == "POST":
        status = 400
    if conflict:
        form.version.data = str(portfolio.page_version(page))  # the next save is based on it
    max_bytes = settings().evidence.max_bytes
    return render_template("portfolio/portrait_form.html", viewer=viewer, form=form, page=page,
                           portfolio=portfolio, conflict=conflict, max_bytes=max_bytes,
                           max_size=human_size(max_bytes), title=PAGE_NAMES[page]), status


def _course_year_agrees(form, calendar) -> bool:
    """Section I's course year and year of admission tell the same course year today (the
    academic calendar's rule); otherwise the course year field says which one it is."""
    admission = getattr(form, "admission_year", None)
    stated = getattr(form, "course_year", None)
    if admission is None or stated is None or not admission.data or not stated.data:
        return True
    expected = calendar.course_year(calendar.today(), StudentYears(admission_year=admission.data))
    if expected == stated.data:
        return True
    stated.errors = [*stated.errors, _(
        "Admitted in %(year)s, you are in course year %(n)s in %(academic_year)s: correct the "
        "course year or the year of admission.", year=admission.data, n=expected or "—",
        academic_year=calendar.current().label)]
    return False


@bp.route("/portrait/photo", methods=["POST"])
def upload_photo():
    """Replace the photo (an image; a new version of the profile page)."""
    viewer, db, actor, portfolio = _own()
    version = parsing.arg_int(request.form, "version", minimum=0)
    try:
        service.set_photo(db, actor, portfolio, settings=settings(),
                          file=request.files.get("file"), owner=viewer.user,
                          base_version=-1 if version is None else version)
    except ToolError as err:
        db.rollback()
        flash(str(err.message), "error")
        return redirect(url_for(".edit_page", page="profile"), code=303)
    db.commit()
    flash(_("The photo was saved."), "success")
    return redirect(url_for(".mine") + "#portrait", code=303)


@bp.route("/<int:portfolio_id>/history/<page>")
def history(portfolio_id: int, page: str):
    """Every version of a Section I page: what changed and when."""
    if page not in PORTRAIT_PAGES:
        raise NotFound()
    viewer, db, actor = acting()
    portfolio = access.viewable_portfolio(db, actor, portfolio_id)
    return render_template("portfolio/history.html", viewer=viewer, portfolio=portfolio,
                           page=page, versions=service.page_history(db, portfolio, page),
                           title=_("History: %(page)s", page=PAGE_NAMES[page]))


# ---- entries ---------------------------------------------------------------------------------


def _entry_form_page(viewer, portfolio, entry_list, values, errors, entry=None, status=200,
                     conflict=None):
    return render_template("portfolio/entry_form.html", viewer=viewer, portfolio=portfolio,
                           entry_list=entry_list, values=values, errors=errors, entry=entry,
                           rubric=rubric(), locale=locale(), conflict=conflict,
                           points_table=json.dumps(rubric().max_points_table()[entry_list.key]),
                           title=entry_list.names.get(locale())), status


def _year_of_date(portfolio: Portfolio):
    """The owner's course year on a date, by the academic calendar (None: unknown)."""
    calendar, student = academic_calendar(), student_years(portfolio)
    return lambda day: calendar.course_year(day, student)


def _form_values(entry: Entry) -> dict:
    values = {f"f_{k}": v for k, v in (entry.fields or {}).items()}
    values.update({"f_title": entry.title, "item": entry.item_key,
                   "course_year": str(entry.course_year), "level": entry.level or "",
                   "result": entry.result or "", "count": str(entry.count),
                   "year_note": entry.year_note or "",
                   "version": str(entry.version)})
    return values


@bp.route("/entries/new", methods=["GET", "POST"])
def new_entry():
    """Add an entry to a list of Section II or III (the list comes from the rubric)."""
    viewer, db, actor, portfolio = _own()
    entry_list = rubric().lists.get(request.values.get("list", ""))
    if entry_list is None:
        raise NotFound()
    if request.method == "GET":
        year = _year_arg() or current_course_year(academic_calendar(), portfolio) or 1
        return _entry_form_page(viewer, portfolio, entry_list,
                                {"course_year": str(year), "count": "1"}, {})
    data, errors = check_entry(rubric(), entry_list, request.form, _year_of_date(portfolio))
    if errors:
        return _entry_form_page(viewer, portfolio, entry_list, request.form, errors, status=400)
    entry = service.create_entry(db, actor, portfolio, rubric(), data,
                                 submit=request.form.get("action") == "submit")
    db.commit()
    flash(_("Saved. You can attach evidence (certificates, diplomas, photos) below."), "success")
    return redirect(url_for(".entry", entry_id=entry.id), code=303)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
def edit_entry(entry_id: int):
    """Edit one's own entry; an edit of a verified entry sends it back to the tutor."""
    viewer, db, actor = acting()
    entry = service.owned_entry(db, actor, entry_id)
    entry_list = rubric().lists.get(entry.list_key)
    if entry_list is None:
        raise NotFound()
    if request.method == "GET":
        return _entry_form_page(viewer, entry.portfolio, entry_list, _form_values(entry), {},
                                entry=entry)
    data, errors = check_entry(rubric(), entry_list, request.form,
                               _year_of_date(entry.portfolio))
    if errors or data is None:  # no errors: the checked input
        return _entry_form_page(viewer, entry.portfolio, entry_list, request.form, errors,
                                entry=entry, status=400)
    try:
        service.update_entry(db, actor, entry, rubric(), data,
                             base_version=parse_version(request.form.get("version")),
                             submit=request.form.get("action") == "submit", settings=settings())
    except service.StaleEdit as err:
        db.rollback()
        flash(str(err.message), "error")
        values = dict(request.form)
        values["version"] = str(entry.version)
        return _entry_form_page(viewer, entry.portfolio, entry_list, values, {}, entry=entry,
                                status=409, conflict=_form_values(entry))
    db.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".entry", entry_id=entry.id), code=303)


def _visible_entry(db, actor, entry_id: int) -> tuple[Entry, Portfolio]:
    entry = db.get(Entry, entry_id)
    if entry is None:
        raise NotFound()
    portfolio = access.viewable_portfolio(db, actor, entry.portfolio_id)
    if entry.status == "draft" and portfolio.user_id != actor.user_id:
        raise NotFound()
    return entry, portfolio


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int, upload_error: str = ""):
    """One entry: its columns, points, files and the history of decisions.

    `upload_error`: why a file was just refused, shown beside the file field.
    """
    viewer, db, actor = acting()
    found, portfolio = _visible_entry(db, actor, entry_id)
    own = portfolio.user_id == viewer.user.id
    issued = entry_credentials.live_credential(db, found.id) if own else None
    return render_template("portfolio/entry.html", viewer=viewer, entry=found,
                           portfolio=portfolio, own=own, issued=issued,
                           reviewer=not own and access.may_review(db, actor, portfolio),
                           rubric=rubric(), locale=locale(),
                           max_bytes=settings().evidence.max_bytes,
                           max_size=human_size(settings().evidence.max_bytes),
                           storage=usage_line(db, settings(), viewer.user) if own else None,
                           upload_error=upload_error, title=found.title)


def _owner_action(entry_id: int, action):
    _viewer, db, actor = acting()
    found = service.owned_entry(db, actor, entry_id)
    try:
        action(db, actor, found, parse_version(request.form.get("version")))
    except service.StaleEdit:
        # Changed in another tab or decided by the tutor meanwhile: the entry as it is now.
        db.rollback()
        flash(_("This entry changed after you opened it (in another tab, or by the tutor). "
                "It is shown as it is now."), "error")
        return entry(entry_id), 409
    except service.NotAllowed as err:
        db.rollback()
        flash(str(err.message), "error")
    else:
        db.commit()
        flash(_("Done."), "success")
    return redirect(url_for(".entry", entry_id=found.id), code=303)


@bp.route("/entries/<int:entry_id>/submit", methods=["POST"])
def submit_entry(entry_id: int):
    """Send an entry to the tutor for verification."""
    return _owner_action(entry_id, service.submit_entry)


@bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
def withdraw_entry(entry_id: int):
    """Take a submitted entry back to draft."""
    return _owner_action(entry_id, service.withdraw_entry)


@bp.route("/entries/<int:entry_id>/delete", methods=["POST"])
def delete_entry(entry_id: int):
    """Delete one's own entry and its files."""
    _viewer, db, actor = acting()
    found = service.owned_entry(db, actor, entry_id)
    service.delete_entry(db, actor, found, settings=settings())
    db.commit()
    flash(_("The entry was deleted."), "success")
    return redirect(url_for(".mine"), code=303)


@bp.route("/entries/submit-all", methods=["POST"])
def submit_all():
    """Submit every draft of a course year at once."""
    _viewer, db, actor, portfolio = _own()
    year = parsing.arg_int(request.form, "year", maximum=parsing.MAX_PAGE)
    drafts = [e for e in portfolio.entries if e.status == "draft"
              and (year is None or e.course_year == year)]
    sent = 0
    for draft in drafts:
        try:
            service.submit_entry(db, actor, draft, draft.version)
            sent += 1
        except service.StaleEdit:
            pass  # changed in another tab meanwhile: it stays as it is there
    db.commit()
    flash(_("%(n)s entries were sent to the tutor.", n=sent), "success")
    return redirect(url_for(".mine"), code=303)


# ---- evidence --------------------------------------------------------------------------------


@bp.route("/entries/<int:entry_id>/evidence", methods=["POST"])
def upload_evidence(entry_id: int):
    """Attach a file to one's own entry (type checked by content, size by config)."""
    viewer, db, actor = acting()
    found = service.owned_entry(db, actor, entry_id)
    try:
        service.attach_upload(db, actor, found, settings=settings(),
                              file=request.files.get("file"), owner=viewer.user)
    except ToolError as err:
        db.rollback()
        # The entry page itself, the reason beside the file field (no banner left to go stale);
        # 400 as for any refused form (a 413 is the request limit's own page, see errors.py).
        return entry(entry_id, upload_error=str(err.message)), 400
    db.commit()
    flash(_("The file was attached."), "success")
    return redirect(url_for(".entry", entry_id=entry_id), code=303)


@bp.route("/entries/<int:entry_id>/evidence/<int:evidence_id>/delete", methods=["POST"])
def delete_evidence(entry_id: int, evidence_id: int):
    """Remove a file from one's own entry."""
    _viewer, db, actor = acting()
    found = service.owned_entry(db, actor, entry_id)
    service.detach_evidence(db, actor, found, evidence_id, settings=settings())
    db.commit()
    flash(_("The file was removed."), "success")
    return redirect(url_for(".entry", entry_id=entry_id), code=303)


@bp.route("/files/<int:evidence_id>")
def file(evidence_id: int) -> Response:
    """A file, only for those who may see an entry it is attached to (or the photo)."""
    _viewer, db, actor = acting()
    evidence = db.get(EvidenceFile, evidence_id)
    if evidence is None or evidence.platform_id != actor.platform_id:
        raise NotFound()
    if evidence.owner_user_id != actor.user_id and not _may_see_file(db, actor, evidence):
        raise NotFound()
    return send_evidence(evidence, settings=settings(), thumbnail=bool(request.args.get("thumb")),
                         download=bool(request.args.get("download")))


def _may_see_file(db, actor, evidence: EvidenceFile) -> bool:
    from sqlalchemy import select

    portfolio_ids = set(db.scalars(
        select(Entry.portfolio_id).join(EntryEvidence, EntryEvidence.entry_id == Entry.id)
        .where(EntryEvidence.evidence_id == evidence.id, Entry.status != "draft")))
    portfolio_ids |= set(db.scalars(select(Portfolio.id).where(Portfolio.photo_id == evidence.id)))
    return any(access.may_view(db, actor, db.get(Portfolio, pid)) for pid in portfolio_ids)


# ---- staff decisions on one portfolio ----------------------------------------------------------


@bp.route("/entries/<int:entry_id>/decide", methods=["POST"])
def decide(entry_id: int):
    """Verify, return or reject one entry (tutor); a comment is required to return."""
    _viewer, db, actor = acting()
    action = request.form.get("action", "")
    withdrawn = db.get(Entry, entry_id)
    if action in service.STAFF_ACTIONS and withdrawn is not None \
            and withdrawn.status == "draft" and access.may_review(db, actor, withdrawn.portfolio):
        # Taken back to draft while the tutor looked: say so (a draft's content stays private).
        return decision_conflict(db, [(entry_id, parse_version(request.form.get("version")))],
                                 action, request.form.get("comment", ""),
                                 url_for(".decide", entry_id=entry_id), single=True)
    found, portfolio = _visible_entry(db, actor, entry_id)
    if action == "comment":
        access.reviewable_portfolio(db, actor, portfolio.id)
        try:
            service.add_comment(db, actor, found, request.form.get("comment", ""))
        except ToolError as err:
            db.rollback()
            flash(str(err.message), "error")
        else:
            db.commit()
            flash(_("The comment was added."), "success")
        return redirect(url_for(".entry", entry_id=entry_id), code=303)
    if action not in service.STAFF_ACTIONS:
        raise UnknownAction()
    access.reviewable_portfolio(db, actor, portfolio.id)
    seen = parse_version(request.form.get("version"))
    try:
        report = service.decide(db, actor, [(entry_id, seen)],
                                action, request.form.get("comment", ""), settings=settings(),
                                may_review=access.may_review)
    except ToolError as err:
        db.rollback()
        flash(str(err.message), "error")
        return redirect(url_for(".entry", entry_id=entry_id), code=303)
    db.commit()
    if report.skipped and report.skipped[0][1] == "stale":
        return decision_conflict(db, [(entry_id, seen)], action,
                                 request.form.get("comment", ""),
                                 url_for(".decide", entry_id=entry_id),
                                 seen_points=request.form.get("seen_points", ""), single=True)
    if report.skipped:
        flash(_("Not done: %(reason)s.", reason=SKIP_REASONS[report.skipped[0][1]]), "error")
    else:
        flash(_("Saved: %(status)s.", status=STATUS_NAMES[found.status]), "success")
    return redirect(url_for(".entry", entry_id=entry_id), code=303)


def decision_conflict(db, targets, action: str, comment: str, post_to: str, *,
                      seen_points: str = "", done: int = 0, single: bool = False):
    """The 409 page: what changed since the tutor looked, their comment kept, decide again."""
    return render_template(
        "portfolio/decision_conflict.html", viewer=current_viewer(),
        conflicts=service.conflicts(db, targets), action=action, comment=comment,
        post_to=post_to, seen_points=seen_points[:12], done=done, single=single,
        action_names=ACTION_NAMES, status_names=STATUS_NAMES,
        title=_("Changed since you looked")), 409


@bp.route("/<int:portfolio_id>/marks", methods=["POST"])
def set_mark(portfolio_id: int):
    """The tutor's portfolio design mark for a course year (empty clears it)."""
    _viewer, db, actor = acting()
    portfolio = access.reviewable_portfolio(db, actor, portfolio_id)
    year = parsing.arg_int(request.form, "year", 0, maximum=parsing.MAX_PAGE)
    try:
        points = parsing.arg_int(request.form, "points", minimum=0)
    except parsing.BadNumber:
        points = -1  # the service refuses it with its own message
    try:
        service.set_tutor_mark(db, actor, portfolio, rubric(), request.form.get("mark", "design"),
                               year, points, settings=settings())
    except ToolError as err:
        db.rollback()
        flash(str(err.message), "error")
    else:
        db.commit()
        flash(_("The mark was saved."), "success")
    return redirect(url_for(".view", portfolio_id=portfolio_id) + f"#year-{year}", code=303)


# ---- exports ---------------------------------------------------------------------------------


def _owner(portfolio: Portfolio) -> str:
    """Whose portfolio, for file names: 'portfolio-Сейітова-Әлия-2026-12-03.pdf'."""
    return portfolio.full_name or portfolio.user.display_name or str(portfolio.id)


@bp.route("/<int:portfolio_id>/export.json")
def export_json(portfolio_id: int):
    """The portfolio as JSON (the owner gets drafts too)."""
    from .exports import portfolio_json

    viewer, db, actor = acting()
    portfolio = access.exportable_portfolio(db, actor, portfolio_id)
    page = load_page(db, portfolio, include_drafts=portfolio.user_id == viewer.user.id,
                     with_decisions=True)
    body = portfolio_json(portfolio, page.entries, page.marks, page.summaries, page.totals,
                          rubric(), page.gpa)
    name = download_name(f"portfolio-{_owner(portfolio)}", "json", today())
    return Response(json.dumps(body, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": content_disposition(name)})


@bp.route("/<int:portfolio_id>/export.pdf")
def export_pdf(portfolio_id: int):
    """The portfolio as a PDF."""
    viewer, db, actor = acting()
    portfolio = access.exportable_portfolio(db, actor, portfolio_id)
    page = load_page(db, portfolio, include_drafts=portfolio.user_id == viewer.user.id)
    body = portfolio_pdf(portfolio, page.entries, page.totals, rubric(), page.summaries,
                         settings=settings(), locale=locale(),
                         status_names={k: str(v) for k, v in STATUS_NAMES.items()},
                         level_names=level_names(), gpa=page.gpa,
                         header=institution_header(settings(), locale()),
                         course_year=page.course_year, year_labels=page.year_labels,
                         confirmed={y: f"{c.by}, {when(c.at)}" for y, c in page.confirmed.items()})
    name = download_name(f"portfolio-{_owner(portfolio)}", "pdf", today())
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(name)})
