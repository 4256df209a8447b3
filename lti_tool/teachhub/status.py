"""The participant card's status rules (the staff non-formal education rules, 4.5.4): pure, no
database, no Flask.

registered -> in progress -> completed -> submitted for recognition -> recognized, one step at a
time, forward only. The facilitator moves a card into progress and to completion; the coordinator
submits it for recognition and records the commission's decision (the staff non-formal education
rules, 7.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

REGISTERED, IN_PROGRESS, COMPLETED, SUBMITTED, RECOGNIZED = (
    "registered", "in_progress", "completed", "submitted", "recognized")
STATUSES = (REGISTERED, IN_PROGRESS, COMPLETED, SUBMITTED, RECOGNIZED)

FACILITATOR, COORDINATOR = "facilitator", "coordinator"

# target -> (the only status it is reached from, the role that may make the move)
MOVES: dict[str, tuple[str, str]] = {
    IN_PROGRESS: (REGISTERED, FACILITATOR),
    COMPLETED: (IN_PROGRESS, FACILITATOR),
    SUBMITTED: (COMPLETED, COORDINATOR),
    RECOGNIZED: (SUBMITTED, COORDINATOR),
}

# The HR list's words for the same facts (the staff non-formal education rules, 7.2 (5)):
# implemented / submitted / recognized.
REPORTED = (COMPLETED, SUBMITTED, RECOGNIZED)
# Once submitted, the card went to the commission: its hours and tasks no longer change.
LOCKED = (SUBMITTED, RECOGNIZED)


@dataclass(frozen=True)
class Refusal:
    """Why a move is refused: a stable code and a translated message."""

    code: str
    message: str


def next_status(status: str) -> str | None:
    """The status after `status`, None at the end (or for an unknown status)."""
    if status not in STATUSES or status == RECOGNIZED:
        return None
    return STATUSES[STATUSES.index(status) + 1]


def required_role(target: str) -> str | None:
    """The role that moves a card into `target`, None for an unknown or first status."""
    move = MOVES.get(target)
    return move[1] if move else None


def check_move(current: str, target: str, roles: frozenset[str] | set[str]) -> Refusal | None:
    """None when someone with `roles` may move a card from `current` to `target`; else why not."""
    if target not in STATUSES:
        return Refusal("unknown_status", _l("Unknown status: %(status)s.", status=target))
    if current not in STATUSES:
        return Refusal("unknown_status", _l("The card has an unknown status: %(status)s.",
                                            status=current))
    if target == current:
        return Refusal("same_status", _l("The card already has this status."))
    if current == RECOGNIZED:
        return Refusal("final", _l("The card is recognized: its status no longer changes."))
    if STATUSES.index(target) < STATUSES.index(current):
        return Refusal("backwards", _l("A status only moves forward."))
    source, role = MOVES[target]
    if source != current:
        return Refusal("skipped", _l(
            "Statuses move one step at a time: the next step for this card is the one after "
            "its current status."))
    if role not in roles:
        if role == FACILITATOR:
            return Refusal("not_your_role", _l(
                "Only a facilitator of this module moves a card into progress or to completion."))
        return Refusal("not_your_role", _l(
            "Only a TeachHub coordinator submits a card for recognition or records recognition."))
    return None


def allowed_targets(current: str, roles: frozenset[str] | set[str]) -> list[str]:
    """The statuses someone with `roles` may move a card to now (at most one)."""
    target = next_status(current)
    return [target] if target and check_move(current, target, roles) is None else []
