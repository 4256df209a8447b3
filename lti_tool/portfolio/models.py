"""The student portfolio: one per person on a platform, across all courses and years."""

from __future__ import annotations

from datetime import date, datetime

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime, utcnow
from ..evidence.models import EvidenceFile
from ..lti.models import User

# Entry statuses (the verification state machine is in service.py).
DRAFT, SUBMITTED, VERIFIED, RETURNED, REJECTED = (
    "draft", "submitted", "verified", "returned", "rejected")
STATUSES = (DRAFT, SUBMITTED, VERIFIED, RETURNED, REJECTED)
# What counts as claimed: the student's submitted claims not (yet) turned down.
CLAIMED_STATUSES = (SUBMITTED, VERIFIED, RETURNED)

PORTRAIT_PAGES = ("profile", "essay", "goals")


class Portfolio(Base):
    """A student's portfolio; the current Section I values live here, their history in versions."""

    __tablename__ = "pf_portfolios"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept beside user_id so that every query can say "of this platform" without a join.
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # Section I, page 1 (current values; filters in the tutor's views use group and course year).
    full_name: Mapped[str] = mapped_column(String(255), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    admission_year: Mapped[int | None] = mapped_column(Integer)
    faculty: Mapped[str] = mapped_column(String(255), default="")
    course_year: Mapped[int | None] = mapped_column(Integer)
    # The day the course year above was stated: it is that academic year's course year and
    # counts on from there (lti_tool/calendar.py); the year of admission wins when given.
    course_year_on: Mapped[date | None] = mapped_column(Date)
    group_name: Mapped[str] = mapped_column(String(64), default="", index=True)
    specialty: Mapped[str] = mapped_column(String(255), default="")
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id",
                                                            ondelete="SET NULL"))
    # Section I, pages 2 and 3.
    essay: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    analysis: Mapped[str] = mapped_column(Text, default="")
    # The number of each page's latest version: a form based on an older one is stale.
    profile_version: Mapped[int] = mapped_column(Integer, default=0)
    essay_version: Mapped[int] = mapped_column(Integer, default=0)
    goals_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    photo: Mapped[EvidenceFile | None] = relationship()
    entries: Mapped[list[Entry]] = relationship(
        back_populates="portfolio", cascade="all, delete-orphan",
        order_by=lambda: (Entry.course_year, Entry.id))

    def page_version(self, page: str) -> int:
        """The latest version number of a Section I page."""
        return getattr(self, f"{page}_version")


class PortraitVersion(Base):
    """One saved state of a Section I page: all its fields, who saved it and when."""

    __tablename__ = "pf_portrait_versions"
    __table_args__ = (UniqueConstraint("portfolio_id", "page", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(String(16))  # profile, essay, goals
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Entry(Base):
    """A Section II achievement or a Section III chest item, with the points it claims."""

    __tablename__ = "pf_entries"
    __table_args__ = (Index("ix_pf_entries_portfolio_status", "portfolio_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(16))  # achievements, chest
    list_key: Mapped[str] = mapped_column(String(40))
    item_key: Mapped[str] = mapped_column(String(40))
    course_year: Mapped[int] = mapped_column(Integer)
    level: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[str | None] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=1)
    # Why the course year differs from the one the achievement's date falls in (required then).
    year_note: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # the list's other columns
    claimed_points: Mapped[int] = mapped_column(Integer, default=0)
    verified_points: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # Bumped by every change of content: an edit based on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    portfolio: Mapped[Portfolio] = relationship(back_populates="entries")
    attachments: Mapped[list[EntryEvidence]] = relationship(
        cascade="all, delete-orphan", order_by="EntryEvidence.id")
    decisions: Mapped[list[Decision]] = relationship(
        cascade="all, delete-orphan", order_by="Decision.id")

    @property
    def evidence(self) -> list[EvidenceFile]:
        """The files attached to this entry, in upload order."""
        return [a.evidence for a in self.attachments]

    @property
    def last_comment(self) -> Decision | None:
        """The latest decision that carries a comment (the tutor's word on a return)."""
        return next((d for d in reversed(self.decisions) if d.comment), None)


class EntryEvidence(Base):
    """A file attached to an entry."""

    __tablename__ = "pf_entry_evidence"
    __table_args__ = (UniqueConstraint("entry_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("pf_entries.id", ondelete="CASCADE"),
                                          index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_files.id", ondelete="CASCADE"),
                                             index=True)
    evidence: Mapped[EvidenceFile] = relationship(lazy="joined", innerjoin=True)


class Decision(Base):
    """Something done to an entry's status (or a comment on it): what, who, when."""

    __tablename__ = "pf_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("pf_entries.id", ondelete="CASCADE"),
                                          index=True)
    # submit, withdraw, verify, return, reject, comment, edited (a verified entry changed)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    points: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    # The entry version this decision produced (a refused decision shows those made since).
    version: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TutorMark(Base):
    """A mark only the tutor gives (the design mark), per course year."""

    __tablename__ = "pf_tutor_marks"
    __table_args__ = (UniqueConstraint("portfolio_id", "mark_key", "course_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    mark_key: Mapped[str] = mapped_column(String(40))
    course_year: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tutor_name: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Summary(Base):
    """The tutor's summary of a student's academic year (the portfolio regulations, "Тьютор
    түйіндемесі")."""

    __tablename__ = "pf_summaries"
    __table_args__ = (UniqueConstraint("portfolio_id", "academic_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    academic_year: Mapped[str] = mapped_column(String(9))  # 2025-2026
    course_year: Mapped[int] = mapped_column(Integer)
    group_name: Mapped[str] = mapped_column(String(64), default="")
    gpa: Mapped[str] = mapped_column(String(8), default="")  # as printed: "3.42"
    academic_level: Mapped[str] = mapped_column(String(16), default="")  # excellent...low
    points: Mapped[int] = mapped_column(Integer, default=0)  # the year's verified points
    points_total: Mapped[int] = mapped_column(Integer, default=0)  # verified, all years
    achievement_level: Mapped[str] = mapped_column(String(16), default="")  # high, medium, low
    # True when the tutor chose a level other than the one the year's points give.
    level_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    activity: Mapped[str] = mapped_column(Text, default="")
    self_development: Mapped[str] = mapped_column(Text, default="")
    competences: Mapped[str] = mapped_column(Text, default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    tutor_name: Mapped[str] = mapped_column(String(255), default="")
    head_name: Mapped[str] = mapped_column(String(255), default="")
    department: Mapped[str] = mapped_column(String(255), default="")
    summary_date: Mapped[date | None] = mapped_column(Date)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class GroupLeader(Base):
    """The group leader (староста) of a Section I group, marked by a tutor (the portfolio
    regulations, Section II: the GPA table is signed by the group leader)."""

    __tablename__ = "pf_group_leaders"
    __table_args__ = (UniqueConstraint("platform_id", "group_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    group_name: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class GpaConfirmation(Base):
    """The group leader's confirmation of one academic year's GPA of a student, as it was
    then: a later change of that GPA makes it no longer apply."""

    __tablename__ = "pf_gpa_confirmations"
    __table_args__ = (UniqueConstraint("portfolio_id", "academic_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    academic_year: Mapped[str] = mapped_column(String(9))
    gpa: Mapped[str] = mapped_column(String(8))  # the GPA confirmed, as printed: "3.42"
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_by_name: Mapped[str] = mapped_column(String(255), default="")
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Showcase(Base):
    """A read-only link for employers: chosen sections and entries, revocable, may expire."""

    __tablename__ = "pf_showcases"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"),
                                              index=True)
    # 256 random bits; kept (not only hashed) so the owner can copy the link again later.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    sections: Mapped[list] = mapped_column(JSON, default=list)  # portrait, achievements, chest
    entry_ids: Mapped[list] = mapped_column(JSON, default=list)
    hide_personal: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    views: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def is_live(self, now: datetime) -> bool:
        """True while the link works (not revoked, not expired)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Update(Base):
    """A change the owner made (for the activity chart and the deleted entries' trace)."""

    __tablename__ = "pf_updates"
    __table_args__ = (Index("ix_pf_updates_portfolio_at", "portfolio_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("pf_portfolios.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(32))  # entry_created, entry_edited, ...
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CourseScore(Base):
    """How a course's gradebook gets the verified portfolio points, as its staff chose
    (issue 11); a course without a row uses [portfolio.grade] of the configuration."""

    __tablename__ = "pf_course_scores"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"),
                                            primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))  # "points" | "normalised"
    points_maximum: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
