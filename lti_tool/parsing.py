"""The one strict parser for numbers that come from outside (URLs, forms, LMS parameters).

Python's own parsers are too lenient for input: `int()` takes Unicode digits ("٣", full-width
"３"), underscores ("1_000") and numbers larger than any database column; `"²".isdigit()` is
true but `int("²")` raises; `Decimal()` takes "1e100", "NaN" and "Infinity"
(and `quantize` then raises). Here a whole number is ASCII digits only, within bounds that fit
the column, and a decimal is plain ASCII digits with at most `places` decimals (a comma is
accepted as the decimal mark: Kazakh and Russian keyboards type one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import overload

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField

from .errors import ToolError

# A 32-bit signed INTEGER column (PostgreSQL's integer; SQLite takes up to 2**63-1).
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000

# `re` with str patterns: [0-9] is ASCII only, where \d would match every Unicode digit.
_WHOLE = re.compile(r"-?[0-9]{1,18}\Z")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:[.,][0-9]{1,15})?\Z")
# ASCII spaces and tabs around a typed number are forgiven; nothing else is.
_BLANKS = " \t"


class NumberError(ValueError):
    """A value that is not a number of the expected kind; `message` is translated."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class BadNumber(ToolError):
    """A malformed or out-of-range number in a URL or a form: 400, never a 500."""

    code = "bad_number"
    message = _l("A number in the request is not valid.")


def parse_int(value: object, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """A whole number from `minimum` to `maximum`, written in ASCII digits (NumberError else)."""
    text = str(value if value is not None else "").strip(_BLANKS)
    if not _WHOLE.match(text) or (text.startswith("-") and minimum >= 0):
        raise NumberError(
            _l("Enter a whole number from %(low)s to %(high)s.", low=minimum, high=maximum)
        )
    number = int(text)
    if not minimum <= number <= maximum:
        raise NumberError(
            _l("Enter a whole number from %(low)s to %(high)s.", low=minimum, high=maximum)
        )
    return number


def parse_decimal(value: object, *, minimum: Decimal, maximum: Decimal, places: int = 2) -> Decimal:
    """A plain decimal (e.g. 7.5 or 7,5) within bounds and with at most `places` decimals."""
    text = str(value if value is not None else "").strip(_BLANKS)
    if not _DECIMAL.match(text):
        raise NumberError(_l("Enter a number, e.g. 12 or 7.5."))
    number = Decimal(text.replace(",", "."))
    if not minimum <= number <= maximum:
        raise NumberError(_l("Enter a number from %(low)s to %(high)s.", low=minimum, high=maximum))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise NumberError(_l("At most %(n)s decimals.", n=places))
    return number


def is_plain_decimal(text: str) -> bool:
    """True for ASCII digits with an optional decimal point or comma (no exponent, no NaN)."""
    return bool(_DECIMAL.match(text))


def id_or_none(value: object) -> int | None:
    """An id (1..2**31-1) or None for anything else (values the LMS sends, e.g. custom params)."""
    try:
        return parse_int(value)
    except NumberError:
        return None


@overload
def arg_int(
    args: Mapping[str, str], name: str, default: int, *, minimum: int = 1, maximum: int = MAX_ID
) -> int: ...


@overload
def arg_int(
    args: Mapping[str, str],
    name: str,
    default: None = None,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
) -> int | None: ...


def arg_int(
    args: Mapping[str, str],
    name: str,
    default: int | None = None,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
) -> int | None:
    """A whole-number query parameter: `default` when absent or empty, BadNumber when bad."""
    raw = args.get(name)
    if raw is None or raw.strip(_BLANKS) == "":
        return default
    try:
        return parse_int(raw, minimum=minimum, maximum=maximum)
    except NumberError as err:
        raise BadNumber(detail=f"{name}: not a whole number in range") from err


def ids(values: Iterable[str], name: str) -> list[int]:
    """A list of ids from a form (checkboxes); BadNumber when any one is not an id."""
    found = []
    for raw in values:
        try:
            found.append(parse_int(raw))
        except NumberError as err:
            raise BadNumber(detail=f"{name}: not an id") from err
    return found


def id_pair(value: str, name: str) -> tuple[int, int]:
    """ "id:version" (a queue checkbox); BadNumber when either half is not a number."""
    first, _sep, second = value.partition(":")
    try:
        return parse_int(first), parse_int(second, minimum=0)
    except NumberError as err:
        raise BadNumber(detail=f"{name}: not id:version") from err


class BadCharacter(ToolError):
    """A NUL character in a URL or a form field: 400."""

    code = "bad_character"
    message = _l("The request contains a character that is not allowed.")


def refuse_nul(path: str, values: Iterable[str]) -> None:
    """BadCharacter when the path or a value holds NUL (\\x00).

    PostgreSQL cannot store or even compare a text with NUL in it (the query fails: a 500), and
    no one types one; file contents are not values here and may hold anything.
    """
    if "\x00" in path or any("\x00" in value for value in values):
        raise BadCharacter(detail="NUL in the request")


class StrictIntegerField(IntegerField):
    """WTForms' IntegerField with the strict parser: ASCII digits within the field's bounds.

    The bounds only keep the value inside what the database holds; a NumberRange validator
    still gives the field's own message for the range people should use.
    """

    def __init__(self, *args, minimum: int = -MAX_ID, maximum: int = MAX_ID, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        """Parse the first submitted value strictly (None when blank)."""
        if not valuelist or str(valuelist[0]).strip(_BLANKS) == "":
            self.data = None
            return
        try:
            self.data = parse_int(valuelist[0], minimum=self.minimum, maximum=self.maximum)
        except NumberError as err:
            self.data = None
            raise ValueError(str(err.message)) from err


class IdConverter(IntegerConverter):
    """`<int:...>` in routes, bounded to what an id column holds: a larger number is a 404.

    Werkzeug's own converter takes any number of ASCII digits, and SQLite raises OverflowError
    on a value over 2**63-1 (PostgreSQL on one over 2**31-1).
    """

    def __init__(
        self,
        url_map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)
