"""The group leader (староста) confirms the group's GPA-by-year rows (the portfolio regulations,
Section II: "GPA by course year ... signed by the group leader").

- A tutor who may review a student's portfolio marks that student as the leader of the group
  Section I names (one leader per group and platform; marking another replaces them).
- The leader sees the group's names and GPA per course year (nothing else of theirs) and
  confirms a row as it is shown; the confirmation keeps the GPA it confirmed.
- A confirmation applies while the GPA is still the one confirmed: a later change of the GPA
  (a grade synced from the LMS, a course's credits) clears it on every page and in the PDF,
  and the leader confirms again.

Services only (no Flask): explicit db session, actor and ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ToolError
from .access import Actor, NotFound, reviewable_portfolio
from .models import GpaConfirmation, GroupLeader, Portfolio
from .summary import YearGpa


class LeaderError(ToolError):
    """The group leader's action does not fit (no group, not the leader, a GPA changed)."""

    status = 409
    code = "group_leader"
    message = _l("This cannot be done: reload the page.")


def gpa_text(gpa: YearGpa | None) -> str:
    """A GPA as confirmed and compared: two decimals ("3.42"), "" without one."""
    return "" if gpa is None or gpa.gpa is None else f"{gpa.gpa:.2f}"


def leader_of(db: Session, platform_id: int, group_name: str) -> GroupLeader | None:
    """The leader of a group, if a tutor marked one."""
    if not group_name:
        return None
    return db.scalar(
        select(GroupLeader).where(
            GroupLeader.platform_id == platform_id, GroupLeader.group_name == group_name
        )
    )


def led_group(db: Session, actor: Actor) -> str | None:
    """The group the actor leads, if any."""
    return db.scalar(
        select(GroupLeader.group_name).where(
            GroupLeader.platform_id == actor.platform_id, GroupLeader.user_id == actor.user_id
        )
    )


def set_leader(db: Session, actor: Actor, portfolio_id: int) -> GroupLeader:
    """Mark the portfolio's owner as the leader of their Section I group (the actor must be
    able to review the portfolio); caller commits."""
    portfolio = reviewable_portfolio(db, actor, portfolio_id)
    if not portfolio.group_name:
        raise LeaderError(_l("The student has not named a group in Section I yet."))
    leader = leader_of(db, portfolio.platform_id, portfolio.group_name)
    if leader is None:
        leader = GroupLeader(
            platform_id=portfolio.platform_id,
            group_name=portfolio.group_name,
            user_id=portfolio.user_id,
        )
        db.add(leader)
    leader.user_id, leader.set_by_id, leader.set_at = portfolio.user_id, actor.user_id, utcnow()
    try:
        db.flush()
    except IntegrityError:
        raise LeaderError(
            _l("Another tutor marked a leader of this group at the same moment: reload the page.")
        ) from None
    return leader


def group_portfolios(db: Session, actor: Actor) -> tuple[str, list[Portfolio]]:
    """The group the actor leads and its members' portfolios (LeaderError if none)."""
    group = led_group(db, actor)
    if group is None:
        raise LeaderError(_l("Only the group leader a tutor marked can confirm the group's GPA."))
    members = list(
        db.scalars(
            select(Portfolio)
            .where(Portfolio.platform_id == actor.platform_id, Portfolio.group_name == group)
            .order_by(Portfolio.full_name, Portfolio.id)
        )
    )
    return group, members


def confirm(
    db: Session,
    actor: Actor,
    portfolio_id: int,
    academic_year: str,
    shown_gpa: str,
    current: Mapping[str, YearGpa],
) -> GpaConfirmation:
    """Confirm one academic year's GPA of a group member as the leader saw it; caller commits.

    `current`: the member's GPA by academic year now. LeaderError when the actor does not lead
    the member's group, or the GPA is not (any more) the one shown.
    """
    group = led_group(db, actor)
    portfolio = db.get(Portfolio, portfolio_id)
    if portfolio is None or portfolio.platform_id != actor.platform_id:
        raise NotFound()
    if group is None or portfolio.group_name != group:
        raise LeaderError(_l("Only the group leader a tutor marked can confirm the group's GPA."))
    now = gpa_text(current.get(academic_year))
    if not now or now != shown_gpa:
        raise LeaderError(_l("The GPA changed after you opened the page: check it again."))
    found = db.scalar(
        select(GpaConfirmation).where(
            GpaConfirmation.portfolio_id == portfolio.id,
            GpaConfirmation.academic_year == academic_year,
        )
    )
    if found is None:
        found = GpaConfirmation(portfolio_id=portfolio.id, academic_year=academic_year)
        db.add(found)
    found.gpa, found.confirmed_by_id = now, actor.user_id
    found.confirmed_by_name, found.confirmed_at = actor.name, utcnow()
    try:
        db.flush()
    except IntegrityError:
        raise LeaderError(
            _l("This row was confirmed at the same moment: reload the page.")
        ) from None
    return found


@dataclass(frozen=True)
class Confirmed:
    """A GPA row's confirmation as it applies now."""

    by: str
    at: object  # datetime
    gpa: str


def confirmations(
    db: Session, portfolio_ids: list[int], gpas: Mapping[int, Mapping[str, YearGpa]]
) -> dict[int, dict[str, Confirmed]]:
    """portfolio -> academic year -> confirmation, only where the GPA is still the one
    confirmed (one query for many portfolios)."""
    result: dict[int, dict[str, Confirmed]] = {pid: {} for pid in portfolio_ids}
    if not portfolio_ids:
        return result
    for row in db.scalars(
        select(GpaConfirmation).where(GpaConfirmation.portfolio_id.in_(portfolio_ids))
    ):
        current = gpa_text((gpas.get(row.portfolio_id) or {}).get(row.academic_year))
        if current and current == row.gpa:
            result[row.portfolio_id][row.academic_year] = Confirmed(
                row.confirmed_by_name, row.confirmed_at, row.gpa
            )
    return result


def by_academic_year(gpa: Mapping[int, YearGpa] | None) -> dict[str, YearGpa]:
    """A portfolio's GPA by course year, keyed by academic year instead."""
    return {g.academic_year: g for g in (gpa or {}).values()}
