"""Search instead of long lists (issue 12): picking coordinators and enrolling participants
among many people, and the HR list, searched and paged on the server."""

from __future__ import annotations

import re
from contextlib import ExitStack

from sqlalchemy import select
from teachhub_helpers import (
    PASSPORT,
    add_stream,
    db,
    launch,
    published_module,
    tool_platform_id,
)
from test_teachhub_reports import _hr_fixture

from lti_tool.lti.models import Membership, User
from lti_tool.teachhub.models import Coordinator, ModuleFacilitator, Participant


def _people(tool, platform, course_of, n: int, role: str, prefix: str) -> list[int]:
    """`n` people with Kazakh names in the course of `course_of` (a launched person)."""
    with db(tool) as session:
        context_id = session.scalars(
            select(Membership.context_id).where(Membership.user_id == course_of.user_id)
        ).first()
        ids = []
        for i in range(n):
            user = User(
                platform_id=tool_platform_id(tool, platform),
                sub=f"{prefix}{i}",
                given_name=f"Әлия{i:02d}",
                family_name="Серікова" if i % 2 else "Ким",
                email=f"{prefix}{i}@example.edu",
            )
            session.add(user)
            session.flush()
            session.add(Membership(user_id=user.id, context_id=context_id, role=role))
            ids.append(user.id)
        session.commit()
        return ids


def _listed(page, list_id: str) -> list[str]:
    block = page.text.split(f'id="{list_id}"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<span>([^<]+)</span>", block)


def test_coordinators_are_picked_by_search_among_many_staff(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        admin = setup.coordinator
        _people(tool, moodle, setup.facilitator, 60, "instructor", "staff")
        first = admin.get("/teachhub/coordinators")
        assert first.status_code == 200
        assert len(_listed(first, "candidates")) == 25  # one page, not 60 options
        assert "Page 1 of 3" in first.text
        found = admin.get("/teachhub/coordinators?q=серік")
        names = _listed(found, "candidates")
        assert names and all("Серікова" in n for n in names) and len(names) == 25
        narrowed = admin.get("/teachhub/coordinators?q=ӘЛИЯ07+серік")
        assert _listed(narrowed, "candidates") == ["Әлия07 Серікова"]
        last = admin.get("/teachhub/coordinators?q=серік&page=2")
        assert len(_listed(last, "candidates")) == 5 and "Page 2 of 2" in last.text
        assert "Nobody matches the search." in admin.get("/teachhub/coordinators?q=zzz").text
        person = re.search(r'name="user_id" value="(\d+)"', narrowed.text).group(1)
        named = admin.post("/teachhub/coordinators", {"user_id": person})
        assert "Named a coordinator." in named.text
        with db(tool) as session:
            assert session.scalars(
                select(Coordinator.user_id).where(Coordinator.user_id == int(person))
            ).first()
        assert admin.get("/teachhub/coordinators?page=0").status_code == 400


def test_enrolment_searches_and_pages_the_course(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        ids = _people(tool, moodle, setup.facilitator, 40, "learner", "learner")
        path = f"/teachhub/streams/{setup.stream_id}/enrol"
        page = setup.facilitator.get(path)
        assert page.status_code == 200 and "Page 1 of 2" in page.text
        found = setup.facilitator.get(f"{path}?q=әлия03")
        assert "Әлия03 Серікова" in found.text and "Әлия04" not in found.text
        enrolled = setup.facilitator.post(path, {"user_ids": [str(ids[3])]})
        assert enrolled.status_code == 200
        with db(tool) as session:
            assert session.scalars(
                select(Participant.user_id).where(Participant.stream_id == setup.stream_id)
            ).all() == [ids[3]]
        again = setup.facilitator.get(f"{path}?q=әлия03")
        assert re.search(rf'value="{ids[3]}" disabled checked', again.text)


def test_hr_list_search_by_name_keeps_the_other_filters_and_the_exports(tool, moodle):
    with ExitStack() as stack:
        setup, _a, _b, _c, _ids = _hr_fixture(tool, moodle, stack)
        page = setup.coordinator.get("/teachhub/hr?q=asel")
        assert "Asel N300" in page.text and "Bolat N301" not in page.text
        assert 'value="asel"' in page.text
        total = page.text.split('data-department="all"')[1].split("</tr>")[0]
        assert "45.50" in total  # the totals follow the search
        exported = setup.coordinator.get("/teachhub/hr.csv?q=BOLAT").content.decode("utf-8-sig")
        assert "Bolat N301" in exported and "Asel N300" not in exported
        assert "Asel" not in setup.coordinator.get("/teachhub/hr?q=asel&department=Pediatrics").text


def test_module_participants_are_searched_filtered_and_paged(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        ids = _people(tool, moodle, setup.facilitator, 30, "learner", "member")
        enrolled = setup.facilitator.post(
            f"/teachhub/streams/{setup.stream_id}/enrol", {"all_learners": "1"}
        )
        assert enrolled.status_code == 200
        module_page = setup.facilitator.get(f"/teachhub/modules/{setup.module_id}")
        assert module_page.text.count("/teachhub/cards/") == 20  # the first 20, then a link
        assert f"/teachhub/modules/{setup.module_id}/participants?" in module_page.text
        path = f"/teachhub/modules/{setup.module_id}/participants"
        everyone = setup.facilitator.get(path)
        assert "People found: 30" in everyone.text, re.search(r"People found: \d+", everyone.text)
        assert "Page 1 of 2" in everyone.text
        found = setup.facilitator.get(f"{path}?q=әлия05")
        assert "Әлия05 Серікова" in found.text and "Әлия06" not in found.text
        assert "People found: 1" in found.text
        by_status = setup.facilitator.get(f"{path}?status=recognized")
        assert "People found: 0" in by_status.text
        for bad in ("status=lost", "stream=999999", "page=x"):
            assert setup.facilitator.get(f"{path}?{bad}").status_code == 400, bad
        learner = launch(tool, moodle, stack, "student")
        assert learner.get(path).status_code == 403
        assert len(ids) == 30


def test_facilitators_are_picked_by_search_and_the_typed_form_is_kept(tool, moodle, canvas):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        coordinator, module_id = setup.coordinator, setup.module_id
        staff = _people(tool, moodle, setup.facilitator, 30, "instructor", "fac")
        learners = _people(tool, moodle, setup.facilitator, 2, "learner", "notstaff")
        elsewhere = launch(tool, canvas, stack, "teacher")  # staff, but of another platform
        form_path = f"/teachhub/modules/{module_id}/edit"
        form = coordinator.get(form_path)
        assert 'id="choose-facilitator"' in form.text
        assert "Әлия" not in form.text  # no long list of every candidate in the form
        # The typed text goes with the "Choose a facilitator" button: saved as a draft first.
        typed = {
            **PASSPORT,
            "goal": "Жаңа мақсат: бағалау сауаттылығы",
            "facilitators_shown": "1",
            "facilitator_ids": [str(setup.facilitator.user_id)],
            "pick": "1",
        }
        picker = coordinator.post(form_path, typed)
        assert picker.status_code == 200 and f"/modules/{module_id}/facilitators" in picker.url
        path = f"/teachhub/modules/{module_id}/facilitators"
        assert len(_listed(picker, "candidates")) == 25 and "Page 1 of 2" in picker.text
        found = coordinator.get(f"{path}?q=СЕРІК")  # a part of the name, another case
        names = _listed(found, "candidates")
        assert len(names) == 15 and all("Серікова" in n for n in names)
        second = coordinator.get(f"{path}?page=2")
        assert len(_listed(second, "candidates")) == 5 + 1  # 30 + the coordinator, 25 a page
        assert coordinator.get(f"{path}?page=x").status_code == 400
        one = coordinator.get(f"{path}?q=әлия07+серік")
        assert _listed(one, "candidates") == ["Әлия07 Серікова"]
        # The same search as JSON, for the form's inline search (static/js/facilitator_search.js).
        as_json = coordinator.get(f"{path}?q=әлия07+серік", headers={"Accept": "application/json"})
        assert as_json.json()["people"] == [
            {"id": staff[7], "name": "Әлия07 Серікова", "email": "fac7@example.edu"}
        ]
        assert "Nobody matches the search." in coordinator.get(f"{path}?q=zzz").text
        chosen = coordinator.post(path, {"user_id": str(staff[7])})
        assert chosen.status_code == 200 and chosen.url.split("?")[0].endswith(form_path)
        assert "Жаңа мақсат: бағалау сауаттылығы" in chosen.text  # nothing typed was lost
        assert re.search(rf'value="{staff[7]}" checked', chosen.text)
        assert re.search(rf'value="{setup.facilitator.user_id}" checked', chosen.text)
        with db(tool) as session:
            assert set(
                session.scalars(
                    select(ModuleFacilitator.user_id).where(
                        ModuleFacilitator.module_id == module_id
                    )
                )
            ) == {setup.facilitator.user_id, staff[7]}
        named = coordinator.get(f"{path}?q=әлия07")  # named already: listed above, not offered
        assert "Nobody matches the search." in named.text and "Әлия07 Серікова" in named.text
        for outsider in (learners[0], elsewhere.user_id):
            refused = coordinator.post(path, {"user_id": str(outsider)})
            assert refused.status_code == 400, outsider
            assert "Only staff of this platform" in refused.text
        assert coordinator.post(path, {"user_id": "x"}).status_code == 400
        stale = coordinator.post(path, {"user_id": str(staff[8]), "revision": "0"})
        assert stale.status_code == 409
        assert setup.facilitator.get(path).status_code == 403  # coordinators choose
        with db(tool) as session:
            assert set(
                session.scalars(
                    select(ModuleFacilitator.user_id).where(
                        ModuleFacilitator.module_id == module_id
                    )
                )
            ) == {setup.facilitator.user_id, staff[7]}


def test_a_new_card_is_saved_as_a_draft_before_picking(tool, moodle):
    with ExitStack() as stack:
        coordinator = launch(tool, moodle, stack, "admin")
        picker = coordinator.post(
            "/teachhub/modules/new",
            {"title": "Менторлық негіздері", "facilitators_shown": "1", "pick": "1"},
        )
        assert picker.status_code == 200
        module_id = int(re.search(r"/teachhub/modules/(\d+)/facilitators", picker.url).group(1))
        back = coordinator.get(f"/teachhub/modules/{module_id}/edit")
        assert 'value="Менторлық негіздері"' in back.text
        refused = coordinator.post(
            "/teachhub/modules/new", {"title": "x", "workload_hours": "many", "pick": "1"}
        )
        assert refused.status_code == 400 and 'value="x"' in refused.text


def test_the_module_page_shows_the_first_cards_of_each_stream_by_name(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        ids = _people(tool, moodle, setup.facilitator, 26, "learner", "streamed")
        other = add_stream(setup.coordinator, setup.module_id, "Autumn")
        path = f"/teachhub/streams/{setup.stream_id}"
        assert setup.facilitator.post(f"{path}/enrol", {"user_ids": [str(i) for i in ids[:23]]})
        assert setup.facilitator.post(
            f"/teachhub/streams/{other}/enrol", {"user_ids": [str(i) for i in ids[23:]]}
        )
        page = setup.facilitator.get(f"/teachhub/modules/{setup.module_id}")
        first = page.text.split(f'id="stream-{setup.stream_id}"', 1)[1].split("</article>")[0]
        second = page.text.split(f'id="stream-{other}"', 1)[1].split("</article>")[0]
        shown = re.findall(r'/teachhub/cards/\d+\?[^"]*">([^<]+)</a>', first)
        # Sorted by family name, then given name: "Ким" (even numbers) before "Серікова".
        expected = sorted(
            (("Ким" if i % 2 == 0 else "Серікова"), f"Әлия{i:02d}") for i in range(23)
        )[:20]
        assert shown == [f"{given} {family}" for family, given in expected]
        assert "All 23 participants of the stream" in first
        assert f"participants?stream={setup.stream_id}" in first.replace("&amp;", "&")
        assert len(re.findall(r"/teachhub/cards/\d+", second)) == 3
        assert "participants of the stream" not in second
        assert "Delete the stream" not in first and "Delete the stream" not in second
