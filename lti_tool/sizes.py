"""Sizes as people read them (errors and evidence storage both say how big a file may be)."""

from __future__ import annotations

from flask_babel import format_decimal, gettext as _


def format_size(size: int) -> str:
    """A byte count in megabytes for the reader's locale: "12 MB", "0,4 MB" (kk, ru)."""
    megabytes = size / (1024 * 1024)
    number = format_decimal(round(megabytes, 1 if megabytes < 10 else 0), format="#,##0.#")
    return _("%(n)s MB", n=number)
