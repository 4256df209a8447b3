"""Numbers from outside (finding 5 of issue 10), over real HTTP: each value that answered 500
now gets a 400 page (translated; JSON when asked) or the form again with the field's message."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from teachhub_helpers import PASSPORT, card_of, launch, participant, published_module

UNICODE_DIGIT = "²"
HUGE = "99999999999999999999"


def test_page_stream_ids_and_years_are_400s(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        participant(tool, moodle, stack, setup)  # the module has a participant
        coord, fac = setup.coordinator, setup.facilitator
        json = {"Accept": "application/json"}
        for path in (
            f"/teachhub/hr?page={UNICODE_DIGIT}",
            f"/teachhub/hr?page={HUGE}",
            f"/teachhub/modules/{setup.module_id}/report?stream={UNICODE_DIGIT}",
            f"/portfolio/all?page={HUGE}",
            f"/portfolio/all?page={UNICODE_DIGIT}",
            f"/portfolio/course?year={HUGE}",
        ):
            answer = coord.get(path, headers=json)
            assert answer.status_code == 400, (path, answer.text[:300])
            assert answer.json()["error"] == "bad_number"
        # <int:...> past the id column: a 404, not an overflow.
        assert coord.get(f"/teachhub/cards/{HUGE}").status_code == 404
        assert coord.get(f"/portfolio/entries/{HUGE}").status_code == 404
        # Forms' id lists and the coordinators' person.
        for path, data in (
            (f"/teachhub/streams/{setup.stream_id}/enrol", {"user_ids": ["1", UNICODE_DIGIT]}),
            ("/teachhub/coordinators", {"user_id": UNICODE_DIGIT}),
            (
                f"/teachhub/modules/{setup.module_id}/edit",
                {
                    **PASSPORT,
                    "facilitators_shown": "1",
                    "facilitator_ids": [str(fac.user_id), HUGE],
                },
            ),
        ):
            answer = coord.post(path, data, json=True)
            assert answer.status_code == 400, (path, answer.text[:300])


def test_the_400_page_is_in_the_readers_language(tool, moodle):
    with ExitStack() as stack:
        admin = launch(tool, moodle, stack, "admin", locale="ru")
        answer = admin.get(f"/teachhub/hr?page={UNICODE_DIGIT}")
        assert answer.status_code == 400 and "Число в запросе недопустимо." in answer.text


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("workload_hours", "1e100", "Hours must be a number, e.g. 12 or 7.5."),
        ("workload_hours", "１２", "Hours must be a number, e.g. 12 or 7.5."),
        ("duration_days", UNICODE_DIGIT, "A whole number of days from 1 to 730."),
        ("duration_days", HUGE, "A whole number of days from 1 to 730."),
    ],
)
def test_module_form_comes_back_with_the_message(tool, moodle, field, value, message):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        answer = setup.coordinator.post(
            f"/teachhub/modules/{setup.module_id}/edit", {**PASSPORT, field: value}
        )
        assert answer.status_code == 400 and message in answer.text
        assert value in answer.text  # what was typed is kept


@pytest.mark.parametrize("value", ["1e100", UNICODE_DIGIT, HUGE, "Infinity"])
def test_card_hours_and_mark_are_refused_with_the_message(tool, moodle, value):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        refused = setup.facilitator.post(
            f"/teachhub/cards/{card_id}/hours",
            {"contact_hours": value, "self_study_hours": "1"},
            json=True,
        )
        assert refused.status_code == 400, refused.text[:300]
        assert (
            "Hours must be a number" in refused.json()["message"]
            or "At most" in refused.json()["message"]
        )
        refused = setup.facilitator.post(f"/teachhub/cards/{card_id}/mark", {"mark": value})
        # The card page answers 400 with the message beside the field and the value kept.
        assert refused.status_code == 400 and "The mark must be" in refused.text
        assert 'id="card_mark-mark-error"' in refused.text
