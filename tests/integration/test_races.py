"""Simultaneous decisions over real HTTP (issue 10, findings 1-4): one wins, the other gets a
409 page that says what changed; never two decisions for one change, never a 500, and the LMS
ends on the tool's total. Runs on SQLite and on PostgreSQL (--db=postgresql)."""

from __future__ import annotations

import re
from contextlib import ExitStack

from concurrency import at_once
from outbox_helpers import drain, park_leftovers
from sqlalchemy import select
from teachhub_helpers import (
    PASSPORT,
    card_of,
    db as th_db,
    launch as th_launch,
    move as th_move,
    participant,
    published_module,
    settle,
    today as th_today,
)
from test_portfolio_flow import CSRF, add_entry, db_session, launch as portfolio_launch

from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.portfolio import service
from lti_tool.portfolio.models import Entry, Portfolio, PortraitVersion, Summary
from lti_tool.teachhub.models import Module, Participant, StatusChange

SECOND_TUTOR = {"role": "teacher", "id": "77", "given_name": "Tina", "family_name": "Tutor"}
SECOND_COORDINATOR = {"role": "admin", "id": "88", "given_name": "Dana", "family_name": "Coord"}
ROUNDS = 4  # each race is run a few times: the threads start together, the order varies


def launch(tool, platform, *args, **kwargs):
    """A launch, after which the background roster pull it may have started is finished: an
    older roster snapshot must not mark a later launch's membership inactive."""
    client = portfolio_launch(tool, platform, *args, **kwargs)
    settle(tool)
    return client


def csrf(client) -> str:
    """The CSRF token of a client's session (fetched before the race, not inside it)."""
    match = CSRF.search(client.get("/portfolio/showcase").text)
    assert match
    return match.group(1)


def post(client, token: str, path: str, data: dict):
    """A form POST without following the redirect (303 = done)."""
    return client.browser.post(
        client.url(path), data={"csrf_token": token, **data}, follow_redirects=False
    )


def lms_and_tool_totals(tool, platform, user_id: int) -> tuple[float | None, int]:
    """(the points the LMS holds for the student's portfolio, the tool's verified total)."""
    with db_session(tool) as db:
        portfolio = db.scalar(select(Portfolio).where(Portfolio.user_id == user_id))
        total = service.verified_total(db, portfolio.id)
        row = db.scalars(
            select(ScoreOutbox)
            .where(ScoreOutbox.user_id == user_id)
            .order_by(ScoreOutbox.id.desc())
        ).first()
        if row is None:
            return None, total
        stored = platform.scores(row.line_item_url).get(row.user_sub)
    if not stored:
        return None, total
    # The gradebook keeps the score on its line item's scale: back to the tool's points.
    return round(stored["scoreGiven"] * row.score_maximum / stored["scoreMaximum"], 2), total


def history(tool, entry_id: int) -> list[str]:
    with db_session(tool) as db:
        return [d.action for d in db.get(Entry, entry_id).decisions]


def entry_portfolio(tool, entry_id: int) -> int:
    with db_session(tool) as db:
        return db.get(Entry, entry_id).portfolio_id


def version_of(tool, entry_id: int) -> int:
    with db_session(tool) as db:
        return db.get(Entry, entry_id).version


# ---- finding 1 -------------------------------------------------------------------------------


def test_two_tutors_verify_one_entry_at_once(tool, moodle):
    student = launch(tool, moodle)
    first, second = launch(tool, moodle, "teacher"), launch(tool, moodle, SECOND_TUTOR)
    tokens = csrf(first), csrf(second)
    for _round in range(ROUNDS):
        entry_id = add_entry(student)
        seen = {"action": "verify", "version": str(version_of(tool, entry_id))}
        path = f"/portfolio/entries/{entry_id}/decide"
        answers = at_once(
            lambda: post(first, tokens[0], path, seen), lambda: post(second, tokens[1], path, seen)
        )
        assert sorted(a.status_code for a in answers) == [303, 409]
        assert history(tool, entry_id) == ["submit", "verify"]
        refused = next(a for a in answers if a.status_code == 409)
        # The loser sees who decided, and can decide again on the current version.
        assert "Changed since you looked" in refused.text
        assert re.search(r"verified — (Terry Teacher|Tina Tutor)", refused.text)
        assert f'name="version" value="{version_of(tool, entry_id)}"' in refused.text


# ---- finding 2 -------------------------------------------------------------------------------


def test_a_verify_of_the_version_before_the_students_edit_is_refused(tool, moodle):
    student = launch(tool, moodle)
    tutor = launch(tool, moodle, "teacher")
    entry_id = add_entry(student)  # republic, first place: 100 points
    seen = version_of(tool, entry_id)
    edit = student.post(
        f"/portfolio/entries/{entry_id}/edit",
        {
            "list": "olympiads",
            "course_year": "2",
            "item": "olympiad",
            "level": "international",
            "result": "first",
            "f_title": "Anatomy olympiad",
            "action": "submit",
            "version": str(seen),
        },
    )
    assert edit.status_code == 200
    answer = post(
        tutor,
        csrf(tutor),
        f"/portfolio/entries/{entry_id}/decide",
        {
            "action": "verify",
            "version": str(seen),
            "seen_points": "100",
            "comment": "Checked the diploma",
        },
    )
    assert answer.status_code == 409
    assert "when you looked: 100" in answer.text and ">150" in answer.text
    assert "Checked the diploma</textarea>" in answer.text  # what the tutor typed is kept
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        assert entry.status == "submitted" and entry.verified_points is None
    # One click on the 409 page: verify the version now shown.
    again = post(
        tutor,
        csrf(tutor),
        f"/portfolio/entries/{entry_id}/decide",
        {"action": "verify", "version": str(version_of(tool, entry_id))},
    )
    assert again.status_code == 303
    with db_session(tool) as db:
        assert db.get(Entry, entry_id).verified_points == 150


def test_student_edits_while_the_tutor_verifies(tool, moodle):
    student = launch(tool, moodle)
    tutor = launch(tool, moodle, "teacher")
    tokens = csrf(student), csrf(tutor)
    for _round in range(ROUNDS):
        entry_id = add_entry(student)
        seen = str(version_of(tool, entry_id))
        edit = {
            "list": "olympiads",
            "course_year": "2",
            "item": "olympiad",
            "level": "international",
            "result": "first",
            "f_title": "Anatomy olympiad",
            "action": "submit",
            "version": seen,
        }
        edited, verified = at_once(
            lambda: post(student, tokens[0], f"/portfolio/entries/{entry_id}/edit", edit),
            lambda: post(
                tutor,
                tokens[1],
                f"/portfolio/entries/{entry_id}/decide",
                {"action": "verify", "version": seen},
            ),
        )
        # Exactly one wins; the tutor never verifies content they did not see.
        assert sorted((edited.status_code, verified.status_code)) == [303, 409]
        with db_session(tool) as db:
            entry = db.get(Entry, entry_id)
            if verified.status_code == 303:
                assert (entry.status, entry.claimed_points, entry.verified_points) == (
                    "verified",
                    100,
                    100,
                )
            else:
                assert (entry.status, entry.claimed_points, entry.verified_points) == (
                    "submitted",
                    150,
                    None,
                )


def test_student_withdraws_while_the_tutor_verifies(tool, moodle):
    student = launch(tool, moodle)
    tutor = launch(tool, moodle, "teacher")
    tokens = csrf(student), csrf(tutor)
    for _round in range(ROUNDS):
        entry_id = add_entry(student)
        seen = {"version": str(version_of(tool, entry_id))}
        withdrawn, verified = at_once(
            lambda: post(student, tokens[0], f"/portfolio/entries/{entry_id}/withdraw", seen),
            lambda: post(
                tutor,
                tokens[1],
                f"/portfolio/entries/{entry_id}/decide",
                {"action": "verify", **seen},
            ),
        )
        assert sorted((withdrawn.status_code, verified.status_code)) == [303, 409]
        if history(tool, entry_id) == ["submit", "withdraw"]:
            assert "The student took this entry back to draft." in verified.text
        else:
            assert history(tool, entry_id) == ["submit", "verify"]
            assert withdrawn.status_code == 409  # the entry page, as the tutor left it


# ---- finding 3 -------------------------------------------------------------------------------


def test_verification_and_design_mark_at_once_the_lms_ends_on_the_tools_total(tool, moodle):
    student = launch(tool, moodle)
    first, second = launch(tool, moodle, "teacher"), launch(tool, moodle, SECOND_TUTOR)
    tokens = csrf(first), csrf(second)
    park_leftovers(tool)
    entry_ids = [add_entry(student) for _ in range(4)]
    with db_session(tool) as db:
        portfolio = db.get(Entry, entry_ids[0]).portfolio
        portfolio_id, user_id = portfolio.id, portfolio.user_id
    for entry_id, points in zip(entry_ids, ("15", "30", "20", "25"), strict=True):
        version = str(version_of(tool, entry_id))
        answers = at_once(
            lambda: post(
                first,
                tokens[0],
                f"/portfolio/entries/{entry_id}/decide",
                {"action": "verify", "version": version},
            ),
            lambda: post(
                second,
                tokens[1],
                f"/portfolio/{portfolio_id}/marks",
                {"mark": "design", "year": "2", "points": points},
            ),
        )
        assert [a.status_code for a in answers] == [303, 303]
    drain(tool)
    lms, total = lms_and_tool_totals(tool, moodle, user_id)
    assert total == 4 * 100 + 25
    assert lms == total


# ---- finding 4 -------------------------------------------------------------------------------


def test_two_saves_of_the_same_section_i_page(tool, moodle):
    student = launch(tool, moodle)
    other_tab = launch(tool, moodle, browser=student.browser)
    tokens = csrf(student), csrf(other_tab)
    portfolio_id = entry_portfolio(tool, add_entry(student))
    for n in range(ROUNDS):
        with db_session(tool) as db:
            seen = db.get(Portfolio, portfolio_id).essay_version
        answers = at_once(
            *(
                lambda client=client, token=token, text=text: post(
                    client,
                    token,
                    "/portfolio/portrait/essay",
                    {"essay": text, "version": str(seen)},
                )
                for client, token, text in (
                    (student, tokens[0], f"first tab {n}"),
                    (other_tab, tokens[1], f"second tab {n}"),
                )
            )
        )
        assert sorted(a.status_code for a in answers) == [303, 409]
        refused = next(a for a in answers if a.status_code == 409)
        assert "The newer saved version" in refused.text
        with db_session(tool) as db:
            numbers = db.scalars(
                select(PortraitVersion.number).where(
                    PortraitVersion.portfolio_id == portfolio_id, PortraitVersion.page == "essay"
                )
            ).all()
        assert sorted(numbers) == list(range(1, seen + 2))


def test_two_tutors_save_one_summary_at_once(tool, moodle):
    student = launch(tool, moodle)
    first, second = launch(tool, moodle, "teacher"), launch(tool, moodle, SECOND_TUTOR)
    tokens = csrf(first), csrf(second)
    portfolio_id = entry_portfolio(tool, add_entry(student))
    form = {
        "academic_year": "2025-2026",
        "course_year": "2",
        "points": "100",
        "academic_level": "",
        "achievement_level": "low",
        "summary_date": "2026-06-20",
        **{
            name: ""
            for name in (
                "group_name",
                "gpa",
                "activity",
                "self_development",
                "competences",
                "remarks",
                "head_name",
                "department",
            )
        },
    }
    # Both write the year's first summary: one is saved, the other told it exists (no 500).
    created = at_once(
        *(
            lambda c=c, t=t, n=n: post(
                c,
                t,
                f"/portfolio/{portfolio_id}/summaries/new",
                {**form, "version": "0", "tutor_name": n},
            )
            for c, t, n in ((first, tokens[0], "Terry"), (second, tokens[1], "Tina"))
        )
    )
    assert sorted(a.status_code for a in created) == [303, 409]
    with db_session(tool) as db:
        summary = db.scalar(select(Summary).where(Summary.portfolio_id == portfolio_id))
        summary_id, seen = summary.id, summary.version
    # Both change it from the same version: one save, one 409 with the newer text shown.
    edited = at_once(
        *(
            lambda c=c, t=t, n=n: post(
                c,
                t,
                f"/portfolio/summaries/{summary_id}/edit",
                {**form, "version": str(seen), "tutor_name": n, "remarks": f"by {n}"},
            )
            for c, t, n in ((first, tokens[0], "Terry"), (second, tokens[1], "Tina"))
        )
    )
    assert sorted(a.status_code for a in edited) == [303, 409]
    with db_session(tool) as db:
        summary = db.get(Summary, summary_id)
        assert summary.version == seen + 1
    refused = next(a for a in edited if a.status_code == 409)
    assert "The newer saved version" in refused.text and summary.remarks in refused.text


# ---- TeachHub: one participant card, several people at once ----------------------------------


def _card(tool, card_id: int):
    with th_db(tool) as session:
        card = session.get(Participant, card_id)
        log = [
            c.to_status
            for c in session.scalars(
                select(StatusChange)
                .where(StatusChange.participant_id == card_id)
                .order_by(StatusChange.id)
            )
        ]
        return card, log


def _th_post(person, card_id: int, action: str, data: dict, revision: int):
    """A card form posted as the page showed it (its revision), without following redirects."""
    return person.post(
        f"/teachhub/cards/{card_id}/{action}",
        {**data, "revision": str(revision)},
        follow_redirects=False,
    )


def test_teachhub_moves_marks_and_hours_on_one_card_at_once(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        other_tab = th_launch(tool, moodle, stack, "teacher")  # the same facilitator, twice
        for person in (setup.facilitator, other_tab):
            assert person._csrf  # fetched now, outside the race
        # Two moves to "in progress" from the same page: one move, one log line.
        seen = _card(tool, card_id)[0].revision
        answers = at_once(
            *(
                lambda p=p: _th_post(p, card_id, "status", {"status": "in_progress"}, seen)
                for p in (setup.facilitator, other_tab)
            )
        )
        assert sorted(a.status_code for a in answers) == [303, 409]
        assert _card(tool, card_id)[1] == ["registered", "in_progress"]
        # A mark and hours typed on the same page: one is saved, the other is shown again.
        seen = _card(tool, card_id)[0].revision
        mark, hours = at_once(
            lambda: _th_post(
                setup.facilitator, card_id, "mark", {"mark": "88", "mark_comment": "Good"}, seen
            ),
            lambda: _th_post(
                other_tab, card_id, "hours", {"contact_hours": "24", "self_study_hours": "6"}, seen
            ),
        )
        assert sorted((mark.status_code, hours.status_code)) == [303, 409]
        card, _log = _card(tool, card_id)
        refused = mark if mark.status_code == 409 else hours
        assert "Changed since you looked" in refused.text
        if mark.status_code == 409:
            assert card.mark is None and 'name="mark" value="88"' in refused.text
        else:
            assert card.total_hours == 0 and 'name="contact_hours" value="24"' in refused.text
        assert f'name="revision" value="{card.revision}"' in refused.text


def test_two_coordinators_record_recognition_at_once(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = card_of(tool, setup.module_id, learner.user_id).id
        fac, coord = setup.facilitator, setup.coordinator
        second = th_launch(tool, moodle, stack, SECOND_COORDINATOR)
        assert th_move(fac, card_id, "in_progress").status_code == 303
        assert th_move(fac, card_id, "completed").status_code == 303
        fac.post(f"/teachhub/cards/{card_id}/hours", {"contact_hours": "30"})
        coord.post(f"/teachhub/cards/{card_id}/verify", {"note": "checked"})
        assert th_move(coord, card_id, "submitted").status_code == 303
        assert second._csrf
        seen = _card(tool, card_id)[0].revision
        day = th_today().isoformat()
        answers = at_once(
            *(
                lambda p=p, n=n: _th_post(
                    p,
                    card_id,
                    "status",
                    {"status": "recognized", "commission_number": n, "commission_date": day},
                    seen,
                )
                for p, n in ((coord, "17"), (second, "18"))
            )
        )
        assert sorted(a.status_code for a in answers) == [303, 409]
        card, log = _card(tool, card_id)
        assert log.count("recognized") == 1
        winner = "17" if answers[0].status_code == 303 else "18"
        assert card.commission_number == winner
        refused = next(a for a in answers if a.status_code == 409)
        assert "Changed since you looked" in refused.text
        # The winner's record, as the card shows it ("№ 18", the date in the reader's locale).
        assert re.search(rf"Commission record \D*\b{winner} of ", refused.text), refused.text


def test_two_edits_of_one_module_card_at_once(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        coord, fac = setup.coordinator, setup.facilitator
        assert coord._csrf and fac._csrf
        with th_db(tool) as session:
            seen = session.get(Module, setup.module_id).revision
        path = f"/teachhub/modules/{setup.module_id}/edit"
        answers = at_once(
            *(
                lambda p=p, goal=goal: p.post(
                    path, {**PASSPORT, "goal": goal, "revision": str(seen)}, follow_redirects=False
                )
                for p, goal in (
                    (coord, "Goal by the coordinator"),
                    (fac, "Goal by the facilitator"),
                )
            )
        )
        assert sorted(a.status_code for a in answers) == [303, 409]
        with th_db(tool) as session:
            module = session.get(Module, setup.module_id)
            assert module.revision == seen + 1
        refused = next(a for a in answers if a.status_code == 409)
        # The saved goal is shown, the loser's own is still in the form.
        assert module.goal in refused.text and "Changed since you looked" in refused.text
        mine = (
            "Goal by the facilitator"
            if module.goal.endswith("coordinator")
            else "Goal by the coordinator"
        )
        assert mine in refused.text
