"""Staff learning of every form (issue 14), end to end over real HTTP: record, evidence,
endorse, opinion, recognise, the consolidated list and its exports, who sees what."""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack

import pytest
from learning_helpers import act, activity, activity_data, attach, member, record, staff
from openpyxl import load_workbook
from teachhub_helpers import today

FORMS = ["self_education", "internal_event", "online", "internship"]
EVIDENCE = {
    "self_education": "report",
    "internal_event": "programme",
    "online": "certificate",
    "internship": "mentor_review",
}


@pytest.mark.parametrize("form", FORMS)
def test_each_form_goes_from_record_to_recognition(tool, moodle, form):
    with ExitStack() as stack:
        people = staff(tool, moodle, stack)
        person = member(tool, moodle, stack)
        activity_id = record(person, form)
        page = person.get(f"/learning/activities/{activity_id}")
        assert "Implemented" in page.text
        # Nothing is submitted without evidence (5.2) ...
        refused = act(person, tool, activity_id, "submit")
        assert refused.status_code == 409 and "evidence" in refused.json()["message"]
        assert attach(person, activity_id, EVIDENCE[form]).status_code == 200
        needs_head = form in ("self_education", "internship")
        if needs_head:
            # ... nor, for these forms, before the head's endorsement (3.2 item 7).
            refused = act(person, tool, activity_id, "submit")
            assert refused.status_code == 409
            assert "endorses" in refused.json()["message"]
            # The participant cannot endorse their own, nor can the expert.
            assert act(person, tool, activity_id, "endorse").status_code == 403
            assert act(people.expert, tool, activity_id, "endorse").status_code == 403
            assert act(people.head, tool, activity_id, "endorse").status_code == 303
        assert act(person, tool, activity_id, "submit").status_code == 303
        assert activity(tool, activity_id).status == "submitted"
        # The expert's opinion does not decide: the status stays.
        assert (
            act(
                people.expert,
                tool,
                activity_id,
                "recognize",
                decision_date=today().isoformat(),
                decision_number="12",
            ).status_code
            == 403
        )
        assert (
            act(
                people.expert, tool, activity_id, "opinion", ready="yes", note="Complete"
            ).status_code
            == 303
        )
        assert activity(tool, activity_id).status == "submitted"
        # The secretary recognises 30 of the 36 hours claimed, and must say why.
        missing_reason = act(
            people.coordinator,
            tool,
            activity_id,
            "recognize",
            decision_date=today().isoformat(),
            decision_number="12",
            hours="30",
        )
        assert missing_reason.status_code == 400
        assert "differ from those claimed" in missing_reason.json()["message"]
        assert (
            act(
                people.coordinator,
                tool,
                activity_id,
                "recognize",
                decision_date=today().isoformat(),
                decision_number="12",
                hours="30",
                hours_note="Two sessions missed",
            ).status_code
            == 303
        )
        done = activity(tool, activity_id)
        assert done.status == "recognized" and str(done.hours_recognized) == "30.00"
        assert done.decision_number == "12"
        page = person.get(f"/learning/activities/{activity_id}").text
        assert "Recognized" in page and "Two sessions missed" in page
        for step in (
            ["record", "evidence", "endorse", "submit", "opinion", "recognize"]
            if needs_head
            else ["record", "evidence", "submit", "opinion", "recognize"]
        ):
            assert f'data-log="{step}"' in page
        # HR's consolidated list has it with the recognised hours and 1.00 credit unit.
        listed = people.hr.get("/learning/list", params={"form": form, "status": "recognized"})
        assert listed.status_code == 200
        assert done.title in listed.text
        rows = list(
            csv.reader(
                io.StringIO(
                    people.hr.get("/learning/list.csv", params={"form": form}).content.decode(
                        "utf-8-sig"
                    )
                )
            )
        )
        assert len(rows) == 2 and rows[1][5] == done.title
        assert rows[1][12] == "30.00" and rows[1][13] == "1.00" and rows[1][15] == "12"


def test_refused_moves_and_bad_input_say_why(tool, moodle):
    with ExitStack() as stack:
        people = staff(tool, moodle, stack)
        person = member(tool, moodle, stack)
        future = person.post(
            "/learning/new",
            activity_data("online", ends_on="2999-01-01", workload="-3", title=""),
            json=True,
        )
        assert future.status_code == 400
        message = future.json()["message"]
        assert "cannot be in the future" in message and "negative" in message
        assert "Fill in this field" in message
        page = person.post("/learning/new", activity_data("online", workload="1e9"))
        assert page.status_code == 400 and 'aria-invalid="true"' in page.text
        foreign = person.post(
            "/learning/new", activity_data("online", foreign_language="y"), json=True
        )
        assert foreign.status_code == 400 and "Fill in" in foreign.json()["message"]
        estimate = person.post("/learning/new", activity_data("online", estimated="y"), json=True)
        assert estimate.status_code == 400 and "Fill in" in estimate.json()["message"]
        activity_id = record(person, "online", workload="1.5", workload_unit="credit_units")
        assert str(activity(tool, activity_id).hours_claimed) == "45.00"
        # A disguised file is refused by its bytes.
        assert attach(person, activity_id, "certificate", b"MZ\x90\x00", "x.pdf").status_code == 400
        attach(person, activity_id, "certificate")
        act(person, tool, activity_id, "submit")
        returned = act(people.coordinator, tool, activity_id, "return")
        assert returned.status_code == 400 and "reason" in returned.json()["message"]
        assert (
            act(
                people.coordinator, tool, activity_id, "return", note="No transcript of the topics"
            ).status_code
            == 303
        )
        again = person.get(f"/learning/activities/{activity_id}").text
        assert "Returned" in again and "No transcript of the topics" in again
        # A step on a stale page: nothing saved, 409.
        stale = person.post(
            f"/learning/activities/{activity_id}/act",
            {"action": "submit", "revision": "1"},
            json=True,
        )
        assert stale.status_code == 409


def test_people_see_only_what_their_role_allows(tool, moodle):
    with ExitStack() as stack:
        people = staff(tool, moodle, stack)
        person = member(tool, moodle, stack)
        other = member(tool, moodle, stack, "61", "Bolat")
        mine = record(person, "self_education")
        elsewhere = record(other, "online", department="Department of therapy")
        assert other.get(f"/learning/activities/{mine}").status_code == 403
        assert person.get("/learning/list").status_code == 403
        # The head of surgery sees surgery's activity, not therapy's.
        assert people.head.get(f"/learning/activities/{mine}").status_code == 200
        assert people.head.get(f"/learning/activities/{elsewhere}").status_code == 403
        listed = people.head.get("/learning/list").text
        assert "Self Education" in listed and "Online: clinical teaching" not in listed
        assert act(people.head, tool, elsewhere, "endorse").status_code == 403
        # Each person's own record lists their own only.
        own = person.get("/learning/").text
        assert "Self Education" in own and "Online: clinical teaching" not in own
        workbook = load_workbook(io.BytesIO(people.hr.get("/learning/list.xlsx").content))
        titles = {row[5] for row in workbook.active.iter_rows(min_row=2, values_only=True)}
        assert titles == {activity(tool, mine).title, activity(tool, elsewhere).title}


def test_the_list_holds_teachhub_modules_beside_the_other_forms(tool, moodle):
    from teachhub_helpers import move, participant, published_module

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = learner.page.url.split("/teachhub/cards/")[1].split("?")[0]
        setup.facilitator.post(
            f"/teachhub/cards/{card_id}/hours", {"contact_hours": "40", "self_study_hours": "5"}
        )
        move(setup.facilitator, int(card_id), "in_progress")
        move(setup.facilitator, int(card_id), "completed")
        setup.coordinator.post(f"/teachhub/cards/{card_id}/verify")
        move(setup.coordinator, int(card_id), "submitted")
        move(
            setup.coordinator,
            int(card_id),
            "recognized",
            commission_number="7",
            commission_date=today().isoformat(),
        )
        activity_id = record(learner, "online")
        rows = list(
            csv.reader(
                io.StringIO(setup.coordinator.get("/learning/list.csv").content.decode("utf-8-sig"))
            )
        )
        forms = {row[3]: row for row in rows[1:]}
        assert set(forms) == {"TeachHub module", "Online learning"}
        module = forms["TeachHub module"]
        assert module[9] == "Recognized" and module[12] == "45.00" and module[13] == "1.50"
        assert forms["Online learning"][9] == "Implemented"
        only = setup.coordinator.get("/learning/list", params={"form": "teachhub"}).text
        assert "Assessment literacy" in only and "Online: clinical teaching" not in only
        area = setup.coordinator.get(
            "/learning/list", params={"area": "pedagogy", "status": "implemented"}
        ).text
        assert "Online: clinical teaching" in area and "Assessment literacy" not in area
        # The person's own record shows both forms.
        own = learner.get("/learning/").text
        assert "Assessment literacy" in own and f"/learning/activities/{activity_id}" in own
        bad = setup.coordinator.get("/learning/list", params={"form": "nonsense"})
        assert bad.status_code == 400


def test_standard_forms_of_7_3_come_out_filled_as_page_and_pdf(tool, moodle):
    from pypdf import PdfReader

    with ExitStack() as stack:
        people = staff(tool, moodle, stack)
        person = member(tool, moodle, stack)
        colleague = member(tool, moodle, stack, "61", "Bolat")
        internship = record(person, "internship")
        page = person.get(f"/learning/activities/{internship}/forms/report")
        assert page.status_code == 200
        assert "Participant's internal report" in page.text and "Aliya" in page.text
        assert "Dr. Seitkali" in person.get(f"/learning/activities/{internship}/forms/review").text
        pdf = person.get(f"/learning/activities/{internship}/forms/review.pdf")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Mentor's review" in text and "Dr. Seitkali" in text
        # 7.3 item 5 is for internships only; item 4 not for internal events.
        event = record(person, "internal_event", title="Peer review day")
        assert person.get(f"/learning/activities/{event}/forms/review").status_code == 409
        assert person.get(f"/learning/activities/{event}/forms/report").status_code == 409
        # The participant list of an event (item 3): everyone who recorded the same event.
        record(
            colleague, "internal_event", title="Peer review day", department="Department of surgery"
        )
        assert person.get(f"/learning/activities/{event}/forms/participants").status_code == 403
        listed = people.hr.get(f"/learning/activities/{event}/forms/participants").text
        assert "Aliya" in listed and "Bolat" in listed
        pdf = people.hr.get(f"/learning/activities/{event}/forms/participants.pdf")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Aliya" in text and "Bolat" in text
