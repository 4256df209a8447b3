"""Who may see or change a portfolio: the rules of issue 3, in one place, without Flask.

- The owner (platform + sub) sees and changes their own portfolio.
- Staff see a student's portfolio only through a course where they teach that student: an
  Active instructor (or course administrator) membership in a context where the student has
  an Active learner membership.
- Administrators of a platform see all of that platform's portfolios.
- Nobody sees another platform's data.
Only the owner inserts or changes material (seed 000: nothing without the owner's consent).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, contains_eager

from ..errors import Forbidden, NotFound
from ..lti.models import Membership, User
from ..lti.roles import ToolRole
from .models import Portfolio

STAFF_ROLES = (ToolRole.INSTRUCTOR.value, ToolRole.ADMIN.value)
ACTIVE = "Active"


@dataclass(frozen=True)
class Actor:
    """The person acting, as the services need them (no request, no session)."""

    user_id: int
    platform_id: int
    name: str
    is_admin: bool = False  # an administrator of this platform (launch role)
    context_id: int | None = None  # the course they opened the tool from
    is_staff: bool = False  # instructor or administrator in that course


def teaches(db: Session, staff_user_id: int, student_user_id: int) -> bool:
    """True when the staff member teaches the student in some course (both Active)."""
    staff, learner = aliased(Membership), aliased(Membership)
    found = db.scalar(
        select(learner.id)
        .join(staff, staff.context_id == learner.context_id)
        .where(staff.user_id == staff_user_id, staff.role.in_(STAFF_ROLES),
               staff.status == ACTIVE, learner.user_id == student_user_id,
               learner.role == ToolRole.LEARNER.value, learner.status == ACTIVE)
        .limit(1))
    return found is not None


def may_view(db: Session, actor: Actor, portfolio: Portfolio) -> bool:
    """Whether `actor` may read `portfolio`."""
    if portfolio.platform_id != actor.platform_id:
        return False
    if portfolio.user_id == actor.user_id or actor.is_admin:
        return True
    return teaches(db, actor.user_id, portfolio.user_id)


def may_review(db: Session, actor: Actor, portfolio: Portfolio) -> bool:
    """Whether `actor` may verify, comment, mark and summarise: staff with access, not the owner."""
    if portfolio.user_id == actor.user_id or portfolio.platform_id != actor.platform_id:
        return False
    return actor.is_admin or teaches(db, actor.user_id, portfolio.user_id)


def viewable_portfolio(db: Session, actor: Actor, portfolio_id: int) -> Portfolio:
    """The portfolio if `actor` may read it; NotFound or Forbidden otherwise."""
    portfolio = db.get(Portfolio, portfolio_id)
    if portfolio is None or portfolio.platform_id != actor.platform_id:
        raise NotFound()
    if not may_view(db, actor, portfolio):
        if actor.is_staff:
            raise Forbidden(_l("You can open a student's portfolio only from a course where "
                               "you teach this student."))
        raise NotFound()  # a student probing ids learns nothing
    return portfolio


def reviewable_portfolio(db: Session, actor: Actor, portfolio_id: int) -> Portfolio:
    """The portfolio if `actor` may review it (verify, mark, summarise)."""
    portfolio = viewable_portfolio(db, actor, portfolio_id)
    if not may_review(db, actor, portfolio):
        raise Forbidden(_l("Only the student's tutor or teacher can do this."))
    return portfolio


def require_owner(actor: Actor, portfolio: Portfolio) -> None:
    """Only the owner adds or changes material: everyone else gets NotFound or Forbidden."""
    if portfolio.platform_id != actor.platform_id:
        raise NotFound()
    if portfolio.user_id != actor.user_id:
        raise Forbidden(_l("Only the owner of a portfolio can change its content."))


def own_portfolio(db: Session, user: User) -> Portfolio:
    """The user's portfolio, created (prefilled from the launch) on first use; caller commits."""
    portfolio = db.scalar(select(Portfolio).where(Portfolio.user_id == user.id))
    if portfolio is None:
        portfolio = Portfolio(platform_id=user.platform_id, user_id=user.id,
                              full_name=user.display_name if user.display_name != user.sub else "")
        portfolio.user = user
        db.add(portfolio)
        db.flush()
    return portfolio


def course_learners(db: Session, context_id: int):
    """A select of (User, Portfolio | None) for the Active learners of a course.

    Every enrolled learner comes back, with or without a portfolio. `Portfolio.user` loads with
    an inner join by default; left to itself, that join would turn the outer join into an inner
    one and drop every learner who never opened the tool. The User row already selected is the
    portfolio's user, so it fills the relationship (contains_eager) and no join is added.
    """
    return (select(User, Portfolio)
            .join(Membership, Membership.user_id == User.id)
            .outerjoin(Portfolio, Portfolio.user_id == User.id)
            .options(contains_eager(Portfolio.user))
            .where(Membership.context_id == context_id,
                   Membership.role == ToolRole.LEARNER.value, Membership.status == ACTIVE))
