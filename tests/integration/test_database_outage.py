"""A PostgreSQL restart: requests during it get a clean 503, and the tool recovers by itself."""

from __future__ import annotations

import pytest
import requests
from lti_platform import LaunchDriver, Platform
from servers import PostgresServer, suite_database
from tool_server import start_tool

pytestmark = pytest.mark.skipif(suite_database() != "postgresql",
                                reason="a PostgreSQL restart (run with --db=postgresql)")


@pytest.fixture
def database():
    """A PostgreSQL server of this test's own, so stopping it disturbs no other test."""
    server = PostgresServer().start()
    yield server
    server.remove()


def test_requests_fail_cleanly_while_the_database_is_down_and_work_after(database, tmp_path):
    tool = start_tool(str(tmp_path), {"tool": {"database_url": database.create_database()}})
    try:
        with Platform("moodle") as lms, LaunchDriver() as browser:
            tool.register(lms)
            home = browser.launch(lms.plan("student"))
            assert home.status_code == 200
            database.stop()
            health = requests.get(tool.base_url + "/healthz", timeout=10)
            assert health.status_code == 503
            assert health.json()["down"] == ["database"]
            page = browser.get(home.url)
            assert page.status_code == 503
            assert page.headers["Retry-After"] == "5"
            assert "service_unavailable" in page.text
            login = browser.send(
                "POST", tool.login_url, data=lms.plan("student").login_params)
            assert login.status_code == 503
            database.start()
            assert requests.get(tool.base_url + "/healthz", timeout=10).status_code == 200
            again = browser.get(home.url)
            assert again.status_code == 200  # the same session, on a new connection
            assert browser.launch(lms.plan("student")).status_code == 200
    finally:
        tool.stop()
