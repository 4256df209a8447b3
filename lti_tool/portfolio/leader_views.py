"""The group leader's pages: a tutor marks a leader; the leader confirms the group's GPA rows
(the portfolio regulations, Section II). The rules are in leaders.py."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import HiddenField
from wtforms.validators import InputRequired

from ..auth import acting
from ..forms import HtmlForm
from ..parsing import NumberError, parse_int
from . import leaders
from .summary import gpa_by_course_year, gpas_by_course_year
from .web import academic_calendar, grading_policy, rubric

bp = Blueprint("portfolio_group", __name__, url_prefix="/portfolio")


class LeaderForm(HtmlForm):
    """Mark a student as their group's leader (the CSRF token is the whole form)."""


class ConfirmGpaForm(HtmlForm):
    """Confirm one GPA row as the leader saw it."""

    portfolio = HiddenField(validators=[InputRequired()])
    academic_year = HiddenField(validators=[InputRequired()])
    gpa = HiddenField(validators=[InputRequired()])


@bp.route("/<int:portfolio_id>/leader", methods=["POST"])
def set_leader(portfolio_id: int):
    """A tutor marks the student as the leader of their Section I group."""
    _viewer, db, actor = acting()
    if not LeaderForm().validate_on_submit():
        flash(_("The form expired: try again."), "error")
        return redirect(url_for("portfolio.view", portfolio_id=portfolio_id), code=303)
    leader = leaders.set_leader(db, actor, portfolio_id)
    db.commit()
    flash(_("Marked as the leader of group %(group)s.", group=leader.group_name), "success")
    return redirect(url_for("portfolio.view", portfolio_id=portfolio_id), code=303)


def _group_rows(db, actor):
    group, members = leaders.group_portfolios(db, actor)
    policy = grading_policy()
    gpas = {
        portfolio_id: leaders.by_academic_year(by_year)
        for portfolio_id, by_year in gpas_by_course_year(db, members, policy).items()
    }
    confirmed = leaders.confirmations(db, [p.id for p in members], gpas)
    return group, members, gpas, confirmed


@bp.route("/group-gpa")
def group_gpa():
    """The leader's page: the group's GPA by year, each row to confirm."""
    viewer, db, actor = acting()
    group, members, gpas, confirmed = _group_rows(db, actor)
    return render_template(
        "portfolio/group_gpa.html",
        viewer=viewer,
        group=group,
        members=members,
        gpas=gpas,
        confirmed=confirmed,
        form=ConfirmGpaForm(),
        gpa_text=leaders.gpa_text,
        calendar=academic_calendar(),
        rubric=rubric(),
        title=_("GPA of group %(group)s", group=group),
    )


@bp.route("/group-gpa/confirm", methods=["POST"])
def confirm_gpa():
    """Confirm a member's GPA of one academic year (refused when it changed meanwhile)."""
    _viewer, db, actor = acting()
    form = ConfirmGpaForm()
    try:
        portfolio_id = (
            parse_int(form.portfolio.data, minimum=1) if form.validate_on_submit() else None
        )
    except NumberError:
        portfolio_id = None
    if portfolio_id is None:
        raise leaders.LeaderError(status=400)
    from .models import Portfolio

    member = db.get(Portfolio, portfolio_id)
    current = (
        leaders.by_academic_year(gpa_by_course_year(db, member, grading_policy()))
        if member is not None and member.platform_id == actor.platform_id
        else {}
    )
    leaders.confirm(db, actor, portfolio_id, form.academic_year.data, form.gpa.data, current)
    db.commit()
    flash(_("Confirmed."), "success")
    return redirect(url_for(".group_gpa"), code=303)
