"""TeachHub's refusals: bad input (per field) and refused moves, each with a translated reason."""

from __future__ import annotations

from datetime import date
from typing import Literal, overload

from flask_babel import lazy_gettext as _l

from ..errors import ToolError


class InputError(ToolError):
    """Input that breaks a rule; `errors` maps each field to why."""

    status = 400
    code = "invalid_input"
    message = _l("Some values are not valid: see the messages below.")

    def __init__(self, errors: dict[str, object], message=None):
        super().__init__(message or "; ".join(str(m) for m in errors.values()))
        self.errors = {field: str(text) for field, text in errors.items()}


class Refused(ToolError):
    """An action refused by the rules (status moves, publishing, feedback); says why."""

    status = 409
    code = "refused"
    message = _l("This cannot be done now.")


class Changed(Refused):
    """The card changed after its author opened it: nothing was saved (issue 10)."""

    code = "changed"
    message = _l(
        "Someone changed this card after you opened it, so nothing was saved. "
        "The card as it is now is shown; what you typed is kept in the form."
    )


@overload
def parse_date(value: object, field: str, *, required: Literal[True]) -> date: ...


@overload
def parse_date(value: object, field: str, *, required: bool = False) -> date | None: ...


def parse_date(value: object, field: str, *, required: bool = False) -> date | None:
    """An ISO date (YYYY-MM-DD) from a form, None when blank and not required."""
    text = str(value or "").strip()
    if not text:
        if required:
            raise InputError({field: _l("Enter a date.")})
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError({field: _l("Enter a date as YYYY-MM-DD.")}) from None


def ordered(start: date | None, end: date | None, field: str) -> None:
    """InputError unless `start` is on or before `end` (either may be missing)."""
    if start and end and end < start:
        raise InputError({field: _l("The end date cannot be before the start date.")})
