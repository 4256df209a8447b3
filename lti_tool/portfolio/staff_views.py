"""Staff pages: the course view, the verification queue, analytics, course exports, tutor
summaries, and the administrator's list of all portfolios of the platform."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone, gettext as _
from sqlalchemy import func, or_, select

from .. import parsing
from ..auth import Acting, acting, roles_required
from ..calendar import AcademicYear
from ..errors import Forbidden, ToolError
from ..exports import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    content_disposition,
    download_name,
    to_csv,
    to_xlsx,
)
from ..i18n import today
from ..lti.roles import COURSE_STAFF, ToolRole
from . import access, course, overview, service
from .charts import Bar, bar_chart
from .exports import COURSE_KINDS, course_table
from .forms import CourseScoreForm, QueueForm, SummaryForm
from .labels import SKIP_REASONS
from .models import Portfolio, Summary
from .pdf import summary_pdf
from .summary import (
    achievement_level,
    achievement_thresholds,
    institution_header,
    level_names,
    save_summary,
    summary_defaults,
    summary_points,
    with_points,
)
from .views import decision_conflict
from .web import (
    Links,
    academic_calendar,
    entry_views,
    files_of,
    grading_policy,
    load_page,
    locale,
    rubric,
    settings,
)
from .years import course_year_in

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
    return {
        "group": (request.args.get("group") or "").strip()[:64],
        "year": year if year and 1 <= year <= rubric().course_years else None,
    }


def _overview_query() -> overview.OverviewQuery:
    """The overview's search, filters, sort and page from the query string (400 when bad)."""
    filters = _filters()
    state = request.args.get("state") or ""
    sort = request.args.get("sort") or "name"
    direction = request.args.get("dir") or "asc"
    if (
        state not in overview.STATES
        or sort not in overview.SORTS
        or direction not in ("asc", "desc")
    ):
        raise ToolError(
            _(
                "This address asks for a filter or an order the students' table "
                "does not have. Open the table from the menu and choose again."
            ),
            code="bad_filter",
        )
    return overview.OverviewQuery(
        search=(request.args.get("q") or "").strip()[:100],
        group=filters["group"],
        year=filters["year"],
        state=state,
        sort=sort,
        descending=direction == "desc",
        page=parsing.arg_int(request.args, "page", 1, maximum=parsing.MAX_PAGE) or 1,
    )


@bp.route("/course")
@roles_required(*STAFF)
def course_view():
    """The tutor's course overview: every enrolled student, searchable, sortable, paged."""
    viewer, db, _actor = _course_context()
    asked = _overview_query()
    found = overview.course_overview(db, viewer.context.id, asked, policy=grading_policy(),
                                     calendar=academic_calendar())
    grade = service.course_grade(db, viewer.context.id, settings())
    score_form = CourseScoreForm(
        data={"mode": grade["mode"], "points_maximum": grade["points_maximum"]}
    )
    filters = {"group": asked.group, "year": asked.year}
    return render_template(
        "portfolio/course.html",
        viewer=viewer,
        found=found,
        asked=asked,
        filters=filters,
        args=_overview_args(asked),
        groups=course.course_groups(db, viewer.context.id),
        rubric=rubric(),
        score_form=score_form,
        grade=grade,
        title=_("Students' portfolios"),
    )


def _overview_args(asked: overview.OverviewQuery) -> dict:
    """The query string of the page shown (links keep it and change one thing)."""
    args = {
        "q": asked.search,
        "group": asked.group,
        "year": asked.year,
        "state": asked.state,
        "sort": asked.sort if asked.sort != "name" else None,
        "dir": "desc" if asked.descending else None,
    }
    return {k: v for k, v in args.items() if v}


@bp.route("/course/score", methods=["POST"])
@roles_required(*STAFF)
def course_score():
    """The course's choice of how verified points reach its gradebook; re-sends every score."""
    viewer, db, _actor = _course_context()
    form = CourseScoreForm()
    if form.validate_on_submit():
        queued = service.save_course_grade(
            db,
            context_id=viewer.context.id,
            actor_id=viewer.user.id,
            mode=form.mode.data,
            points_maximum=form.points_maximum.data,
            settings=settings(),
        )
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
                report = service.decide(
                    db,
                    actor,
                    targets,
                    action,
                    form.comment.data or "",
                    settings=settings(),
                    may_review=access.may_review,
                )
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
                        flash(
                            _(
                                "Entry %(id)s was not changed: %(reason)s.",
                                id=entry_id,
                                reason=SKIP_REASONS[reason],
                            ),
                            "error",
                        )
                seen = dict(targets)
                stale = [(i, seen[i]) for i, reason in report.skipped if reason == "stale"]
                if stale:
                    return decision_conflict(
                        db,
                        stale,
                        action,
                        form.comment.data or "",
                        url_for(".queue", **request.args),
                        done=len(report.done),
                    )
                return redirect(url_for(".queue", **request.args), code=303)
    filters = _filters()
    list_key = request.args.get("list", "")
    waiting = course.waiting_entries(
        db, viewer.context.id, list_key=list_key if list_key in rubric().lists else "", **filters
    )
    views = entry_views(
        waiting.entries,
        rubric(),
        locale(),
        Links(),
        files_of(db, [e.id for e in waiting.entries]),
        long_columns=True,
    )
    return render_template(
        "portfolio/queue.html",
        viewer=viewer,
        entries=waiting.entries,
        edited=waiting.edited,
        total=waiting.total,
        views=views,
        filters=filters,
        list_key=list_key,
        rubric=rubric(),
        locale=locale(),
        groups=course.course_groups(db, viewer.context.id),
        form=form,
        title=_("Waiting for verification"),
    ), 400 if form else 200


@bp.route("/course/analytics")
@roles_required(*STAFF)
def analytics():
    """Histogram of verified points, averages by group and programme, updates per month."""
    viewer, db, _actor = _course_context()
    data = course.course_analytics(
        db, viewer.context.id, bin_width=settings().portfolio.histogram_bin,
        calendar=academic_calendar(),
    )
    charts = {
        "histogram": bar_chart(
            [Bar(f"{b.low}–{b.high - 1}", b.count) for b in data.histogram],
            title=_("Students by verified points"),
            whole=True,
        ),
        "groups": bar_chart(
            [Bar(g.name, g.average, g.low, g.high) for g in data.by_group],
            title=_("Average verified points by group (line: range)"),
        ),
        "programmes": bar_chart(
            [Bar(g.name, g.average, g.low, g.high) for g in data.by_programme],
            title=_("Average verified points by programme (line: range)"),
        ),
        "activity": bar_chart(
            [Bar(m, v) for m, v in zip(data.months, data.updates_per_student, strict=False)],
            title=_("Updates per student per month"),
        ),
    }
    return render_template(
        "portfolio/analytics.html",
        viewer=viewer,
        data=data,
        charts=charts,
        title=_("Portfolio analytics"),
    )


def _course_table(viewer, db):
    rows = course.course_students(db, viewer.context.id, **_filters(),
                                  calendar=academic_calendar())
    headers = [_("Student"), _("Email"), _("Group"), _("Course year"), _("Specialty"),
               _("Section II claimed"), _("Section II verified"), _("Section III claimed"),
               _("Section III verified"), _("Design mark"), _("Claimed"), _("Verified"),
               _("Waiting"), _("Last update")]
    return course_table(rows, headers, rubric(), get_timezone())


def _course_download(viewer, extension: str) -> str:
    """'portfolios-MED-101-2026-12-03.csv': the course's short name (or id) and today."""
    context = viewer.context
    return download_name(f"portfolios-{context.label or f'course-{context.id}'}", extension,
                         today())


@bp.route("/course/export.csv")
@roles_required(*STAFF)
def export_csv():
    """The course summary table as CSV (separator and decimal sign of the reader's locale)."""
    viewer, db, _actor = _course_context()
    body = to_csv(_course_table(viewer, db), locale=locale(), kinds=COURSE_KINDS)
    return Response(body, mimetype=CSV_MIMETYPE, headers={
        "Content-Disposition": content_disposition(_course_download(viewer, "csv"))})


@bp.route("/course/export.xlsx")
@roles_required(*STAFF)
def export_xlsx():
    """The course summary table as XLSX."""
    viewer, db, _actor = _course_context()
    body = to_xlsx(_course_table(viewer, db), viewer.context.label or viewer.context.title or "",
                   kinds=COURSE_KINDS)
    return Response(body, mimetype=XLSX_MIMETYPE, headers={
        "Content-Disposition": content_disposition(_course_download(viewer, "xlsx"))})


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
        query = query.where(
            or_(
                Portfolio.full_name.ilike(pattern),
                Portfolio.group_name.ilike(pattern),
                Portfolio.specialty.ilike(pattern),
            )
        )
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    portfolios = list(
        db.scalars(
            query.order_by(Portfolio.group_name, Portfolio.full_name)
            .offset((page_no - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    totals = service.totals_for(db, [p.id for p in portfolios])
    return render_template(
        "portfolio/all.html",
        viewer=viewer,
        portfolios=portfolios,
        totals=totals,
        search=search,
        page_no=page_no,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        title=_("All portfolios"),
    )


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
    calendar = academic_calendar()
    thresholds = achievement_thresholds(settings())
    if request.method == "GET" and summary is None:
        academic_year = (request.args.get("academic_year") or calendar.current().label)
        if AcademicYear.parse(academic_year) is None:
            academic_year = calendar.current().label
        course_year = (course_year_in(calendar, portfolio, academic_year)
                       or parsing.arg_int(request.args, "course_year",
                                          maximum=rubric().course_years)
                       or page.course_year or 1)
        gpa = next((g for g in (page.gpa or {}).values() if g.academic_year == academic_year),
                   None)
        defaults = summary_defaults(
            db, actor, portfolio, rubric(), page.totals, academic_year=academic_year,
            course_year=course_year, gpa=gpa, today=calendar.today(), locale=locale())
        defaults["department"] = institution_header(settings(), locale()).get("department", "")
        form.process(data=defaults)
        form.version.data = "0"
    elif request.method == "GET":
        form.version.data = str(summary.version)
        if not summary.level_overridden:
            form.achievement_level.data = ""  # the points' level, recounted on save
    status, conflict = 200, None
    valid = form.validate_on_submit()
    if valid:
        # The academic calendar gives the course year of the academic year when Section I
        # tells the year of admission or the course year: the form cannot file it elsewhere.
        known = course_year_in(calendar, portfolio, form.academic_year.data.strip())
        if known is not None and form.course_year.data != known:
            form.course_year.errors = [*form.course_year.errors, _(
                "In %(year)s the student is in course year %(n)s (Section I).",
                year=form.academic_year.data.strip(), n=known)]
            valid = False
    if valid:
        points = summary_points(page.totals, form.course_year.data, thresholds)
        policy = grading_policy()
        values = with_points(form.values(), points, policy.levels if policy else None)
        try:
            saved = save_summary(db, actor, portfolio, values, summary=summary,
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
    year = form.course_year.data if isinstance(form.course_year.data, int) else None
    preview = summary_points(page.totals, year, thresholds) if year else None
    return render_template("portfolio/summary_form.html", viewer=viewer, form=form,
                           portfolio=portfolio, summary=summary, conflict=conflict, page=page,
                           preview=preview, thresholds=thresholds,
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
                           portfolio=portfolio, header=institution_header(settings(), locale()),
                           natural_level=achievement_level(
                               found.points, achievement_thresholds(settings())),
                           reviewer=access.may_review(db, actor, portfolio),
                           title=_("Tutor summary"))


@bp.route("/summaries/<int:summary_id>.pdf")
def summary_as_pdf(summary_id: int):
    """A summary as PDF, with signature lines (not for a mentor: they read on screen)."""
    _viewer, db, actor, found, portfolio = _visible_summary(summary_id)
    access.exportable_portfolio(db, actor, portfolio.id)
    body = summary_pdf(found, portfolio, settings=settings(), level_names=level_names(),
                       header=institution_header(settings(), locale()),
                       natural_level=achievement_level(
                           found.points, achievement_thresholds(settings())))
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="summary-{found.academic_year}-{portfolio.id}.pdf"'
    )
    return response
