"""gunicorn serves the tool with config/gunicorn.conf.py; the score worker is a process of its
own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from lti_platform import LaunchDriver, Platform
from servers import GUNICORN_CONF, ROOT, clean_environment, start_gunicorn_tool
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.gradebook.outbox import enqueue_score
from lti_tool.lti.models import Context, Platform as PlatformRow, ResourceLink, User

# Deadlines and answer times are measured here: run alone, not beside other workers.
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The tool under gunicorn with two workers, told to run a score worker in process and to
    look at the outbox every 0.1 s: were a web worker to run one, it would show at once."""
    tool = start_gunicorn_tool(
        str(tmp_path_factory.mktemp("gunicorn")), workers=2,
        overrides={"gradebook": {"worker": {"in_process": True, "idle_seconds": 0.1}}})
    yield tool
    tool.stop()


def _wait(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_two_workers_serve_and_a_killed_one_is_replaced(served):
    workers = served.server.worker_pids()
    assert len(workers) == 2
    statuses = {requests.get(served.base_url + "/healthz", timeout=5).status_code
                for _ in range(20)}
    assert statuses == {200}
    os.kill(workers[0], signal.SIGKILL)
    _wait(lambda: len(served.server.worker_pids()) == 2
          and workers[0] not in served.server.worker_pids(), what="a new worker")
    assert requests.get(served.base_url + "/healthz", timeout=5).status_code == 200


def test_a_launch_through_gunicorn(served):
    with Platform("moodle") as lms, LaunchDriver() as browser:
        served.register(lms)
        plan = lms.plan("student")
        home = browser.launch(plan, params={"lti_storage_target": None})
        assert home.status_code == 200, home.text[:500]
        assert plan.user.name in home.text
        assert home.headers["X-Request-ID"]


def test_scores_wait_for_the_worker_process_not_a_web_worker(served, tmp_path):
    """gunicorn workers never send scores (even with in_process = true); `lti-tool worker` does."""
    with Platform("moodle") as lms, LaunchDriver() as browser:
        served.register(lms)
        plan = lms.plan("student", resource_link={"id": "graded-link", "title": "Graded"})
        assert browser.launch(plan, params={"lti_storage_target": None}).status_code == 200
        with services(served.app).db.new_session() as db:
            platform_id = db.scalars(select(PlatformRow.id).where(
                PlatformRow.issuer == lms.issuer, PlatformRow.client_id == lms.client_id)).one()
            user = db.scalars(select(User).where(User.platform_id == platform_id,
                                                 User.sub == plan.user.id)).one()
            link = db.scalars(select(ResourceLink).join(Context).where(
                Context.platform_id == platform_id,
                ResourceLink.resource_link_id == "graded-link")).one()
            row = enqueue_score(db, resource_link=link, user=user, score_given=70,
                                score_maximum=100, activity_progress="Completed",
                                grading_progress="FullyGraded", source="test")
            db.commit()
            row_id = row.id
        time.sleep(0.5)  # five of the outbox looks a score worker in a web worker would make

        def status() -> str:
            with services(served.app).db.new_session() as db:
                return db.get(ScoreOutbox, row_id).status

        assert status() == "pending"
        settings = services(served.app).settings
        env = clean_environment(DATABASE_URL=settings.tool.database_url,
                                DATA_DIR=str(settings.tool.data_dir),
                                KEYS_DIR=str(settings.keys.dir), BASE_URL=served.base_url)
        worker = subprocess.Popen([sys.executable, "-m", "lti_tool.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: status() == "sent", what="the worker process to send the score")
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        with services(served.app).db.new_session() as db:
            url = db.get(ScoreOutbox, row_id).line_item_url
        assert lms.scores(url)[plan.user.id]["scoreGiven"] == 70


def test_sigterm_stops_gracefully(tmp_path):
    tool = start_gunicorn_tool(str(tmp_path), workers=1)
    assert requests.get(tool.base_url + "/healthz", timeout=5).status_code == 200
    assert tool.server.stop() == 0
    assert "Shutting down: Master" in tool.server.log()
    services(tool.app).db.engine.dispose()


def test_the_config_file_reads_the_environment(tmp_path):
    env = clean_environment(DATA_DIR=str(tmp_path), KEYS_DIR=str(tmp_path / "keys"),
                            WEB_CONCURRENCY="3", GUNICORN_THREADS="6",
                            TRUSTED_PROXIES="10.1.2.3,192.168.0.0/16")
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
                           "--print-config"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    config = {key.strip(): value.strip() for key, value in (
        line.split(" = ", 1) for line in done.stdout.splitlines() if " = " in line)}
    assert config["workers"] == "3"
    assert config["threads"] == "6"
    assert config["preload_app"] == "False"
    assert config["worker_class"] == "gthread"
    assert config["forwarded_allow_ips"] == "['10.1.2.3/32', '192.168.0.0/16']"
    assert config["wsgi_app"] == "lti_tool.wsgi:app"
    assert config["control_socket_disable"] == "True"


def test_production_problems_stop_gunicorn_before_any_worker(tmp_path):
    env = clean_environment(LTI_TOOL_ENV="production", DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode != 0
    for name in ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "CREDENTIALS_KEY"):
        assert f"{name} is not set" in done.stderr
    assert "Booting worker" not in done.stderr
