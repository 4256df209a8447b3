"""The rules of staff learning records (the staff non-formal education rules, 4.1-4.4, 6.2, 7.1):
pure, no database.

Statuses (6.2): implemented -> submitted for recognition -> recognized, or returned with the
reason (the participant corrects and submits again); a recognition the commission withdraws
is revoked. Each move belongs to one role:

- the participant records and submits their own activity;
- the head of department or clinical base endorses ("визалау") before submission where 3.2
  item 7 requires it (self-education, internships and job shadowing);
- the methodological expert gives a readiness opinion on a submitted activity: it does not
  decide (7.1 item 3) and moves no status;
- the commission's secretary records recognition (decision date and number, recognised
  hours), returns an activity with the reason, or revokes a recognition.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

IMPLEMENTED, SUBMITTED, RECOGNIZED, RETURNED, REVOKED = (
    "implemented",
    "submitted",
    "recognized",
    "returned",
    "revoked",
)
STATUSES = (IMPLEMENTED, SUBMITTED, RETURNED, RECOGNIZED, REVOKED)
# The participant may still change the record (and its evidence).
EDITABLE = (IMPLEMENTED, RETURNED)

# The forms of 4.1-4.4 (TeachHub modules, 4.5, are the fifth, read from TeachHub's tables).
SELF_EDUCATION, INTERNAL_EVENT, ONLINE, INTERNSHIP = (
    "self_education",
    "internal_event",
    "online",
    "internship",
)
FORMS = (SELF_EDUCATION, INTERNAL_EVENT, ONLINE, INTERNSHIP)
TEACHHUB = "teachhub"  # the form of a TeachHub module card in the consolidated list
# 3.2 item 7: a structured plan, a mentor and the head's endorsement.
NEEDS_ENDORSEMENT = frozenset({SELF_EDUCATION, INTERNSHIP})

# Kinds of evidence (5.4, and 4.1-4.4 "confirmation of results").
EVIDENCE_KINDS = (
    "certificate",
    "transcript",
    "activity_log",
    "report",
    "reading_list",
    "product",
    "programme",
    "participant_list",
    "individual_plan",
    "mentor_appointment",
    "mentor_review",
    "intern_report",
)
ACCEPTED_EVIDENCE: dict[str, tuple[str, ...]] = {
    SELF_EDUCATION: ("certificate", "activity_log", "report", "reading_list", "product"),
    INTERNAL_EVENT: ("programme", "participant_list", "certificate", "report", "product"),
    ONLINE: ("certificate", "transcript", "activity_log", "report", "product"),
    INTERNSHIP: (
        "individual_plan",
        "mentor_appointment",
        "mentor_review",
        "intern_report",
        "product",
    ),
}

PARTICIPANT, HEAD, EXPERT, SECRETARY, HR = "participant", "head", "expert", "secretary", "hr"
NAMED_ROLES = (HEAD, EXPERT, SECRETARY, HR)

SUBMIT, ENDORSE, OPINION, RECOGNIZE, RETURN, REVOKE = (
    "submit",
    "endorse",
    "opinion",
    "recognize",
    "return",
    "revoke",
)
ACTIONS = ("record", "edit", "evidence", SUBMIT, ENDORSE, OPINION, RECOGNIZE, RETURN, REVOKE)

# action -> (the statuses it is taken from, the role that takes it, the status it leads to;
# None: the status stays)
MOVES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    SUBMIT: (EDITABLE, PARTICIPANT, SUBMITTED),
    ENDORSE: (EDITABLE, HEAD, None),
    OPINION: ((SUBMITTED,), EXPERT, None),
    RECOGNIZE: ((SUBMITTED,), SECRETARY, RECOGNIZED),
    RETURN: ((SUBMITTED,), SECRETARY, RETURNED),
    REVOKE: ((RECOGNIZED,), SECRETARY, REVOKED),
}

ROLE_REFUSALS = {
    PARTICIPANT: _l("Only the participant submits their own activity."),
    HEAD: _l("Only the head of the participant's department or clinical base endorses it."),
    EXPERT: _l("Only a methodological expert gives the readiness opinion."),
    SECRETARY: _l("Only the commission's secretary records, returns or revokes recognition."),
}


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: a stable code and a translated message."""

    code: str
    message: object


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of an activity besides its status."""

    form: str
    endorsed: bool
    evidence: int  # how many files


def check(
    action: str, status: str, roles: frozenset[str] | set[str], facts: Facts
) -> Refusal | None:
    """None when someone holding `roles` may take `action` on an activity now; else why not."""
    if action not in MOVES:
        return Refusal("unknown_action", _l("Unknown action."))
    sources, role, _target = MOVES[action]
    if role not in roles:
        return Refusal("not_your_role", ROLE_REFUSALS[role])
    if status not in sources:
        if status == RECOGNIZED:
            return Refusal(
                "final",
                _l("The activity is recognized: only the commission's secretary may revoke it."),
            )
        if status == REVOKED:
            return Refusal("final", _l("The recognition was revoked: the record is closed."))
        if status == SUBMITTED:
            return Refusal(
                "submitted", _l("The activity is with the commission: it waits for its decision.")
            )
        return Refusal("not_submitted", _l("The activity has not been submitted for recognition."))
    if action == SUBMIT:
        if facts.evidence == 0:
            return Refusal(
                "no_evidence",
                _l(
                    "Attach at least one evidence file before submitting"
                    " (the staff non-formal education rules, 5.2)."
                ),
            )
        if facts.form in NEEDS_ENDORSEMENT and not facts.endorsed:
            return Refusal(
                "not_endorsed",
                _l(
                    "The head of department or clinical base endorses this form of activity "
                    "before it is submitted (the staff non-formal education rules, 3.2 item 7)."
                ),
            )
    if action == ENDORSE and facts.endorsed:
        return Refusal("already_endorsed", _l("The activity is already endorsed."))
    return None


def allowed(status: str, roles: frozenset[str] | set[str], facts: Facts) -> list[str]:
    """The actions someone holding `roles` may take now."""
    return [a for a in MOVES if check(a, status, roles, facts) is None]
