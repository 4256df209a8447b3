"""The demo LMS's own gradebook: line items and scores posted to it over AGS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow


class DemoLineItem(Base):
    """A gradebook column of the demo course (AGS 2.0 line item)."""

    __tablename__ = "demo_line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255), default="")
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    resource_id: Mapped[str] = mapped_column(String(255), default="")
    tag: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DemoScore(Base):
    """The latest score of one person on one line item (a newer timestamp replaces it)."""

    __tablename__ = "demo_scores"

    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("demo_line_items.id", ondelete="CASCADE"), primary_key=True
    )
    user_sub: Mapped[str] = mapped_column(String(255), primary_key=True)
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32), default="")
    grading_progress: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(String(1024), default="")
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DemoLink(Base):
    """An activity of a demo course (an LTI resource link) and its custom parameters, as the
    LMS keeps them (Moodle: the activity's settings, filled by deep linking)."""

    __tablename__ = "demo_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    custom: Mapped[dict] = mapped_column(JSON, default=dict)
