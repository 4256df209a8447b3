"""Staff learning pages: thin views over the services (records, steps, the consolidated list)."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale, gettext as _

from .. import parsing
from ..auth import current_viewer
from ..credentials import web as credential_web
from ..credentials.web import verify_url
from ..db import get_db
from ..errors import NotFound, wants_json
from ..exports import CSV_MIMETYPE, XLSX_MIMETYPE, content_disposition, download_name
from ..extensions import services, settings
from ..teachhub.config import TeachHubConfig
from ..teachhub.errors import InputError, Refused
from ..teachhub.views import current_actor as teachhub_actor, flash_refusal, on_refusal
from ..versioning import parse_version
from . import (
    credentials,
    exports,
    forms73,
    ob3,
    reports,
    roles as role_service,
    rules,
    service,
)
from .access import Actor, activity_for, load_actor
from .certificate import certificate_pdf
from .config import LearningConfig
from .forms import ActionForm, ActivityForm, EvidenceForm, RoleForm

bp = Blueprint("learning", __name__, url_prefix="/learning")


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Before CSRF reads the form: an evidence file as large as the portfolio's.
    if endpoint == "learning.add_evidence":
        from ..evidence.storage import allow_upload

        allow_upload(settings())


def _config() -> LearningConfig:
    return services().get(LearningConfig)


def _th() -> TeachHubConfig:
    return services().get(TeachHubConfig)


def current_actor() -> Actor:
    """The signed-in person as staff learning sees them (once per request)."""
    if "learning_actor" not in g:
        g.learning_actor = load_actor(get_db(), teachhub_actor())
    return g.learning_actor


def _locale() -> str:
    return str(get_locale() or "en")


def label(name: str, key: str) -> str:
    """A key of a data list in the reader's language (competence areas are TeachHub's)."""
    if name == "competence_areas":
        return _th().label(name, key, _locale())
    return _config().label(name, key, _locale())


@bp.app_context_processor
def _helpers() -> dict:
    from ..teachhub.hours import credit_units

    return {
        "la_label": label,
        "la_units": lambda hours: credit_units(Decimal(hours or 0), _th().hours_per_unit),
    }


def _back_to_the_activity(err: InputError | Refused, kwargs: dict):
    # The activity page again with why (or, without one, the own list with the messages).
    if "activity_id" in kwargs:
        errors = err.errors if isinstance(err, InputError) else {"action": err.message}
        return _activity_page(kwargs["activity_id"], errors=errors, status=err.status)
    flash_refusal(err)
    return redirect(url_for(".index"), code=303)


# Refused input or a refused step: the activity page (or the own list) again, with why.
refused_here = on_refusal(_back_to_the_activity)


# -- a person's own record ----------------------------------------------------------------------


def _filters():
    try:
        return reports.parse_filters(request.args, _th().keys("competence_areas")), {}
    except InputError as err:
        return reports.Filters(), err.errors


def _list_context() -> dict:
    return {
        "forms": (*rules.FORMS, rules.TEACHHUB),
        "statuses": rules.STATUSES,
        "areas": _th().choices("competence_areas"),
        "locale": _locale(),
    }


@bp.route("/")
def index():
    """The person's learning of every form (TeachHub modules too), and what waits for them."""
    actor = current_actor()
    filters, errors = _filters()
    page = parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE)
    result = reports.page_of(get_db(), actor, filters, page, _th().hours_per_unit, own=True)
    waiting = service.queue(get_db(), actor)
    return render_template(
        "learning/index.html",
        actor=actor,
        result=result,
        errors=errors,
        waiting=waiting,
        args=request.args,
        **_list_context(),
        title=_("My learning"),
    ), (400 if errors else 200)


# -- recording ----------------------------------------------------------------------------------


def _input(form: ActivityForm) -> service.ActivityInput:
    return service.ActivityInput(
        form=form.text("form"),
        format=form.text("format"),
        title=form.text("title"),
        organiser=form.text("organiser"),
        starts_on=form.text("starts_on"),
        ends_on=form.text("ends_on"),
        content=form.text("content"),
        competence_area=form.text("competence_area"),
        workload=form.text("workload"),
        workload_unit=form.text("workload_unit") or service.HOURS,
        estimated=bool(form.estimated.data),
        estimate_reason=form.text("estimate_reason"),
        foreign_language=bool(form.foreign_language.data),
        title_translation=form.text("title_translation"),
        mentor=form.text("mentor"),
        department=form.text("department"),
    )


def _render_form(form: ActivityForm, activity=None, status: int = 200):
    return render_template(
        "learning/form.html",
        form=form,
        activity=activity,
        forms=rules.FORMS,
        formats=_config().lists["formats"],
        format_form=_config().format_form,
        areas=_th().choices("competence_areas"),
        department=service.department_of_user(get_db(), current_actor().user_id),
        title=_("Record a learning activity") if activity is None else _("Correct the activity"),
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Record an activity that took place (any of the forms 4.1-4.4)."""
    actor = current_actor()
    form = ActivityForm()
    if request.method == "POST":
        try:
            activity = service.record(
                get_db(), actor, _input(form), today=_th().today(), th=_th(), config=_config()
            )
        except InputError as err:
            if wants_json():
                raise
            get_db().rollback()
            form.refuse(err.errors)
            return _render_form(form, status=400)
        flash(_("The activity is recorded. Attach its evidence, then submit it."), "ok")
        return redirect(url_for(".activity_page", activity_id=activity.id), code=303)
    from ..learning.access import require_recorder

    require_recorder(actor)
    if request.args.get("form") in rules.FORMS:
        form.form.data = request.args["form"]
    return _render_form(form)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
def edit(activity_id: int):
    """The participant corrects their activity while it is theirs."""
    actor = current_actor()
    activity, _department = activity_for(get_db(), actor, activity_id)
    if request.method == "POST":
        form = ActivityForm()
        try:
            service.edit(
                get_db(),
                actor,
                activity_id,
                _input(form),
                seen=parse_version(form.text("revision")),
                today=_th().today(),
                th=_th(),
                config=_config(),
            )
        except InputError as err:
            if wants_json():
                raise
            get_db().rollback()
            form.refuse(err.errors)
            return _render_form(form, activity, 400)
        except Refused as err:
            if wants_json():
                raise
            get_db().rollback()
            return _activity_page(activity_id, errors={"action": err.message}, status=err.status)
        flash(_("Saved."), "ok")
        return redirect(url_for(".activity_page", activity_id=activity_id), code=303)
    form = ActivityForm(obj=activity)
    form.workload.data = str(activity.hours_claimed)
    form.workload_unit.data = service.HOURS
    form.estimated.data = activity.hours_estimated
    return _render_form(form, activity)


# -- one activity -------------------------------------------------------------------------------


def _activity_page(activity_id: int, *, errors: dict | None = None, status: int = 200):
    db = get_db()
    actor = current_actor()
    activity, department = activity_for(db, actor, activity_id)
    roles = actor.roles_on(activity, department)
    facts = service.facts(db, activity)
    return render_template(
        "learning/activity.html",
        activity=activity,
        department=department,
        person=service.user(db, activity.user_id),
        roles=roles,
        actions=rules.allowed(activity.status, roles, facts),
        facts=facts,
        needs_endorsement=activity.form in rules.NEEDS_ENDORSEMENT,
        evidence=service.evidence_of(db, activity.id),
        log=service.log_of(db, activity.id),
        kinds=rules.ACCEPTED_EVIDENCE[activity.form],
        errors=errors or {},
        credential=service.credential_of(db, activity_id=activity.id),
        upload_limit=service.upload_limit(settings()),
        title=activity.title,
    ), status


@bp.route("/activities/<int:activity_id>")
def activity_page(activity_id: int):
    """An activity: its fields, evidence, the steps the viewer may take, and its log."""
    return _activity_page(activity_id)


@bp.route("/activities/<int:activity_id>/evidence", methods=["POST"])
@refused_here
def add_evidence(activity_id: int):
    """The participant attaches an evidence file."""
    form = EvidenceForm()
    service.add_evidence(
        get_db(),
        current_actor(),
        activity_id,
        kind=form.text("kind"),
        file=request.files.get("file"),
        settings=settings(),
        owner=current_viewer().user,
    )
    flash(_("The file is attached."), "ok")
    return redirect(url_for(".activity_page", activity_id=activity_id), code=303)


@bp.route("/activities/<int:activity_id>/evidence/<int:evidence_id>")
def evidence_file(activity_id: int, evidence_id: int):
    """An evidence file, for those who see the activity."""
    db = get_db()
    activity, _department = activity_for(db, current_actor(), activity_id)
    if evidence_id not in {row.evidence_id for row, _f in service.evidence_of(db, activity.id)}:
        raise NotFound()
    from ..teachhub import evidence as evidence_files

    return evidence_files.send(
        db,
        evidence_id,
        settings=settings(),
        download=request.args.get("download") == "1",
    )


@bp.route("/activities/<int:activity_id>/act", methods=["POST"])
@refused_here
def act(activity_id: int):
    """One step on an activity (submit, endorse, opinion, recognize, return, revoke)."""
    form = ActionForm()
    action = form.text("action")
    decision = service.Decision(
        note=form.text("note"),
        ready=form.text("ready"),
        decision_date=form.text("decision_date"),
        decision_number=form.text("decision_number"),
        hours=form.text("hours"),
        hours_note=form.text("hours_note"),
    )
    service.act(
        get_db(),
        current_actor(),
        activity_id,
        action,
        decision,
        seen=parse_version(form.text("revision")),
        today=_th().today(),
        th=_th(),
    )
    flash(_("Done."), "ok")
    return redirect(url_for(".activity_page", activity_id=activity_id), code=303)


# -- the consolidated list ----------------------------------------------------------------------


@bp.route("/list")
def consolidated():
    """The consolidated list of every form (7.3 form 7): HR, secretaries, experts; heads see
    their departments."""
    actor = current_actor()
    filters, errors = _filters()
    page = parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE)
    result = reports.page_of(get_db(), actor, filters, page, _th().hours_per_unit)
    return render_template(
        "learning/list.html",
        result=result,
        errors=errors,
        args=request.args,
        departments=reports.departments(get_db(), actor),
        **_list_context(),
        title=_("Staff learning: consolidated list"),
    ), (400 if errors else 200)


def _export_rows():
    filters, errors = _filters()
    if errors:
        raise InputError(errors)
    own = request.args.get("own") == "1"
    return reports.all_rows(get_db(), current_actor(), filters, _th().hours_per_unit, own=own)


@bp.route("/list.csv")
def list_csv():
    """The consolidated list (or, with own=1, the person's own record) as CSV."""
    body = exports.to_csv(_export_rows(), label)
    name = download_name("staff-learning", "csv", _th().today())
    return Response(
        body, mimetype=CSV_MIMETYPE, headers={"Content-Disposition": content_disposition(name)}
    )


@bp.route("/list.xlsx")
def list_xlsx():
    """The consolidated list (or, with own=1, the person's own record) as XLSX."""
    body = exports.to_xlsx(_export_rows(), label)
    name = download_name("staff-learning", "xlsx", _th().today())
    return Response(
        body, mimetype=XLSX_MIMETYPE, headers={"Content-Disposition": content_disposition(name)}
    )


# -- roles --------------------------------------------------------------------------------------


@bp.route("/roles", methods=["GET", "POST"])
def roles_page():
    """TeachHub coordinators name heads of departments, experts, secretaries and HR."""
    db = get_db()
    actor = current_actor()
    if request.method == "POST":
        form = RoleForm()
        user_id = parsing.arg_int({"user_id": form.text("user_id")}, "user_id", 0)
        try:
            if form.remove.data == "1":
                role_service.remove(
                    db,
                    actor,
                    user_id=user_id,
                    role=form.text("role"),
                    department=form.text("department"),
                )
                flash(_("Taken off the role."), "ok")
            else:
                role_service.name(
                    db,
                    actor,
                    user_id=user_id,
                    role=form.text("role"),
                    department=form.text("department"),
                )
                flash(_("Named."), "ok")
        except InputError as err:
            if wants_json():
                raise
            db.rollback()
            for message in err.errors.values():
                flash(str(message), "error")
        return redirect(url_for(".roles_page"), code=303)
    return render_template(
        "learning/roles.html",
        named=role_service.named(db, actor),
        people=role_service.people(db, actor),
        roles=rules.NAMED_ROLES,
        title=_("Staff learning roles"),
    )


# -- certificates -------------------------------------------------------------------------------


def issuer_name() -> str:
    """The institution that issues certificates and credentials ([learning] issuer_name)."""
    return settings().learning.issuer_name or _("Staff learning")


def _own_record(kind: str, record_id: int):
    actor = current_actor()
    record = credentials.record_of(get_db(), actor, kind, record_id, _th().hours_per_unit)
    credentials.owner_only(actor, record)
    return record, credentials.issue(get_db(), record)


def verification_reader(db, credential):
    """What the public verification page shows of an activity's or a card's credential."""
    return credentials.shown(db, credential, _th().hours_per_unit, label)


def _certificate(kind: str, record_id: int):
    record, credential = _own_record(kind, record_id)
    lang = request.args.get("language") or _locale()
    if lang not in settings().i18n.locales:
        lang = _locale()
    body = certificate_pdf(
        record,
        verify_url=verify_url(credential.token),
        locale=lang,
        settings=settings(),
        label=label,
        issuer=issuer_name(),
    )
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=certificate-{lang}.pdf"},
    )


@bp.route("/activities/<int:activity_id>/certificate.pdf")
def activity_certificate(activity_id: int):
    """The certificate of a recognised activity (PDF; ?lang=kk|ru|en)."""
    return _certificate(credentials.ACTIVITY, activity_id)


@bp.route("/cards/<int:card_id>/certificate.pdf")
def card_certificate(card_id: int):
    """The certificate of a recognised TeachHub module (PDF; ?lang=kk|ru|en)."""
    return _certificate(credentials.CARD, card_id)


@bp.route("/cards/<int:card_id>/revoke", methods=["POST"])
def revoke_card(card_id: int):
    """The commission's secretary withdraws a module's recognition: its credential is revoked."""
    form = ActionForm()
    try:
        credentials.revoke_card(get_db(), current_actor(), card_id, form.text("note"))
    except InputError as err:
        if wants_json():
            raise
        get_db().rollback()
        for message in err.errors.values():
            flash(str(message), "error")
        return redirect(url_for("teachhub.card_page", card_id=card_id), code=303)
    flash(_("The recognition is revoked: the certificate and the credential read revoked."), "ok")
    return redirect(url_for("teachhub.card_page", card_id=card_id), code=303)


# -- Open Badges 3.0 ----------------------------------------------------------------------------


def _signed(kind: str, record_id: int) -> tuple[str, dict]:
    record, credential = _own_record(kind, record_id)
    with force_locale("en"):  # the credential's text is the same for every reader
        description = _(
            "%(form)s recognised by the commission's decision No. %(number)s of "
            "%(date)s: %(hours)s academic hours.",
            form=label("forms", record.form),
            number=record.decision_number,
            date=record.decision_date.isoformat() if record.decision_date else "",
            hours=str(record.hours),
        )
        form_name = label("forms", record.form)
    body = ob3.credential_json(
        record,
        credential,
        credential_web.issuer(),
        verify_url=verify_url(credential.token),
        form_name=form_name,
        description=description,
    )
    return credential_web.sign(body), body


def _credential(kind: str, record_id: int, fmt: str):
    token, body = _signed(kind, record_id)
    return credential_web.download(token, body, fmt, caption="TeachHub")


@bp.route("/activities/<int:activity_id>/credential.<any(jwt, json, svg):fmt>")
def activity_credential(activity_id: int, fmt: str):
    """The Open Badges 3.0 credential of a recognised activity: VC-JWT, JSON or a baked SVG."""
    return _credential(credentials.ACTIVITY, activity_id, fmt)


@bp.route("/cards/<int:card_id>/credential.<any(jwt, json, svg):fmt>")
def card_credential(card_id: int, fmt: str):
    """The Open Badges 3.0 credential of a recognised TeachHub module."""
    return _credential(credentials.CARD, card_id, fmt)


# -- standard forms (7.3) -----------------------------------------------------------------------


def _document(activity_id: int, kind: str):
    from ..i18n import day

    if kind not in forms73.KINDS:
        raise NotFound()
    return forms73.document(get_db(), current_actor(), activity_id, kind, label, day)


@bp.route("/activities/<int:activity_id>/forms/<any(report, review, participants):kind>")
def standard_form(activity_id: int, kind: str):
    """A standard form of 7.3 filled from the activity, as a page."""
    doc = _document(activity_id, kind)
    return render_template(
        "learning/document.html",
        doc=doc,
        title=str(doc.title),
        pdf_url=url_for(".standard_form_pdf", activity_id=activity_id, kind=kind),
    )


@bp.route("/activities/<int:activity_id>/forms/<any(report, review, participants):kind>.pdf")
def standard_form_pdf(activity_id: int, kind: str):
    """The same standard form as a PDF."""
    doc = _document(activity_id, kind)
    body = forms73.document_pdf(doc, settings=settings())
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={kind}.pdf"},
    )
