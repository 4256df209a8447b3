"""Decide a file's type from its first bytes (magic numbers), never from its name.

Only the formats evidence may have are recognised; anything else (an .exe, an HTML page, an
SVG with scripts, a ZIP named .pdf) is unknown and refused by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

# How many leading bytes sniffing needs (MP4 brands and WebM doctypes sit a little way in).
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Sniffed:
    """A recognised format: its content type, broad kind and a safe file extension."""

    content_type: str
    kind: str  # pdf, image, audio, video
    extension: str


PDF = Sniffed("application/pdf", "pdf", "pdf")
PNG = Sniffed("image/png", "image", "png")
JPEG = Sniffed("image/jpeg", "image", "jpg")
GIF = Sniffed("image/gif", "image", "gif")
WEBP = Sniffed("image/webp", "image", "webp")
MP3 = Sniffed("audio/mpeg", "audio", "mp3")
M4A = Sniffed("audio/mp4", "audio", "m4a")
MP4 = Sniffed("video/mp4", "video", "mp4")
MOV = Sniffed("video/quicktime", "video", "mov")
OGG_AUDIO = Sniffed("audio/ogg", "audio", "ogg")
OGG_VIDEO = Sniffed("video/ogg", "video", "ogv")
WAV = Sniffed("audio/wav", "audio", "wav")
WEBM = Sniffed("video/webm", "video", "webm")

_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_VIDEO_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42",
                     b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"MSNV", b"3gp4", b"3gp5",
                     b"3gp6", b"3g2a", b"mmp4", b"f4v "}


def _mp3_frame(head: bytes) -> bool:
    # MPEG audio frame header: 11 sync bits, a real version/layer, a usable bitrate and rate.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _ftyp(head: bytes) -> Sniffed | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    brands = [head[8:12]]
    # Compatible brands follow the major brand and minor version, up to the box's end.
    end = min(box_size, len(head)) if box_size >= 16 else 16
    brands += [head[i:i + 4] for i in range(16, end - 3, 4)]
    if brands[0] in _AUDIO_MP4_BRANDS:
        return M4A
    if brands[0] == b"qt  ":
        return MOV
    if any(b in _VIDEO_MP4_BRANDS or b in _AUDIO_MP4_BRANDS for b in brands):
        return MP4
    return None


def _ebml_webm(head: bytes) -> Sniffed | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    # The EBML header names its DocType: "webm" (Matroska files are not accepted).
    index = head.find(b"\x42\x82", 4, 64)
    if index < 0:
        return None
    size_byte = head[index + 2] if len(head) > index + 2 else 0
    length = size_byte & 0x7F if size_byte & 0x80 else 0
    return WEBM if head[index + 3:index + 3 + length] == b"webm" else None


def sniff(head: bytes) -> Sniffed | None:
    """The format of a file whose first bytes are `head`, or None when it is not evidence."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"OggS":
        # The first page's codec header tells a video (Theora) from audio (Vorbis, Opus).
        return OGG_VIDEO if b"\x80theora" in head[:512] else OGG_AUDIO
    if head.startswith(b"ID3") or _mp3_frame(head):
        return MP3
    return _ftyp(head) or _ebml_webm(head)
