"""Whole-gradebook connectors (Moodle Web Services, Canvas REST) and the course totals they read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow


class Connector(Base):
    """A platform's REST API access for reading course totals; the token is Fernet-encrypted."""

    __tablename__ = "gb_connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                             unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "moodle" | "canvas"
    base_url: Mapped[str] = mapped_column(String(1024))
    # Fernet token of the API token (see credentials.py); never shown, never logged.
    token_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class ExternalCourseGrade(Base):
    """A student's course total as the LMS gradebook shows it, for courses beyond the tool's."""

    __tablename__ = "gb_external_course_grades"
    __table_args__ = (UniqueConstraint("user_id", "connector_id", "lms_course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("gb_connectors.id", ondelete="CASCADE"))
    # The LMS's own course id (Moodle course id, Canvas course id), as text.
    lms_course_id: Mapped[str] = mapped_column(String(64))
    course_name: Mapped[str] = mapped_column(String(512), default="")
    course_code: Mapped[str] = mapped_column(String(255), default="")
    academic_year: Mapped[str] = mapped_column(String(9), default="")  # "2025-2026" or ""
    percent: Mapped[float | None] = mapped_column(Float)  # None: no total yet
    # The total as the LMS prints it ("85.00 %", "B+"), for staff comparing with the LMS.
    grade_text: Mapped[str] = mapped_column(String(64), default="")
    pulled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
