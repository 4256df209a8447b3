"""The coordinator's to-do over HTTP: incomplete passports, cards to verify, to submit and at
the commission, streams of this month, parked scores; each line links to where it is done, and
only coordinators open it."""

from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import timedelta

from teachhub_helpers import (
    add_stream,
    card_of,
    create_module,
    db,
    launch,
    move,
    participant,
    published_module,
    today,
    tool_platform_id,
)

from lti_tool.gradebook.models import ScoreOutbox


def _count(page, key: str) -> int:
    return int(re.search(rf'data-count="{key}">(\d+)<', page.text).group(1))


def _section(page, key: str) -> str:
    return page.text.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]


def test_the_todo_lists_what_waits_and_links_to_where_it_is_done(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        coordinator, facilitator = setup.coordinator, setup.facilitator
        people = [
            participant(tool, moodle, stack, setup, str(400 + i), name)
            for i, name in enumerate(("Asel", "Bolat", "Dana", "Erlan"))
        ]
        cards = [card_of(tool, setup.module_id, p.user_id).id for p in people]
        for card in cards[:3]:  # Erlan stays registered: nothing for the coordinator
            facilitator.post(
                f"/teachhub/cards/{card}/hours", {"contact_hours": "10", "self_study_hours": "5"}
            )
            assert move(facilitator, card, "in_progress").status_code == 303
            assert move(facilitator, card, "completed").status_code == 303
        # Bolat verified (ready to submit); Dana verified and submitted (at the commission).
        for card in cards[1:3]:
            assert coordinator.post(f"/teachhub/cards/{card}/verify").status_code == 200
        assert move(coordinator, cards[2], "submitted").status_code == 303
        draft = create_module(coordinator, [], title="Draft without a goal", goal="")
        this_month = today().replace(day=1)
        # The setup's stream, open today, neither starts nor ends this month (whatever the day):
        # from the first of last month to 40 days ahead.
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        spring = coordinator.post(
            f"/teachhub/modules/{setup.module_id}/streams/{setup.stream_id}",
            {
                "name": "Spring",
                "starts_on": last_month.isoformat(),
                "ends_on": (today() + timedelta(days=40)).isoformat(),
            },
        )
        assert spring.status_code == 200, spring.text[:600]
        add_stream(coordinator, setup.module_id, "December cohort", this_month, this_month)
        with db(tool) as session:
            session.add(
                ScoreOutbox(
                    platform_id=tool_platform_id(tool, moodle),
                    user_id=people[0].user_id,
                    user_sub="x",
                    score_given=1.0,
                    score_maximum=1.0,
                    activity_progress="Completed",
                    grading_progress="FullyGraded",
                    source=f"teachhub:{cards[0]}",
                    status="parked",
                    last_error="HTTP 422 from the LMS",
                )
            )
            session.commit()

        home = coordinator.get("/teachhub/")
        assert "/teachhub/todo?" in home.text  # in the coordinator's menu
        page = coordinator.get("/teachhub/todo")
        assert page.status_code == 200
        assert [
            _count(page, k)
            for k in ("passports", "to-verify", "to-submit", "at-commission", "streams", "parked")
        ] == [1, 1, 1, 1, 1, 1]
        assert f"/teachhub/modules/{draft}/edit" in _section(page, "passports")
        assert "Goal" in _section(page, "passports")
        for key, card, name in (
            ("to-verify", cards[0], "Asel"),
            ("to-submit", cards[1], "Bolat"),
            ("at-commission", cards[2], "Dana"),
        ):
            section = _section(page, key)
            assert f"/teachhub/cards/{card}?" in section and name in section, key
            assert "Erlan" not in section
        assert "December cohort" in _section(page, "streams")
        parked = _section(page, "parked")
        assert f"/teachhub/cards/{cards[0]}?" in parked and "HTTP 422" in parked

        # Done from where the links lead: the list shrinks.
        assert coordinator.post(f"/teachhub/cards/{cards[0]}/verify").status_code == 200
        after = coordinator.get("/teachhub/todo")
        assert (_count(after, "to-verify"), _count(after, "to-submit")) == (0, 2)

        ru = coordinator.get("/teachhub/todo", headers={"Accept-Language": "ru"})
        assert ru.status_code == 200

        for person in (facilitator, people[0]):
            assert person.get("/teachhub/todo").status_code == 403
            assert "/teachhub/todo?" not in person.get("/teachhub/").text


def test_a_coordinator_of_another_platform_sees_none_of_it(tool, moodle, canvas):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        create_module(setup.coordinator, [], title="Moodle draft", goal="")
        other = launch(tool, canvas, stack, "admin")
        page = other.get("/teachhub/todo")
        assert page.status_code == 200
        assert "Moodle draft" not in page.text and _count(page, "passports") == 0
