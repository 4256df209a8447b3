"""The score worker's doorbell: a committed score change wakes the worker at once.

The outbox table is the queue and the worker's poll is the guarantee; the doorbell only
shortens the wait. It carries no score, so a lost ring (Redis flushed or down) costs one poll
interval, never a score. In one process (`make run`, `lti-tool serve`) it is a
threading.Event; across processes (gunicorn and `lti-tool worker`) a Redis list that the
worker blocks on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..cache import CacheError, RedisCache
from ..db import Database

log = logging.getLogger(__name__)

RING_FLAG = "score_doorbell_ring"  # in Session.info: this transaction queued a score
BELL_INFO = "score_doorbell"  # in Session.info: the app's doorbell (sessionmaker configures it)
KEY = "score-doorbell"  # the Redis list the worker blocks on (at most one ring waits)


def request_send(db: Session) -> None:
    """Ring the score worker's doorbell once this session's transaction commits."""
    db.info[RING_FLAG] = True


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(RING_FLAG, False) and session.info.get(BELL_INFO) is not None:
        session.info[BELL_INFO].ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(RING_FLAG, None)


class Doorbell(Protocol):
    """What the worker waits on, and what a commit rings."""

    poll_seconds: float

    def ring(self) -> None:
        """Wake the worker."""

    def wait(self, stop: threading.Event) -> bool:
        """Wait for a ring, `stop` or the poll interval; True when rung."""

    def describe(self) -> str:
        """How the worker is woken, for its start-up line."""


class LocalDoorbell:
    """A doorbell inside one process; the worker also looks every `poll_seconds`."""

    def __init__(self, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds
        self._rung = threading.Event()

    def describe(self) -> str:
        """How the worker is woken, for its start-up line."""
        return f"polling the outbox every {self.poll_seconds:g} s"

    def ring(self) -> None:
        """Wake the waiting worker (or the next one to wait)."""
        self._rung.set()

    def wait(self, stop: threading.Event) -> bool:
        """Wait for a ring, `stop` or the poll interval; True when rung."""
        deadline = time.monotonic() + self.poll_seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            # In slices: a stop set meanwhile is seen within a quarter of a second.
            if self._rung.wait(min(left, 0.25)):
                self._rung.clear()
                return True
        return False


class RedisDoorbell:
    """A doorbell shared by every process through a Redis list (LPUSH to ring, BLPOP to wait)."""

    def __init__(self, cache: RedisCache, poll_seconds: float = 10.0):
        self.cache = cache
        self.poll_seconds = poll_seconds
        self.key = cache.key(KEY)
        self._blocking = None  # a client whose socket outlives one blocking wait

    def describe(self) -> str:
        """How the worker is woken, for its start-up line."""
        return (
            f"woken through the Redis list {self.key}, polling the outbox every "
            f"{self.poll_seconds:g} s"
        )

    def ring(self) -> None:
        """Leave one ring for the worker, however many commits ring before it wakes."""
        try:
            self.cache.call(self._push)
        except CacheError:
            pass  # the worker's poll sends it

    def _push(self) -> None:
        pipe = self.cache.client.pipeline()
        pipe.lpush(self.key, 1)
        pipe.ltrim(self.key, 0, 0)
        pipe.execute()

    def wait(self, stop: threading.Event) -> bool:
        """Wait for a ring, `stop` or the poll interval; True when rung.

        Redis down: the worker polls meanwhile (the outbox is the record), and says so once.
        """
        import redis

        deadline = time.monotonic() + self.poll_seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                # A second at a time (whole seconds: every Redis version takes them): stop is
                # seen within one, and the poll comes at most a second late.
                if self._client().blpop([self.key], timeout=1):
                    return True
            except (redis.RedisError, OSError) as err:
                log.warning(
                    "score doorbell: redis unavailable (%s); polling the outbox meanwhile",
                    type(err).__name__,
                )
                stop.wait(max(0.0, min(5.0, deadline - time.monotonic())))
        return False

    def _client(self):
        if self._blocking is None:
            import redis

            pool = self.cache.client.connection_pool
            self._blocking = redis.Redis(
                connection_pool=redis.ConnectionPool(
                    connection_class=pool.connection_class,
                    **{**pool.connection_kwargs, "socket_timeout": 5.0},
                )
            )
        return self._blocking


def make_doorbell(
    shared: RedisCache | None, *, idle_seconds: float, queue_poll_seconds: float
) -> Doorbell:
    """The app's doorbell: Redis when shared, else in-process."""
    if shared is None:
        return LocalDoorbell(idle_seconds)
    return RedisDoorbell(shared, queue_poll_seconds)


def init_app(app: Flask, db: Database, bell: Doorbell) -> None:
    """Every session of the app's database rings `bell` when it commits a score."""
    assert db.sessionmaker is not None, "Database.init_app() first"
    db.sessionmaker.configure(info={BELL_INFO: bell})
