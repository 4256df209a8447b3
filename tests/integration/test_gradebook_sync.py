"""Rosters and grades in, scores out: against Moodle- and Canvas-shaped AGS/NRPS over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lti_platform import LaunchDriver, Platform
from sqlalchemy import select, update
from tool_server import start_tool

from lti_tool.db import utcnow
from lti_tool.extensions import services
from lti_tool.gradebook.models import LineItem, Result, ScoreOutbox
from lti_tool.gradebook.outbox import enqueue_score
from lti_tool.gradebook.sync import pull_grades, pull_roster
from lti_tool.gradebook.worker import build_score_worker
from lti_tool.lti.models import Context, Membership, ResourceLink, User

FAST = {"parallel": 8, "lease_seconds": 5, "max_attempts": 8, "backoff_base_seconds": 0.05,
        "backoff_cap_seconds": 0.5}


@pytest.fixture(scope="module")
def gb_tool(tmp_path_factory):
    """A tool of its own (short HTTP timeouts, so hanging platforms cost seconds, not minutes)."""
    served = start_tool(str(tmp_path_factory.mktemp("gb")),
                        {"http": {"read_timeout_seconds": 1, "connect_timeout_seconds": 1,
                                  "retries": 0}})
    yield served
    served.stop()


@pytest.fixture(params=["moodle", "canvas"])
def lms(request, gb_tool):
    with Platform(request.param) as platform:
        gb_tool.register(platform)
        yield platform


def _course(tool, lms, students=30):
    """A teacher launches the placement; the platform has `students` learners."""
    users = lms.add_members(_course_id(lms), students)
    plan = lms.plan("teacher", resource_link={"id": "portfolio-link", "title": "Portfolio"},
                    custom={"placement": "portfolio"})
    with LaunchDriver() as browser:
        assert browser.launch(plan, params={"lti_storage_target": None}).status_code == 200
    _settle(tool)
    db = services(tool.app).db.new_session()
    context = db.scalars(select(Context).where(Context.platform_id == _platform_row(db, lms))
                         .order_by(Context.id.desc())).first()
    link = db.scalars(select(ResourceLink).where(ResourceLink.context_id == context.id)).one()
    return db, context, link, users


def _settle(tool, seconds=10.0):
    """Wait for the launch's background roster pull, so it cannot race the test's own."""
    import time

    refresher = services(tool.app).roster_refresher
    deadline = time.monotonic() + seconds
    while refresher.busy() and time.monotonic() < deadline:
        time.sleep(0.02)


def _course_id(lms):
    return 2 if lms.profile == "moodle" else 1


def _platform_row(db, lms):
    from lti_tool.lti.models import Platform as PlatformRow

    return db.scalars(select(PlatformRow.id).where(PlatformRow.issuer == lms.issuer,
                                                   PlatformRow.client_id == lms.client_id)).one()


def _client(tool, db, context):
    return services(tool.app).gradebook.client(db, context.platform_id)


def _worker(tool):
    return build_score_worker(tool.app, **FAST)


def _drain(worker, timeout: float = 60.0) -> None:
    assert worker.drain(timeout), "the outbox did not drain"


def test_roster_pull_pages_and_stores_members(gb_tool, lms):
    db, context, _link, users = _course(gb_tool, lms, students=120)
    assert pull_roster(db, _client(gb_tool, db, context), context).ok
    lms.set_member_status(_course_id(lms), users[0].sub, "Inactive")
    lms.reset_counts()
    report = pull_roster(db, _client(gb_tool, db, context), context, limit=50)
    assert report.ok, report.error
    assert report.requests >= 3  # 120+ members come in pages of 50
    rows = {u.sub: m for m, u in db.execute(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.context_id == context.id))}
    assert {u.sub for u in users[1:]} <= set(rows)
    assert all(rows[u.sub].role == "learner" for u in users[1:])
    # Moodle and Canvas list only active members: one who is missing is no longer active.
    assert rows[users[0].sub].status == "Inactive"
    db.close()


def test_grade_pull_stores_line_items_and_results(gb_tool, lms):
    db, context, _link, users = _course(gb_tool, lms, students=25)
    final = lms.add_line_item(_course_id(lms), "Final grade", 100)
    for i, user in enumerate(users):
        lms.set_result(final, user.sub, 50 + i)
    report = pull_grades(db, _client(gb_tool, db, context), context)
    assert report.ok, report.error
    item = db.scalars(select(LineItem).where(LineItem.url == final)).one()
    assert item.label == "Final grade" and item.score_maximum == 100
    scores = {u.sub: r.result_score for r, u in db.execute(
        select(Result, User).join(User, User.id == Result.user_id)
        .where(Result.line_item_id == item.id))}
    assert scores == {u.sub: pytest.approx(50 + i) for i, u in enumerate(users)}
    db.close()


def _enqueue_all(db, link, users, score_for):
    # Subs repeat across platforms (Moodle user ids): take this course's platform's users.
    platform_id = db.get(Context, link.context_id).platform_id
    rows = {u.sub: u for u in db.scalars(select(User).where(
        User.platform_id == platform_id, User.sub.in_([u.sub for u in users])))}
    for user in users:
        enqueue_score(db, resource_link=link, user=rows[user.sub],
                      score_given=score_for(user), score_maximum=100,
                      activity_progress="Completed", grading_progress="FullyGraded",
                      source="portfolio")
    db.commit()


def test_scores_are_sent_with_one_token(gb_tool, lms):
    db, context, link, users = _course(gb_tool, lms, students=30)
    pull_roster(db, _client(gb_tool, db, context), context)
    if not link.lineitem_url:  # Canvas course navigation: the worker creates the line item
        assert lms.profile == "canvas"
    services(gb_tool.app).gradebook.tokens = type(services(gb_tool.app).gradebook.tokens)()
    lms.reset_counts()
    _enqueue_all(db, link, users, lambda u: 70)
    _drain(_worker(gb_tool))
    db.refresh(link)
    stored = lms.scores(link.lineitem_url)
    assert {uid: s["scoreGiven"] for uid, s in stored.items()} == {
        u.sub: pytest.approx(70) for u in users}
    assert lms.counts["token"] == 1
    assert db.scalars(select(ScoreOutbox.status).where(
        ScoreOutbox.context_id == context.id)).all() == ["sent"] * 30
    db.close()


def test_newest_score_wins_even_within_one_second(gb_tool, lms):
    db, context, link, users = _course(gb_tool, lms, students=5)
    pull_roster(db, _client(gb_tool, db, context), context)
    worker = _worker(gb_tool)
    _enqueue_all(db, link, users, lambda u: 10)
    _drain(worker)
    # Three changes in quick succession: only the last may end up in the LMS.
    for value in (20, 30, 40):
        _enqueue_all(db, link, users, lambda u, v=value: v)
    _drain(worker)
    db.refresh(link)
    assert {s["scoreGiven"] for s in lms.scores(link.lineitem_url).values()} == {40}
    # Send one more change right after the last: Moodle keeps seconds and answers 409 to a
    # score not newer to the second; the worker must re-send it in a later second.
    _enqueue_all(db, link, users, lambda u: 41)
    _drain(worker)
    assert {s["scoreGiven"] for s in lms.scores(link.lineitem_url).values()} == {41}
    statuses = db.scalars(select(ScoreOutbox.status).where(ScoreOutbox.context_id == context.id))
    assert "parked" not in set(statuses)
    db.close()


@pytest.mark.parametrize("fault", ["500", "429", "503", "timeout"])
def test_a_flaky_lms_still_ends_with_every_newest_score(gb_tool, lms, fault):
    db, context, link, users = _course(gb_tool, lms, students=20)
    pull_roster(db, _client(gb_tool, db, context), context)
    lms.faults.fail_ratio, lms.faults.fail_with, lms.faults.seed = 0.5, fault, 7
    lms.faults.hang_seconds, lms.faults.retry_after = 1.5, 1
    _enqueue_all(db, link, users, lambda u: 55)
    _enqueue_all(db, link, users, lambda u: 66)
    _drain(_worker(gb_tool))
    db.refresh(link)
    assert lms.faults.injected, "the fault was never injected"
    assert {uid: s["scoreGiven"] for uid, s in lms.scores(link.lineitem_url).items()} == {
        u.sub: pytest.approx(66) for u in users}
    assert db.scalar(select(ScoreOutbox.id).where(ScoreOutbox.context_id == context.id,
                                                   ScoreOutbox.status == "parked")) is None
    db.close()


def test_an_lms_that_goes_down_and_comes_back(gb_tool, lms):
    db, context, link, users = _course(gb_tool, lms, students=10)
    pull_roster(db, _client(gb_tool, db, context), context)
    worker = _worker(gb_tool)
    if not link.lineitem_url:
        _enqueue_all(db, link, users[:1], lambda u: 1)
        _drain(worker)
        db.refresh(link)
    lms.faults.down()
    _enqueue_all(db, link, users, lambda u: 77)
    for _ in range(3):
        worker.run_once()
    assert db.scalar(select(ScoreOutbox.id).where(ScoreOutbox.context_id == context.id,
                                                   ScoreOutbox.status == "pending")) is not None
    lms.faults.up()
    _drain(worker)
    for user in users:
        assert lms.scores(link.lineitem_url)[user.sub]["scoreGiven"] == pytest.approx(77)
    db.close()


def test_a_line_item_deleted_in_the_lms_is_recreated_once(gb_tool, lms):
    db, context, link, users = _course(gb_tool, lms, students=3)
    pull_roster(db, _client(gb_tool, db, context), context)
    worker = _worker(gb_tool)
    _enqueue_all(db, link, users, lambda u: 5)
    _drain(worker)
    db.refresh(link)
    old = link.lineitem_url
    lms.delete_line_item(old)
    _enqueue_all(db, link, users, lambda u: 6)
    _drain(worker)
    db.refresh(link)
    assert link.lineitem_url and link.lineitem_url != old
    assert {s["scoreGiven"] for s in lms.scores(link.lineitem_url).values()} == {6}
    db.close()


def test_a_refused_score_is_parked_visibly_and_can_be_retried(gb_tool, lms):
    db, context, link, _users = _course(gb_tool, lms, students=2)
    pull_roster(db, _client(gb_tool, db, context), context)
    stranger = User(platform_id=context.platform_id, sub="not-a-member")
    db.add(stranger)
    db.commit()
    worker = _worker(gb_tool)
    enqueue_score(db, resource_link=link, user=stranger, score_given=9, score_maximum=10,
                  activity_progress="Completed", grading_progress="FullyGraded")
    db.commit()
    _drain(worker)
    row = db.scalars(select(ScoreOutbox).where(ScoreOutbox.user_id == stranger.id)).one()
    assert row.status == "parked" and row.last_error.startswith("HTTP 4")
    db.close()


@pytest.mark.parametrize("kind", ["html", "truncated_json", "wrong_content_type",
                                  "missing_field", "huge_page"])
def test_bad_answers_are_reported_not_crashed(gb_tool, lms, kind):
    db, context, _link, _users = _course(gb_tool, lms, students=2)
    lms.add_line_item(_course_id(lms), "Final grade", 100)
    lms.faults.set_bad_answer("memberships", kind)
    lms.faults.set_bad_answer("lineitems", kind)
    roster = pull_roster(db, _client(gb_tool, db, context), context)
    grades = pull_grades(db, _client(gb_tool, db, context), context)
    assert not roster.ok and roster.error
    assert not grades.ok and grades.error
    db.refresh(context)
    from lti_tool.gradebook.models import SyncState

    state = db.get(SyncState, context.id)
    assert state.roster_error and state.grades_error
    db.close()


def test_a_hanging_lms_times_out(gb_tool, lms):
    db, context, _link, _users = _course(gb_tool, lms, students=1)
    lms.faults.hang_seconds = 5
    lms.faults.set_bad_answer("memberships", "hang")
    import time

    started = time.monotonic()
    report = pull_roster(db, _client(gb_tool, db, context), context)
    assert not report.ok and "timed out" in report.error
    assert time.monotonic() - started < 4
    db.close()


def test_worker_killed_mid_batch_loses_nothing(gb_tool, tmp_path):
    """SIGKILL the `lti-tool worker` process mid-batch: a new worker sends the rest, newest wins."""
    import os
    import signal
    import subprocess
    import sys
    import time

    with Platform("moodle") as lms:
        gb_tool.register(lms)
        db, context, link, users = _course(gb_tool, lms, students=120)
        pull_roster(db, _client(gb_tool, db, context), context)
        lms.faults.delay = 0.05  # a slow LMS: the batch takes seconds, the kill lands inside it
        _enqueue_all(db, link, users, lambda u: 12)
        _enqueue_all(db, link, users, lambda u: 34)
        settings = tmp_path / "worker.toml"
        settings.write_text("[gradebook.worker]\nparallel = 4\nlease_seconds = 2\n"
                            "backoff_base_seconds = 0.05\nidle_seconds = 0.1\n")
        settings_of = services(gb_tool.app).settings
        env = dict(os.environ, LTI_TOOL_SETTINGS=str(settings),
                   DATABASE_URL=settings_of.tool.database_url,
                   DATA_DIR=str(settings_of.tool.data_dir), KEYS_DIR=str(settings_of.keys.dir),
                   BASE_URL=gb_tool.base_url)
        worker = subprocess.Popen([sys.executable, "-m", "lti_tool.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while len(lms.score_log) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(timeout=10)
        sent_before_kill = len(lms.score_log)
        assert 0 < sent_before_kill < 120, sent_before_kill
        # The killed worker's leases run out: moved into the past rather than waited for (a
        # lease is lease_seconds plus up to a second), so the test does not sleep.
        db.execute(update(ScoreOutbox).where(ScoreOutbox.claimed_until.is_not(None))
                   .values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.commit()
        _drain(_worker(gb_tool))
        db.refresh(link)
        stored = lms.scores(link.lineitem_url)
        assert {uid: s["scoreGiven"] for uid, s in stored.items()
                if uid in {u.sub for u in users}} == {u.sub: 34 for u in users}
        assert db.scalar(select(ScoreOutbox.id).where(
            ScoreOutbox.context_id == context.id,
            ScoreOutbox.status.in_(("parked", "pending")))) is None
        db.close()
