"""What a participant card posts to the placement's LMS gradebook line item (AGS outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ..gradebook.outbox import enqueue_score
from ..lti.models import ResourceLink, User
from .config import GradebookPosting
from .models import Participant
from .status import COMPLETED, STATUSES


@dataclass(frozen=True)
class ScorePost:
    """One score to post: AGS fields."""

    score_given: Decimal | None
    score_maximum: Decimal
    activity_progress: str
    grading_progress: str


def score_post(status: str, mark: Decimal | None, posting: GradebookPosting,
               mark_maximum: Decimal) -> ScorePost:
    """The score for a card's status and mark under the configured posting (pure)."""
    activity, grading = posting.progress[status]
    if posting.score == "mark":
        given = mark
    elif posting.score == "completion":
        given = mark_maximum if STATUSES.index(status) >= STATUSES.index(COMPLETED) else None
    else:
        given = None
    # A final grade without a score would clear the LMS grade: wait for the mark instead.
    if posting.score == "mark" and given is None and grading == "FullyGraded":
        grading = "Pending"
    return ScorePost(given, mark_maximum, activity, grading)


def post_card(db: Session, card: Participant, posting: GradebookPosting,
              mark_maximum: Decimal) -> bool:
    """Queue the card's score in the caller's transaction; False when nothing is posted.

    Only placements the LMS gave a line item for are posted to (an ungraded placement gets
    no gradebook column from us).
    """
    if not posting.enabled or card.resource_link_id is None:
        return False
    link = db.get(ResourceLink, card.resource_link_id)
    if link is None or not link.lineitem_url:
        return False
    post = score_post(card.status, card.mark, posting, mark_maximum)
    enqueue_score(
        db, resource_link=link, user=db.get_one(User, card.user_id),
        score_given=float(post.score_given) if post.score_given is not None else None,
        score_maximum=float(post.score_maximum), activity_progress=post.activity_progress,
        grading_progress=post.grading_progress, comment=card.mark_comment or "",
        source=f"teachhub:{card.id}", line_item_tag="teachhub")
    return True


def score_now(db: Session, row, posting: GradebookPosting, mark_maximum: Decimal) -> dict | None:
    """The score of an outbox row from the card as committed now (the worker asks)."""
    _source, _sep, card_id = (row.source or "").partition(":")
    card = db.get(Participant, int(card_id)) if card_id.isascii() and card_id.isdigit() else None
    if card is None:
        return None
    post = score_post(card.status, card.mark, posting, mark_maximum)
    return {"score_given": float(post.score_given) if post.score_given is not None else None,
            "score_maximum": float(post.score_maximum),
            "activity_progress": post.activity_progress,
            "grading_progress": post.grading_progress, "comment": card.mark_comment or ""}
