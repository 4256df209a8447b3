"""Evidence files for tasks, through the shared lti_tool.evidence package.

Its API: storage.store_upload(db, *, settings, file, owner, allowed) -> models.EvidenceFile
(raises storage.UploadError with a translated message), storage.send_evidence(evidence, *,
settings, thumbnail, download) -> Response, storage.delete_evidence(...). Until that package
is installed, uploads are off and the pages say so.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..lti.models import User
from ..settings import Settings
from .access import NotFound
from .errors import InputError

log = logging.getLogger(__name__)
ALLOWED = {"pdf", "image", "audio", "video"}


def _storage() -> ModuleType | None:
    try:
        return importlib.import_module("lti_tool.evidence.storage")
    except ImportError:
        return None


def available() -> bool:
    """True when the evidence package is installed."""
    return _storage() is not None


def store(db: Session, *, settings: Settings, file, owner: User) -> int:
    """Store an upload; its evidence id. InputError with the storage's reason when refused."""
    storage = _storage()
    if storage is None:
        raise InputError({"file": "evidence storage is not installed"})
    try:
        evidence = storage.store_upload(db, settings=settings, file=file, owner=owner,
                                        allowed=ALLOWED)
    except storage.UploadError as err:
        raise InputError({"file": str(err)}) from err
    db.flush()
    return evidence.id


def upload_limit(settings: Settings) -> int | None:
    """The largest evidence file in bytes, stated beside the upload field (None without storage)."""
    storage = _storage()
    return settings.evidence.max_bytes if storage is not None else None


def size_text(size: int) -> str:
    """A byte count for the reader: "20 MB" (the storage's own wording, in their locale)."""
    storage = _storage()
    if storage is None:  # asked only for the limit upload_limit() gives, with storage installed
        raise RuntimeError("evidence storage is not installed")
    return storage.format_size(size)


def usage_line(db: Session, *, settings: Settings, owner: User) -> str | None:
    """"12 MB of 200 MB used" for the person's upload form (None without the storage)."""
    storage = _storage()
    return storage.usage_line(db, settings, owner) if storage is not None else None


def files(db: Session, evidence_ids: list[int]) -> dict[int, object]:
    """EvidenceFile rows by id, in one query (names, kinds, thumbnails for the card page)."""
    if not evidence_ids or _storage() is None:
        return {}
    models = importlib.import_module("lti_tool.evidence.models")
    rows = db.scalars(select(models.EvidenceFile).where(models.EvidenceFile.id.in_(evidence_ids)))
    return {row.id: row for row in rows}


def send(db: Session, evidence_id: int, *, settings: Settings, thumbnail: bool = False,
         download: bool = False):
    """The file as a response (the caller checked access)."""
    storage = _storage()
    if storage is None:
        raise NotFound()
    models = importlib.import_module("lti_tool.evidence.models")
    evidence = db.get(models.EvidenceFile, evidence_id)
    if evidence is None:
        raise NotFound()
    return storage.send_evidence(evidence, settings=settings, thumbnail=thumbnail,
                                 download=download)


def delete(db: Session, evidence_ids: list[int], *, settings: Settings) -> None:
    """Delete files of a removed task (a failure is logged: the task is gone either way)."""
    storage = _storage()
    if storage is None or not evidence_ids:
        return
    models = importlib.import_module("lti_tool.evidence.models")
    for evidence_id in evidence_ids:
        evidence = db.get(models.EvidenceFile, evidence_id)
        if evidence is None:
            continue
        try:
            storage.delete_evidence(db, evidence, settings=settings)
        except Exception:  # the storage's own errors: keep the task removal
            log.exception("could not delete evidence %s", evidence_id)
