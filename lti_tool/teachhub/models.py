"""TeachHub tables: module cards and their published versions, streams, participant cards."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..db import Base, UtcDateTime, utcnow
from .hours import from_cents, to_cents
from .status import REGISTERED


class Hundredths(TypeDecorator):
    """A Decimal with two decimals stored as whole hundredths (exact sums on every database)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_cents(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else from_cents(value)


class PassportColumns:
    """The module passport's fields (the staff non-formal education rules, 4.5.2), shared by the
    working copy and versions."""

    title: Mapped[str] = mapped_column(String(255), default="")
    curator_department: Mapped[str] = mapped_column(String(255), default="")
    target_audience: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    competences: Mapped[list] = mapped_column(JSON, default=list)  # competence area keys
    structure: Mapped[str] = mapped_column(Text, default="")  # one topic or session a line
    delivery_formats: Mapped[list] = mapped_column(JSON, default=list)
    mandatory_tasks: Mapped[str] = mapped_column(Text, default="")
    completion_criteria: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    workload_hours: Mapped[Decimal] = mapped_column(Hundredths, default=Decimal(0))
    duration_days: Mapped[int | None] = mapped_column(Integer)
    integration: Mapped[list] = mapped_column(JSON, default=list)
    module_format: Mapped[str] = mapped_column(String(32), default="")


class Module(PassportColumns, Base):
    """A module card's working copy; publishing freezes it into a ModuleVersion."""

    __tablename__ = "th_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                             index=True)
    # The number of the latest published version; None while the card is a draft.
    published_number: Mapped[int | None] = mapped_column(Integer)
    # The working copy differs from the latest published version.
    has_unpublished_changes: Mapped[bool] = mapped_column(Boolean, default=False)
    # Archived: no new participants, not offered for placement; existing cards go on.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # This row's version (not a published one): an edit names the one it saw (issue 10).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ModuleFacilitator(Base):
    """A person who runs a module (passport item 1) and sees its participants."""

    __tablename__ = "th_module_facilitators"

    module_id: Mapped[int] = mapped_column(ForeignKey("th_modules.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class ModuleVersion(PassportColumns, Base):
    """A published passport, frozen: participants keep the version they enrolled under."""

    __tablename__ = "th_module_versions"
    __table_args__ = (UniqueConstraint("module_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("th_modules.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # Names as they were at publication (facilitators change; the version must not).
    facilitator_names: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class Stream(Base):
    """A cohort of a module with its dates."""

    __tablename__ = "th_streams"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("th_modules.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(255))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Person(Base):
    """What TeachHub knows of a person beyond the LMS: their department (for HR)."""

    __tablename__ = "th_people"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    department: Mapped[str] = mapped_column(String(255), default="", index=True)
    # Who set it last: "lms" (a custom launch parameter), "self", "coordinator".
    source: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Participant(Base):
    """A participant card (the staff non-formal education rules, 4.5.4): one per person per module
    stream."""

    __tablename__ = "th_participants"
    __table_args__ = (
        UniqueConstraint("stream_id", "user_id"),
        Index("ix_th_participants_module_status", "module_id", "status"),
        Index("ix_th_participants_status_completed", "status", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("th_modules.id", ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(ForeignKey("th_streams.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("th_module_versions.id",
                                                       ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The placement the person launches: completion and marks are posted to its line item.
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"))
    enrolled_via: Mapped[str] = mapped_column(String(16), default="launch")  # launch | roster
    status: Mapped[str] = mapped_column(String(16), default=REGISTERED)
    # Bumped by every change of the card: a move, mark or hours names the one it saw (issue 10).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    contact_hours: Mapped[Decimal] = mapped_column(Hundredths, default=Decimal(0))
    self_study_hours: Mapped[Decimal] = mapped_column(Hundredths, default=Decimal(0))
    mark: Mapped[Decimal | None] = mapped_column(Hundredths)
    mark_comment: Mapped[str] = mapped_column(Text, default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Coordinator verification (the staff non-formal education rules, 7.1 (4)): hours and evidence
    # checked.
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verification_note: Mapped[str] = mapped_column(Text, default="")
    # The record in the individual work plan / information system.
    record_date: Mapped[date | None] = mapped_column(Date)
    record_number: Mapped[str] = mapped_column(String(64), default="")
    # The recognition commission's record.
    commission_date: Mapped[date | None] = mapped_column(Date)
    commission_number: Mapped[str] = mapped_column(String(64), default="")
    completed_on: Mapped[date | None] = mapped_column(Date)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    # Only that an answer was given: the answer itself is stored apart, without the person.
    feedback_given: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def total_hours(self) -> Decimal:
        """Contact plus self-study hours."""
        return (self.contact_hours or Decimal(0)) + (self.self_study_hours or Decimal(0))


class StatusChange(Base):
    """Who moved a card to which status, and when (every move is logged)."""

    __tablename__ = "th_status_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("th_participants.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A person's own words, kept as typed (in their language).
    note: Mapped[str] = mapped_column(Text, default="")
    # The tool's own note, as a message key and its parameters (participants.NOTES), so that
    # each reader sees it in their language; "" when the note is a person's.
    note_key: Mapped[str] = mapped_column(String(32), default="")
    note_params: Mapped[dict | None] = mapped_column(JSON, default=dict)


class Task(Base):
    """A completed task or product on a participant card, with the facilitator's review."""

    __tablename__ = "th_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("th_participants.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[date | None] = mapped_column(Date)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    review: Mapped[str] = mapped_column(String(16), default="pending")  # accepted | returned
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskEvidence(Base):
    """An evidence file (lti_tool.evidence) attached to a task."""

    __tablename__ = "th_task_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("th_tasks.id", ondelete="CASCADE"),
                                         index=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_files.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Feedback(Base):
    """A participant's answer to the module's feedback form, kept without who gave it."""

    __tablename__ = "th_feedback"
    __table_args__ = (Index("ix_th_feedback_module_stream", "module_id", "stream_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("th_modules.id", ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(ForeignKey("th_streams.id", ondelete="CASCADE"))
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1..5
    applicability: Mapped[int] = mapped_column(Integer)  # 1..5
    comment: Mapped[str] = mapped_column(Text, default="")


class Coordinator(Base):
    """A TeachHub coordinator named by a platform administrator."""

    __tablename__ = "th_coordinators"

    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
