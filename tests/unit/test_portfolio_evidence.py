"""Evidence: the type is decided by the bytes, disguised files are refused, names are safe."""

from __future__ import annotations

import io
import wave

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from lti_tool.evidence import sniff
from lti_tool.evidence.storage import (
    UploadError,
    _disposition,
    clean_name,
    delete_evidence,
    evidence_dir,
    send_evidence,
    store_upload,
)
from lti_tool.settings import load


def _png(size=(64, 48), mode="RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def _image(fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 128, 255)).save(out, fmt)
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


def _ftyp(brand: bytes, compatible: bytes = b"isom") -> bytes:
    body = brand + b"\x00\x00\x02\x00" + compatible
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


WEBM = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + b"\x00" * 32)


@pytest.mark.parametrize("head, content_type", [
    (b"%PDF-1.7\n...", "application/pdf"),
    (_png(), "image/png"),
    (_image("JPEG"), "image/jpeg"),
    (_image("GIF"), "image/gif"),
    (_image("WEBP"), "image/webp"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 32, "audio/mpeg"),
    (b"\xff\xfb\x90\x64" + b"\x00" * 32, "audio/mpeg"),
    (_ftyp(b"M4A "), "audio/mp4"),
    (_ftyp(b"isom"), "video/mp4"),
    (_ftyp(b"mp42", b"mp41"), "video/mp4"),
    (_ftyp(b"qt  "), "video/quicktime"),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis" + b"\x00" * 20, "audio/ogg"),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora" + b"\x00" * 20, "video/ogg"),
    (_wav(), "audio/wav"),
    (WEBM, "video/webm"),
])
def test_each_accepted_format_is_recognised(head, content_type):
    found = sniff.sniff(head)
    assert found is not None and found.content_type == content_type


@pytest.mark.parametrize("head", [
    b"MZ\x90\x00\x03\x00\x00\x00",                        # a Windows .exe
    b"\x7fELF\x02\x01\x01",                                # a Linux binary
    b"<!DOCTYPE html><html><script>alert(1)</script>",     # HTML named .pdf
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='x'>",  # SVG with script
    b"PK\x03\x04\x14\x00\x06\x00",                         # ZIP / DOCX
    b"   %PDF-1.4",                                         # PDF marker not at the start
    b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska" + b"\x00" * 20,  # Matroska, not WebM
    _ftyp(b"heic", b"mif1"),                                # HEIF image, not a video
    b"RIFF\x00\x00\x00\x00AVI LIST",                        # AVI
    b"",
])
def test_anything_else_is_unknown(head):
    assert sniff.sniff(head) is None


@pytest.fixture
def app(tmp_path):
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    app.config["TEST_SETTINGS"] = load(
        {"tool": {"data_dir": str(tmp_path)},
         "evidence": {"max_bytes": 200_000, "thumbnail_px": 32}}, environ={})
    with app.test_request_context():
        yield app


class _Db:
    def __init__(self):
        self.added, self.deleted = [], []

    def add(self, row):
        self.added.append(row)

    def delete(self, row):
        self.deleted.append(row)

    def scalar(self, _query):
        # The bytes already stored (quotas): what this fake has been given.
        return sum(row.size for row in self.added)

    def execute(self, _statement):
        return None  # the owner's row lock


class _Owner:
    id, platform_id = 7, 3


def _upload(name, data, settings, allowed=None):
    kwargs = {"allowed": allowed} if allowed else {}
    return store_upload(_Db(), settings=settings, file=FileStorage(io.BytesIO(data), name),
                        owner=_Owner(), **kwargs)


def test_store_sniffs_generates_names_and_thumbnails(app):
    settings = app.config["TEST_SETTINGS"]
    stored = _upload("../../etc/Сертификат.PNG", _png((400, 300)), settings)
    assert stored.content_type == "image/png" and stored.size == len(_png((400, 300)))
    assert stored.original_name == "Сертификат.png"
    assert stored.storage_name.endswith(".png") and "Сертификат" not in stored.storage_name
    folder = evidence_dir(settings)
    assert (folder / stored.storage_name).is_file()
    from PIL import Image

    with Image.open(folder / stored.thumbnail_name) as thumb:
        assert max(thumb.size) == 32
    # A file named .jpg that is a PNG keeps its name but is served as what it is.
    renamed = _upload("photo.jpg", _png(), settings)
    assert renamed.content_type == "image/png" and renamed.original_name == "photo.jpg.png"


def test_store_refuses_disguised_oversized_empty_and_wrong_kind(app):
    settings = app.config["TEST_SETTINGS"]
    with pytest.raises(UploadError) as err:
        _upload("cv.pdf", b"MZ" + b"\x00" * 100, settings)
    assert err.value.code == "file_type_refused" and "cv.pdf" in str(err.value.message)
    with pytest.raises(UploadError) as err:
        _upload("big.pdf", b"%PDF-" + b"0" * 200_000, settings)
    assert err.value.code == "file_too_large" and err.value.status == 413
    with pytest.raises(UploadError) as err:
        _upload("empty.pdf", b"", settings)
    assert err.value.code == "empty_file"
    with pytest.raises(UploadError) as err:
        _upload("doc.pdf", b"%PDF-1.4 x", settings, allowed={"image"})
    assert err.value.code == "file_type_refused"
    with pytest.raises(UploadError) as err:
        _upload("broken.png", _png()[:40], settings)
    assert err.value.code == "image_unreadable"
    # Nothing half-written stays behind.
    assert not [p for p in evidence_dir(settings).iterdir() if p.name.startswith(".")]


def test_decompression_bomb_is_refused(app):
    settings = app.config["TEST_SETTINGS"]
    settings = settings.model_copy(update={
        "evidence": settings.evidence.model_copy(update={"max_image_pixels": 10_000})})
    with pytest.raises(UploadError) as err:
        _upload("huge.png", _png((200, 200), "1"), settings)
    assert err.value.code == "image_unreadable"


def test_send_headers_and_delete(app):
    settings = app.config["TEST_SETTINGS"]
    stored = _upload("Диплом №1.pdf", b"%PDF-1.4 body", settings)
    stored.id = 5
    response = send_evidence(stored, settings=settings, download=True)
    response.direct_passthrough = False
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%D0%94%D0%B8%D0%BF%D0%BB%D0%BE%D0%BC%20%E2%84%961.pdf" in disposition
    response.close()
    db = _Db()
    delete_evidence(db, stored, settings=settings)
    assert db.deleted == [stored]
    assert not (evidence_dir(settings) / stored.storage_name).exists()


@pytest.mark.parametrize("name, expected", [
    ('a"b.pdf', 'inline; filename="a_b.pdf"; filename*=UTF-8\'\'a%22b.pdf'),
    ("report.pdf", 'inline; filename="report.pdf"'),
    ("Есеп.pdf",
     "inline; filename=\"evidence-1.pdf\"; filename*=UTF-8''%D0%95%D1%81%D0%B5%D0%BF.pdf"),
])
def test_content_disposition(name, expected):
    assert _disposition("inline", name, "evidence-1.pdf") == expected


def test_clean_name():
    assert clean_name("C:\\Users\\me\\скан\x00.pdf") == "скан.pdf"
    assert clean_name('..\\..\\"<x>".pdf') == "__x__.pdf"
