"""Staff learning tables: activities of every form (the staff non-formal education rules, 4.1-4.4),
their evidence and log, and the people named to the rules' roles (issued credentials:
lti_tool/credentials/models.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow
from ..teachhub.models import Hundredths
from .rules import IMPLEMENTED


class Activity(Base):
    """One learning activity a staff member recorded, from implementation to recognition."""

    __tablename__ = "la_activities"
    __table_args__ = (
        Index("ix_la_activities_platform_status", "platform_id", "status"),
        Index("ix_la_activities_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    form: Mapped[str] = mapped_column(String(32))  # rules.FORMS
    format: Mapped[str] = mapped_column(String(48), default="")  # config/learning.yaml
    title: Mapped[str] = mapped_column(String(255))
    # 3.2 item 11: a document in a foreign language carries a short translation of its title.
    foreign_language: Mapped[bool] = mapped_column(Boolean, default=False)
    title_translation: Mapped[str] = mapped_column(String(255), default="")
    organiser: Mapped[str] = mapped_column(String(255), default="")  # organiser or platform
    mentor: Mapped[str] = mapped_column(String(255), default="")  # internships (4.4)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text, default="")
    competence_area: Mapped[str] = mapped_column(String(64), default="")
    hours_claimed: Mapped[Decimal] = mapped_column(Hundredths, default=Decimal(0))
    # 3.2 item 6: no workload stated by the organiser: the participant's justified estimate.
    hours_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    estimate_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=IMPLEMENTED)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # 3.2 item 7 / 7.1 (5): the head of department or clinical base endorses ("визалау").
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    endorsed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # 7.1 (3): the methodological expert's readiness opinion; it does not decide.
    opinion_ready: Mapped[bool | None] = mapped_column(Boolean)
    opinion_note: Mapped[str] = mapped_column(Text, default="")
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opinion_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    returned_reason: Mapped[str] = mapped_column(Text, default="")
    # 6.2 and 7.2 (4): the commission's decision and the workload as recognised.
    hours_recognized: Mapped[Decimal | None] = mapped_column(Hundredths)
    hours_note: Mapped[str] = mapped_column(Text, default="")
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ActivityEvidence(Base):
    """An evidence file (lti_tool.evidence) of an activity, with what kind of proof it is."""

    __tablename__ = "la_activity_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("la_activities.id", ondelete="CASCADE"), index=True
    )
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_files.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # rules.EVIDENCE_KINDS
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ActivityLog(Base):
    """Who did what to an activity, and when (every move and step is logged)."""

    __tablename__ = "la_activity_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("la_activities.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # rules.ACTIONS
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class NamedRole(Base):
    """A person named to one of the staff non-formal education rules' roles (7.1) on a platform;
    heads per department."""

    __tablename__ = "la_roles"

    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # head|expert|secretary|hr
    department: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
