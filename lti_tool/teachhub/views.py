"""TeachHub pages: thin views over the services (modules, participants, reports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import wraps

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext as _

from .. import parsing
from ..auth import Acting, Actor, acting, current_viewer
from ..db import get_db
from ..errors import Forbidden, ToolError, wants_json
from ..exports import CSV_MIMETYPE, XLSX_MIMETYPE, content_disposition, download_name
from ..extensions import services, settings
from ..gradebook.sync import pull_roster
from ..i18n import day, number
from ..lti.placements import Landing
from ..lti.roles import ToolRole
from ..portfolio.charts import Bar, bar_chart
from ..versioning import parse_version
from . import (
    coordinators as coordinator_service,
    evidence,
    exports,
    modules,
    participants,
    reports,
    todo,
)
from .access import card_for, load_actor, managed_module, manages, roles_on
from .config import TeachHubConfig
from .errors import Changed, InputError, Refused
from .forms import (
    PAGE_FORMS,
    ArchiveForm,
    CoordinatorForm,
    DepartmentForm,
    EnrolForm,
    FacilitatorForm,
    FeedbackForm,
    HoursForm,
    MarkForm,
    ModuleCardForm,
    PublishForm,
    RecordForm,
    ReviewForm,
    StatusForm,
    StreamForm,
    TaskForm,
    TeachHubForm,
    VerifyForm,
)
from .hours import credit_units, format_hours
from .passport import FIELDS, LABELS as PASSPORT_LABELS, lines, missing_labels
from .placement import where_to_land
from .status import LOCKED, REPORTED, STATUSES, allowed_targets

bp = Blueprint("teachhub", __name__, url_prefix="/teachhub")
STAFF_ROLES = (ToolRole.INSTRUCTOR, ToolRole.ADMIN)


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Before CSRF reads the form: a task may carry an evidence file as large as the portfolio's.
    if endpoint == "teachhub.add_task" and evidence.available():
        from ..evidence.storage import allow_upload

        allow_upload(settings())


def _config() -> TeachHubConfig:
    return services().get(TeachHubConfig)


def current_actor() -> Actor:
    """The signed-in person with their TeachHub rights (once per request)."""
    if "teachhub_actor" not in g:
        g.teachhub_actor = load_actor(get_db(), acting().actor, _config().coordinator_roles)
    return g.teachhub_actor


def _acting() -> Acting:
    """The view preamble (auth.acting) with TeachHub's rights on the actor."""
    return acting()._replace(actor=current_actor())


# The views below call it by its old private name; the menu (home/nav.py) by the public one.
_actor = current_actor


def numbered(number: str) -> str:
    """A record or protocol number as people write it: "№ 7" for a bare number; anything that
    already says what it is ("№7", "Протокол №7", "ИПР-2026/114") as typed, with no second №."""
    text = (number or "").strip()
    return _("No. %(number)s", number=text) if text[:1].isdigit() else text


def log_note(line) -> str:
    """A status-log note in the reader's language: the tool's own from its key and parameters,
    a person's as they typed it."""
    message = participants.NOTES.get(line.note_key) if line.note_key else None
    if message is None:
        return line.note
    params = dict(line.note_params or {})
    if "date" in params:
        params["date"] = day(date.fromisoformat(params["date"]))
    if "number" in params:
        params["number"] = numbered(params["number"])
    return str(message) % params


@bp.app_context_processor
def _helpers() -> dict:
    config = _config()
    locale = str(get_locale() or "en")
    return {
        "th_status": lambda status: config.status_name(status, locale),
        "th_label": lambda name, key: config.label(name, key, locale),
        "th_choices": config.choices,
        # Hours and units in the reader's language ("1,50" in kk and ru): i18n.number.
        "th_hours": lambda hours: number(Decimal(hours or 0)),
        "th_units": lambda hours: number(credit_units(hours, config.hours_per_unit)),
        "th_lines": lines,
        "th_numbered": numbered,
        "th_note": log_note,
    }


def on_refusal(handle):
    """A view decorator: refused input or a refused step (InputError, Refused) rolls the request
    back and is answered by `handle(err, view_kwargs)`; a JSON client gets the error itself
    (status code, stable code, message). Staff learning uses it too."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except (InputError, Refused) as err:
                if wants_json():
                    raise
                get_db().rollback()
                return handle(err, kwargs)

        return wrapper

    return decorate


def flash_refusal(err: InputError | Refused) -> None:
    """Each message of a refusal, flashed for the page the person is sent back to."""
    messages = err.errors.values() if isinstance(err, InputError) else [err.message]
    for message in messages:
        flash(str(message), "error")


def back_to_page(endpoint: str, id_arg: str | None = None):
    """On refused input or a refused action, say why on the page the form came from.

    `id_arg` names the view argument the page takes; task views set g.teachhub_card_id.
    """

    def handle(err, kwargs):
        card_id = kwargs.get("card_id", g.get("teachhub_card_id"))
        if endpoint == ".card_page" and card_id is not None:
            # Not a redirect: the card as it is now, the refused form with what was typed and
            # each message beside its field (409 when it changed meanwhile).
            return _card_page(card_id, err.status, refused=_refused_form(err, kwargs))
        if endpoint == ".module_page":
            return _module_page(kwargs["module_id"], err.status,
                                refused=_refused_form(err, kwargs))
        flash_refusal(err)
        values = {id_arg: kwargs[id_arg]} if id_arg else {}
        return redirect(url_for(endpoint, **values), code=303)

    return on_refusal(handle)


@dataclass
class RefusedForm:
    """A card form sent back: which one (`key`), its typed data and field errors, and the
    messages that belong to no field (a refused move, a changed card)."""

    key: str
    form: TeachHubForm
    messages: list[str]
    changed: bool


def _refused_form(err: ToolError, view_args: dict) -> RefusedForm:
    name = (request.endpoint or "").rpartition(".")[2]  # a TeachHub view raised: it is set
    form = PAGE_FORMS.get(name, TeachHubForm)()
    left = form.refuse(err.errors) if isinstance(err, InputError) else {}
    messages = [str(m) for m in left.values()]
    if not isinstance(err, InputError):
        messages.append(str(err.message))
    key = name
    if name == "card_status":
        key = f"{name}-{form.text('status')}"
    elif name == "review_task":
        key = f"{name}-{view_args['task_id']}"
    elif name == "save_stream":
        key = f"{name}-{view_args.get('stream_id') or 'new'}"
    return RefusedForm(key, form, messages, isinstance(err, Changed))


# -- entry points -------------------------------------------------------------------------------


@bp.route("/")
def index():
    """TeachHub home: the modules one manages, one's own cards, the reports one may open."""
    actor = _actor()
    rows = modules.list_modules(get_db(), actor)
    record = reports.own_record(get_db(), actor, _config())
    return render_template("teachhub/index.html", actor=actor, rows=rows, record=record,
                           viewer=current_viewer(), title=_("TeachHub"))


@bp.route("/launch")
def launch():
    """Where a TeachHub placement lands: a module card's page, or TeachHub home."""
    viewer = current_viewer()
    placed = where_to_land(get_db(), _actor(), user=viewer.user, role=viewer.role,
                           resource_link=viewer.resource_link,
                           launch_custom=session.get("custom"), config=_config(),
                           today=_config().today())
    if isinstance(placed, Landing):
        return redirect(url_for(placed.endpoint, **placed.values), code=303)
    return render_template("teachhub/placement.html", placed=placed, viewer=viewer,
                           title=placed.version.title if placed.version else _("TeachHub"))


@bp.route("/my")
def my_record():
    """The signed-in person's cards across modules with recognized hours and units."""
    return render_template("teachhub/my.html", record=reports.own_record(
        get_db(), _actor(), _config()), title=_("My TeachHub record"))


# -- module cards -------------------------------------------------------------------------------


def _form_values(module) -> dict:
    if module is None:
        return {"competences": [], "delivery_formats": [], "integration": []}
    values = {name: getattr(module, name) for name in modules.PASSPORT_COLUMNS}
    values["workload_hours"] = format_hours(module.workload_hours) if module.workload_hours else ""
    values["duration_days"] = module.duration_days or ""
    return values


def _render_form(module, values: dict, errors: dict, facilitator_ids: list[int], status: int,
                 conflict: dict | None = None):
    actor = _actor()
    return render_template(
        "teachhub/module_form.html", module=module, values=values, errors=errors,
        conflict=conflict,
        listed=modules.listed_facilitators(get_db(), actor, module.id if module else None,
                                           facilitator_ids),
        facilitator_ids=set(facilitator_ids), actor=actor, labels={
            name: label for name, label, _item in FIELDS},
        title=_("New module card") if module is None else _("Edit the module card")), status


@bp.route("/modules/new", methods=["GET", "POST"])
@bp.route("/modules/<int:module_id>/edit", methods=["GET", "POST"])
def edit_module(module_id: int | None = None):
    """Create a draft module card (coordinators) or edit a working copy."""
    _viewer, db, actor = _acting()
    module = managed_module(db, actor, module_id) if module_id else None
    if module is None and not actor.is_coordinator:
        raise Forbidden(_("Only TeachHub coordinators create module cards."))
    if request.method == "POST":
        form = ModuleCardForm()
        data = form.passport()
        seen = parse_version(form.revision.data) if module else None
        try:
            saved = modules.save_passport(db, actor, module_id, data, _config(), seen)
        except InputError as err:
            db.rollback()
            return _render_form(module, {**data.__dict__}, err.errors, data.facilitator_ids or [],
                                400)
        except Changed as err:
            # Someone saved the card meanwhile: their version is shown, the typed one kept.
            db.rollback()
            db.refresh(module)
            flash(str(err.message), "error")
            return _render_form(module, {**data.__dict__}, {}, data.facilitator_ids or [],
                                409, conflict=_form_values(module))
        flash(_("Saved."), "ok")
        if form.pick.raw_data and actor.is_coordinator:
            # The draft is saved as typed; the picker returns to this form with the choice.
            return redirect(url_for(".facilitators", module_id=saved.id), code=303)
        return redirect(url_for(".module_page", module_id=saved.id), code=303)
    ids = modules.current_facilitator_ids(db, module.id) if module else [actor.user_id]
    return _render_form(module, _form_values(module), {}, ids, 200)


@bp.route("/modules/<int:module_id>/facilitators", methods=["GET", "POST"])
def facilitators(module_id: int):
    """The facilitator picker of a module card (coordinators): staff searched by name and paged
    on the server, without JavaScript; a choice is added to the card and the form reopens."""
    _viewer, db, actor = _acting()
    if request.method == "POST":
        form = FacilitatorForm()
        # 0 (nobody) when missing: the service answers "choose a person".
        user_id = parsing.arg_int({"user_id": form.text("user_id")}, "user_id", 0)
        modules.add_facilitator(db, actor, module_id, user_id or 0,
                                parse_version(form.revision.data))
        flash(_("Added to the facilitators."), "ok")
        return redirect(url_for(".edit_module", module_id=module_id), code=303)
    found = modules.facilitator_candidates(
        db, actor, module_id, search=request.args.get("q", ""),
        page=parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE) or 1)
    if wants_json():  # the form's inline search (static/js/facilitator_search.js)
        return {
            "people": [{"id": p.id, "name": p.display_name, "email": p.email or ""}
                       for p in found.rows],
            "total": found.total, "page": found.page, "pages": found.pages,
        }
    module = managed_module(db, actor, module_id)
    named = modules.listed_facilitators(db, actor, module.id, [])
    return render_template("teachhub/facilitators.html", module=module, found=found,
                           named=named, title=_("Choose a facilitator"))


@bp.route("/modules/<int:module_id>")
def module_page(module_id: int):
    """A module for its facilitators and coordinators: passport, versions, streams, people."""
    return _module_page(module_id)


def _module_page(module_id: int, status: int = 200, *, refused: RefusedForm | None = None):
    _viewer, db, actor = _acting()
    module = managed_module(db, actor, module_id)
    passport = modules.working_passport(db, module)
    viewer = current_viewer()
    return render_template(
        "teachhub/module.html", module=module, passport=passport,
        missing=missing_labels(passport), versions=modules.versions(db, module.id),
        streams=modules.streams_of(db, module.id),
        previews=participants.stream_previews(db, actor, module.id), actor=actor,
        can_enrol=viewer.context is not None and viewer.role in STAFF_ROLES, refused=refused,
        title=module.title or _("Untitled module")), status


@bp.route("/modules/<int:module_id>/participants")
def module_participants(module_id: int):
    """A module's participants, searched and paged on the server (by stream and status)."""
    db = get_db()
    actor = _actor()
    module = managed_module(db, actor, module_id)
    streams = modules.streams_of(db, module.id)
    stream_id = parsing.arg_int(request.args, "stream")
    status = request.args.get("status") or ""
    if stream_id is not None and stream_id not in {s.id for s in streams}:
        raise InputError({"stream": _("Choose a stream of this module.")})
    if status and status not in STATUSES:
        raise InputError({"status": _("Choose a status from the list.")})
    found = participants.module_participants(
        db, actor, module.id, search=request.args.get("q", ""), stream_id=stream_id,
        status=status,
        page=parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE) or 1)
    return render_template("teachhub/participants.html", module=module, streams=streams,
                           found=found, stream_id=stream_id, status=status, statuses=STATUSES,
                           title=_("Participants: %(title)s",
                                   title=module.title or _("Untitled module")))


@bp.route("/modules/<int:module_id>/publish", methods=["POST"])
@back_to_page(".module_page", "module_id")
def publish(module_id: int):
    """Publish the working copy as a new version (refused with what is missing)."""
    form = PublishForm()
    version = modules.publish(get_db(), _actor(), module_id, parse_version(form.revision.data))
    flash(_("Published as version %(n)d.", n=version.number), "ok")
    return redirect(url_for(".module_page", module_id=module_id), code=303)


@bp.route("/modules/<int:module_id>/archive", methods=["POST"])
@back_to_page(".module_page", "module_id")
def archive(module_id: int):
    """Archive a module card (no new participants, not offered for placement), or undo it."""
    archived = ArchiveForm().archived.data == "1"
    modules.set_archived(get_db(), _actor(), module_id, archived)
    flash(_("The module is archived: it takes no new participants.") if archived
          else _("The module is back from the archive."), "ok")
    return redirect(url_for(".module_page", module_id=module_id), code=303)


@bp.route("/modules/<int:module_id>/versions/<int:number>")
def version_page(module_id: int, number: int):
    """A published version of a module's passport."""
    module, version = modules.version_for(get_db(), _actor(), module_id, number)
    return render_template("teachhub/version.html", module=module, version=version,
                           passport=modules.passport_of(version, version.facilitator_names),
                           manages=manages(_actor(), module), title=version.title)


@bp.route("/modules/<int:module_id>/streams", methods=["POST"])
@bp.route("/modules/<int:module_id>/streams/<int:stream_id>", methods=["POST"])
@back_to_page(".module_page", "module_id")
def save_stream(module_id: int, stream_id: int | None = None):
    """Add a stream or change one's name and dates."""
    form = StreamForm()
    modules.save_stream(get_db(), _actor(), module_id, stream_id, name=form.text("name"),
                        starts_on=form.text("starts_on"), ends_on=form.text("ends_on"))
    flash(_("Stream saved."), "ok")
    return redirect(url_for(".module_page", module_id=module_id), code=303)


@bp.route("/modules/<int:module_id>/streams/<int:stream_id>/delete", methods=["POST"])
@back_to_page(".module_page", "module_id")
def delete_stream(module_id: int, stream_id: int):
    """Delete a stream nobody is in."""
    modules.delete_stream(get_db(), _actor(), module_id, stream_id)
    flash(_("Stream deleted."), "ok")
    return redirect(url_for(".module_page", module_id=module_id), code=303)


# -- enrolment from the roster ------------------------------------------------------------------


def _course_staff():
    found = _acting()
    if found.viewer.context is None or found.viewer.role not in STAFF_ROLES:
        raise Forbidden(_("Enrol from a course: open TeachHub from the course as its teacher."))
    return found


@bp.route("/streams/<int:stream_id>/enrol", methods=["GET"])
def enrol_page(stream_id: int, form: EnrolForm | None = None, status: int = 200):
    """The course roster with who is enrolled in the stream (after a refusal: ticks kept)."""
    viewer, db, actor = _course_staff()
    stream, module = modules.stream_for(db, actor, stream_id)
    candidates = participants.roster_candidates(
        db, actor, stream.id, viewer.context.id, search=request.args.get("q", ""),
        page=parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE) or 1)
    from ..gradebook.sync import sync_state  # the roster's last pull time

    return render_template("teachhub/enrol.html", stream=stream, module=module,
                           candidates=candidates, context=viewer.context,
                           state=sync_state(db, viewer.context.id), form=form,
                           title=_("Enrol participants")), status


@bp.route("/streams/<int:stream_id>/enrol", methods=["POST"])
def enrol(stream_id: int):
    """Enrol the chosen course members (or every learner of the course)."""
    viewer, db, actor = _course_staff()
    form = EnrolForm()
    ids = parsing.ids(form.user_ids.data or [], "user_ids")
    try:
        count = participants.enrol(
            db, actor, stream_id, context_id=viewer.context.id, user_ids=ids,
            all_learners=form.all_learners.data == "1", resource_link=viewer.resource_link,
            config=_config())
    except (InputError, Refused) as err:
        if wants_json():
            raise
        db.rollback()
        left = form.refuse(err.errors) if isinstance(err, InputError) else {"": err.message}
        form.form_errors = [str(message) for message in left.values()]
        return enrol_page(stream_id, form, err.status)
    flash(_("%(n)d participants enrolled.", n=count), "ok")
    return redirect(url_for(".enrol_page", stream_id=stream_id), code=303)


@bp.route("/streams/<int:stream_id>/roster", methods=["POST"])
def refresh_roster(stream_id: int):
    """Pull the course roster from the LMS now (NRPS), then back to enrolment."""
    viewer, db, actor = _course_staff()
    modules.stream_for(db, actor, stream_id)
    report = pull_roster(db, services().gradebook.client(
        db, viewer.context.platform_id), viewer.context)
    flash(_("Roster updated: %(n)d members.", n=report.count) if report.ok else
          _("The roster could not be pulled: %(error)s", error=report.error),
          "ok" if report.ok else "error")
    return redirect(url_for(".enrol_page", stream_id=stream_id), code=303)


# -- participant cards --------------------------------------------------------------------------


@bp.route("/cards/<int:card_id>")
def card_page(card_id: int):
    """A participant card: for its participant, the module's facilitators, coordinators."""
    return _card_page(card_id)


def _card_page(card_id: int, status: int = 200, *, refused: RefusedForm | None = None):
    """The card page; after a refusal the refused form keeps what was typed and its messages."""
    actor = _actor()
    view = participants.card_view(get_db(), actor, card_id)
    roles = roles_on(actor, view.module.id)
    limit = evidence.upload_limit(settings())
    return render_template(
        "teachhub/card.html", view=view, actor=actor, roles=roles,
        own=view.card.user_id == actor.user_id, targets=allowed_targets(view.card.status, roles),
        locked=view.card.status in LOCKED, statuses=STATUSES,
        evidence_on=evidence.available(), mark_maximum=_config().mark_maximum,
        storage=evidence.usage_line(get_db(), settings=settings(),
                                    owner=current_viewer().user)
        if view.card.user_id == actor.user_id else None,
        files=evidence.files(get_db(), [i for ids in view.evidence.values() for i in ids]),
        upload_limit=limit, upload_size=evidence.size_text(limit) if limit else "",
        refused=refused, title=_("Participant card")), status


def _card_redirect(card_id: int, message: str):
    flash(message, "ok")
    return redirect(url_for(".card_page", card_id=card_id), code=303)


def _given(field) -> str | None:
    """A field's posted text, None when the form did not carry the field at all."""
    return field.data if field.raw_data else None


@bp.route("/cards/<int:card_id>/hours", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_hours(card_id: int):
    """Contact and self-study hours."""
    form = HoursForm()
    participants.set_hours(get_db(), _actor(), card_id, contact=_given(form.contact_hours),
                           self_study=_given(form.self_study_hours), config=_config(),
                           seen=parse_version(form.revision.data))
    return _card_redirect(card_id, _("Hours saved."))


@bp.route("/cards/<int:card_id>/department", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_department(card_id: int):
    """The participant's department."""
    form = DepartmentForm()
    participants.set_department(get_db(), _actor(), card_id, form.text("department"))
    return _card_redirect(card_id, _("Department saved."))


@bp.route("/cards/<int:card_id>/mark", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_mark(card_id: int):
    """The facilitator's mark and comment."""
    form = MarkForm()
    participants.set_mark(get_db(), _actor(), card_id, mark=form.text("mark"),
                          comment=form.text("mark_comment"), config=_config(),
                          seen=parse_version(form.revision.data))
    return _card_redirect(card_id, _("Mark saved."))


@bp.route("/cards/<int:card_id>/verify", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_verify(card_id: int):
    """Coordinator verification."""
    form = VerifyForm()
    participants.verify(get_db(), _actor(), card_id, note=form.text("note"),
                        seen=parse_version(form.revision.data))
    return _card_redirect(card_id, _("Card verified."))


@bp.route("/cards/<int:card_id>/record", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_record(card_id: int):
    """The work plan / information system record."""
    form = RecordForm()
    participants.set_record(get_db(), _actor(), card_id,
                            record_date=form.text("record_date"),
                            record_number=form.text("record_number"),
                            today=_config().today(), seen=parse_version(form.revision.data))
    return _card_redirect(card_id, _("Record saved."))


@bp.route("/cards/<int:card_id>/status", methods=["POST"])
@back_to_page(".card_page", "card_id")
def card_status(card_id: int):
    """Move the card's status one step (refused moves say why)."""
    form = StatusForm()
    card = participants.move(
        get_db(), _actor(), card_id, form.text("status"), today=_config().today(),
        config=_config(), seen=parse_version(form.revision.data), note=form.text("note"),
        commission_date=form.text("commission_date"),
        commission_number=form.text("commission_number"))
    return _card_redirect(card_id, _("Status: %(status)s.", status=_config().status_name(
        card.status, str(get_locale()))))


@bp.route("/cards/<int:card_id>/tasks", methods=["POST"])
@back_to_page(".card_page", "card_id")
def add_task(card_id: int):
    """Add a completed task or product, with an evidence file if one is attached."""
    _viewer, db, actor = _acting()
    form = TaskForm()
    task = participants.add_task(db, actor, card_id, title=form.text("title"),
                                 description=form.text("description"),
                                 completed_on=form.text("completed_on"),
                                 today=_config().today())
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", None):
        if not evidence.available():
            raise InputError({"file": _("File uploads are not available yet.")})
        evidence_id = evidence.store(db, settings=settings(), file=upload,
                                     owner=current_viewer().user)
        participants.attach_evidence(db, task, evidence_id)
    db.commit()
    return _card_redirect(card_id, _("Task added."))


def _task_card(task_id: int) -> int:
    _task, card, _module = participants.task_for(get_db(), _actor(), task_id)
    g.teachhub_card_id = card.id
    return card.id


@bp.route("/tasks/<int:task_id>/review", methods=["POST"])
@back_to_page(".card_page")
def review_task(task_id: int):
    """The facilitator accepts or returns a task."""
    card_id = _task_card(task_id)
    form = ReviewForm()
    participants.review_task(get_db(), _actor(), task_id, decision=form.text("decision"),
                             note=form.text("review_note"))
    return _card_redirect(card_id, _("Review saved."))


@bp.route("/tasks/<int:task_id>/delete", methods=["POST"])
@back_to_page(".card_page")
def delete_task(task_id: int):
    """Its author removes a task (and its files)."""
    db = get_db()
    card_id = _task_card(task_id)
    _task, evidence_ids = participants.delete_task(db, _actor(), task_id)
    evidence.delete(db, evidence_ids, settings=settings())
    db.commit()
    return _card_redirect(card_id, _("Task removed."))


@bp.route("/tasks/<int:task_id>/evidence/<int:evidence_id>")
def task_file(task_id: int, evidence_id: int):
    """An evidence file of a task, for whoever may see the card."""
    db = get_db()
    found = participants.task_evidence(db, _actor(), task_id, evidence_id)
    return evidence.send(db, found, settings=settings(),
                         thumbnail=request.args.get("thumbnail") == "1",
                         download=request.args.get("download") == "1")


@bp.route("/cards/<int:card_id>/feedback", methods=["GET", "POST"])
def feedback(card_id: int):
    """The module's feedback form, once, after completion."""
    _viewer, db, actor = _acting()
    card, _module = card_for(db, actor, card_id)
    if card.user_id != actor.user_id:
        raise Forbidden(_("Only the participant answers the feedback form."))
    form = FeedbackForm()
    refused = False
    if request.method == "POST":
        try:
            reports.give_feedback(db, actor, card_id, satisfaction=form.text("satisfaction"),
                                  applicability=form.text("applicability"),
                                  comment=form.text("comment"))
        except InputError as err:
            db.rollback()
            if wants_json():
                raise
            form.form_errors = list(form.refuse(err.errors).values())
            refused = True
        else:
            return _card_redirect(card_id, _("Thank you for your feedback."))
    return render_template("teachhub/feedback.html", card=card, form=form,
                           title=_("Feedback")), 400 if refused else 200


# -- reports ------------------------------------------------------------------------------------


@bp.route("/modules/<int:module_id>/report")
def module_report(module_id: int):
    """Participation, progress, hours and feedback of a module, per stream."""
    report = reports.module_report(get_db(), _actor(), module_id,
                                   parsing.arg_int(request.args, "stream"), _config())
    charts = {
        "statuses": _status_chart(report.total.counts, STATUSES, _("Participants by status")),
        "departments": _department_hours_chart(
            [(dep, hours) for dep, _n, hours in report.departments]),
    }
    return render_template("teachhub/report.html", report=report,
                           streams=modules.streams_of(get_db(), module_id),
                           minimum=_config().feedback_min_answers, statuses=STATUSES,
                           charts=charts,
                           title=_("Report: %(title)s", title=report.module.title))


def _status_chart(counts: Mapping[str, int], statuses: Iterable[str], title: str):
    """Counts by card status as a bar chart, the statuses named in the reader's language."""
    locale = str(get_locale())
    return bar_chart([Bar(_config().status_name(s, locale), counts.get(s, 0)) for s in statuses],
                     title=title, whole=True)


def _department_hours_chart(hours: list[tuple[str, Decimal]]):
    """Hours by department as a bar chart (the table beside it has the figures)."""
    return bar_chart([Bar(dep or _("not given"), float(value)) for dep, value in hours],
                     title=_("Hours by department"))


def _hr_filters():
    try:
        return reports.parse_hr_filters(request.args), {}
    except InputError as err:
        return reports.HRFilters(), err.errors


@bp.route("/hr")
def hr_list():
    """The consolidated list for HR: implemented, submitted and recognized activities."""
    filters, errors = _hr_filters()
    page = parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE)
    result = reports.hr_page(get_db(), _actor(), filters, page, _config())
    charts = {
        "statuses": _status_chart(result.total.counts, REPORTED, _("Activities by status")),
        "departments": _department_hours_chart(
            [(d.department, d.hours) for d in result.departments]),
    }
    return render_template("teachhub/hr.html", result=result, errors=errors, charts=charts,
                           args=request.args, title=_("TeachHub: consolidated list for HR")), (
        400 if errors else 200)


def _labels() -> exports.Labels:
    config, locale = _config(), str(get_locale())
    return exports.Labels(status=lambda s: config.status_name(s, locale),
                          module_format=lambda f: config.label("module_formats", f, locale))


@bp.route("/hr.csv")
def hr_csv():
    """The consolidated list as CSV, with the page's filters."""
    filters, errors = _hr_filters()
    if errors:
        raise InputError(errors)
    body = exports.hr_csv(reports.hr_rows(get_db(), _actor(), filters, _config()), _labels(),
                          locale=str(get_locale()))
    return Response(body, mimetype=CSV_MIMETYPE, headers={"Content-Disposition": (
        content_disposition(download_name("teachhub-hr", "csv", _config().today())))})


@bp.route("/hr.xlsx")
def hr_xlsx():
    """The consolidated list as an Excel workbook, with the page's filters."""
    filters, errors = _hr_filters()
    if errors:
        raise InputError(errors)
    body = exports.hr_xlsx(reports.hr_rows(get_db(), _actor(), filters, _config()), _labels(),
                           _config().hours_per_unit)
    return Response(body, mimetype=XLSX_MIMETYPE, headers={"Content-Disposition": (
        content_disposition(download_name("teachhub-hr", "xlsx", _config().today())))})


# -- coordinator's to-do ------------------------------------------------------------------------


@bp.route("/todo")
def todo_page():
    """What waits for a coordinator: passports, cards to verify or at the commission, streams,
    parked scores; each line links to where it is done."""
    found = todo.coordinator_todo(get_db(), _actor(), today=_config().today())
    return render_template("teachhub/todo.html", todo=found, labels=PASSPORT_LABELS,
                           title=_("Coordinator's to-do"))


# -- coordinators -------------------------------------------------------------------------------


@bp.route("/coordinators", methods=["GET", "POST"])
@back_to_page(".coordinators")
def coordinators():
    """Platform administrators name and remove TeachHub coordinators."""
    _viewer, db, actor = _acting()
    if request.method == "POST":
        form = CoordinatorForm()
        # 0 (nobody) when missing: the service answers "choose a person".
        user_id = parsing.arg_int({"user_id": form.text("user_id")}, "user_id", 0)
        if form.remove.data == "1":
            coordinator_service.remove_coordinator(db, actor, user_id)
            flash(_("Removed from the coordinators."), "ok")
        else:
            coordinator_service.add_coordinator(db, actor, user_id)
            flash(_("Named a coordinator."), "ok")
        return redirect(url_for(".coordinators"), code=303)
    return render_template("teachhub/coordinators.html",
                           people=coordinator_service.coordinators(db, actor),
                           candidates=coordinator_service.candidates(
                               db, actor, search=request.args.get("q", ""),
                               page=parsing.arg_int(request.args, "page", 1,
                                                    maximum=parsing.MAX_PAGE) or 1),
                           roles=sorted(_config().coordinator_roles),
                           title=_("TeachHub coordinators"))

