"""Enrolment from the roster, feedback, reports, the HR list and exports, and who sees what."""

from __future__ import annotations

import csv
import io
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from teachhub_helpers import (
    card_of,
    create_module,
    db,
    launch,
    move,
    participant,
    published_module,
    today,
)

from lti_tool.teachhub.models import Participant, Person


def _complete(setup, card_id: int, contact: str = "20", self_study: str = "10") -> None:
    setup.facilitator.post(f"/teachhub/cards/{card_id}/hours",
                           {"contact_hours": contact, "self_study_hours": self_study})
    assert move(setup.facilitator, card_id, "in_progress").status_code == 303
    assert move(setup.facilitator, card_id, "completed").status_code == 303


def _recognize(setup, card_id: int, number: str = "7") -> None:
    setup.coordinator.post(f"/teachhub/cards/{card_id}/verify")
    assert move(setup.coordinator, card_id, "submitted").status_code == 303
    assert move(setup.coordinator, card_id, "recognized", commission_number=number,
                commission_date=today().isoformat()).status_code == 303


def test_facilitator_enrols_course_members_from_the_roster(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learners = moodle.add_members(2, 3, "Learner")  # course 2: where the tool is launched
        moodle.add_members(2, 1, "Instructor")
        page = setup.facilitator.get(f"/teachhub/streams/{setup.stream_id}/enrol")
        assert page.status_code == 200
        refreshed = setup.facilitator.post(f"/teachhub/streams/{setup.stream_id}/roster")
        assert "Roster updated" in refreshed.text
        for user in learners:
            assert user.name in refreshed.text
        enrolled = setup.facilitator.post(f"/teachhub/streams/{setup.stream_id}/enrol",
                                          {"all_learners": "1"})
        assert "3 participants enrolled." in enrolled.text
        with db(tool) as session:
            cards = session.query(Participant).filter_by(module_id=setup.module_id).all()
        assert len(cards) == 3 and {c.enrolled_via for c in cards} == {"roster"}
        again = setup.facilitator.post(f"/teachhub/streams/{setup.stream_id}/enrol",
                                       {"all_learners": "1"})
        assert "0 participants enrolled." in again.text
        # Only members of this course's roster can be chosen.
        stranger = setup.facilitator.post(f"/teachhub/streams/{setup.stream_id}/enrol",
                                          {"user_ids": "999999"}, json=True)
        assert stranger.status_code == 400
        # An enrolled learner who opens the placement finds their card, not a second one.
        person = participant(tool, moodle, stack, setup, learners[0].id, learners[0].given_name)
        assert "/teachhub/cards/" in person.page.url
        with db(tool) as session:
            assert session.query(Participant).filter_by(module_id=setup.module_id).count() == 3


def test_enrolment_needs_a_published_card_and_a_facilitator(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        path = f"/teachhub/streams/{setup.stream_id}/enrol"
        assert learner.get(path).status_code == 403
        assert learner.post(path, {"all_learners": "1"}, json=True).status_code == 403
        draft = create_module(setup.coordinator, [setup.facilitator.user_id], title="Draft")
        from teachhub_helpers import add_stream

        stream = add_stream(setup.facilitator, draft, "Draft stream")
        refused = setup.facilitator.post(f"/teachhub/streams/{stream}/enrol",
                                         {"all_learners": "1"}, json=True)
        assert refused.status_code == 409 and refused.json()["error"] == "not_published"


def test_feedback_is_anonymous_and_shown_from_five_answers(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        people = [participant(tool, moodle, stack, setup, str(100 + i), f"Person{i}")
                  for i in range(5)]
        cards = [card_of(tool, setup.module_id, p.user_id).id for p in people]
        early = people[0].post(f"/teachhub/cards/{cards[0]}/feedback",
                               {"satisfaction": "5", "applicability": "5"}, json=True)
        assert early.status_code == 409 and early.json()["error"] == "not_completed"
        for card_id in cards:
            _complete(setup, card_id)
        bad = people[0].post(f"/teachhub/cards/{cards[0]}/feedback",
                             {"satisfaction": "6", "applicability": "0"}, json=True)
        assert bad.status_code == 400
        assert setup.facilitator.get(f"/teachhub/cards/{cards[0]}/feedback").status_code == 403
        answers = [("5", "4"), ("4", "4"), ("3", "5"), ("5", "5")]
        for person, card_id, (sat, app) in zip(people, cards, answers, strict=False):
            page = person.post(f"/teachhub/cards/{card_id}/feedback",
                               {"satisfaction": sat, "applicability": app,
                                "comment": f"Useful, says {person.page.text and 'someone'}"})
            assert "Thank you for your feedback." in page.text
        twice = people[0].post(f"/teachhub/cards/{cards[0]}/feedback",
                               {"satisfaction": "1", "applicability": "1"}, json=True)
        assert twice.status_code == 409 and twice.json()["error"] == "already_answered"
        report = setup.facilitator.get(f"/teachhub/modules/{setup.module_id}/report")
        assert 'data-feedback="hidden"' in report.text and "4 answers so far" in report.text
        people[4].post(f"/teachhub/cards/{cards[4]}/feedback",
                       {"satisfaction": "2", "applicability": "3", "comment": "Too long"})
        report = setup.facilitator.get(f"/teachhub/modules/{setup.module_id}/report")
        assert re.search(r'data-feedback="satisfaction">3.80<', report.text)  # 19 / 5
        assert re.search(r'data-feedback="applicability">4.20<', report.text)  # 21 / 5
        assert "Too long" in report.text
        for person in people:  # aggregates, never names
            assert person.page.text and f"Person{people.index(person)} " not in report.text


def test_module_report_counts_hours_and_units_per_stream(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        people = [participant(tool, moodle, stack, setup, str(200 + i)) for i in range(3)]
        cards = [card_of(tool, setup.module_id, p.user_id).id for p in people]
        _complete(setup, cards[0], "20", "10")  # 30 h = 1.00
        _complete(setup, cards[1], "10", "0")   # 10 h = 0.33
        _recognize(setup, cards[0])
        page = setup.facilitator.get(f"/teachhub/modules/{setup.module_id}/report"
                                     f"?stream={setup.stream_id}")
        # The stream's row in the progress table, then in the hours table.
        progress, hours = (part.split("</tr>")[0] for part in
                           page.text.split(f'data-stream="{setup.stream_id}"')[1:3])
        counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', progress))
        assert counts == {"registered": "1", "in_progress": "0", "completed": "1",
                          "submitted": "0", "recognized": "1"}
        assert re.search(r"data-total-hours>40.00<", hours)
        assert re.search(r"data-units>1.33<", hours)  # 40 / 30, two decimals
        assert setup.coordinator.get(f"/teachhub/modules/{setup.module_id}/report"
                                     "?stream=999999").status_code == 400


def _hr_fixture(tool, platform, stack):
    setup = published_module(tool, platform, stack)
    a = participant(tool, platform, stack, setup, "300", "Asel")
    b = participant(tool, platform, stack, setup, "301", "Bolat")
    c = participant(tool, platform, stack, setup, "302", "Cholpan")  # stays registered
    ids = {p: card_of(tool, setup.module_id, p.user_id).id for p in (a, b, c)}
    _complete(setup, ids[a], "20", "25.5")
    _complete(setup, ids[b], "10", "0")
    _recognize(setup, ids[a], "12/2026")
    for person, department in ((a, "Surgery"), (b, "Pediatrics")):
        person.post(f"/teachhub/cards/{ids[person]}/department", {"department": department})
    with db(tool) as session:  # b completed last month
        session.execute(update(Participant).where(Participant.id == ids[b])
                        .values(completed_on=today() - timedelta(days=40)))
        session.commit()
    return setup, a, b, c, ids


def test_hr_list_filters_totals_and_exports(tool, moodle):
    with ExitStack() as stack:
        setup, _a, _b, _c, _ids = _hr_fixture(tool, moodle, stack)
        coord = setup.coordinator
        page = coord.get("/teachhub/hr")
        assert page.status_code == 200
        assert "Asel N300" in page.text and "Bolat N301" in page.text
        assert "Cholpan" not in page.text  # registered only: not an activity yet
        total = page.text.split('data-department="all"')[1].split("</tr>")[0]
        assert "55.50" in total and "1.85" in total  # 45.5 + 10 h; 55.5 / 30
        recent = coord.get(f"/teachhub/hr?from={(today() - timedelta(days=7)).isoformat()}")
        assert "Asel N300" in recent.text and "Bolat N301" not in recent.text
        surgery = coord.get("/teachhub/hr?department=Surgery")
        assert "Asel N300" in surgery.text and "Bolat N301" not in surgery.text
        backwards = coord.get(f"/teachhub/hr?from={today().isoformat()}"
                              f"&to={(today() - timedelta(days=1)).isoformat()}")
        assert backwards.status_code == 400
        assert "end date cannot be before the start date" in backwards.text

        exported = coord.get("/teachhub/hr.csv?department=Surgery")
        assert exported.headers["Content-Type"].startswith("text/csv")
        text = exported.content.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0][:3] == ["Department", "Participant", "Email"]
        assert len(rows) == 2
        assert rows[1][0] == "Surgery" and rows[1][1] == "Asel N300"
        assert rows[1][9] == "Recognized" and rows[1][13] == "45.50" and rows[1][14] == "1.52"
        assert rows[1][18] == "12/2026"

        book = load_workbook(io.BytesIO(coord.get("/teachhub/hr.xlsx").content))
        sheet = book.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][1] == "Participant" and len(values) == 3
        assert {v[1] for v in values[1:]} == {"Asel N300", "Bolat N301"}
        people = list(book.worksheets[1].iter_rows(values_only=True))
        asel = next(r for r in people if r[1] == "Asel N300")
        assert float(asel[6]) == pytest.approx(45.5) and float(asel[7]) == pytest.approx(1.52)
        book.close()


def test_hr_list_is_for_coordinators_only(tool, moodle):
    with ExitStack() as stack:
        setup, a, _b, _c, _ids = _hr_fixture(tool, moodle, stack)
        for person in (setup.facilitator, a):
            for path in ("/teachhub/hr", "/teachhub/hr.csv", "/teachhub/hr.xlsx"):
                assert person.get(path).status_code == 403, path


def test_own_record_totals_recognized_hours_and_units(tool, moodle):
    with ExitStack() as stack:
        _setup, a, b, _c, _ids = _hr_fixture(tool, moodle, stack)
        page = a.get("/teachhub/my")
        recognized = page.text.split('data-total="recognized">')[1].split("</dd>")[0]
        assert recognized.strip() == "45.50 academic hours = 1.52 credit units"
        mine = b.get("/teachhub/my")
        assert "0.00 academic hours = 0.00 credit units" in mine.text.split(
            'data-total="recognized">')[1].split("</dd>")[0]
        assert "Asel" not in mine.text


def test_who_sees_what_on_each_route(tool, moodle, canvas):
    """A participant sees only their card; a facilitator only their modules; a coordinator
    every module of their platform; nobody another platform's data."""
    with ExitStack() as stack:
        setup, a, b, c, ids = _hr_fixture(tool, moodle, stack)
        other_module = create_module(setup.coordinator, [], title="Someone else's module")
        module, card_a = setup.module_id, ids[a]
        task = c.post(f"/teachhub/cards/{ids[c]}/tasks", {"title": "Visible task"})
        task_id = int(re.search(r"/teachhub/tasks/(\d+)/", task.text).group(1))
        routes = {
            "module": f"/teachhub/modules/{module}",
            "edit": f"/teachhub/modules/{module}/edit",
            "report": f"/teachhub/modules/{module}/report",
            "enrol": f"/teachhub/streams/{setup.stream_id}/enrol",
            "card": f"/teachhub/cards/{card_a}",
            "feedback": f"/teachhub/cards/{card_a}/feedback",
            "hr": "/teachhub/hr",
            "coordinators": "/teachhub/coordinators",
            "other_module": f"/teachhub/modules/{other_module}",
        }
        expected = {
            # the participant: their own card only
            a: {"module": 403, "edit": 403, "report": 403, "enrol": 403, "card": 200,
                "feedback": 200, "hr": 403, "coordinators": 403, "other_module": 403},
            # another participant of the same module
            b: {"card": 403, "feedback": 403, "module": 403, "report": 403},
            # the facilitator: their module, not the other one, no HR list
            setup.facilitator: {"module": 200, "edit": 200, "report": 200, "enrol": 200,
                                "card": 200, "feedback": 403, "hr": 403, "coordinators": 403,
                                "other_module": 403},
            # the coordinator (platform administrator): everything on the platform
            setup.coordinator: {"module": 200, "edit": 200, "report": 200, "card": 200,
                                "hr": 200, "coordinators": 200, "other_module": 200},
        }
        for person, answers in expected.items():
            for name, status in answers.items():
                got = person.get(routes[name]).status_code
                assert got == status, (person.page.url, name, got)
        assert b.post(f"/teachhub/tasks/{task_id}/delete", json=True).status_code == 403
        assert b.get(f"/teachhub/tasks/{task_id}/evidence/1").status_code == 403

        # Canvas's coordinator and participant see nothing of Moodle's platform.
        foreign = launch(tool, canvas, stack, "admin")
        for name in ("module", "edit", "report", "card", "other_module"):
            assert foreign.get(routes[name]).status_code == 404, name
        assert foreign.get(f"/teachhub/modules/{module}/versions/1").status_code == 404
        assert foreign.get(f"/teachhub/tasks/{task_id}/evidence/1").status_code == 404
        hr = foreign.get("/teachhub/hr")
        assert hr.status_code == 200 and "Asel" not in hr.text
        assert "Asel" not in foreign.get("/teachhub/hr.csv").content.decode("utf-8")
        assert foreign.post(f"/teachhub/cards/{card_a}/status", {"status": "submitted"},
                            json=True).status_code == 404
        assert foreign.get(f"/teachhub/streams/{setup.stream_id}/enrol").status_code in (403, 404)


def test_administrators_name_coordinators(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        teacher = launch(tool, moodle, stack, {"role": "teacher", "id": "40",
                                               "given_name": "Gulnar"})
        assert teacher.get("/teachhub/hr").status_code == 403
        assert setup.facilitator.post("/teachhub/coordinators", {"user_id": str(
            teacher.user_id)}, json=True).status_code == 403
        named = setup.coordinator.post("/teachhub/coordinators",
                                       {"user_id": str(teacher.user_id)})
        assert "Named a coordinator." in named.text and "Gulnar" in named.text
        assert teacher.get("/teachhub/hr").status_code == 200
        assert teacher.get(f"/teachhub/modules/{setup.module_id}").status_code == 200
        setup.coordinator.post("/teachhub/coordinators",
                               {"user_id": str(teacher.user_id), "remove": "1"})
        assert teacher.get("/teachhub/hr").status_code == 403
        with db(tool) as session:
            assert session.get(Person, teacher.user_id) is None
