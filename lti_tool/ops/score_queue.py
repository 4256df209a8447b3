"""The score outbox on a standard queue (RQ): a committed score change wakes the worker at once.

The outbox table stays the record: a job only says "send what is due now" and carries no
score, so a lost job (Redis flushed or down) costs a poll interval, never a score. Without
Redis, `lti-tool worker` polls the outbox as before.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..cache import CacheError, RedisCache

log = logging.getLogger(__name__)

WAKE_FLAG = "score_queue_wake"  # in Session.info: this transaction queued a score
QUEUE_INFO = "score_queue"  # in Session.info: the app's ScoreQueue (sessionmaker configures it)
WAKE_KEY = "score-wake"  # set while a wake-up job waits: many commits, one job
JOB = "lti_tool.ops.score_queue.send_scores"


def request_send(db: Session) -> None:
    """Wake the score worker once this session's transaction commits (no-op without Redis)."""
    db.info[WAKE_FLAG] = True


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(WAKE_FLAG, False) and session.info.get(QUEUE_INFO) is not None:
        session.info[QUEUE_INFO].wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(WAKE_FLAG, None)


class ScoreQueue:
    """The RQ queue the score worker listens on."""

    def __init__(self, cache: RedisCache, poll_seconds: float = 10.0):
        from rq import Queue

        self.cache = cache
        self.poll_seconds = poll_seconds
        self.queue = Queue(cache.prefix + "scores", connection=cache.client)

    def wake(self) -> None:
        """Enqueue one job for the worker, unless one is waiting already."""
        try:
            if self.cache.add(WAKE_KEY, 1, ttl=30):
                self.cache.call(self.queue.enqueue, JOB, job_timeout=600, result_ttl=0,
                                failure_ttl=86400, description="send the scores due now")
        except CacheError:
            pass  # the worker's poll sends it

    def work(self, runner, stop) -> None:
        """Run jobs in this process (RQ's SimpleWorker) until SIGTERM; survive Redis outages."""
        import signal

        import redis
        from rq import SimpleWorker

        global _runner, _cache
        _runner, _cache = runner, self.cache
        while not stop.is_set():
            try:
                worker = SimpleWorker([self.queue], connection=self.cache.client)
                worker.work(logging_level="WARNING")
                return  # RQ stops only when asked to (SIGTERM, SIGINT)
            except (redis.RedisError, OSError) as err:
                log.warning("score queue: redis unavailable (%s); polling the outbox meanwhile",
                            type(err).__name__)
            finally:
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
            stop.wait(5)


# The ScoreWorker of this process and its cache: set by `lti-tool worker`, or made on first
# use by a plain `rq worker -w rq.SimpleWorker lti-tool:scores`.
_runner = None
_cache: RedisCache | None = None


def send_scores() -> int:
    """The job: send every score due now; returns how many were claimed."""
    global _runner, _cache  # noqa: PLW0603 (an RQ job process builds them once)
    if _runner is None:
        from .. import create_app
        from ..gradebook.worker import ScoreWorker, WorkerPolicy

        app = create_app()
        _runner = ScoreWorker(app.extensions["db"].sessionmaker, app.extensions["gradebook"],
                              WorkerPolicy.from_settings(app.config["SETTINGS"]))
        _cache = app.extensions.get("shared_cache")
    if _cache is not None:
        try:
            _cache.delete(WAKE_KEY)  # a change committed from now on enqueues a new job
        except CacheError:
            pass
    claimed, started = 0, time.monotonic()
    while True:
        report = _runner.run_once()
        claimed += report.claimed
        if report.claimed == 0 or time.monotonic() - started > 300:
            return claimed


def init_app(app) -> None:
    """With Redis: a ScoreQueue, and every session of the app wakes it after a score commit."""
    cache = app.extensions.get("shared_cache")
    if cache is None:
        return
    worker = app.config["SETTINGS"].get("gradebook", {}).get("worker", {})
    queue = ScoreQueue(cache, float(worker.get("queue_poll_seconds", 10.0)))
    app.extensions["score_queue"] = queue
    app.extensions["db"].sessionmaker.configure(info={QUEUE_INFO: queue})
