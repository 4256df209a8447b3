"""The stored file of a piece of evidence (a certificate scan, a photo, a recording)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime, utcnow


class EvidenceFile(Base):
    """One uploaded file, owned by the person who uploaded it, on one platform."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                             index=True)
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                               index=True)
    # Random, generated at upload: never derived from anything the user sent.
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    # Decided by the file's bytes (see sniff.py), never by its name or the browser.
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    thumbnail_name: Mapped[str | None] = mapped_column(String(72))

    @property
    def kind(self) -> str:
        """pdf, image, audio or video."""
        return kind_of(self.content_type)

    @property
    def is_image(self) -> bool:
        """True for pictures (they have thumbnails)."""
        return self.kind == "image"


def kind_of(content_type: str) -> str:
    """The broad kind of a content type: pdf, image, audio, video (or "other")."""
    if content_type == "application/pdf":
        return "pdf"
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "audio", "video") else "other"
