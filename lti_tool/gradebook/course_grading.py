"""How a course counts towards GPA: an instructor's choice of final-grade column, credits, year."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ToolError
from ..lti.models import Membership, User
from ..lti.roles import ToolRole
from .models import CourseGrading, LineItem


@dataclass(frozen=True)
class CourseGradingChoice:
    """What the instructor chose (final_line_item_id None: the course does not count yet)."""

    final_line_item_id: int | None
    credits: int
    academic_year: str


def course_grading(db: Session, context_id: int) -> CourseGrading | None:
    """The course's grading settings, if an instructor saved any."""
    return db.get(CourseGrading, context_id)


def line_items(db: Session, context_id: int) -> list[LineItem]:
    """The course's gradebook columns as last pulled from the LMS."""
    return list(db.scalars(select(LineItem).where(LineItem.context_id == context_id)
                           .order_by(LineItem.label, LineItem.id)))


def save_course_grading(db: Session, context_id: int, choice: CourseGradingChoice) -> CourseGrading:
    """Store the choice; the line item must belong to this course."""
    if choice.final_line_item_id is not None:
        item = db.get(LineItem, choice.final_line_item_id)
        if item is None or item.context_id != context_id:
            raise ToolError(detail=f"line item {choice.final_line_item_id} is not in this course")
    row = db.get(CourseGrading, context_id)
    if row is None:
        row = CourseGrading(context_id=context_id)
        db.add(row)
    row.final_line_item_id = choice.final_line_item_id
    row.credits = float(choice.credits)
    row.academic_year = choice.academic_year
    db.commit()
    return row


def course_learners(db: Session, context_id: int) -> list[User]:
    """The course's students (not deleted from the roster), by name."""
    return list(db.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.role == ToolRole.LEARNER.value,
               Membership.status != "Deleted")
        .order_by(User.family_name, User.given_name, User.name, User.id)))
