"""Who may see or change a portfolio: the rules of issues 3 and 9, in one place, without Flask.

- The owner (platform + sub) sees and changes their own portfolio.
- Staff see a student's portfolio only through a course where they teach that student and
  where the portfolio is placed: an Active instructor (or course administrator) membership, from
  a launch or the NRPS roster, in a context that has a portfolio placement and where the student
  has an Active learner membership. A course that merely shares the student (a TeachHub-only
  course, say) gives nothing. Their decisions post only to that course's line items.
- A mentor (observer, parent, advisor) reads, and only reads, the portfolios of the learners
  the launch's role_scope_mentor claim names.
- Administrators of a platform see all of that platform's portfolios.
- Nobody sees another platform's data. Only the owner inserts or changes material (the portfolio
  regulations: nothing without the owner's consent).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, contains_eager

from ..auth import Actor
from ..errors import Forbidden, NotFound
from ..lti.models import Membership, ResourceLink, User
from ..lti.roles import ToolRole
from .models import Portfolio

STAFF_ROLES = (ToolRole.INSTRUCTOR.value, ToolRole.ADMIN.value)
ACTIVE = "Active"
# Resource links that show the portfolio: placed as such (deep linking, custom parameter), or
# with no placement parameter at all (the tool's default landing is the portfolio: Moodle's
# manual configuration, Canvas's course navigation). A TeachHub placement is not one.
PORTFOLIO_PLACEMENTS = ("portfolio", "")


def portfolio_placed(context_id_column):
    """A SQL condition: the course has a resource link that shows the portfolio."""
    return exists().where(ResourceLink.context_id == context_id_column,
                          ResourceLink.placement.in_(PORTFOLIO_PLACEMENTS))


def teaching_courses(db: Session, staff_user_id: int, student_user_id: int) -> set[int]:
    """The courses (context ids) with the portfolio placed where the staff member teaches the
    student (both Active)."""
    staff, learner = aliased(Membership), aliased(Membership)
    return set(db.scalars(
        select(learner.context_id)
        .join(staff, staff.context_id == learner.context_id)
        .where(staff.user_id == staff_user_id, staff.role.in_(STAFF_ROLES),
               staff.status == ACTIVE, learner.user_id == student_user_id,
               learner.role == ToolRole.LEARNER.value, learner.status == ACTIVE,
               portfolio_placed(learner.context_id))))


def teaches(db: Session, staff_user_id: int, student_user_id: int) -> bool:
    """True when the staff member teaches the student in a course where the portfolio is
    placed (both Active)."""
    return bool(teaching_courses(db, staff_user_id, student_user_id))


def follows(actor: Actor, portfolio: Portfolio) -> bool:
    """Whether a mentor follows the portfolio's owner (role_scope_mentor names them)."""
    return (bool(actor.mentees) and portfolio.platform_id == actor.platform_id
            and portfolio.user.sub in actor.mentees)


def review_courses(db: Session, actor: Actor, portfolio: Portfolio) -> set[int] | None:
    """The courses whose gradebooks a review by `actor` may change: None for a platform
    administrator (every course of the platform), else the courses where they teach the owner."""
    if actor.is_admin:
        return None
    return teaching_courses(db, actor.user_id, portfolio.user_id)


def may_view(db: Session, actor: Actor, portfolio: Portfolio) -> bool:
    """Whether `actor` may read `portfolio`."""
    if portfolio.platform_id != actor.platform_id:
        return False
    if portfolio.user_id == actor.user_id or actor.is_admin:
        return True
    return teaches(db, actor.user_id, portfolio.user_id) or follows(actor, portfolio)


def may_review(db: Session, actor: Actor, portfolio: Portfolio) -> bool:
    """Whether `actor` may verify, comment, mark and summarise: staff with access, not the owner
    (a mentor never)."""
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
                               "the portfolio is placed and you teach this student."))
        if actor.is_mentor:
            raise Forbidden(MENTOR_OTHERS)
        raise NotFound()  # a student probing ids learns nothing
    return portfolio


MENTOR_OTHERS = _l("As an observer or mentor you can open only the portfolios of the learners "
                   "you follow in this course.")
MENTOR_READ_ONLY = _l("As an observer or mentor you can read this portfolio, but not verify, "
                      "comment, mark, summarise or export it.")


def reviewable_portfolio(db: Session, actor: Actor, portfolio_id: int) -> Portfolio:
    """The portfolio if `actor` may review it (verify, mark, summarise)."""
    portfolio = viewable_portfolio(db, actor, portfolio_id)
    if not may_review(db, actor, portfolio):
        if actor.is_mentor and follows(actor, portfolio):
            raise Forbidden(MENTOR_READ_ONLY)
        raise Forbidden(_l("Only the student's tutor or teacher can do this."))
    return portfolio


def exportable_portfolio(db: Session, actor: Actor, portfolio_id: int) -> Portfolio:
    """The portfolio if `actor` may export it: its owner, its course staff, an administrator.

    A mentor reads on screen only: an export would leave the tool with the learner's data.
    """
    portfolio = viewable_portfolio(db, actor, portfolio_id)
    if portfolio.user_id != actor.user_id and not may_review(db, actor, portfolio):
        raise Forbidden(MENTOR_READ_ONLY if follows(actor, portfolio)
                        else _l("Only the student's tutor or teacher can do this."))
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


def mentee_portfolios(db: Session, platform_id: int, subs) -> list[tuple[User, Portfolio | None]]:
    """The learners a mentor follows that the tool knows (from a launch or the roster), by name."""
    if not subs:
        return []
    return list(db.execute(
        select(User, Portfolio).outerjoin(Portfolio, Portfolio.user_id == User.id)
        .options(contains_eager(Portfolio.user))  # keeps learners without a portfolio (above)
        .where(User.platform_id == platform_id, User.sub.in_(list(subs)))
        .order_by(User.family_name, User.given_name, User.name, User.id)).all())


def course_has_portfolio(db: Session, context_id: int) -> bool:
    """Whether the portfolio is placed in the course (its staff pages exist only there)."""
    return db.scalar(select(portfolio_placed(context_id))) or False
