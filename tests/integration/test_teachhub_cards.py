"""Participant cards over real launches: status rules per role, hours, marks, tasks, gradebook."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select
from teachhub_helpers import (
    card_of,
    db,
    launch,
    move,
    participant,
    placement,
    published_module,
    today,
)

from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.teachhub.models import Person as PersonRow, StatusChange


def _outbox(tool, card_id: int) -> list[ScoreOutbox]:
    with db(tool) as session:
        return list(session.scalars(select(ScoreOutbox).where(
            ScoreOutbox.source == f"teachhub:{card_id}").order_by(ScoreOutbox.id)))


def test_status_moves_follow_the_path_and_each_role(tool, platform):
    with ExitStack() as stack:
        setup = published_module(tool, platform, stack)
        learner = participant(tool, platform, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        fac, coord = setup.facilitator, setup.coordinator

        refused = move(learner, card_id, "in_progress")
        assert refused.status_code == 403 and refused.json()["error"] == "not_your_role"
        refused = move(coord, card_id, "in_progress")  # the coordinator is not a facilitator
        assert refused.status_code == 403
        assert "Only a facilitator" in refused.json()["message"]
        skipped = move(fac, card_id, "completed")
        assert skipped.status_code == 409 and skipped.json()["error"] == "skipped"
        unknown = move(fac, card_id, "done")
        assert unknown.status_code == 409 and unknown.json()["error"] == "unknown_status"

        assert move(fac, card_id, "in_progress").status_code == 303
        again = move(fac, card_id, "in_progress")
        assert again.status_code == 409 and again.json()["error"] == "same_status"
        assert move(fac, card_id, "completed").status_code == 303
        back = move(fac, card_id, "in_progress")
        assert back.status_code == 409 and back.json()["error"] == "backwards"
        refused = move(fac, card_id, "submitted")
        assert refused.status_code == 403 and "coordinator" in refused.json()["message"]

        not_verified = move(coord, card_id, "submitted")
        assert not_verified.status_code == 409 and not_verified.json()["error"] == "not_verified"
        assert coord.post(f"/teachhub/cards/{card_id}/verify", {"note": "ok"}).status_code == 200
        no_hours = move(coord, card_id, "submitted")
        assert no_hours.status_code == 409 and no_hours.json()["error"] == "no_hours"
        fac.post(f"/teachhub/cards/{card_id}/hours",
                 {"contact_hours": "24", "self_study_hours": "21.5"})
        # Changing the hours undid the verification: it vouched for the old ones.
        assert move(coord, card_id, "submitted").json()["error"] == "not_verified"
        coord.post(f"/teachhub/cards/{card_id}/verify", {"note": "hours checked"})
        assert move(coord, card_id, "submitted").status_code == 303

        # Recognition needs the commission's record: number, and a date in order.
        assert move(coord, card_id, "recognized",
                    commission_date=today().isoformat()).status_code == 400
        before = move(coord, card_id, "recognized", commission_number="17",
                      commission_date=(today() - timedelta(days=1)).isoformat())
        assert before.status_code == 400 and "before the card was submitted" in before.json()[
            "message"]
        future = move(coord, card_id, "recognized", commission_number="17",
                      commission_date=(today() + timedelta(days=1)).isoformat())
        assert future.status_code == 400 and "future" in future.json()["message"]
        assert move(coord, card_id, "recognized", commission_number="17/2026",
                    commission_date=today().isoformat()).status_code == 303
        final = move(coord, card_id, "registered")
        assert final.status_code == 409 and final.json()["error"] == "final"

        with db(tool) as session:
            log = list(session.scalars(select(StatusChange).where(
                StatusChange.participant_id == card_id).order_by(StatusChange.id)))
        assert [(c.from_status, c.to_status, c.actor_role) for c in log] == [
            (None, "registered", "participant"),
            ("registered", "in_progress", "facilitator"),
            ("in_progress", "completed", "facilitator"),
            ("completed", "submitted", "coordinator"),
            ("submitted", "recognized", "coordinator")]
        assert [c.actor_id for c in log] == [learner.user_id, fac.user_id, fac.user_id,
                                             coord.user_id, coord.user_id]
        assert all(c.at is not None for c in log)
        page = learner.get(f"/teachhub/cards/{card_id}")
        assert "Commission record No. 17/2026" in page.text
        assert "Terry Teacher" in page.text  # who moved it, in the history
        # The tool's own note is kept as a key (issue 11): each reader sees it in their
        # language, with one "№" however the number was typed.
        assert (log[-1].note, log[-1].note_key) == ("", "commission")
        kazakh = learner.get(f"/teachhub/cards/{card_id}?lang=kk").text
        assert "Комиссияның" in kazakh and "Commission record" not in kazakh
        russian = learner.get(f"/teachhub/cards/{card_id}?lang=ru").text
        assert "Протокол комиссии № 17/2026 от" in russian and "№ №" not in russian


def test_a_refused_move_from_the_page_says_why(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        page = setup.facilitator.post(f"/teachhub/cards/{card_id}/status",
                                      {"status": "completed"})
        # The card page itself answers (no redirect), the refusal said on it.
        assert page.status_code == 409 and f"/teachhub/cards/{card_id}" in page.url
        assert 'role="alert"' in page.text and "one step at a time" in page.text


def test_gradebook_gets_progress_and_the_facilitators_mark(tool, moodle):
    from lti_tool.gradebook.worker import build_score_worker

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card = card_of(tool, setup.module_id, learner.user_id)
        (registered,) = _outbox(tool, card.id)
        assert (registered.activity_progress, registered.grading_progress) == (
            "Initialized", "NotReady")
        assert registered.line_item_url  # the placement's own line item (Moodle's claim)
        move(setup.facilitator, card.id, "in_progress")
        move(setup.facilitator, card.id, "completed")
        pending = _outbox(tool, card.id)[-1]
        # Completed without a mark yet: a final grade without a score would clear the LMS one.
        assert (pending.activity_progress, pending.grading_progress, pending.score_given) == (
            "Completed", "Pending", None)
        setup.facilitator.post(f"/teachhub/cards/{card.id}/mark",
                               {"mark": "87.5", "mark_comment": "Strong project"})
        rows = _outbox(tool, card.id)
        latest = rows[-1]
        assert (latest.activity_progress, latest.grading_progress, latest.score_given,
                latest.score_maximum, latest.comment) == (
            "Completed", "FullyGraded", 87.5, 100.0, "Strong project")
        assert all(r.status == "superseded" for r in rows[:-1])  # only the newest is sent

        worker = build_score_worker(tool.app, max_attempts=1)
        try:
            worker.run_once()
        finally:
            worker.close()
        stored = moodle.scores(latest.line_item_url)[learner.platform.plan(
            {"role": "student", "id": "50"}).user.sub]
        assert stored["activityProgress"] == "Completed"
        assert stored["gradingProgress"] == "FullyGraded"
        assert stored["scoreGiven"] == pytest.approx(87.5)


@pytest.mark.parametrize("value, message", [
    ("-1", "Hours cannot be negative."),
    ("1.234", "Hours take at most two decimals"),
    ("abc", "Hours must be a number"),
    ("NaN", "Hours must be a number"),
    ("1000.5", "At most 1000 hours."),
])
def test_hours_rules(tool, moodle, value, message):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        refused = setup.facilitator.post(f"/teachhub/cards/{card_id}/hours",
                                         {"contact_hours": value, "self_study_hours": "1"},
                                         json=True)
        assert refused.status_code == 400 and message in refused.json()["message"]
        assert card_of(tool, setup.module_id, learner.user_id).contact_hours == 0


def test_hours_are_exact_decimals_and_roles_apply(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        path = f"/teachhub/cards/{card_id}/hours"
        # The participant reports self-study hours but not contact hours.
        assert learner.post(path, {"contact_hours": "10"}, json=True).status_code == 403
        assert learner.post(path, {"self_study_hours": "0,1"}).status_code == 200
        setup.facilitator.post(path, {"contact_hours": "0.2", "self_study_hours": "0.1"})
        card = card_of(tool, setup.module_id, learner.user_id)
        assert str(card.total_hours) == "0.30"  # not 0.30000000000000004
        too_many = setup.facilitator.post(path, {"contact_hours": "600",
                                                 "self_study_hours": "500"}, json=True)
        assert too_many.status_code == 400 and "together" in too_many.json()["message"]
        page = learner.get(f"/teachhub/cards/{card_id}")
        assert "0.30 academic hours = 0.01 credit units" in page.text
        # Someone else's card is not theirs to change.
        other = participant(tool, moodle, stack, setup, "81", "Dana")
        assert other.post(path, {"self_study_hours": "3"}, json=True).status_code == 403


def test_submitted_cards_are_locked(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        fac, coord = setup.facilitator, setup.coordinator
        move(fac, card_id, "in_progress")
        move(fac, card_id, "completed")
        fac.post(f"/teachhub/cards/{card_id}/hours", {"contact_hours": "30"})
        coord.post(f"/teachhub/cards/{card_id}/verify")
        assert move(coord, card_id, "submitted").status_code == 303
        for path, data in ((f"/teachhub/cards/{card_id}/hours", {"contact_hours": "31"}),
                           (f"/teachhub/cards/{card_id}/mark", {"mark": "90"}),
                           (f"/teachhub/cards/{card_id}/tasks", {"title": "Late"})):
            refused = fac.post(path, data, json=True)
            assert refused.status_code == 409 and refused.json()["error"] == "locked", path


@pytest.mark.parametrize("mark, message", [
    ("101", "from 0 to 100"), ("-1", "from 0 to 100"), ("9.999", "two decimals"),
    ("ten", "must be a number")])
def test_mark_rules(tool, moodle, mark, message):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        path = f"/teachhub/cards/{card_id}/mark"
        refused = setup.facilitator.post(path, {"mark": mark}, json=True)
        assert refused.status_code == 400 and message in refused.json()["message"]
        assert learner.post(path, {"mark": "100"}, json=True).status_code == 403
        assert setup.coordinator.post(path, {"mark": "100"}, json=True).status_code == 403


def test_tasks_are_added_reviewed_and_removed(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        path = f"/teachhub/cards/{card_id}/tasks"
        assert learner.post(path, {"title": ""}, json=True).status_code == 400
        future = learner.post(path, {"title": "Audit", "completed_on":
                                     (today() + timedelta(days=2)).isoformat()}, json=True)
        assert future.status_code == 400 and "future" in future.json()["message"]
        page = learner.post(path, {"title": "Mini-project: audit", "description": "Course audit",
                                   "completed_on": today().isoformat()})
        assert "Mini-project: audit" in page.text
        learner.post(path, {"title": "Draft reflection"})
        with db(tool) as session:
            from lti_tool.teachhub.models import Task

            tasks = {t.title: t.id for t in session.scalars(
                select(Task).where(Task.participant_id == card_id))}
        review = f"/teachhub/tasks/{tasks['Mini-project: audit']}/review"
        assert learner.post(review, {"decision": "accepted"}, json=True).status_code == 403
        no_note = setup.facilitator.post(review, {"decision": "returned"}, json=True)
        assert no_note.status_code == 400
        accepted = setup.facilitator.post(review, {"decision": "accepted", "review_note": "Good"})
        assert "accepted by Terry Teacher" in accepted.text
        # Its author removes a pending task, not an accepted one; nobody else removes it.
        refused = learner.post(f"/teachhub/tasks/{tasks['Mini-project: audit']}/delete",
                               json=True)
        assert refused.status_code == 409
        assert setup.facilitator.post(f"/teachhub/tasks/{tasks['Draft reflection']}/delete",
                                      json=True).status_code == 403
        gone = learner.post(f"/teachhub/tasks/{tasks['Draft reflection']}/delete")
        assert gone.status_code == 200 and "Draft reflection" not in gone.text


def test_evidence_file_on_a_task(tool, moodle):
    from lti_tool.teachhub import evidence

    if not evidence.available():
        pytest.skip("lti_tool.evidence is not installed")
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        page = learner.post(f"/teachhub/cards/{card_id}/tasks", {"title": "Certificate"},
                            files={"file": ("certificate.pdf", pdf, "application/pdf")})
        assert page.status_code == 200, page.text[:500]
        import re

        link = re.search(r'href="(/teachhub/tasks/\d+/evidence/\d+)\?', page.text)
        assert link, page.text[:2000]
        assert "certificate.pdf" in page.text
        assert setup.facilitator.get(link.group(1)).status_code == 200
        other = participant(tool, moodle, stack, setup, "90", "Other")
        assert other.get(link.group(1)).status_code == 403
        # A disguised file is refused with the storage's reason, and no task is left behind.
        refused = learner.post(f"/teachhub/cards/{card_id}/tasks", {"title": "Fake"}, json=True,
                               files={"file": ("fake.pdf", b"MZ\x90\x00not a pdf",
                                               "application/pdf")})
        assert refused.status_code == 400, refused.text[:300]
        assert "Fake" not in learner.get(f"/teachhub/cards/{card_id}").text


def test_department_is_prefilled_from_the_lms_and_editable(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        custom = {**placement(setup.module_id)["custom"], "department": "Department of surgery"}
        learner = launch(tool, moodle, stack, {"role": "student", "id": "55"}, custom=custom,
                         resource_link={"id": "rl-th-1", "title": "TeachHub module"})
        assert "Department of surgery" in learner.page.text
        assert "from the LMS: please check" in learner.page.text
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        path = f"/teachhub/cards/{card_id}/department"
        assert learner.post(path, {"department": "Department of pediatric surgery"}
                            ).status_code == 200
        assert setup.facilitator.post(path, {"department": "X"}, json=True).status_code == 403
        assert setup.coordinator.post(path, {"department": "Pediatric surgery"}
                                      ).status_code == 200
        with db(tool) as session:
            row = session.get(PersonRow, learner.user_id)
        assert (row.department, row.source) == ("Pediatric surgery", "coordinator")


def test_work_plan_record_rules(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        path = f"/teachhub/cards/{card_id}/record"
        coord = setup.coordinator
        future = coord.post(path, {"record_date": (today() + timedelta(days=1)).isoformat(),
                                   "record_number": "5"}, json=True)
        assert future.status_code == 400
        half = coord.post(path, {"record_number": "5"}, json=True)
        assert half.status_code == 400 and "both" in half.json()["message"]
        assert setup.facilitator.post(path, {"record_date": today().isoformat(),
                                             "record_number": "5"}, json=True).status_code == 403
        page = coord.post(path, {"record_date": today().isoformat(), "record_number": "IWP-5"})
        # A number that is not bare digits shows as typed, with no "No." glued on (issue 11).
        assert f"IWP-5 of {format_date(today(), 'medium', locale='en')}" in page.text
