"""The score worker: sends the outbox, in parallel, with retries, and never drops a score.

Rows are claimed with a lease (claimed_until): a worker killed mid-batch leaves rows that
become due again when the lease ends, so they are re-sent (a re-sent score is harmless: the
newest value wins on the platform too). Per student and line item only the newest row is
ever sent, with the time of the change as its timestamp, so a slow older post that lands
late is refused (Moodle: 409) or ignored (Canvas) by the platform instead of winning.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ..db import utcnow
from ..extensions import services
from ..http import body_digest
from ..lti.models import Context, ResourceLink
from ..ops import metrics
from ..settings import WorkerSettings
from . import ags
from .doorbell import Doorbell, LocalDoorbell
from .jobs import Jobs
from .lms import PlatformClient, ServiceError, retry_after_seconds
from .models import ScoreOutbox
from .sync import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerPolicy:
    """Retry and concurrency knobs, from settings [gradebook.worker] (no defaults here: they
    are in config/default.toml)."""

    parallel: int
    batch: int
    lease_seconds: float
    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float

    @classmethod
    def from_settings(cls, worker: WorkerSettings) -> WorkerPolicy:
        """The policy in settings [gradebook.worker]."""
        return cls(parallel=worker.parallel, batch=worker.batch,
                   lease_seconds=worker.lease_seconds, max_attempts=worker.max_attempts,
                   backoff_base_seconds=worker.backoff_base_seconds,
                   backoff_cap_seconds=worker.backoff_cap_seconds)


@dataclass
class BatchReport:
    """What one run of the worker did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    parked: int = 0
    superseded: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    row_id: int
    status: str  # sent | retry | parked | lost_line_item
    error: str = ""
    delay: float | None = None


class ScoreWorker:
    """Claims due outbox rows and posts them to the platforms."""

    def __init__(self, sessions: sessionmaker[Session], services: Services, policy: WorkerPolicy,
                 on_sent: Callable[[datetime], None] | None = None):
        self.sessions = sessions
        self.services = services
        self.policy = policy
        self.on_sent = on_sent  # called with the queue time of every score the LMS accepted
        self._pool = ThreadPoolExecutor(max_workers=policy.parallel,
                                        thread_name_prefix="score-post")

    def close(self) -> None:
        """Stop the sending threads."""
        self._pool.shutdown(wait=True)

    # -- one batch ----------------------------------------------------------------------
    def run_once(self) -> BatchReport:
        """Send what is due now; returns what happened."""
        report = BatchReport()
        with self.sessions() as db:
            rows = self._claim(db)
            report.claimed = len(rows)
            if not rows:
                return report
            rows = self._newest_only(db, rows, report)
            stamps = self._score_now(db, rows)
            db.commit()  # nothing stays locked while the LMS answers below
            clients: dict[int, PlatformClient] = {}
            for row in rows:
                if row.platform_id not in clients:
                    context = db.get(Context, row.context_id) if row.context_id else None
                    clients[row.platform_id] = self.services.client(
                        db, row.platform_id, context.ags_scopes if context else None)
            sendable = self._resolve_line_items(db, rows, clients, report)
            db.commit()
            outcomes = list(self._pool.map(
                lambda r: self._send(r, clients[r.platform_id], stamps.get(r.id)), sendable))
            self._record(db, {r.id: r for r in sendable}, outcomes, report)
            db.commit()
        return report

    def _claim(self, db: Session) -> list[ScoreOutbox]:
        now = utcnow()
        due = (ScoreOutbox.status == "pending") & (ScoreOutbox.next_attempt_at <= now) & (
            ScoreOutbox.claimed_until.is_(None) | (ScoreOutbox.claimed_until < now))
        ids = list(db.scalars(select(ScoreOutbox.id).where(due).order_by(ScoreOutbox.id)
                              .limit(self.policy.batch)))
        if not ids:
            return []
        # A lease unique to this claim: another worker's claim of the same row fails the
        # `due` condition, so each row is sent by one worker at a time.
        lease = now + timedelta(seconds=self.policy.lease_seconds,
                                microseconds=secrets.randbelow(1_000_000))
        db.execute(update(ScoreOutbox).where(ScoreOutbox.id.in_(ids), due)
                   .values(claimed_until=lease))
        db.commit()
        return list(db.scalars(select(ScoreOutbox).where(
            ScoreOutbox.id.in_(ids), ScoreOutbox.claimed_until == lease)))

    def _newest_only(self, db: Session, rows: list[ScoreOutbox],
                     report: BatchReport) -> list[ScoreOutbox]:
        newest: dict[tuple, ScoreOutbox] = {}
        for row in sorted(rows, key=lambda r: r.id):
            key = (row.resource_link_id or row.line_item_url, row.user_sub)
            if key in newest:
                newest[key].status = "superseded"
                report.superseded += 1
            newest[key] = row
        return list(newest.values())

    def _score_now(self, db: Session, rows: list[ScoreOutbox]) -> dict[int, datetime]:
        """Recompute each row's score from committed state; returns the time of each reading.

        A change queues its score in its own transaction, which cannot see a concurrent one:
        a verification and a design mark committed at the same moment would each queue a
        total without the other (issue 10). Reading the state now, after both committed, and
        stamping the score with the time of the reading makes the newest reading win on the
        platform: any interleaving ends with the LMS holding the tool's final value.
        """
        stamps: dict[int, datetime] = {}
        for row in rows:
            scorer = self.services.scorers.get((row.source or "").partition(":")[0])
            if scorer is None:
                continue
            stamp = utcnow()  # before reading: a later reading is stamped later
            fresh = scorer(db, row)
            if fresh is None:
                continue
            for name, value in fresh.items():
                setattr(row, name, value)
            stamps[row.id] = stamp
        return stamps

    def _resolve_line_items(self, db: Session, rows: list[ScoreOutbox],
                            clients: dict[int, PlatformClient], report: BatchReport):
        """Fill in missing line item URLs: the placement's, or found/created by link and tag."""
        resolved: dict[int, str] = {}
        sendable = []
        for row in rows:
            if not row.line_item_url and row.resource_link_id:
                if row.resource_link_id not in resolved:
                    try:
                        resolved[row.resource_link_id] = self._line_item_for(
                            db, row, clients[row.platform_id])
                    except ServiceError as err:
                        self._fail(row, str(err), err.retryable, err.retry_after, report)
                        continue
                row.line_item_url = resolved[row.resource_link_id]
                db.commit()  # before the next lookup goes to the LMS, release the lock
            if not row.line_item_url:
                self._fail(row, "no line item and no placement to create one for", False, None,
                           report)
                continue
            sendable.append(row)
        return sendable

    def _line_item_for(self, db: Session, row: ScoreOutbox, client: PlatformClient) -> str:
        # Foreign keys: the link and its course exist (get_one raises, as a bug, if not).
        link = db.get_one(ResourceLink, row.resource_link_id)
        if link.lineitem_url:
            return link.lineitem_url
        context = db.get_one(Context, link.context_id)
        if not context.lineitems_url:
            raise ServiceError("the course offers no line items service", retryable=False)
        tag = row.line_item_tag or link.placement or "lti-tool"
        found = ags.list_line_items(client, context.lineitems_url,
                                    resource_link_id=link.resource_link_id, tag=tag)
        item = found[0] if found else ags.create_line_item(
            client, context.lineitems_url, label=row.line_item_label or link.title or tag,
            score_maximum=row.score_maximum, resource_link_id=link.resource_link_id, tag=tag)
        link.lineitem_url = item.url
        return item.url

    def _send(self, row: ScoreOutbox, client: PlatformClient,
              stamp: datetime | None = None) -> _Outcome:
        # The time of the change orders scores on the platform, so a slow older post that
        # lands late loses. A retried row is still the newest (older ones are superseded), so
        # it goes out stamped "now": an earlier attempt that landed unseen (a timeout after
        # the LMS stored it) or a score sent within the same second (Moodle keeps seconds and
        # answers 409 to one not strictly newer) must not make it look old.
        # A recomputed score carries the time its state was read (see _score_now).
        timestamp = stamp or (row.created_at if row.attempts == 0 else utcnow())
        body = ags.score_body(user_sub=row.user_sub, score_given=row.score_given,
                              score_maximum=row.score_maximum,
                              activity_progress=row.activity_progress,
                              grading_progress=row.grading_progress, timestamp=timestamp,
                              comment=row.comment)
        try:
            response = ags.post_score(client, row.line_item_url, body)
        except ServiceError as err:
            return _Outcome(row.id, "retry", str(err))
        status = response.status_code
        if 200 <= status < 300:
            return _Outcome(row.id, "sent")
        # Never the body: staff see this, and the log keeps it.
        snippet = f"HTTP {status}: {body_digest(response.content)}"
        if status == 409:
            return _Outcome(row.id, "retry", snippet, delay=1.1)
        if status == 404:
            return _Outcome(row.id, "lost_line_item", snippet)
        if status in (401, 408, 429) or status >= 500:
            return _Outcome(row.id, "retry", snippet, delay=retry_after_seconds(response))
        return _Outcome(row.id, "parked", snippet)

    def _record(self, db: Session, rows: dict[int, ScoreOutbox], outcomes: list[_Outcome],
                report: BatchReport) -> None:
        # A newer score may have been queued while these were in flight: their failures no
        # longer matter (the newer one will be sent), and they must not come back as pending.
        superseded = set(db.scalars(select(ScoreOutbox.id).where(
            ScoreOutbox.id.in_(list(rows)), ScoreOutbox.status == "superseded")))
        for outcome in outcomes:
            row = rows[outcome.row_id]
            if row.id in superseded and outcome.status != "sent":
                db.expire(row)
                continue
            if outcome.status == "sent":
                row.status, row.sent_at, row.last_error = "sent", utcnow(), ""
                if self.on_sent is not None:
                    self.on_sent(row.created_at)
                row.claimed_until = None
                report.sent += 1
            elif outcome.status == "lost_line_item":
                # Deleted in the LMS: forget it so the next try recreates it; a second
                # 404 in a row parks the score instead of looping.
                if row.last_error.startswith("HTTP 404") or not row.resource_link_id:
                    self._fail(row, outcome.error, False, None, report)
                else:
                    link = db.get(ResourceLink, row.resource_link_id)
                    if link is not None and link.lineitem_url == row.line_item_url:
                        link.lineitem_url = None
                    row.line_item_url = ""
                    self._fail(row, outcome.error, True, 0.0, report)
            else:
                self._fail(row, outcome.error, outcome.status == "retry", outcome.delay, report)

    def _fail(self, row: ScoreOutbox, error: str, retryable: bool, delay: float | None,
              report: BatchReport) -> None:
        row.attempts += 1
        row.last_error = error[:2000]
        row.claimed_until = None
        if retryable and row.attempts < self.policy.max_attempts:
            if delay is None:
                delay = min(self.policy.backoff_cap_seconds,
                            self.policy.backoff_base_seconds * 2 ** (row.attempts - 1))
                delay *= random.uniform(0.8, 1.2)  # jitter: retries of a burst spread out
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            report.retried += 1
        else:
            row.status = "parked"
            report.parked += 1
            log.warning("score %s parked after %s attempts: %s", row.id, row.attempts, error)
        report.errors.append(error)

    # -- loops --------------------------------------------------------------------------
    def drain(self, timeout: float) -> bool:
        """Run batches until nothing is pending, waiting for retries that fall due meanwhile
        (at most a second at a time): True when the outbox drained within `timeout` seconds.
        For work that must end with the LMS up to date (tests, benches, a one-off run)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_once()
            with self.sessions() as db:
                due = next_due(db)
            if due is None:
                return True
            time.sleep(min(1.0, max(0.05, (due - utcnow()).total_seconds())))
        return False

    def run_forever(self, stop: threading.Event, doorbell: Doorbell | None = None) -> None:
        """Run batches until `stop` is set; when idle, wait for the doorbell or its poll."""
        doorbell = doorbell or LocalDoorbell()
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # a bad batch must not kill the worker; it is retried
                log.exception("score worker batch failed")
                report = BatchReport()
            if report.claimed == 0:
                doorbell.wait(stop)


def next_due(db: Session) -> datetime | None:
    """When the next pending score is due (None when nothing is pending)."""
    return db.scalar(select(ScoreOutbox.next_attempt_at).where(ScoreOutbox.status == "pending")
                     .order_by(ScoreOutbox.next_attempt_at).limit(1))


def build_score_worker(app: Flask, policy: WorkerPolicy | None = None,
                       **changes: Any) -> ScoreWorker:
    """The one place a ScoreWorker is built: the app's sessions and platform services, and
    the policy of settings [gradebook.worker] unless one is given, with `changes` to it
    (tests, benches: `max_attempts=1`)."""
    tool = services(app)
    assert tool.db.sessionmaker is not None, "Database.init_app() first"
    return ScoreWorker(tool.db.sessionmaker, tool.gradebook,
                       replace(policy or WorkerPolicy.from_settings(tool.settings.gradebook.worker),
                               **changes),
                       on_sent=metrics.score_sent)


def run(app: Flask, stop: threading.Event) -> None:
    """Run the app's score worker until `stop` is set (`lti-tool worker`, or in-process)."""
    worker = build_score_worker(app)
    try:
        worker.run_forever(stop, services(app).score_doorbell)
    finally:
        worker.close()


def start_in_process(app: Flask) -> threading.Event:
    """Run the score worker as a background job of this process (the embedded default);
    returns the event that stops it."""
    stop = threading.Event()
    Jobs().start("score-worker", run, app, stop)
    return stop
