"""The score worker's doorbell: a commit that queued a score rings it; a rollback does not."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from lti_tool.gradebook.doorbell import BELL_INFO, LocalDoorbell, request_send


@pytest.fixture
def bell_and_sessions():
    bell = LocalDoorbell(poll_seconds=5.0)
    engine = create_engine("sqlite://")
    yield bell, sessionmaker(engine, info={BELL_INFO: bell})
    engine.dispose()


def test_a_commit_that_queued_a_score_rings_once(bell_and_sessions):
    bell, sessions = bell_and_sessions
    with sessions() as db:
        request_send(db)
        db.commit()
    started = time.monotonic()
    assert bell.wait(threading.Event()) is True
    assert time.monotonic() - started < 1
    with sessions() as db:
        db.commit()  # nothing queued: no ring
    assert LocalDoorbell(poll_seconds=0.3).wait(threading.Event()) is False


def test_a_rollback_forgets_the_ring(bell_and_sessions):
    bell, sessions = bell_and_sessions
    bell.poll_seconds = 0.3
    with sessions() as db:
        db.execute(text("SELECT 1"))  # a transaction, as around every score change
        request_send(db)
        db.rollback()
        db.commit()
    assert bell.wait(threading.Event()) is False


def test_stop_ends_the_wait_at_once():
    bell, stop = LocalDoorbell(poll_seconds=60.0), threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert bell.wait(stop) is False
    assert time.monotonic() - started < 1
