"""A refused form keeps what was typed and ticked, and says why beside the field (issue 11, 4).

Over HTTP, as the people who use each form: launched from the test Moodle, posting what a
browser would. Each case names the form's field that carries the message and the values that
must come back in the page the refusal answers with.
"""

from __future__ import annotations

from contextlib import ExitStack
from html.parser import HTMLParser

import pytest
from teachhub_helpers import (
    PASSPORT,
    card_of,
    launch as teachhub_launch,
    move,
    participant,
    published_module,
    user_id,
)
from test_portfolio_flow import add_entry, entry_version, launch as portfolio_launch


class Fields(HTMLParser):
    """The page's form controls by id (their attributes; `checked` ones listed) and the texts of
    the elements that have an id (field messages)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: dict[str, dict] = {}
        self.texts: dict[str, str] = {}
        self.checked: set[str] = set()
        self.flash_errors = 0
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea", "select") and "id" in attrs:
            self.controls[attrs["id"]] = {**attrs, "_text": ""}
        if tag == "input" and "checked" in attrs and attrs.get("name"):
            self.checked.add(attrs.get("value", ""))
        if "flash" in (attrs.get("class") or "").split() and "error" in attrs.get("class"):
            self.flash_errors += 1
        if tag not in ("input", "br", "img", "meta", "link") and "id" in attrs:
            self._open.append(attrs["id"])
            self.texts[attrs["id"]] = ""
        elif tag not in ("input", "br", "img", "meta", "link"):
            self._open.append("")

    def handle_endtag(self, tag):
        if self._open and tag not in ("input", "br", "img", "meta", "link"):
            self._open.pop()

    def handle_data(self, data):
        for element in self._open:
            if element:
                self.texts[element] += data
                if element in self.controls:
                    self.controls[element]["_text"] += data

    def value(self, control_id: str) -> str:
        """What an input or a textarea shows."""
        control = self.controls[control_id]
        return control["_text"] if "value" not in control else control["value"]


def _teachhub(stack, tool, moodle):
    setup = published_module(tool, moodle, stack)
    learner = participant(tool, moodle, stack, setup)
    return setup, learner, card_of(tool, setup.module_id, learner.user_id).id


def hours(stack, tool, moodle):
    """A participant's self-study hours: "-5" stays "-5", the message under the field."""
    _setup, learner, card = _teachhub(stack, tool, moodle)
    page = learner.post(f"/teachhub/cards/{card}/hours", {"self_study_hours": "-5"})
    return page, "card_hours-self_study_hours", {"card_hours-self_study_hours": "-5"}, set()


def task_with_a_wrong_file(stack, tool, moodle):
    """A task's title and description stay when its file is not an accepted type."""
    from lti_tool.teachhub import evidence

    if not evidence.available():
        pytest.skip("lti_tool.evidence is not installed")
    _setup, learner, card = _teachhub(stack, tool, moodle)
    page = learner.post(
        f"/teachhub/cards/{card}/tasks",
        {"title": "Audit of my course", "description": "Two weeks of work"},
        files={"file": ("audit.exe", b"MZ\x90\x00not a pdf", "application/octet-stream")},
    )
    return (
        page,
        "add_task-file",
        {"add_task-title": "Audit of my course", "add_task-description": "Two weeks of work"},
        set(),
    )


def task_without_a_title(stack, tool, moodle):
    """A task without a title: the date and description typed stay."""
    _setup, learner, card = _teachhub(stack, tool, moodle)
    page = learner.post(
        f"/teachhub/cards/{card}/tasks",
        {"title": " ", "description": "Peer review notes", "completed_on": "2026-01-15"},
    )
    return (
        page,
        "add_task-title",
        {"add_task-description": "Peer review notes", "add_task-completed_on": "2026-01-15"},
        set(),
    )


def mark(stack, tool, moodle):
    """The facilitator's mark "ten" is refused; the comment typed beside it stays."""
    setup, _learner, card = _teachhub(stack, tool, moodle)
    page = setup.facilitator.post(
        f"/teachhub/cards/{card}/mark", {"mark": "ten", "mark_comment": "Solid audit"}
    )
    return (
        page,
        "card_mark-mark",
        {"card_mark-mark": "ten", "card_mark-mark_comment": "Solid audit"},
        set(),
    )


def record(stack, tool, moodle):
    """The coordinator's record dated in the future: date and number stay."""
    setup, _learner, card = _teachhub(stack, tool, moodle)
    page = setup.coordinator.post(
        f"/teachhub/cards/{card}/record",
        {"record_date": "2999-01-01", "record_number": "ИПР-2026/114"},
    )
    return (
        page,
        "card_record-record_date",
        {"card_record-record_date": "2999-01-01", "card_record-record_number": "ИПР-2026/114"},
        set(),
    )


def status_note(stack, tool, moodle):
    """A status move with a note over the limit: the note stays in that move's form."""
    setup, _learner, card = _teachhub(stack, tool, moodle)
    note = "Started. " * 300
    page = setup.facilitator.post(
        f"/teachhub/cards/{card}/status", {"status": "in_progress", "note": note}
    )
    return page, "card_status-in_progress-note", {"card_status-in_progress-note": note}, set()


def new_stream(stack, tool, moodle):
    """A new stream ending before it starts: its name and dates stay on the module page."""
    setup, _learner, _card = _teachhub(stack, tool, moodle)
    page = setup.coordinator.post(
        f"/teachhub/modules/{setup.module_id}/streams",
        {"name": "Autumn", "starts_on": "2026-09-01", "ends_on": "2026-08-01"},
    )
    return (
        page,
        "save_stream-new-ends_on",
        {
            "save_stream-new-name": "Autumn",
            "save_stream-new-starts_on": "2026-09-01",
            "save_stream-new-ends_on": "2026-08-01",
        },
        set(),
    )


def enrol_with_a_stranger(stack, tool, moodle):
    """Enrolment with an id from outside the roster: the people ticked stay ticked."""
    setup = published_module(tool, moodle, stack)
    learners = moodle.add_members(2, 2, "Learner")
    setup.facilitator.post(f"/teachhub/streams/{setup.stream_id}/roster")
    chosen = str(user_id(tool, moodle, learners[0].sub))
    page = setup.facilitator.post(
        f"/teachhub/streams/{setup.stream_id}/enrol", {"user_ids": [chosen, "999999"]}
    )
    return page, "enrol", {}, {chosen}


def feedback(stack, tool, moodle):
    """Feedback without the second answer: the first stays chosen, the comment stays."""
    setup, learner, card = _teachhub(stack, tool, moodle)
    setup.facilitator.post(f"/teachhub/cards/{card}/hours", {"contact_hours": "20"})
    assert move(setup.facilitator, card, "in_progress").status_code == 303
    assert move(setup.facilitator, card, "completed").status_code == 303
    page = learner.post(
        f"/teachhub/cards/{card}/feedback", {"satisfaction": "4", "comment": "Useful peer review"}
    )
    return page, "applicability", {"comment": "Useful peer review"}, {"4"}


def module_card_hours(stack, tool, moodle):
    """A new module card with workload "forty": every text typed and every choice ticked stays."""
    coordinator = teachhub_launch(tool, moodle, stack, "admin")
    sent = {
        **PASSPORT,
        "workload_hours": "forty",
        "facilitators_shown": "1",
        "facilitator_ids": [str(coordinator.user_id)],
    }
    page = coordinator.post("/teachhub/modules/new", sent)
    kept = {
        f"module_form-{name}": sent[name]
        for name in (
            "title",
            "curator_department",
            "goal",
            "structure",
            "workload_hours",
            "duration_days",
        )
    }
    ticked = {*PASSPORT["competences"], *PASSPORT["integration"], str(coordinator.user_id)}
    return page, "module_form-workload_hours", kept, ticked


def module_card_unknown_competence(stack, tool, moodle):
    """A working copy saved with a competence not in the list: the message by the fieldset,
    the texts typed kept."""
    setup = published_module(tool, moodle, stack)
    sent = {
        **PASSPORT,
        "competences": ["pedagogy", "astrology"],
        "goal": "A new goal",
        "revision": "1",
    }
    page = setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/edit", sent)
    return page, "module_form-competences", {"module_form-goal": "A new goal"}, {"pedagogy"}


def portfolio_file_of_a_wrong_type(stack, tool, moodle):
    """A student's evidence file of a wrong type: said beside the file field, no banner."""
    student = portfolio_launch(tool, moodle)
    entry_id = add_entry(student)
    page = student.post(
        f"/portfolio/entries/{entry_id}/evidence",
        files={"file": ("notes.exe", b"MZ\x90\x00not a pdf", "application/octet-stream")},
    )
    return page, "pf-file", {}, set()


def _queue(stack, tool, moodle):
    student = portfolio_launch(tool, moodle)
    entry_id = add_entry(student)
    teacher = portfolio_launch(tool, moodle, "teacher")
    return teacher, f"{entry_id}:{entry_version(tool, entry_id)}"


def queue_return_without_comment(stack, tool, moodle):
    """The tutor's bulk "return" without a comment: the ticks stay, the message at the comment."""
    teacher, ticked = _queue(stack, tool, moodle)
    page = teacher.post("/portfolio/course/queue", {"entry": ticked, "action": "return"})
    return page, "queue-comment", {}, {ticked}


def queue_nothing_ticked(stack, tool, moodle):
    """The tutor's comment stays when no entry was ticked; the message sits by the buttons."""
    teacher, _ticked = _queue(stack, tool, moodle)
    page = teacher.post(
        "/portfolio/course/queue", {"action": "return", "comment": "Attach the diploma"}
    )
    return page, "queue-choice", {"queue-comment": "Attach the diploma"}, set()


CASES = [
    hours,
    task_with_a_wrong_file,
    task_without_a_title,
    mark,
    record,
    status_note,
    new_stream,
    enrol_with_a_stranger,
    feedback,
    module_card_hours,
    module_card_unknown_competence,
    portfolio_file_of_a_wrong_type,
    queue_return_without_comment,
    queue_nothing_ticked,
]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_a_refused_form_keeps_what_was_typed_and_says_why_beside_the_field(tool, moodle, case):
    with ExitStack() as stack:
        page, field_id, kept, ticked = case(stack, tool, moodle)
        assert page.status_code == 400, page.text[:600]
        fields = Fields(page.text)
        # The message is in the element the field names, right after it (not a banner on top).
        message_id = f"{field_id}-error"
        assert fields.texts.get(message_id, "").strip(), (message_id, page.text[:3000])
        if field_id in fields.controls:
            control = fields.controls[field_id]
            assert control.get("aria-invalid") == "true"
            assert message_id in control.get("aria-describedby", "").split()
        # What was typed and ticked is back; no error banner is left over from before.
        for control_id, value in kept.items():
            assert fields.value(control_id) == value, control_id
        assert ticked <= fields.checked
        assert fields.flash_errors == 0
