"""The rating statement of a dual-training course: its settings, column map and weekly scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow


class StatementCourse(Base):
    """A course's statement settings: weekly structure, first day, group, the final's column."""

    __tablename__ = "st_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), unique=True
    )
    structure_id: Mapped[str] = mapped_column(String(64))
    # The Monday of week 1 in the institution's time zone; week n ends 7 x n days later.
    start_date: Mapped[date | None] = mapped_column(Date)
    group_name: Mapped[str] = mapped_column(String(128), default="")
    final_line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("gb_line_items.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255), default="")


class StatementMapping(Base):
    """Which LMS line item holds a slot of the statement ("test:3", "sro:rk1", "exam")."""

    __tablename__ = "st_mappings"
    __table_args__ = (UniqueConstraint("context_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(String(32))
    line_item_id: Mapped[int] = mapped_column(ForeignKey("gb_line_items.id", ondelete="CASCADE"))


class StatementWeek(Base):
    """A week's mentor scores as the university teacher entered them (form F UE 141-03-2022)."""

    __tablename__ = "st_weeks"
    __table_args__ = (UniqueConstraint("context_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    mentor_name: Mapped[str] = mapped_column(String(255), default="")
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entered_by: Mapped[str] = mapped_column(String(255), default="")


class StatementWeekScore(Base):
    """One student's mentor score of a week, and the outbox row that carries it to the LMS."""

    __tablename__ = "st_week_scores"
    __table_args__ = (UniqueConstraint("week_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("st_weeks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("gb_score_outbox.id", ondelete="SET NULL")
    )
