"""Feedback aggregates (shown from five answers, never in answer order) and HR filters."""

from datetime import date
from decimal import Decimal

import pytest

from lti_tool.teachhub.errors import InputError
from lti_tool.teachhub.reports import HRFilters, parse_hr_filters, summarise


def test_fewer_answers_than_the_minimum_show_nothing():
    summary = summarise([(5, 4, 2), (3, 3, 2)], 5, ["secret comment"])
    assert not summary.shown and summary.answers == 4
    assert summary.satisfaction is None and summary.comments == ()


def test_aggregates_from_the_minimum_on():
    summary = summarise([(5, 4, 2), (3, 5, 2), (1, 1, 1)], 5, ["b", "", "a"])
    assert summary.shown and summary.answers == 5
    assert summary.satisfaction == Decimal("3.40")  # (10 + 6 + 1) / 5
    assert summary.applicability == Decimal("3.80")  # (8 + 10 + 1) / 5
    assert summary.satisfaction_counts == {1: 1, 2: 0, 3: 2, 4: 0, 5: 2}
    assert summary.comments == ("a", "b")  # sorted: no order to match to people


def test_hr_filters():
    assert parse_hr_filters({}) == HRFilters()
    filters = parse_hr_filters({"from": "2026-01-01", "to": "2026-06-30", "department": "Surgery"})
    assert filters == HRFilters(date(2026, 1, 1), date(2026, 6, 30), "Surgery")
    assert filters.as_args() == {"from": "2026-01-01", "to": "2026-06-30", "department": "Surgery"}
    assert parse_hr_filters({"department": "-"}).department == ""  # "not given"
    assert parse_hr_filters({"department": ""}).department is None  # every department
    with pytest.raises(InputError):
        parse_hr_filters({"from": "2026-06-30", "to": "2026-01-01"})
    with pytest.raises(InputError):
        parse_hr_filters({"from": "30.06.2026"})
