"""The score outbox in tests: keep other tests' scores out, and run the worker until it drains."""

from __future__ import annotations

from sqlalchemy import update

from lti_tool.extensions import services
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.gradebook.worker import build_score_worker


def park_leftovers(tool) -> None:
    """Scores queued by earlier tests go to platforms that have stopped: keep them out."""
    with services(tool.app).db.new_session() as db:
        db.execute(
            update(ScoreOutbox).where(ScoreOutbox.status == "pending").values(status="parked")
        )
        db.commit()


def drain(tool, timeout: float = 30.0) -> None:
    """Run the score worker until nothing is pending (waiting for retries that are due later)."""
    worker = build_score_worker(tool.app, max_attempts=20)
    try:
        assert worker.drain(timeout), "the score outbox did not drain"
    finally:
        worker.close()
