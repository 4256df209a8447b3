"""Under gunicorn: JSON logs with request ids and no secrets; /metrics summed over workers,
guarded."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from lti_platform import LaunchDriver, Platform
from prometheus_client.parser import text_string_to_metric_families
from servers import start_gunicorn_tool

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def json_tool(tmp_path_factory):
    """Two gunicorn workers logging JSON lines; no proxy is trusted."""
    tool = start_gunicorn_tool(str(tmp_path_factory.mktemp("json-logs")), workers=2,
                               env={"LOG_FORMAT": "json"})
    yield tool
    tool.stop()


@pytest.fixture(scope="module")
def guarded_tool(tmp_path_factory):
    """A tool behind a trusted proxy on loopback, with a metrics token."""
    tool = start_gunicorn_tool(str(tmp_path_factory.mktemp("guarded")), workers=1,
                               env={"TRUSTED_PROXIES": "127.0.0.1", "METRICS_TOKEN": METRICS_TOKEN})
    yield tool
    tool.stop()


def _log_lines(tool, settle: float = 0.5) -> list[dict]:
    time.sleep(settle)  # gunicorn writes the access line after the response
    lines = [line for line in tool.server.log().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    return parsed


def _samples(text: str) -> dict[tuple, float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_every_line_is_json_and_carries_the_request_id_without_secrets(json_tool):
    with Platform("moodle") as lms, LaunchDriver() as browser:
        json_tool.register(lms)
        plan = lms.plan("student")
        step = browser.start_login(plan)
        id_token, state = step.authorize()
        home = browser.post_launch(step.launch_url, id_token, state)
        assert home.status_code == 200, home.text[:300]
        session_token = re.search(r"[?&]ls=([^&#]+)", home.url).group(1)
        replay = browser.post_launch(step.launch_url, id_token, state, follow_redirects=False)
        assert replay.status_code == 400
    launch_id = home.history[0].headers["X-Request-ID"]
    replay_id = replay.headers["X-Request-ID"]
    lines = _log_lines(json_tool)
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for secret in (id_token, state, session_token, plan.user.name, plan.user.email,
                   plan.user.family_name):
        assert secret not in text
    by_request = {}
    for line in lines:
        by_request.setdefault(line.get("request_id"), []).append(line)
    launch_lines = by_request[launch_id]
    assert any(line["message"].startswith("launch ok") for line in launch_lines)
    assert any(line["message"] == "request" and line["path"] == "/lti/launch"
               and line["status"] == 303 for line in launch_lines)
    assert any("replayed_launch" in line["message"] for line in by_request[replay_id])
    # The page after the launch: the access line names the route, never ?ls=<token>.
    home_line = next(line for line in by_request[home.headers["X-Request-ID"]]
                     if line["message"] == "request")
    assert home_line["path"] == "/" and home_line["status"] == 200


@pytest.mark.parametrize("given, kept", [
    ("proxy-1234.abc", True),
    ("x" * 129, False),
    ("two words", False),
    ('"},{"forged": 1', False),
])
def test_a_request_id_from_the_proxy_is_kept_only_when_well_formed(json_tool, given, kept):
    answer = requests.get(json_tool.base_url + "/healthz", headers={"X-Request-ID": given},
                          timeout=5)
    echoed = answer.headers["X-Request-ID"]
    if kept:
        assert echoed == given
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_metrics_sum_launches_and_refusals_over_both_workers(json_tool):
    before = _samples(requests.get(json_tool.base_url + "/metrics", timeout=5).text)
    ok_key = ("lti_tool_launches_total", (("outcome", "ok"), ("reason", "")))
    refused = ("outcome", "refused")
    replay_key = ("lti_tool_launches_total", (refused, ("reason", "replayed_launch")))
    unknown_key = ("lti_tool_launches_total", (refused, ("reason", "unknown_platform")))
    with Platform("canvas") as lms:
        json_tool.register(lms)
        for _ in range(6):  # new connections: the launches spread over both workers
            with LaunchDriver() as browser:
                step = browser.start_login(lms.plan("student"), params={"lti_storage_target": None})
                id_token, state = step.authorize()
                assert browser.post_launch(step.launch_url, id_token, state).status_code == 200
                assert browser.post_launch(step.launch_url, id_token, state,
                                           follow_redirects=False).status_code == 400
        unknown = requests.post(json_tool.base_url + "/lti/login", timeout=5, data={
            "iss": "https://nobody.example", "login_hint": "1",
            "target_link_uri": json_tool.base_url + "/lti/launch"})
        assert unknown.status_code == 400
    answer = requests.get(json_tool.base_url + "/metrics", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    after = _samples(answer.text)
    assert after[ok_key] - before.get(ok_key, 0) == 6
    assert after[replay_key] - before.get(replay_key, 0) == 6
    assert after[unknown_key] - before.get(unknown_key, 0) == 1
    assert after[("lti_tool_database_up", ())] == 1
    for status in ("pending", "parked", "sent", "superseded"):
        assert ("lti_tool_outbox_scores", (("status", status),)) in after
    assert ("lti_tool_outbox_oldest_pending_seconds", ()) in after
    assert ("lti_tool_score_sync_latency_seconds_count", ()) in after
    launches = [value for (name, labels), value in after.items()
                if name == "lti_tool_http_requests_total"
                and dict(labels) == {"method": "POST", "route": "/lti/launch", "status": "303"}]
    assert launches and launches[0] >= 6


def test_metrics_through_an_unknown_proxy_are_refused(json_tool):
    answer = requests.get(json_tool.base_url + "/metrics", timeout=5,
                          headers={"X-Forwarded-For": "127.0.0.1"})
    assert answer.status_code == 403


def test_metrics_need_the_token_and_an_allowed_client(guarded_tool):
    url = guarded_tool.base_url + "/metrics"
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert requests.get(url, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert requests.get(url, timeout=5, headers=wrong).status_code == 401
    assert requests.get(url, timeout=5, headers=bearer).status_code == 200
    # Through the trusted proxy the client is the forwarded address: a public one is refused.
    public = {**bearer, "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert requests.get(url, timeout=5, headers=public).status_code == 403
    local = {**bearer, "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    assert requests.get(url, timeout=5, headers=local).status_code == 200
    assert "METRICS_TOKEN" not in guarded_tool.server.log()
    assert METRICS_TOKEN not in guarded_tool.server.log()


def test_the_embedded_server_serves_its_own_metrics(tool, moodle, browser):
    """One process, no gunicorn: /metrics shows that process's counters."""
    key = ("lti_tool_launches_total", (("outcome", "ok"), ("reason", "")))
    before = _samples(requests.get(tool.base_url + "/metrics", timeout=5).text).get(key, 0)
    assert browser.launch(moodle.plan("student")).status_code == 200
    after = _samples(requests.get(tool.base_url + "/metrics", timeout=5).text)
    assert after[key] == before + 1
