"""Prometheus metrics at /metrics: launches and refusals by reason, requests, outbox, score latency.

Under gunicorn each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR
(config/gunicorn.conf.py sets it; `lti-tool worker` on the same host uses the same directory)
and /metrics sums them. prometheus_client is imported on first use, after that variable is set.
The page is served only to configured networks (loopback by default) and, when METRICS_TOKEN
is set, only with that bearer token.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from ..db import utcnow
from ..errors import launch_refused as launch_refused_signal
from ..extensions import services, settings
from ..settings import env_secret
from .proxy import UNTRUSTED_FORWARD, address_in, parse_networks

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

# Score delivery: from the change (outbox row written) to the LMS accepting the score.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
OUTBOX_STATUSES = ("pending", "parked", "sent", "superseded")


class _Metrics:
    """The process's metric objects (one set per process, whatever the number of apps)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.launches = Counter(
            "lti_tool_launches", "LTI logins and launches: ok, or refused with the reason code",
            ["outcome", "reason"])
        self.requests = Counter(
            "lti_tool_http_requests", "HTTP requests by route pattern and status",
            ["method", "route", "status"])
        self.request_seconds = Histogram(
            "lti_tool_http_request_duration_seconds", "Time in the app per request, by route",
            ["route"], buckets=REQUEST_BUCKETS)
        self.score_latency = Histogram(
            "lti_tool_score_sync_latency_seconds",
            "From a score queued in the outbox to the LMS accepting it", buckets=LATENCY_BUCKETS)


_metrics: _Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> _Metrics:
    """The metric objects, made on first use (once, whatever the number of threads)."""
    global _metrics  # noqa: PLW0603 (made once, on first use, under the lock)
    if _metrics is None:
        with _metrics_lock:
            if _metrics is None:
                _metrics = _Metrics()
    return _metrics


def launch_ok() -> None:
    """Count a validated launch."""
    metrics().launches.labels(outcome="ok", reason="").inc()


def launch_refused(reason: str) -> None:
    """Count a refused login or launch by its reason code (a fixed set of codes)."""
    metrics().launches.labels(outcome="refused", reason=reason).inc()


def score_sent(queued_at: datetime) -> None:
    """Observe how long a score took from the outbox to the LMS."""
    metrics().score_latency.observe(max(0.0, (utcnow() - queued_at).total_seconds()))


@dataclass(frozen=True)
class OutboxGauges:
    """How the outbox gauges are read: `read(db)` -> (rows by status, oldest pending)."""

    read: Callable[[Any], tuple[dict[str, int], datetime | None]]


class OutboxCollector:
    """Outbox depth by status and the age of the oldest pending score, read at scrape time.

    `read(db)` is the gradebook's: (count by status, when the oldest pending score was queued).
    """

    def __init__(self, sessions, read: Callable[[Any], tuple[dict[str, int], datetime | None]]):
        self.sessions = sessions
        self.read = read

    def collect(self):
        """The gauges, from one query; database_up 0 when it does not answer."""
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("lti_tool_database_up", "1 when the database answered /metrics")
        try:
            with self.sessions() as db:
                counts, oldest = self.read(db)
        except Exception as err:  # the database is down: say so, keep the other metrics
            log.warning("metrics: outbox not readable: %s", type(err).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("lti_tool_outbox_scores", "Scores in the outbox by status",
                                  labels=["status"])
        for status in OUTBOX_STATUSES:
            depth.add_metric([status], counts.get(status, 0))
        yield depth
        age = GaugeMetricFamily(
            "lti_tool_outbox_oldest_pending_seconds",
            "Age of the oldest pending score (growing: no score worker is running)")
        if oldest is not None and oldest.tzinfo is None:  # SQLite through func.min
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield age


def render(app: Flask) -> bytes:
    """The metrics page: this process's (or every worker's) metrics and the outbox gauges."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    metrics()  # so that a fresh worker shows its families even before counting anything
    outbox = CollectorRegistry()
    tool = services(app)
    outbox.register(OutboxCollector(tool.db.new_session, tool.get(OutboxGauges).read))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        return generate_latest(workers) + generate_latest(outbox)
    return generate_latest(REGISTRY) + generate_latest(outbox)


def _refusal() -> Response | None:
    networks = parse_networks(list(settings().metrics.networks))
    # Through a proxy we were not told about, every request looks local: refuse them all.
    if request.environ.get(UNTRUSTED_FORWARD) or not address_in(request.remote_addr, networks):
        log.warning("refused /metrics: not from an allowed network")
        return Response("forbidden\n", 403, mimetype="text/plain")
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            log.warning("refused /metrics: no or wrong bearer token")
            return Response("unauthorized\n", 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return None


@bp.route("/metrics")
def page():
    """Prometheus text format, for allowed networks (and the bearer token when one is set)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    g.no_session_in_urls = True
    if not settings().metrics.enabled:
        return Response("not found\n", 404, mimetype="text/plain")
    refused = _refusal()
    if refused is not None:
        return refused
    return Response(render(current_app), mimetype=CONTENT_TYPE_LATEST)


def _count_refusal(_error, code: str) -> None:
    launch_refused(code)


def init_app(app: Flask, outbox: Callable[[Any], tuple[dict[str, int], datetime | None]]
             ) -> None:
    """Serve /metrics with the outbox gauges `outbox(db)` reads, count every request by route
    and status, and count the refused launches (errors.launch_refused)."""
    services(app).provide(OutboxGauges(outbox))
    # A module function, connected once whatever the number of apps (blinker keeps one).
    launch_refused_signal.connect(_count_refusal)
    app.config["METRICS_TOKEN"] = env_secret("METRICS_TOKEN")
    app.register_blueprint(bp)

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        counted = metrics()
        counted.requests.labels(method=request.method, route=route,
                                status=str(response.status_code)).inc()
        if "metrics_started" in g:
            counted.request_seconds.labels(route=route).observe(
                time.perf_counter() - g.metrics_started)
        return response
