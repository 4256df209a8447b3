"""The score outbox: a score change is written in the same transaction as the change itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db import rowcount, utcnow
from ..lti.models import ResourceLink, User
from . import doorbell
from .models import ScoreOutbox

ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


def enqueue_score(db: Session, *, resource_link: ResourceLink, user: User,
                  score_given: float | None, score_maximum: float, activity_progress: str,
                  grading_progress: str, comment: str = "", source: str = "",
                  line_item_label: str = "", line_item_tag: str = "") -> ScoreOutbox:
    """Queue a score for `user` on the placement's line item; the caller commits.

    Older pending scores for the same student and line item are superseded here: only the
    newest is ever sent (an older one must never overwrite a newer one).
    """
    if activity_progress not in ACTIVITY_PROGRESS:
        raise ValueError(f"unknown activityProgress {activity_progress!r}")
    if grading_progress not in GRADING_PROGRESS:
        raise ValueError(f"unknown gradingProgress {grading_progress!r}")
    if score_maximum <= 0 or (score_given is not None and score_given < 0):
        raise ValueError("scoreGiven must be >= 0 and scoreMaximum > 0")
    row = ScoreOutbox(
        platform_id=user.platform_id, context_id=resource_link.context_id,
        resource_link_id=resource_link.id, line_item_url=resource_link.lineitem_url or "",
        line_item_label=line_item_label or resource_link.title or source,
        line_item_tag=line_item_tag or resource_link.placement or source,
        user_id=user.id, user_sub=user.sub, score_given=score_given,
        score_maximum=score_maximum, activity_progress=activity_progress,
        grading_progress=grading_progress, comment=comment, source=source,
        created_at=utcnow(), next_attempt_at=utcnow(),
    )
    doorbell.request_send(db)  # the worker is woken when this commits
    db.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.resource_link_id == resource_link.id,
               ScoreOutbox.user_id == user.id,
               ScoreOutbox.status.in_(("pending", "parked")))
        .values(status="superseded")
        .execution_options(synchronize_session=False)  # no need to scan the session's objects
    )
    db.add(row)
    return row


def enqueue_line_item_score(db: Session, *, context_id: int, line_item_url: str, user: User,
                            score_given: float | None, score_maximum: float,
                            source: str, comment: str = "") -> ScoreOutbox:
    """Queue a score for `user` on a line item the instructor chose (not a placement's own);
    the caller commits. Older pending scores for the same student and line item are superseded.
    """
    if not line_item_url:
        raise ValueError("a line item URL is needed")
    if score_maximum <= 0 or (score_given is not None and score_given < 0):
        raise ValueError("scoreGiven must be >= 0 and scoreMaximum > 0")
    now = utcnow()
    row = ScoreOutbox(
        platform_id=user.platform_id, context_id=context_id, resource_link_id=None,
        line_item_url=line_item_url, user_id=user.id, user_sub=user.sub,
        score_given=score_given, score_maximum=score_maximum, activity_progress="Completed",
        grading_progress="FullyGraded", comment=comment, source=source, created_at=now,
        next_attempt_at=now,
    )
    doorbell.request_send(db)
    db.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.resource_link_id.is_(None), ScoreOutbox.line_item_url == line_item_url,
               ScoreOutbox.user_id == user.id, ScoreOutbox.status.in_(("pending", "parked")))
        .values(status="superseded")
        .execution_options(synchronize_session=False)
    )
    db.add(row)
    return row


def outbox_gauges(db: Session) -> tuple[dict[str, int], datetime | None]:
    """Scores by status over every course, and when the oldest pending one was queued."""
    counts = dict(db.execute(select(ScoreOutbox.status, func.count())
                             .group_by(ScoreOutbox.status)).all())
    oldest = db.scalar(select(func.min(ScoreOutbox.created_at))
                       .where(ScoreOutbox.status == "pending"))
    return counts, oldest


def course_outbox_counts(db: Session, context_id: int) -> dict[str, int]:
    """How many scores of a course are pending, sent, parked (for the staff sync page)."""
    rows = db.execute(
        select(ScoreOutbox.status, func.count()).where(ScoreOutbox.context_id == context_id)
        .group_by(ScoreOutbox.status))
    counts = {"pending": 0, "sent": 0, "parked": 0, "superseded": 0}
    counts.update({status: n for status, n in rows})
    return counts


def parked_scores(db: Session, context_id: int, limit: int = 200) -> list[ScoreOutbox]:
    """Scores that kept failing, newest first, with their last error."""
    return list(db.scalars(
        select(ScoreOutbox).where(ScoreOutbox.context_id == context_id,
                                  ScoreOutbox.status == "parked")
        .order_by(ScoreOutbox.id.desc()).limit(limit)))


def retry_parked(db: Session, context_id: int, ids: list[int] | None = None) -> int:
    """Send parked scores again (all of a course, or the given ones); the caller commits."""
    query = update(ScoreOutbox).where(ScoreOutbox.context_id == context_id,
                                      ScoreOutbox.status == "parked")
    if ids:
        query = query.where(ScoreOutbox.id.in_(ids))
    result = db.execute(query.values(status="pending", attempts=0, next_attempt_at=utcnow(),
                                     claimed_until=None))
    doorbell.request_send(db)
    return rowcount(result)
