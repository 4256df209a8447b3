"""The participant card's status rules (the staff non-formal education rules, 4.5.4): one step
forward, each by its role."""

import pytest

from lti_tool.teachhub.status import (
    COORDINATOR,
    FACILITATOR,
    STATUSES,
    allowed_targets,
    check_move,
    next_status,
)

BOTH = {FACILITATOR, COORDINATOR}


@pytest.mark.parametrize("current, target, role", [
    ("registered", "in_progress", FACILITATOR),
    ("in_progress", "completed", FACILITATOR),
    ("completed", "submitted", COORDINATOR),
    ("submitted", "recognized", COORDINATOR),
])
def test_each_step_belongs_to_one_role(current, target, role):
    assert check_move(current, target, {role}) is None
    other = COORDINATOR if role == FACILITATOR else FACILITATOR
    assert check_move(current, target, {other}).code == "not_your_role"
    assert check_move(current, target, set()).code == "not_your_role"
    assert check_move(current, target, BOTH) is None  # a coordinator who also facilitates


@pytest.mark.parametrize("current, target, code", [
    ("registered", "completed", "skipped"),
    ("registered", "recognized", "skipped"),
    ("in_progress", "submitted", "skipped"),
    ("completed", "recognized", "skipped"),
    ("completed", "in_progress", "backwards"),
    ("submitted", "registered", "backwards"),
    ("recognized", "submitted", "final"),
    ("recognized", "recognized", "same_status"),
    ("in_progress", "in_progress", "same_status"),
    ("registered", "done", "unknown_status"),
    ("registered", "", "unknown_status"),
    ("finished", "completed", "unknown_status"),
])
def test_refused_moves_say_why(current, target, code):
    refusal = check_move(current, target, BOTH)
    assert refusal is not None and refusal.code == code
    assert str(refusal.message)  # a translated reason for the person


def test_the_path_and_what_each_role_may_do_next():
    assert [next_status(s) for s in STATUSES] == [
        "in_progress", "completed", "submitted", "recognized", None]
    assert allowed_targets("registered", {FACILITATOR}) == ["in_progress"]
    assert allowed_targets("registered", {COORDINATOR}) == []
    assert allowed_targets("completed", {COORDINATOR}) == ["submitted"]
    assert allowed_targets("recognized", BOTH) == []
    assert next_status("nonsense") is None
