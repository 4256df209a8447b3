"""Gradebook data pulled from the LMS (line items, results, course totals) and scores to push."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow


class LineItem(Base):
    """An AGS line item (a gradebook column) of a course, as the LMS last described it."""

    __tablename__ = "gb_line_items"
    __table_args__ = (UniqueConstraint("context_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1024))
    label: Mapped[str] = mapped_column(String(512), default="")
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    resource_id: Mapped[str] = mapped_column(String(255), default="")
    resource_link_id: Mapped[str] = mapped_column(String(255), default="")
    tag: Mapped[str] = mapped_column(String(255), default="")
    pulled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Result(Base):
    """A student's result on a line item (AGS result service)."""

    __tablename__ = "gb_results"
    __table_args__ = (UniqueConstraint("line_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("gb_line_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    result_score: Mapped[float | None] = mapped_column(Float)
    result_maximum: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    pulled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CourseGrading(Base):
    """How a course counts towards GPA: its final-grade line item, credits and academic year."""

    __tablename__ = "gb_course_grading"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"),
                                            primary_key=True)
    final_line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("gb_line_items.id", ondelete="SET NULL"))
    credits: Mapped[float] = mapped_column(Float, default=5.0)
    academic_year: Mapped[str] = mapped_column(String(9), default="")  # "2025-2026"


class SyncState(Base):
    """When a course's roster and grades were last pulled, and what went wrong."""

    __tablename__ = "gb_sync_state"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"),
                                            primary_key=True)
    roster_pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    roster_error: Mapped[str] = mapped_column(Text, default="")
    # NRPS "differences" link: the next pull asks only for what changed since this one.
    roster_differences_url: Mapped[str | None] = mapped_column(String(1024))
    grades_pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    grades_error: Mapped[str] = mapped_column(Text, default="")


class ScoreOutbox(Base):
    """A score to post to the LMS, written in the same transaction as the change it reflects."""

    __tablename__ = "gb_score_outbox"
    __table_args__ = (
        Index("ix_gb_score_outbox_due", "status", "next_attempt_at"),
        Index("ix_gb_score_outbox_target", "line_item_url", "user_sub"),
        Index("ix_gb_score_outbox_link_user", "resource_link_id", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"))
    # Empty until known: the worker then finds or creates the placement's line item
    # (by resourceLinkId and tag) and fills it in.
    line_item_url: Mapped[str] = mapped_column(String(1024), default="")
    line_item_label: Mapped[str] = mapped_column(String(512), default="")
    line_item_tag: Mapped[str] = mapped_column(String(255), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_sub: Mapped[str] = mapped_column(String(255))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64), default="")  # "portfolio", "teachhub:12"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # pending -> sent | superseded (a newer score for the same student and line item) | parked
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
