"""Text as exports write it (CSV, XLSX, PDF): whatever people typed, the file is still valid.

One student's group name with a \\x01 in it made a course's XLSX export fail (openpyxl refuses
control characters: XML 1.0 cannot hold them), and reportlab draws them as boxes. Control
characters are removed from every exported string; line breaks and tabs become plain breaks and
spaces. Spreadsheet cells that start like a formula are kept as text.
"""

from __future__ import annotations

import re

# C0 and C1 controls except the line break, DEL, and the two noncharacters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(value: object) -> str:
    """`value` as text without control characters (newlines kept; CR LF and tabs made plain)."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def cell(value: object) -> object:
    """A spreadsheet cell: numbers and dates as they are, text printable and never a formula."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    # A cell starting with = + - @ is run by Excel and LibreOffice: keep it text.
    return "'" + text if text.startswith(FORMULA_START) else text
