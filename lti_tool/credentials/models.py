"""The credentials the tool issued: one row per certificate / Open Badges credential."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow

# The kinds issued today (each registered by its domain: credentials/kinds.py).
ACTIVITY, CARD, ENTRY = "activity", "card", "entry"
LIVE = text("revoked_at IS NULL")


class Credential(Base):
    """A certificate and Open Badges credential issued for one record.

    `token` is random (never derived from ids): it names the public verification page and the
    credential; `id` is the credential's index in the status list. A staff learning credential
    reads its record live (`activity_id` or `participant_id`, one per record); a portfolio
    credential keeps in `snapshot` what it said when issued (the entry may change or go), and
    an entry has at most one live credential at a time.
    """

    # The table's name is from when staff learning issued the only credentials.
    __tablename__ = "la_credentials"
    __table_args__ = (
        UniqueConstraint("activity_id"),
        UniqueConstraint("participant_id"),
        Index(
            "ix_la_credentials_live_entry",
            "entry_id",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("la_activities.id", ondelete="CASCADE")
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("th_participants.id", ondelete="CASCADE")
    )
    # SET NULL: a deleted entry's credential stays, revoked, so its page and bit say so.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("pf_entries.id", ondelete="SET NULL"))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
