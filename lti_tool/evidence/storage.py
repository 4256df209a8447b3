"""Store uploads under generated names outside the web root, and serve them with safe headers.

The content type is decided by the file's bytes (sniff.py). Images are opened with Pillow
once at upload (a broken or bomb image is refused) and get a small thumbnail.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Response, g, request, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ..errors import NotFound, ToolError
from ..lti.models import User
from ..settings import EvidenceSettings, Settings
from ..sizes import format_size
from .models import EvidenceFile
from .sniff import HEAD_BYTES, Sniffed, sniff

DEFAULT_ALLOWED = frozenset({"pdf", "image", "audio", "video"})
CHUNK = 1 << 16

KIND_NAMES = {
    "pdf": _l("PDF document"),
    "image": _l("image (PNG, JPEG, GIF, WebP)"),
    "audio": _l("audio (MP3, M4A, OGG, WAV)"),
    "video": _l("video (MP4, WebM, OGG)"),
}


class UploadError(ToolError):
    """An upload that was refused; the message says why in the user's language."""

    code = "upload_refused"
    message = _l("The file could not be accepted.")


def allow_upload(settings: Settings) -> None:
    """Let this request carry one evidence file: the request limit becomes the file limit plus
    room for the form's other fields (the 413 page then names the file limit)."""
    max_bytes = settings.evidence.max_bytes
    request.max_content_length = max_bytes + 256 * 1024
    g.upload_limit = max_bytes


def evidence_dir(settings: Settings) -> Path:
    """Where files live: [evidence] dir, else <data_dir>/evidence (never under static/)."""
    configured = settings.evidence.dir
    path = Path(configured) if configured else settings.tool.data_dir / "evidence"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def human_size(size: int) -> str:
    """A byte count for people: 20 MB, 512 KB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB" if size % (1024 * 1024) == 0 else \
            f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"



@dataclass(frozen=True)
class Usage:
    """How much evidence a person has stored, and their quota (bytes)."""

    used: int
    quota: int

    @property
    def left(self) -> int:
        """Bytes still free (never below 0)."""
        return max(0, self.quota - self.used)


def _stored_bytes(db: Session, *conditions) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(EvidenceFile.size), 0))
                         .where(*conditions)) or 0)


def person_usage(db: Session, settings: Settings, owner: User) -> Usage:
    """The evidence `owner` has stored (portfolio and TeachHub alike) against their quota."""
    quota = settings.evidence.quota_bytes_per_person
    return Usage(_stored_bytes(db, EvidenceFile.owner_user_id == owner.id), quota)


def platform_usage(db: Session, settings: Settings, platform_id: int) -> Usage:
    """The evidence stored through one platform against the platform's quota."""
    quota = settings.evidence.quota_bytes_per_platform
    return Usage(_stored_bytes(db, EvidenceFile.platform_id == platform_id), quota)


def usage_line(db: Session, settings: Settings, owner: User) -> str:
    """What the person sees by an upload form: "12 MB of 200 MB used"."""
    from flask_babel import gettext as _

    usage = person_usage(db, settings, owner)
    return _("%(used)s of %(quota)s used", used=format_size(usage.used),
             quota=format_size(usage.quota))


def allowed_description(allowed: set[str] | frozenset[str]) -> str:
    """The allowed kinds as a translated list for messages."""
    return ", ".join(str(KIND_NAMES[k]) for k in ("pdf", "image", "audio", "video") if k in allowed)


def clean_name(name: str | None) -> str:
    """The user's file name without any path, control characters or quotes (kept for display)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'["<>:|?*]', "_", name).strip(" .")
    return name[:200]


def _display_name(original: str, sniffed_ext: str) -> str:
    stem, dot, ext = original.rpartition(".")
    if not dot:
        stem, ext = original, ""
    # The name a download gets carries the extension of what the file really is.
    aliases = {"jpg": {"jpg", "jpeg", "jpe"}, "ogv": {"ogv", "ogg"}, "m4a": {"m4a", "mp4"}}
    if ext.lower() not in aliases.get(sniffed_ext, {sniffed_ext}):
        stem = original
    return f"{stem or 'evidence'}.{sniffed_ext}"


def store_upload(db: Session, *, settings: Settings, file: FileStorage | None, owner: User,
                 allowed: set[str] | frozenset[str] = DEFAULT_ALLOWED) -> EvidenceFile:
    """Check and store an uploaded file; add its EvidenceFile row (the caller commits).

    Raises UploadError with a translated message for a missing, empty, oversized or disguised
    file, or one of a kind not in `allowed`.
    """
    options = settings.evidence
    max_bytes = options.max_bytes
    if file is None or not (file.filename or "").strip():
        raise UploadError(_l("Choose a file to upload."), code="no_file")
    # Quotas: refused before anything is kept (a file that would pass one is stopped while it
    # streams in, and its temporary copy removed).
    person = person_usage(db, settings, owner)
    platform = platform_usage(db, settings, owner.platform_id)
    over_person = UploadError(
        _l("This file does not fit in your storage: %(used)s of %(quota)s used. Remove files "
           "you no longer need and try again.", used=format_size(person.used),
           quota=format_size(person.quota)), code="quota_exceeded", status=413)
    over_platform = UploadError(
        _l("The file storage of your institution is full. Please tell your LMS administrator."),
        code="platform_quota_exceeded", status=413)
    if platform.left <= 0:
        raise over_platform
    if person.left <= 0:
        raise over_person
    directory = evidence_dir(settings)
    storage_name = secrets.token_hex(16)
    temp = directory / f".{storage_name}.part"
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        # 0600: evidence is personal data; only the tool's own user reads it.
        with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := file.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(
                        _l("The file is larger than the limit of %(limit)s.",
                           limit=human_size(max_bytes)), code="file_too_large", status=413)
                if size > person.left:
                    raise over_person
                if size > platform.left:
                    raise over_platform
                if len(head) < HEAD_BYTES:
                    head += chunk[:HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(_l("The file is empty."), code="empty_file")
        found = sniff(head)
        if found is None or found.kind not in allowed:
            raise UploadError(
                _l("“%(name)s” is not a file of an accepted kind (%(kinds)s): its content does "
                   "not match. Convert it (for example, scan to PDF) and upload it again.",
                   name=clean_name(file.filename), kinds=allowed_description(allowed)),
                code="file_type_refused", status=415)
        # Two uploads of one person at once must not both fit: the owner's row stays locked
        # from this second look at the sum until the caller commits (PostgreSQL; SQLite has
        # one writer anyway).
        db.execute(select(User.id).where(User.id == owner.id).with_for_update())
        if size > person_usage(db, settings, owner).left:
            raise over_person
        thumbnail_name = None
        if found.kind == "image":
            thumbnail_name = _make_thumbnail(temp, directory, storage_name, options)
        final_name = f"{storage_name}.{found.extension}"
        os.replace(temp, directory / final_name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    evidence = EvidenceFile(
        platform_id=owner.platform_id, owner_user_id=owner.id, storage_name=final_name,
        original_name=_display_name(clean_name(file.filename), found.extension),
        content_type=found.content_type, size=size, sha256=digest.hexdigest(),
        thumbnail_name=thumbnail_name,
    )
    db.add(evidence)
    return evidence


def _make_thumbnail(path: Path, directory: Path, storage_name: str,
                    options: EvidenceSettings) -> str:
    from PIL import Image, ImageOps

    limit = options.max_image_pixels
    damaged = UploadError(_l("The image could not be read: the file is damaged or too large."),
                          code="image_unreadable")
    try:
        with warnings.catch_warnings():
            # Pillow warns on huge images: a decompression bomb, refused like any bad image.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as probe:
                # The size is in the header: refuse before decoding a single pixel.
                if probe.width * probe.height > limit:
                    raise damaged
                probe.verify()
            with Image.open(path) as opened:
                opened.seek(0)
                image = ImageOps.exif_transpose(opened)
                px = options.thumbnail_px
                image.thumbnail((px, px))
                has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
                if has_alpha:
                    name = f"{storage_name}.thumb.png"
                    image.convert("RGBA").save(directory / name, "PNG", optimize=True)
                else:
                    name = f"{storage_name}.thumb.jpg"
                    image.convert("RGB").save(directory / name, "JPEG", quality=82)
                (directory / name).chmod(0o600)
                return name
    except UploadError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as err:
        raise damaged from err


def _disposition(kind: str, name: str, fallback: str) -> str:
    """A Content-Disposition value with an ASCII filename and RFC 5987 filename* for the rest."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip(" ._")
    if not ascii_name or ascii_name.startswith(".") or "." not in ascii_name:
        ascii_name = fallback
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def file_path(evidence: EvidenceFile, *, settings: Settings, thumbnail: bool = False) -> Path:
    """The path of the stored file (or its thumbnail)."""
    name = evidence.thumbnail_name if thumbnail else evidence.storage_name
    if not name or "/" in name or name.startswith("."):
        raise NotFound()
    return evidence_dir(settings) / name


def send_evidence(evidence: EvidenceFile, *, settings: Settings, thumbnail: bool = False,
                  download: bool = False) -> Response:
    """The file as a response: sniffed type, safe Content-Disposition, nosniff, private cache."""
    path = file_path(evidence, settings=settings, thumbnail=thumbnail)
    if not path.is_file():
        raise NotFound()
    if thumbnail:
        mimetype = "image/png" if path.suffix == ".png" else "image/jpeg"
    else:
        mimetype = evidence.content_type
    response = send_file(path, mimetype=mimetype, conditional=True, etag=evidence.sha256[:32],
                         max_age=300)
    ext = evidence.storage_name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = _disposition(
        "attachment" if download else "inline", evidence.original_name or f"evidence.{ext}",
        f"evidence-{evidence.id}.{ext}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.public = False
    return response


def delete_evidence(db: Session, evidence: EvidenceFile, *, settings: Settings) -> None:
    """Delete the row and the stored files (the caller commits)."""
    unlink_stored(settings, [evidence.storage_name, evidence.thumbnail_name])
    db.delete(evidence)


def stored_names_of_platform(db: Session, platform_id: int) -> list[str]:
    """Every file (and thumbnail) on disk that holds evidence uploaded through a platform."""
    rows = db.execute(select(EvidenceFile.storage_name, EvidenceFile.thumbnail_name)
                      .where(EvidenceFile.platform_id == platform_id))
    return [name for row in rows for name in row if name]


def unlink_stored(settings: Settings, names: Sequence[str | None]) -> int:
    """Remove stored files by their generated names; how many were there."""
    directory = evidence_dir(settings)
    removed = 0
    for name in names:
        if name and "/" not in name and not name.startswith("."):
            path = directory / name
            if path.exists():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


__all__ = [
    "Sniffed",
    "UploadError",
    "Usage",
    "allow_upload",
    "delete_evidence",
    "evidence_dir",
    "format_size",
    "human_size",
    "person_usage",
    "platform_usage",
    "send_evidence",
    "store_upload",
    "stored_names_of_platform",
    "unlink_stored",
    "usage_line",
]
