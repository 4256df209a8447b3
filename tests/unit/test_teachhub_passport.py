"""The module passport's mandatory fields (the staff non-formal education rules, 4.5.2) and what is
missing."""

from dataclasses import replace
from decimal import Decimal

from lti_tool.teachhub.passport import FIELDS, PassportData, lines, missing_fields

COMPLETE = PassportData(
    title="Peer review in teaching", curator_department="Medical education",
    facilitator_names=("A. Facilitator",), target_audience="Teaching staff", goal="Peer review",
    competences=("pedagogy",), structure="Intro\nPractice", delivery_formats=("practicum",),
    mandatory_tasks="Mini-project", completion_criteria="All sessions", assessment="Report",
    workload_hours=Decimal(36), duration_days=14, integration=("participant_card",),
    module_format="specialised")


def test_a_complete_passport_misses_nothing():
    assert missing_fields(COMPLETE) == []


def test_every_mandatory_item_of_the_passport_is_checked():
    assert {item for _name, _label, item in FIELDS} >= set(range(1, 11))


def test_missing_fields_are_listed_in_passport_order():
    empty = replace(COMPLETE, facilitator_names=(), goal="  ", workload_hours=Decimal(0),
                    duration_days=None, module_format="")
    assert missing_fields(empty) == ["facilitator_names", "goal", "workload_hours",
                                     "duration_days", "module_format"]


def test_blank_lines_are_not_items():
    assert lines("Intro\n\n  Practice  \r\n") == ["Intro", "Practice"]
