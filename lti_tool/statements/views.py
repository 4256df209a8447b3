"""The statement pages, for the course's instructors only: settings and column map, the
statement (page, PDF, XLSX, CSV), posting the final, and a week's mentor scores."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext as _, ngettext

from ..auth import current_viewer, roles_required
from ..db import get_db
from ..errors import Forbidden, ToolError
from ..exports import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    content_disposition,
    download_name,
    to_csv,
    to_xlsx,
)
from ..extensions import services, settings as tool_settings
from ..gradebook.course_grading import course_learners
from ..gradebook.policy import GradingPolicy
from ..i18n import today
from ..lti.roles import ToolRole
from ..versioning import parse_version
from . import service
from .exports import headers, reason_text, statement_pdf, statement_table
from .forms import NONE, PART_LABELS, field_name, settings_form, slot_label, week_form, week_values
from .structure import Structure, Structures

bp = Blueprint("statements", __name__, url_prefix="/statement")
DEFAULT_STRUCTURE = "appendix2"


def _structures() -> dict[str, Structure]:
    return services().get(Structures)


def _policy() -> GradingPolicy:
    return services().get(GradingPolicy)


def _locale() -> str:
    return str(get_locale() or "")


def _course():
    viewer = current_viewer()
    if viewer.context is None:
        raise Forbidden(_("Open this page from a course."))
    return viewer, viewer.context, get_db()


def _set_up(db, context_id: int):
    """The course's settings and structure; NotSetUp until an instructor saved them."""
    course = service.course_settings(db, context_id)
    structure = _structures().get(course.structure_id) if course else None
    if course is None or structure is None:
        raise service.NotSetUp()
    return course, structure


@bp.route("")
@roles_required(ToolRole.INSTRUCTOR)
def page():
    """The statement of the course: every student's RK-1, RK-2, admission rating, exam and
    final, and the weeks whose mentor scores are late."""
    viewer, context, db = _course()
    course = service.course_settings(db, context.id)
    structure = _structures().get(course.structure_id) if course else None
    if course is None or structure is None:
        return redirect(url_for(".settings"))
    rows = service.build_statement(db, context.id, structure, _policy().scale)
    weeks = service.week_statuses(db, context.id, course, structure, _policy().timezone)
    return render_template(
        "statements/statement.html",
        viewer=viewer,
        context=context,
        course=course,
        structure=structure,
        rows=rows,
        weeks=weeks,
        headers=headers(),
        reason_text=reason_text,
        locale=_locale(),
        part_labels=PART_LABELS,
        title=_("Rating statement"),
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ToolRole.INSTRUCTOR)
def settings():
    """Choose the weekly structure, the first day, the group and each part's LMS column."""
    viewer, context, db = _course()
    structures = _structures()
    course = service.course_settings(db, context.id)
    chosen = request.form.get("structure") if request.method == "POST" else None
    structure_id = (
        chosen
        if chosen in structures
        else course.structure_id
        if course and course.structure_id in structures
        else DEFAULT_STRUCTURE
        if DEFAULT_STRUCTURE in structures
        else next(iter(structures))
    )
    structure = structures[structure_id]
    items = service.course_line_items(db, context.id)
    data: dict = {"version": course.version if course else 0, "structure": structure_id}
    if course is not None:
        data.update(
            start_date=course.start_date,
            group_name=course.group_name,
            final_line_item=course.final_line_item_id or NONE,
        )
        data.update(
            {
                field_name(s): v
                for s in structure.slots
                if (v := service.mapping_of(db, context.id).get(s.key))
            }
        )
    form = settings_form(
        structures, structure, items, _locale(), data=None if request.method == "POST" else data
    )
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "fill" and form.validate():
            patterns = {part: getattr(form, f"pattern_{part}").data or "" for part in PART_LABELS}
            found = service.auto_map(items, structure, patterns)
            for slot in structure.slots:
                if slot.key in found:
                    getattr(form, field_name(slot)).data = found[slot.key]
            flash(
                ngettext(
                    "%(num)d column found by the patterns: check them and save.",
                    "%(num)d columns found by the patterns: check them and save.",
                    len(found),
                ),
                "ok",
            )
        elif request.form.get("action") != "fill" and form.validate():
            choice = service.Settings(
                structure_id=structure_id,
                start_date=form.start_date.data,
                group_name=form.group_name.data or "",
                final_line_item_id=form.final_line_item.data or None,
                mapping={s.key: getattr(form, field_name(s)).data or None for s in structure.slots},
            )
            service.save_settings(
                db,
                context.id,
                actor_name=viewer.user.display_name,
                seen_version=parse_version(form.version.data),
                settings=choice,
                structures=structures,
            )
            db.commit()
            flash(_("Saved: the statement uses these settings."), "success")
            return redirect(url_for(".page"), code=303)
        else:
            status = 400
    return render_template(
        "statements/settings.html",
        viewer=viewer,
        context=context,
        form=form,
        structure=structure,
        field_name=field_name,
        has_items=bool(items),
        title=_("Statement settings"),
    ), status


def _table_and_heading(db, context, course, structure):
    rows = service.build_statement(db, context.id, structure, _policy().scale)
    heading = [
        _("Course: %(title)s", title=context.title or context.label or ""),
        _("Group: %(group)s", group=course.group_name or "—"),
        _("Weekly structure: %(name)s", name=structure.label(_locale())),
        _(
            "Final = 0.3 × RK-1 + 0.3 × RK-2 + 0.4 × exam; only when the admission rating and "
            "the exam are positive (from %(a)s and %(e)s)",
            a=f"{structure.positive_admission:g}",
            e=f"{structure.positive_exam:g}",
        ),
    ]
    return rows, heading


@bp.route("/export.<fmt>")
@roles_required(ToolRole.INSTRUCTOR)
def export(fmt: str):
    """The statement as PDF (with signature lines), XLSX or CSV."""
    if fmt not in ("pdf", "xlsx", "csv"):
        raise ToolError(_("Unknown export format."), status=404)
    _viewer, context, db = _course()
    course, structure = _set_up(db, context.id)
    rows, heading = _table_and_heading(db, context, course, structure)
    name = download_name(f"statement-{context.label or f'course-{context.id}'}", fmt, today())
    if fmt == "pdf":
        body = statement_pdf(
            statement_table(rows, structure, _locale(), formatted=True),
            title=_("Rating statement"),
            heading_lines=heading,
            settings=tool_settings(),
        )
        mimetype = "application/pdf"
    elif fmt == "xlsx":
        body = to_xlsx(
            statement_table(rows, structure, _locale(), formatted=False), _("Rating statement")
        )
        mimetype = XLSX_MIMETYPE
    else:
        body = to_csv(statement_table(rows, structure, _locale(), formatted=False))
        mimetype = CSV_MIMETYPE
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": content_disposition(name)}
    )


@bp.route("/post-final", methods=["POST"])
@roles_required(ToolRole.INSTRUCTOR)
def post_final():
    """Queue every final to the chosen LMS column (the outbox sends and retries)."""
    _viewer, context, db = _course()
    course, structure = _set_up(db, context.id)
    rows = service.build_statement(db, context.id, structure, _policy().scale)
    queued, withheld = service.post_finals(db, context.id, course, rows)
    db.commit()
    flash(
        ngettext(
            "%(num)d final grade queued for the LMS.",
            "%(num)d final grades queued for the LMS.",
            queued,
        ),
        "ok",
    )
    if withheld:
        flash(
            ngettext(
                "%(num)d student has no final grade (6.7): nothing posted for them.",
                "%(num)d students have no final grade (6.7): nothing posted for them.",
                withheld,
            ),
            "ok",
        )
    return redirect(url_for(".page"), code=303)


@bp.route("/week/<int:week>", methods=["GET", "POST"])
@roles_required(ToolRole.INSTRUCTOR)
def week(week: int):
    """A week's mentor scores for the group in one form; saved scores go to the week's LMS
    column through the outbox (6.5.2: within 24 hours of the week's end)."""
    viewer, context, db = _course()
    course, structure = _set_up(db, context.id)
    slot = structure.mentor_slot(week)
    if slot is None:
        raise ToolError(
            _("This week has no practical work or attestation scored by the mentor."), status=404
        )
    students = course_learners(db, context.id)
    record = service.week_record(db, context.id, week)
    saved = service.week_scores(db, record)
    data: dict = {
        "version": record.version if record else 0,
        "mentor_name": record.mentor_name if record else "",
    }
    for student in students:
        score = saved.get(student.id)
        data[f"score_{student.id}"] = (
            f"{score.score:g}" if score and score.score is not None else ""
        )
        data[f"note_{student.id}"] = score.note if score else ""
    form = week_form(students, slot, data=None if request.method == "POST" else data)
    status = 200
    if request.method == "POST":
        if form.validate():
            queued = service.enter_week(
                db,
                context.id,
                week=week,
                structure=structure,
                actor_name=viewer.user.display_name,
                seen_version=parse_version(form.version.data),
                mentor_name=form.mentor_name.data or "",
                scores=week_values(form, students),
            )
            db.commit()
            flash(
                ngettext(
                    "Saved: %(num)d score is on its way to the LMS.",
                    "Saved: %(num)d scores are on their way to the LMS.",
                    queued,
                ),
                "success",
            )
            return redirect(url_for(".page", _anchor="weeks"), code=303)
        status = 400
    mapped = service.mapping_of(db, context.id).get(slot.key)
    return render_template(
        "statements/week.html",
        viewer=viewer,
        context=context,
        form=form,
        week=week,
        slot=slot,
        slot_label=slot_label(slot),
        students=students,
        mapped=mapped,
        course=course,
        title=_("Week %(week)d: mentor scores", week=week),
    ), status
