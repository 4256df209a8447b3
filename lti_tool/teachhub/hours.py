"""Academic hours and credit units in exact decimals: pure, no database, no Flask.

The staff non-formal education rules: 1 credit unit (СБ) = 30 academic hours. Hours are entered with
at most two decimals and stored as whole hundredths, so sums never pick up binary rounding (0.1 +
0.2 is 0.30 here).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

from ..parsing import is_plain_decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class HoursError(ValueError):
    """Hours that break a rule; `code` is stable, `message` is translated."""

    def __init__(self, code: str, message) -> None:
        super().__init__(str(code))
        self.code = code
        self.message = message


def parse_hours(value: object, maximum: Decimal, *, blank_is_zero: bool = True) -> Decimal:
    """Hours from user input: a number >= 0 with at most two decimals and at most `maximum`."""
    text = str(value if value is not None else "").strip().replace(",", ".").replace(" ", "")
    if not text:
        if blank_is_zero:
            return ZERO
        raise HoursError("required", _l("Enter the number of hours."))
    # Plain digits only: Decimal() takes "1e100", "NaN" and Unicode digits (and quantize raises).
    if not is_plain_decimal(text):
        raise HoursError("not_a_number", _l("Hours must be a number, e.g. 12 or 7.5."))
    hours = Decimal(text)
    if hours < 0:
        raise HoursError("negative", _l("Hours cannot be negative."))
    if hours != hours.quantize(CENT, rounding=ROUND_HALF_UP):
        raise HoursError("too_precise", _l("Hours take at most two decimals, e.g. 7.25."))
    if hours > maximum:
        raise HoursError("too_many", _l("At most %(maximum)s hours.", maximum=str(maximum)))
    return hours.quantize(CENT)


def credit_units(hours: Decimal, hours_per_unit: Decimal = Decimal(30)) -> Decimal:
    """Credit units for `hours`, to two decimals (half up): 45 h -> 1.50, 10 h -> 0.33."""
    return (Decimal(hours) / Decimal(hours_per_unit)).quantize(CENT, rounding=ROUND_HALF_UP)


def format_hours(value: Decimal | int | None) -> str:
    """Two decimals, always: 7.5 -> '7.50' (hours and units in reports and exports)."""
    return str(Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def to_cents(hours: Decimal) -> int:
    """Whole hundredths of an hour, for storage."""
    return int((Decimal(hours) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_cents(cents: int | None) -> Decimal:
    """Hours from stored hundredths."""
    return (Decimal(cents or 0) / 100).quantize(CENT)


def parse_mark(value: object, maximum: Decimal) -> Decimal | None:
    """The facilitator's mark: blank (no mark) or 0..maximum with at most two decimals."""
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        return None
    if not is_plain_decimal(text):
        raise HoursError("not_a_number", _l("The mark must be a number."))
    mark = Decimal(text)
    if mark < 0 or mark > maximum:
        raise HoursError("out_of_range", _l("The mark must be from 0 to %(maximum)s.",
                                            maximum=str(maximum)))
    if mark != mark.quantize(CENT, rounding=ROUND_HALF_UP):
        raise HoursError("too_precise", _l("The mark takes at most two decimals."))
    return mark.quantize(CENT)
