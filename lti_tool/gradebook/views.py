"""Academic view pages: a student's grades and GPA, staff looking at a student, course grading."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from ..auth import REFUSALS, acting
from ..errors import Forbidden
from ..extensions import services
from ..lti.models import User
from ..lti.roles import COURSE_STAFF
from .academic import NO_RECORD_RIGHTS, academic_record, may_view_record
from .course_grading import course_grading, course_learners, line_items, save_course_grading
from .forms import CourseGradingForm
from .policy import GradingPolicy

bp = Blueprint("gradebook", __name__)


def _policy() -> GradingPolicy:
    return services().get(GradingPolicy)


@bp.route("/grades")
def my_grades():
    """The signed-in student's own record: courses, GPA per year and cumulative, progression."""
    viewer, db, _actor = acting()
    record = academic_record(db, viewer.user.id, _policy())
    return render_template("gradebook/record.html", viewer=viewer, student=viewer.user,
                           record=record, scale=_policy().scale, own=True, title=_("My grades"))


@bp.route("/grades/student/<int:user_id>")
def student_grades(user_id: int):
    """A student's record for the student, their tutor (who may review their portfolio) or an
    administrator of the platform."""
    viewer, db, _actor = acting()
    student = db.get(User, user_id)
    if student is None or not may_view_record(
            db, viewer_id=viewer.user.id, viewer_role=viewer.role,
            viewer_platform_id=viewer.platform.id, student=student):
        if viewer.role in NO_RECORD_RIGHTS:
            raise Forbidden(REFUSALS.get(viewer.role))
        if viewer.is_staff:
            raise Forbidden(_l("You can see a student's grades only if you teach the student in "
                               "a course where the portfolio is placed."))
        raise Forbidden()  # a student probing ids learns nothing more
    record = academic_record(db, student.id, _policy())
    return render_template("gradebook/record.html", viewer=viewer, student=student,
                           record=record, scale=_policy().scale, own=student.id == viewer.user.id,
                           title=_("Grades of %(name)s", name=student.display_name))


@bp.route("/grades/course", methods=["GET", "POST"])
def course_settings():
    """Choose the course's final-grade column, credits and academic year; list its students."""
    viewer, db, _actor = acting(*COURSE_STAFF, course=True)
    policy = _policy()
    saved = course_grading(db, viewer.context.id)
    form = CourseGradingForm(line_items(db, viewer.context.id), data={
        "final_line_item": (saved.final_line_item_id or 0) if saved else 0,
        "credits": int(saved.credits) if saved else int(policy.default_credits),
        "academic_year": (saved.academic_year if saved and saved.academic_year else
                          policy.current_academic_year()),
    })
    if form.validate_on_submit():
        save_course_grading(db, viewer.context.id, form.choice())
        flash(_("Saved: the course counts towards GPA as set below."), "success")
        return redirect(url_for(".course_settings"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("gradebook/course.html", viewer=viewer, form=form,
                           students=course_learners(db, viewer.context.id),
                           title=_("Course grading")), status
