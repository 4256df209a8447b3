"""Module cards over real launches: drafts, publishing, versions, deep linking, placement."""

from __future__ import annotations

from contextlib import ExitStack

import jwt
import pytest
from lti_platform import parse_forms
from teachhub_helpers import (
    PASSPORT,
    add_stream,
    card_of,
    create_module,
    db,
    launch,
    module,
    participant,
    placement,
    published_module,
)

from lti_tool.teachhub.models import ModuleVersion, Participant, Stream


def test_incomplete_card_stays_a_draft_and_publishing_says_what_is_missing(tool, moodle):
    with ExitStack() as stack:
        coordinator = launch(tool, moodle, stack, "admin")
        module_id = create_module(coordinator, [], title="Draft only",
                                  **{k: "" for k in ("target_audience", "goal")},
                                  competences=[])
        page = coordinator.get(f"/teachhub/modules/{module_id}")
        assert "Still missing before the card can be published" in page.text
        refused = coordinator.post(f"/teachhub/modules/{module_id}/publish", json=True,
                                   follow_redirects=False)
        assert refused.status_code == 409
        body = refused.json()
        assert body["error"] == "incomplete"
        for label in ("Facilitators", "Target audience", "Goal", "Competences formed"):
            assert label in body["message"]
        assert "Workload" not in body["message"]  # filled fields are not listed
        # A browser gets the same reasons on the module page.
        shown = coordinator.post(f"/teachhub/modules/{module_id}/publish")
        assert shown.status_code == 409 and "Missing: Facilitators, Target audience" in shown.text
        assert 'id="refused"' in shown.text  # the module page itself, the reason on top
        assert module(tool, module_id).published_number is None


def test_published_card_is_versioned_and_participants_keep_their_version(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        first = participant(tool, moodle, stack, setup, "51")
        assert PASSPORT["title"] in first.page.text

        # The facilitator edits the working copy; it is not published until a coordinator does.
        edit = {**PASSPORT, "title": "Assessment literacy, second edition"}
        saved = setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/edit", edit)
        assert saved.status_code == 200 and "changes not published" in saved.text
        assert setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/publish",
                                      json=True).status_code == 403
        assert "version 2" in setup.coordinator.post(
            f"/teachhub/modules/{setup.module_id}/publish").text
        again = setup.coordinator.post(f"/teachhub/modules/{setup.module_id}/publish",
                                       json=True)
        assert again.status_code == 409 and again.json()["error"] == "unchanged"

        second = participant(tool, moodle, stack, setup, "52")
        assert "second edition" in second.page.text
        with db(tool) as session:
            versions = {c.user_id: session.get(ModuleVersion, c.version_id).number
                        for c in session.query(Participant).filter_by(module_id=setup.module_id)}
        assert versions == {first.user_id: 1, second.user_id: 2}
        # The first participant still sees the passport they enrolled under.
        page = first.get(f"/teachhub/cards/{card_of(tool, setup.module_id, first.user_id).id}")
        assert PASSPORT["title"] in page.text and "second edition" not in page.text
        old = first.get(f"/teachhub/modules/{setup.module_id}/versions/1")
        assert old.status_code == 200 and PASSPORT["title"] in old.text


@pytest.mark.parametrize("field, value, message", [
    ("workload_hours", "-3", "Hours cannot be negative."),
    ("workload_hours", "1.234", "Hours take at most two decimals"),
    ("workload_hours", "abc", "Hours must be a number"),
    ("workload_hours", "1000.01", "At most 1000 hours."),
    ("duration_days", "0", "A whole number of days from 1 to 730."),
    ("duration_days", "731", "A whole number of days from 1 to 730."),
    ("competences", ["made_up"], "Choose from the list."),
    ("module_format", "cosmic", "Choose from the list."),
])
def test_bad_passport_input_is_refused_and_kept(tool, moodle, field, value, message):
    with ExitStack() as stack:
        coordinator = launch(tool, moodle, stack, "admin")
        page = coordinator.post("/teachhub/modules/new",
                                {**PASSPORT, field: value, "title": "Kept title 42"})
        assert page.status_code == 400
        assert message in page.text
        assert "Kept title 42" in page.text  # the form keeps what was typed
        with db(tool) as session:
            assert not session.query(ModuleVersion).filter_by(title="Kept title 42").count()


def test_only_coordinators_create_cards(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup, "70")
        for person in (setup.facilitator, learner):
            assert person.get("/teachhub/modules/new").status_code == 403
            refused = person.post("/teachhub/modules/new", PASSPORT, json=True)
            assert refused.status_code == 403


def test_stream_dates_must_be_ordered(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        refused = setup.facilitator.post(
            f"/teachhub/modules/{setup.module_id}/streams",
            {"name": "Backwards", "starts_on": "2026-05-10", "ends_on": "2026-05-01"}, json=True)
        assert refused.status_code == 400
        assert "end date cannot be before the start date" in refused.json()["message"]
        bad = setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/streams",
                                     {"name": "X", "starts_on": "10.05.2026",
                                      "ends_on": "2026-06-01"}, json=True)
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["message"]


def _choose(browser, page, **fields):
    form = next(f for f in parse_forms(page.text, page.url) if "csrf_token" in f.fields)
    return browser.post(form.action, data={"csrf_token": form.fields["csrf_token"], **fields})


def test_facilitator_places_a_published_card_and_opening_it_shows_the_card(tool, platform,
                                                                           browser):
    with ExitStack() as stack:
        setup = published_module(tool, platform, stack)
        draft_id = create_module(setup.coordinator, [], title="Unfinished draft card")
        page = browser.launch(platform.plan("teacher", message_type="LtiDeepLinkingRequest"),
                              params={"lti_storage_target": None})
        assert PASSPORT["title"] in page.text
        assert "Unfinished draft card" not in page.text  # drafts cannot be placed
        key = f"teachhub-card-{setup.module_id}"
        assert f'value="{key}"' in page.text
        answer = _choose(browser, page, kind=key, graded="y", score_maximum="100")
        form = parse_forms(answer.text, answer.url)[0]
        accepted = browser.post(form.action, data=form.fields)
        assert accepted.status_code == 200, accepted.text[:400]
        (item,) = platform.deep_link_results
        assert item["custom"] == {"placement": "teachhub", "module_card": str(setup.module_id)}
        assert item["title"] == PASSPORT["title"]
        assert item["lineItem"]["tag"] == "teachhub"
        body = jwt.decode(form.fields["JWT"], options={"verify_signature": False})
        assert body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0][
            "custom"]["module_card"] == str(setup.module_id)
        assert draft_id != setup.module_id

        # A participant opening the placement is registered and sees the card.
        person = launch(tool, platform, stack, "student", custom=item["custom"],
                        resource_link={"id": "placed-1", "title": item["title"]})
        assert "/teachhub/cards/" in person.page.url
        assert "Participant card" in person.page.text and PASSPORT["title"] in person.page.text
        card = card_of(tool, setup.module_id, person.user_id)
        assert card.status == "registered" and card.enrolled_via == "launch"
        # The facilitator opening the same placement lands on the module page.
        staff = launch(tool, platform, stack, "teacher", custom=item["custom"],
                       resource_link={"id": "placed-1", "title": item["title"]})
        assert f"/teachhub/modules/{setup.module_id}" in staff.page.url


def test_registration_happens_once_and_logs_it(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        person = participant(tool, moodle, stack, setup, "60")
        again = launch(tool, moodle, stack, {"role": "student", "id": "60"},
                       **placement(setup.module_id))
        assert again.page.url.split("?")[0] == person.page.url.split("?")[0]
        with db(tool) as session:
            cards = session.query(Participant).filter_by(module_id=setup.module_id).all()
        assert len(cards) == 1
        assert "Registered at the first launch of the module." in again.page.text


def test_placement_of_a_draft_or_without_an_open_stream_says_so(tool, moodle):
    with ExitStack() as stack:
        coordinator = launch(tool, moodle, stack, "admin")
        teacher = launch(tool, moodle, stack, "teacher")
        draft = create_module(coordinator, [teacher.user_id], title="Not yet")
        person = launch(tool, moodle, stack, "student", **placement(draft))
        assert "not published yet" in person.page.text
        assert card_of(tool, draft, person.user_id) is None

        coordinator.post(f"/teachhub/modules/{draft}/publish")
        add_stream(coordinator, draft, "Last year", start=__import__("datetime").date(2024, 1, 1),
                   end=__import__("datetime").date(2024, 2, 1))
        late = launch(tool, moodle, stack, {"role": "student", "id": "61"}, **placement(draft))
        assert "No stream of this module is open for registration" in late.page.text
        assert card_of(tool, draft, late.user_id) is None


def test_placement_registers_into_the_open_stream(tool, moodle):
    from datetime import date, timedelta

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)  # "Spring" is open today
        add_stream(setup.coordinator, setup.module_id, "Autumn",
                   start=date.today() + timedelta(days=60), end=date.today() + timedelta(days=90))
        person = participant(tool, moodle, stack, setup, "62")
        assert card_of(tool, setup.module_id, person.user_id).stream_id == setup.stream_id


def test_a_guest_role_opening_the_placement_is_not_registered(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        observer = {"role": "student", "id": "63",
                    "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Observer"]}
        person = launch(tool, moodle, stack, observer, **placement(setup.module_id))
        assert "only its learners take part" in person.page.text
        assert card_of(tool, setup.module_id, person.user_id) is None


def test_an_archived_card_takes_no_one_new_but_keeps_its_people(tool, platform, browser):
    with ExitStack() as stack:
        setup = published_module(tool, platform, stack, title="Archived after one cohort")
        member = participant(tool, platform, stack, setup, "64")
        key = f'value="teachhub-card-{setup.module_id}"'

        # Only a coordinator archives; a facilitator is told so.
        refused = setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/archive",
                                         {"archived": "1"}, json=True)
        assert refused.status_code == 403
        archived = setup.coordinator.post(f"/teachhub/modules/{setup.module_id}/archive",
                                          {"archived": "1"})
        assert "The module is archived: it takes no new participants." in archived.text
        assert 'data-state="archived"' in archived.text and module(
            tool, setup.module_id).archived_at is not None

        # Not offered for placement, not published again, no enrolment, no registration.
        picker = browser.launch(platform.plan("teacher", message_type="LtiDeepLinkingRequest"),
                                params={"lti_storage_target": None})
        assert key not in picker.text
        again = setup.coordinator.post(f"/teachhub/modules/{setup.module_id}/publish",
                                       json=True)
        assert again.status_code == 409 and again.json()["error"] == "archived"
        newcomer = launch(tool, platform, stack, {"role": "student", "id": "65"},
                          **placement(setup.module_id))
        assert "This module is archived and takes no new participants" in newcomer.page.text
        assert card_of(tool, setup.module_id, newcomer.user_id) is None

        # The people on it keep their cards, and see them.
        back = launch(tool, platform, stack, {"role": "student", "id": "64"},
                      **placement(setup.module_id))
        assert back.page.url.split("?")[0] == member.page.url.split("?")[0]

        # Brought back: placeable and open again.
        restored = setup.coordinator.post(f"/teachhub/modules/{setup.module_id}/archive",
                                          {"archived": "0"})
        assert "The module is back from the archive." in restored.text
        picker = browser.launch(platform.plan("teacher", message_type="LtiDeepLinkingRequest"),
                                params={"lti_storage_target": None})
        assert key in picker.text
        late = launch(tool, platform, stack, {"role": "student", "id": "66"},
                      **placement(setup.module_id))
        assert card_of(tool, setup.module_id, late.user_id) is not None


def test_only_an_empty_stream_can_be_deleted(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        participant(tool, moodle, stack, setup, "67")
        typo = add_stream(setup.facilitator, setup.module_id, "Sprnig (typo)")
        path = f"/teachhub/modules/{setup.module_id}/streams"

        busy = setup.facilitator.post(f"{path}/{setup.stream_id}/delete", json=True)
        assert busy.status_code == 409 and busy.json()["error"] == "stream_in_use"
        assert "People in this stream: 1." in busy.json()["message"]
        page = setup.facilitator.post(f"{path}/{setup.stream_id}/delete")
        assert "It cannot be deleted" in page.text  # said on the module page

        gone = setup.facilitator.post(f"{path}/{typo}/delete")
        assert "Stream deleted." in gone.text and "Sprnig (typo)" not in gone.text
        with db(tool) as session:
            assert {s.id for s in session.query(Stream).filter_by(
                module_id=setup.module_id)} == {setup.stream_id}
        # Another module's stream, or a participant, cannot delete anything.
        assert setup.facilitator.post(f"/teachhub/modules/{setup.module_id}/streams/999999/delete",
                                      json=True).status_code == 404
