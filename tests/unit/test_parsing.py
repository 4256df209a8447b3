"""The strict parser for numbers from outside: ASCII digits, bounds that fit the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from lti_tool.parsing import (
    MAX_ID,
    BadNumber,
    NumberError,
    arg_int,
    id_pair,
    ids,
    parse_decimal,
    parse_int,
)

REFUSED_WHOLE = [
    "²",
    "٣",
    "１２",
    "1_000",
    "1e3",
    "99999999999999999999",
    str(MAX_ID + 1),
    "-1",
    "0",
    "",
    "NaN",
    "12abc",
    "1\n",
    "\x00",
    "+5",
    "1.0",
    "9" * 5000,
]


@pytest.mark.parametrize("text", REFUSED_WHOLE)
def test_whole_numbers_refused(text):
    with pytest.raises(NumberError):
        parse_int(text)


@pytest.mark.parametrize(
    "text, number", [("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID), ("007", 7)]
)
def test_whole_numbers_accepted(text, number):
    assert parse_int(text) == number


def test_bounds_are_the_callers():
    assert parse_int("-3", minimum=-5, maximum=5) == -3
    with pytest.raises(NumberError):
        parse_int("6", minimum=-5, maximum=5)


@pytest.mark.parametrize(
    "text",
    [
        "1e100",
        "NaN",
        "Infinity",
        "-Infinity",
        "²",
        "７.５",
        "1.234",
        "1000.01",
        "-1",
        "",
        "1,2,3",
        "9" * 40,
    ],
)
def test_decimals_refused(text):
    with pytest.raises(NumberError):
        parse_decimal(text, minimum=Decimal(0), maximum=Decimal(1000))


@pytest.mark.parametrize(
    "text, number",
    [("7,5", "7.5"), ("7.50", "7.5"), ("1000", "1000"), ("0.01", "0.01"), ("7.500", "7.5")],
)
def test_decimals_accepted(text, number):
    assert parse_decimal(text, minimum=Decimal(0), maximum=Decimal(1000)) == Decimal(number)


def test_query_parameters():
    args = MultiDict({"page": "3", "empty": "", "bad": "²"})
    assert arg_int(args, "page", 1) == 3
    assert arg_int(args, "missing", 1) == 1 and arg_int(args, "empty", 1) == 1
    with pytest.raises(BadNumber) as err:
        arg_int(args, "bad", 1)
    assert err.value.status == 400


def test_lists_and_pairs():
    assert ids(["1", "2"], "user_ids") == [1, 2]
    assert id_pair("5:0", "entry") == (5, 0)
    for bad in (["1", "²"], ["99999999999999999999"]):
        with pytest.raises(BadNumber):
            ids(bad, "user_ids")
    for bad in ("1:²", "²:1", "1", "1:-1"):
        with pytest.raises(BadNumber):
            id_pair(bad, "entry")
