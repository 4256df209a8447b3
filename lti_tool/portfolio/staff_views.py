"""Staff pages: the course view, the verification queue, analytics, course exports, tutor
summaries, and the administrator's list of all portfolios of the platform."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import parsing
from ..auth import Acting, acting, roles_required
from ..errors import Forbidden, ToolError
from ..lti.roles import COURSE_STAFF, ToolRole
from . import access, course, service
from .charts import Bar, bar_chart
from .exports import course_table, to_csv, to_xlsx
from .forms import CourseScoreForm, QueueForm, SummaryForm
from .labels import SKIP_REASONS
from .models import Portfolio, Summary
from .pdf import summary_pdf
from .summary import (
    ACADEMIC_LEVELS,
    ACHIEVEMENT_LEVELS,
    course_year_for,
    save_summary,
    summary_defaults,
)
from .views import decision_conflict
from .web import (
    Links,
    entry_views,
    files_of,
    grading_policy,
    load_page,
    locale,
    rubric,
    settings,
)

bp = Blueprint("portfolio_staff", __name__, url_prefix="/portfolio")
STAFF = COURSE_STAFF
PAGE_SIZE = 100


def _course_context():
    """The preamble of a course page: course staff, opened from a course with the portfolio."""
    viewer, db, actor = acting(*STAFF, course=True)
    # Staff rights follow the placement: a course without the portfolio shows no portfolios.
    if not access.course_has_portfolio(db, viewer.context.id):
        raise Forbidden(_("The student portfolio is not placed in this course, so the tool "
                          "shows none of its students' portfolios here. Open it from a course "
                          "where the portfolio is placed."))
    return Acting(viewer, db, actor)


def _filters() -> dict:
    # A year outside the rubric shows every year (old links); a malformed one is a 400.
    year = parsing.arg_int(request.args, "year", maximum=parsing.MAX_PAGE)
    return {"group": (request.args.get("group") or "").strip()[:64],
            "year": year if year and 1 <= year <= rubric().course_years else None}


@bp.route("/course")
@roles_required(*STAFF)
def course_view():
    """Students of this course: claimed vs verified points, waiting entries; filters."""
    viewer, db, _actor = _course_context()
    filters = _filters()
    rows = course.course_students(db, viewer.context.id, **filters)
    grade = service.course_grade(db, viewer.context.id, settings())
    score_form = CourseScoreForm(data={"mode": grade["mode"],
                                       "points_maximum": grade["points_maximum"]})
    return render_template("portfolio/course.html", viewer=viewer, rows=rows, filters=filters,
                           groups=course.course_groups(db, viewer.context.id), rubric=rubric(),
                           score_form=score_form, grade=grade, title=_("Students' portfolios"))


@bp.route("/course/score", methods=["POST"])
@roles_required(*STAFF)
def course_score():
    """The course's choice of how verified points reach its gradebook; re-sends every score."""
    viewer, db, _actor = _course_context()
    form = CourseScoreForm()
    if form.validate_on_submit():
        queued = service.save_course_grade(
            db, context_id=viewer.context.id, actor_id=viewer.user.id, mode=form.mode.data,
            points_maximum=form.points_maximum.data, settings=settings())
        db.commit()
        flash(_("Saved. Scores queued for the gradebook: %(n)d.", n=queued), "ok")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for(".course_view") + "#gradebook-score", code=303)


@bp.route("/course/queue", methods=["GET", "POST"])
@roles_required(*STAFF)
def queue():
    """Entries waiting for verification; verify, return or reject one by one or in bulk."""
    viewer, db, actor = _course_context()
    form = None
    if request.method == "POST":
        form = QueueForm()
        targets = [parsing.id_pair(value, "entry") for value in form.entry.data or []]
        action = form.action.data or ""
        if not targets:
            form.entry.errors = [_("Choose at least one entry.")]
        elif action not in service.STAFF_ACTIONS:
            form.action.errors = [_("Choose what to do with the chosen entries.")]
        else:
            try:
                report = service.decide(db, actor, targets, action, form.comment.data or "",
                                        settings=settings(), may_review=access.may_review)
            except ToolError as err:
                db.rollback()
                # Refused as a whole: shown again below with the ticks and the comment kept.
                field = form.comment if err.code == "comment_required" else form.action
                field.errors = [str(err.message)]
            else:
                db.commit()
                flash(_("%(n)s entries saved.", n=len(report.done)), "success")
                for entry_id, reason in report.skipped:
                    if reason != "stale":
                        flash(_("Entry %(id)s was not changed: %(reason)s.", id=entry_id,
                                reason=SKIP_REASONS[reason]), "error")
                seen = dict(targets)
                stale = [(i, seen[i]) for i, reason in report.skipped if reason == "stale"]
                if stale:
                    return decision_conflict(db, stale, action, form.comment.data or "",
                                             url_for(".queue", **request.args),
                                             done=len(report.done))
                return redirect(url_for(".queue", **request.args), code=303)
    filters = _filters()
    list_key = request.args.get("list", "")
    waiting = course.waiting_entries(db, viewer.context.id, list_key=list_key
                                     if list_key in rubric().lists else "", **filters)
    views = entry_views(waiting.entries, rubric(), locale(), Links(),
                        files_of(db, [e.id for e in waiting.entries]), long_columns=True)
    return render_template("portfolio/queue.html", viewer=viewer, entries=waiting.entries,
                           edited=waiting.edited, total=waiting.total, views=views,
                           filters=filters, list_key=list_key, rubric=rubric(), locale=locale(),
                           groups=course.course_groups(db, viewer.context.id), form=form,
                           title=_("Waiting for verification")), 400 if form else 200


@bp.route("/course/analytics")
@roles_required(*STAFF)
def analytics():
    """Histogram of verified points, averages by group and programme, updates per month."""
    viewer, db, _actor = _course_context()
    options = settings().get("portfolio", {})
    data = course.course_analytics(db, viewer.context.id,
                                   bin_width=int(options.get("histogram_bin", 50)))
    charts = {
        "histogram": bar_chart([Bar(f"{b.low}–{b.high - 1}", b.count) for b in data.histogram],
                               title=_("Students by verified points"), whole=True),
        "groups": bar_chart([Bar(g.name, g.average, g.low, g.high) for g in data.by_group],
                            title=_("Average verified points by group (line: range)")),
        "programmes": bar_chart([Bar(g.name, g.average, g.low, g.high)
                                 for g in data.by_programme],
                                title=_("Average verified points by programme (line: range)")),
        "activity": bar_chart([Bar(m, v) for m, v in zip(data.months,
                                                        data.updates_per_student, strict=False)],
                              title=_("Updates per student per month")),
    }
    return render_template("portfolio/analytics.html", viewer=viewer, data=data, charts=charts,
                           title=_("Portfolio analytics"))


def _course_table(viewer, db):
    rows = course.course_students(db, viewer.context.id, **_filters())
    headers = [_("Student"), _("Email"), _("Group"), _("Course year"), _("Specialty"),
               _("Section II claimed"), _("Section II verified"), _("Section III claimed"),
               _("Section III verified"), _("Design mark"), _("Claimed"), _("Verified"),
               _("Waiting"), _("Last update")]
    return course_table(rows, headers, rubric())


@bp.route("/course/export.csv")
@roles_required(*STAFF)
def export_csv():
    """The course summary table as CSV."""
    viewer, db, _actor = _course_context()
    response = Response(to_csv(_course_table(viewer, db)), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="portfolios-course-{viewer.context.id}.csv"')
    return response


@bp.route("/course/export.xlsx")
@roles_required(*STAFF)
def export_xlsx():
    """The course summary table as XLSX."""
    viewer, db, _actor = _course_context()
    body = to_xlsx(_course_table(viewer, db), viewer.context.label or viewer.context.title or "")
    response = Response(body, mimetype="application/vnd.openxmlformats-officedocument."
                                        "spreadsheetml.sheet")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="portfolios-course-{viewer.context.id}.xlsx"')
    return response


@bp.route("/all")
@roles_required(ToolRole.ADMIN)
def all_portfolios():
    """Every portfolio of this platform (administrators), searchable, paged."""
    viewer, db, _actor = acting()
    search = (request.args.get("q") or "").strip()[:100]
    page_no = parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE)
    query = select(Portfolio).where(Portfolio.platform_id == viewer.platform.id)
    if search:
        pattern = f"%{search}%"
        query = query.where(or_(Portfolio.full_name.ilike(pattern),
                                Portfolio.group_name.ilike(pattern),
                                Portfolio.specialty.ilike(pattern)))
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    portfolios = list(db.scalars(query.order_by(Portfolio.group_name, Portfolio.full_name)
                                 .offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    totals = service.totals_for(db, [p.id for p in portfolios])
    return render_template("portfolio/all.html", viewer=viewer, portfolios=portfolios,
                           totals=totals, search=search, page_no=page_no, total=total,
                           pages=max(1, -(-total // PAGE_SIZE)), title=_("All portfolios"))


# ---- tutor summaries ---------------------------------------------------------------------------


@bp.route("/<int:portfolio_id>/summaries/new", methods=["GET", "POST"])
def new_summary(portfolio_id: int):
    """Write the summary of an academic year (prefilled from points and GPA)."""
    viewer, db, actor = acting()
    portfolio = access.reviewable_portfolio(db, actor, portfolio_id)
    return _summary_form(viewer, db, actor, portfolio, None)


@bp.route("/summaries/<int:summary_id>/edit", methods=["GET", "POST"])
def edit_summary(summary_id: int):
    """Change a summary (refused when another tutor saved it meanwhile)."""
    viewer, db, actor = acting()
    summary = db.get(Summary, summary_id)
    if summary is None:
        raise access.NotFound()
    portfolio = access.reviewable_portfolio(db, actor, summary.portfolio_id)
    return _summary_form(viewer, db, actor, portfolio, summary)


def _summary_form(viewer, db, actor, portfolio, summary):
    form = SummaryForm(obj=summary if request.method == "GET" else None)
    page = load_page(db, portfolio, include_drafts=False)
    if request.method == "GET" and summary is None:
        academic_year = (request.args.get("academic_year")
                         or grading_policy().current_academic_year())
        course_year = (parsing.arg_int(request.args, "course_year", maximum=rubric().course_years)
                       or course_year_for(portfolio, academic_year)
                       or portfolio.course_year or 1)
        gpa = next((g for g in (page.gpa or {}).values() if g.academic_year == academic_year),
                   (page.gpa or {}).get(course_year))
        defaults = summary_defaults(
            db, actor, portfolio, rubric(), page.totals, academic_year=academic_year,
            course_year=course_year, gpa=gpa, today=grading_policy().today(),
            thresholds=settings().get("portfolio", {}).get("achievement_levels", {}),
            locale=locale())
        form.process(data=defaults)
        form.version.data = "0"
    elif request.method == "GET":
        form.version.data = str(summary.version)
    status, conflict = 200, None
    if form.validate_on_submit():
        try:
            saved = save_summary(db, actor, portfolio, form.values(), summary=summary,
                                 base_version=form.base_version())
        except service.StaleEdit as err:
            db.rollback()
            flash(str(err.message), "error")
            status = 409
            if summary is not None:
                db.refresh(summary)
                conflict = summary
                form.version.data = str(summary.version)
        else:
            db.commit()
            flash(_("The summary was saved."), "success")
            return redirect(url_for(".summary", summary_id=saved.id), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("portfolio/summary_form.html", viewer=viewer, form=form,
                           portfolio=portfolio, summary=summary, conflict=conflict, page=page,
                           title=_("Tutor summary")), status


def _visible_summary(summary_id: int):
    viewer, db, actor = acting()
    summary = db.get(Summary, summary_id)
    if summary is None:
        raise access.NotFound()
    portfolio = access.viewable_portfolio(db, actor, summary.portfolio_id)
    return viewer, db, actor, summary, portfolio


@bp.route("/summaries/<int:summary_id>")
def summary(summary_id: int):
    """A summary as a printable page (the student sees their own)."""
    viewer, db, actor, found, portfolio = _visible_summary(summary_id)
    return render_template("portfolio/summary.html", viewer=viewer, summary=found,
                           portfolio=portfolio,
                           reviewer=access.may_review(db, actor, portfolio),
                           title=_("Tutor summary"))


@bp.route("/summaries/<int:summary_id>.pdf")
def summary_as_pdf(summary_id: int):
    """A summary as PDF, with signature lines (not for a mentor: they read on screen)."""
    _viewer, db, actor, found, portfolio = _visible_summary(summary_id)
    access.exportable_portfolio(db, actor, portfolio.id)
    body = summary_pdf(found, portfolio, settings=settings(),
                       level_names={**{k: str(v) for k, v in ACADEMIC_LEVELS.items()},
                                    **{k: str(v) for k, v in ACHIEVEMENT_LEVELS.items()}})
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="summary-{found.academic_year}-{portfolio.id}.pdf"')
    return response
