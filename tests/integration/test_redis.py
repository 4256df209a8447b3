"""With Redis (redis.url), two tool hosts on one database agree on login states, key sets,
access tokens and registrations, a committed score wakes the worker through a Redis list (the
doorbell), and a Redis outage costs nothing but speed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from click.testing import CliRunner
from lti_platform import LaunchDriver, Platform
from servers import RedisServer, clean_environment, database_url_for
from sqlalchemy import select
from tool_server import start_tool

from lti_tool.cli import main
from lti_tool.extensions import services
from lti_tool.gradebook.models import ScoreOutbox, SyncState
from lti_tool.gradebook.outbox import enqueue_score
from lti_tool.gradebook.sync import pull_roster
from lti_tool.lti.models import Context, LoginState, Platform as PlatformRow, ResourceLink, User

BREAKER_SECONDS = 1.0


@pytest.fixture(scope="module")
def redis_server():
    """redis-server of this module's own."""
    server = RedisServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, redis_server):
    """Two tools on one database, one key directory and one Redis, as two hosts behind a
    load balancer: both answer for A's public URL."""
    root = tmp_path_factory.mktemp("two-hosts")
    shared = {"tool": {"database_url": database_url_for(str(root))},
              "keys": {"dir": str(root / "keys")},
              # A short rest after Redis fails: the test that restarts it waits no longer.
              "redis": {"url": redis_server.url, "breaker_seconds": BREAKER_SECONDS},
              "gradebook": {"worker": {"in_process": False}}}
    a = start_tool(str(root / "a"), shared)
    b = start_tool(str(root / "b"), {**shared, "tool": {**shared["tool"], "base_url": a.base_url}})
    yield a, b
    a.stop()
    b.stop()


def _db(tool):
    return services(tool.app).db.new_session()


def _row(tool, model, key):
    """One row, read in a session of its own (closed at once)."""
    with _db(tool) as db:
        return db.get(model, key)


def _platform_id(tool, lms) -> int:
    with _db(tool) as db:
        return db.scalars(select(PlatformRow.id).where(
            PlatformRow.issuer == lms.issuer, PlatformRow.client_id == lms.client_id)).one()


def _wait(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_login_on_one_host_and_launch_on_the_other(hosts, redis_server):
    a, b = hosts
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        plan = lms.plan("student")
        step = browser.start_login(plan, a.login_url)
        id_token, state = step.authorize()
        with _db(a) as db:
            assert db.get(LoginState, state) is None  # kept in Redis, not in the database
        stored = redis.Redis.from_url(redis_server.url).hgetall(f"lti-tool:login-state:{state}")
        assert json.loads(stored[b"data"])["state"] == state
        home = browser.post_launch(b.launch_url, id_token, state)
        assert home.status_code == 200, home.text[:300]
        assert plan.user.name in home.text
        again = browser.post_launch(a.launch_url, id_token, state, follow_redirects=False)
        assert again.status_code == 400
        assert "already used" in again.text


def test_one_state_is_used_once_when_both_hosts_get_it_at_once(hosts):
    a, b = hosts
    with Platform("canvas") as lms, LaunchDriver() as browser:
        a.register(lms)
        step = browser.start_login(lms.plan("student"), a.login_url,
                                   params={"lti_storage_target": None})
        id_token, state = step.authorize()

        def post(host):
            return browser.post_launch(host.launch_url, id_token, state,
                                       follow_redirects=False).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = sorted(pool.map(post, [a, b] * 4))
    assert statuses == [303] + [400] * 7


def test_a_key_rotation_seen_by_one_host_serves_the_other(hosts):
    a, b = hosts
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        for host in (a, b):  # both hold the platform's first key set in memory
            step = browser.start_login(lms.plan("student"), a.login_url)
            id_token, state = step.authorize()
            assert browser.post_launch(host.launch_url, id_token, state).status_code == 200
        lms.rotate_key()
        step = browser.start_login(lms.plan("student"), a.login_url)
        id_token, state = step.authorize()
        assert browser.post_launch(a.launch_url, id_token, state).status_code == 200
        fetches = lms.counts["jwks"]
        # B has not seen the new kid: it takes the set A fetched from Redis, no refetch.
        step = browser.start_login(lms.plan("teacher"), a.login_url)
        id_token, state = step.authorize()
        assert browser.post_launch(b.launch_url, id_token, state).status_code == 200
        assert lms.counts["jwks"] == fetches == 2


def test_a_forged_kid_refetches_once_for_all_hosts(hosts):
    a, b = hosts
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        assert browser.launch(lms.plan("student"), a.login_url).status_code == 200
        before = lms.counts["jwks"]
        for host in (a, b, a, b):
            step = browser.start_login(lms.plan("student"), a.login_url)
            _token, state = step.authorize()
            forged = lms.sign(lms.claims_for(lms.plan("student"), step.nonce),
                              headers={"kid": "forged-kid"})
            refused = browser.post_launch(host.launch_url, forged, state, follow_redirects=False)
            assert refused.status_code == 400
        assert lms.counts["jwks"] - before == 1


def test_both_hosts_use_one_access_token(hosts):
    a, b = hosts
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        lms.add_members(2, 5)
        assert browser.launch(lms.plan("teacher"), a.login_url).status_code == 200
        platform_id = _platform_id(a, lms)
        with _db(a) as db:
            context = db.scalars(select(Context).where(Context.platform_id == platform_id)).one()
        # The launch started a roster pull on A in the background: let it finish.
        _wait(lambda: getattr(_row(a, SyncState, context.id), "roster_pulled_at", None)
              is not None,
              what="the background roster pull")
        lms.reset_counts()
        with _db(b) as db:
            context = db.get(Context, context.id)
            client = services(b.app).gradebook.client(db, platform_id, context.ags_scopes)
            assert pull_roster(db, client, context).ok
        assert lms.counts["token"] == 0  # B used the token A got


def test_a_platform_removed_with_the_cli_is_refused_by_every_host_at_once(hosts, redis_server):
    a, _b = hosts
    settings = services(a.app).settings
    env = clean_environment(DATABASE_URL=settings.tool.database_url,
                            DATA_DIR=str(settings.tool.data_dir), KEYS_DIR=str(settings.keys.dir),
                            BASE_URL=a.base_url, REDIS_URL=redis_server.url)
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        assert browser.launch(lms.plan("student"), a.login_url).status_code == 200  # A caches it
        done = CliRunner().invoke(main, ["platform", "remove", str(_platform_id(a, lms)),
                                         "--yes"], env=env)
        assert done.exit_code == 0, (done.stderr, done.exception)
        # Without Redis, A would go on using its cached registration for up to 30 s.
        refused = browser.send("POST", a.login_url, data=lms.plan("student").login_params)
        assert refused.status_code == 400
        assert "unknown_platform" in refused.text


@pytest.mark.serial  # times the worker's wake-up: alone, not beside four busy workers
def test_a_committed_score_wakes_the_worker_through_the_queue(hosts, redis_server, tmp_path):
    a, _b = hosts
    settings_file = tmp_path / "worker.toml"
    # A poll so slow that only the queue can explain a score sent within seconds.
    settings_file.write_text("[gradebook.worker]\nqueue_poll_seconds = 300\n")
    settings = services(a.app).settings
    env = clean_environment(DATABASE_URL=settings.tool.database_url,
                            DATA_DIR=str(settings.tool.data_dir), KEYS_DIR=str(settings.keys.dir),
                            BASE_URL=a.base_url, REDIS_URL=redis_server.url,
                            LTI_TOOL_SETTINGS=str(settings_file))
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        plan = lms.plan("student", resource_link={"id": "queued-link", "title": "Queued"})
        assert browser.launch(plan, a.login_url).status_code == 200
        output = tmp_path / "worker.log"
        with output.open("w") as log:
            worker = subprocess.Popen([sys.executable, "-m", "lti_tool.cli", "worker"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: "Redis list" in output.read_text(), what="the worker to listen")
            time.sleep(1)  # the worker's first poll is over; it now sleeps 300 s
            platform_id = _platform_id(a, lms)
            with _db(a) as db:
                user = db.scalars(select(User).where(User.platform_id == platform_id,
                                                     User.sub == plan.user.sub)).one()
                link = db.scalars(select(ResourceLink).join(Context).where(
                    Context.platform_id == platform_id,
                    ResourceLink.resource_link_id == "queued-link")).one()
                row = enqueue_score(db, resource_link=link, user=user, score_given=42,
                                    score_maximum=100, activity_progress="Completed",
                                    grading_progress="FullyGraded", source="test")
                db.commit()
                row_id = row.id
            started = time.monotonic()
            _wait(lambda: _row(a, ScoreOutbox, row_id).status == "sent", timeout=15,
                  what="the queued score")
            assert time.monotonic() - started < 10
            url = _row(a, ScoreOutbox, row_id).line_item_url
            assert lms.scores(url)[plan.user.sub]["scoreGiven"] == 42
        finally:
            worker.terminate()
            assert worker.wait(timeout=30) == 0


def test_logins_and_launches_go_on_while_redis_is_down(hosts, redis_server):
    a, b = hosts
    with Platform("moodle") as lms, LaunchDriver() as browser:
        a.register(lms)
        redis_server.stop()
        try:
            health = requests.get(a.base_url + "/healthz", timeout=10)
            assert health.status_code == 503
            assert health.json()["down"] == ["redis"]
            for host in (a, b):  # states go to the database meanwhile
                step = browser.start_login(lms.plan("student"), a.login_url)
                id_token, state = step.authorize()
                assert browser.post_launch(host.launch_url, id_token, state).status_code == 200
                assert browser.post_launch(host.launch_url, id_token, state,
                                           follow_redirects=False).status_code == 400
        finally:
            redis_server.start()
        time.sleep(BREAKER_SECONDS + 0.1)  # the circuit breaker's rest
        assert requests.get(a.base_url + "/healthz", timeout=10).status_code == 200
        step = browser.start_login(lms.plan("student"), a.login_url)
        id_token, state = step.authorize()
        with _db(a) as db:
            assert db.get(LoginState, state) is None  # back in Redis
        assert browser.post_launch(b.launch_url, id_token, state).status_code == 200


def test_without_redis_the_health_check_does_not_name_it(tool):
    assert "redis" not in requests.get(tool.base_url + "/healthz", timeout=5).json()


def test_login_rate_limit_is_counted_once_for_every_host(tmp_path, redis_server):
    """With Redis, two hosts share one count per client address (issue 9, finding 7)."""
    shared = {"tool": {"database_url": database_url_for(str(tmp_path))},
              "keys": {"dir": str(tmp_path / "keys")}, "redis": {"url": redis_server.url},
              "gradebook": {"worker": {"in_process": False}},
              "rate_limits": {"login": "2 per minute"}}
    a = start_tool(str(tmp_path / "a"), shared)
    b = start_tool(str(tmp_path / "b"), {**shared, "tool": {**shared["tool"],
                                                            "base_url": a.base_url}})
    try:
        with Platform("moodle") as lms:
            a.register(lms)
            params = dict(lms.plan("student").login_params)
            statuses = [requests.post(host.base_url + "/lti/login", data=params, timeout=10,
                                      allow_redirects=False).status_code for host in (a, b, b)]
        assert statuses == [302, 302, 429]
        keys = redis.Redis.from_url(redis_server.url).keys("*")
        assert [k for k in keys if b"rate-limit" in k], keys
    finally:
        a.stop()
        b.stop()
