"""Hours and credit units in exact decimals: 1 credit unit = 30 academic hours (the staff non-formal
education rules)."""

from decimal import Decimal

import pytest

from lti_tool.teachhub.hours import (
    HoursError,
    credit_units,
    format_hours,
    from_cents,
    parse_hours,
    parse_mark,
    to_cents,
)

MAX = Decimal(1000)


@pytest.mark.parametrize("text, hours", [
    ("12", "12.00"), ("7.5", "7.50"), ("7,25", "7.25"), (" 0 ", "0.00"), ("", "0.00"),
    ("1000", "1000.00"), ("0.01", "0.01"), ("3.50", "3.50"),
])
def test_valid_hours(text, hours):
    assert parse_hours(text, MAX) == Decimal(hours)


@pytest.mark.parametrize("text, code", [
    ("-1", "negative"), ("-0.01", "negative"), ("1.234", "too_precise"), ("0.001", "too_precise"),
    ("1000.01", "too_many"), ("abc", "not_a_number"), ("NaN", "not_a_number"),
    ("Infinity", "not_a_number"), ("1/2", "not_a_number"), ("12 h", "not_a_number"),
    # Plain ASCII digits only: exponents (1e100 made quantize raise), Unicode and full-width
    # digits are refused like any other text.
    ("1e2", "not_a_number"), ("1e100", "not_a_number"), ("²", "not_a_number"),
    ("١٢", "not_a_number"), ("１２", "not_a_number"), ("9" * 40, "not_a_number"),
])
def test_invalid_hours(text, code):
    with pytest.raises(HoursError) as err:
        parse_hours(text, MAX)
    assert err.value.code == code and str(err.value.message)


def test_blank_can_be_required():
    with pytest.raises(HoursError) as err:
        parse_hours("", MAX, blank_is_zero=False)
    assert err.value.code == "required"


@pytest.mark.parametrize("hours, units", [
    ("30", "1.00"), ("45", "1.50"), ("10", "0.33"), ("20", "0.67"), ("0", "0.00"),
    ("29.99", "1.00"), ("0.15", "0.01"), ("0.14", "0.00"), ("1000", "33.33"), ("55.5", "1.85"),
])
def test_credit_units_to_two_decimals(hours, units):
    assert credit_units(Decimal(hours)) == Decimal(units)
    assert format_hours(credit_units(Decimal(hours))) == units


def test_units_follow_the_configured_rate():
    assert credit_units(Decimal(36), Decimal(36)) == Decimal("1.00")


def test_storage_in_hundredths_is_exact():
    total = sum((parse_hours(x, MAX) for x in ["0.1", "0.2"]), Decimal(0))
    assert total == Decimal("0.30")
    assert to_cents(Decimal("0.29")) == 29 and from_cents(29) == Decimal("0.29")
    assert from_cents(to_cents(Decimal("123.45"))) == Decimal("123.45")
    assert format_hours(Decimal("7.5")) == "7.50" and format_hours(None) == "0.00"


@pytest.mark.parametrize("text, mark", [("", None), ("87.5", Decimal("87.50")),
                                        ("0", Decimal("0.00")), ("100", Decimal("100.00"))])
def test_marks(text, mark):
    assert parse_mark(text, Decimal(100)) == mark


@pytest.mark.parametrize("text, code", [("101", "out_of_range"), ("-1", "out_of_range"),
                                        ("9.999", "too_precise"), ("ten", "not_a_number"),
                                        ("1e100", "not_a_number"), ("NaN", "not_a_number")])
def test_bad_marks(text, code):
    with pytest.raises(HoursError) as err:
        parse_mark(text, Decimal(100))
    assert err.value.code == code
