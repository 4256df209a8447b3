"""Refresh a course roster in the background when a launch finds it older than allowed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ..db import utcnow
from ..lti.models import Context
from .jobs import Jobs
from .models import SyncState
from .sync import Services, pull_roster


class RosterRefresher:
    """At most one background pull per course at a time; launches never wait for it."""

    def __init__(self, new_session: Callable[[], Session], platforms: Services,
                 max_age: timedelta):
        self.new_session = new_session
        self.platforms = platforms
        self.max_age = max_age
        self.jobs = Jobs()
        # Last pull or attempt per course, so a warm launch asks neither the database nor
        # the platform, and a failing roster service is not called at every launch.
        self._attempted: dict[int, datetime] = {}

    def request_if_due(self, db: Session, context_id: int) -> threading.Thread | None:
        """Start a background pull when the course roster is older than max_age."""
        now = utcnow()
        attempted = self._attempted.get(context_id)
        if attempted is None:
            state = db.get(SyncState, context_id)
            attempted = state.roster_pulled_at if state and state.roster_pulled_at else None
            if attempted:
                self._attempted[context_id] = attempted
        if attempted and now - attempted <= self.max_age:
            return None
        context = db.get_one(Context, context_id)
        if not context.memberships_url:
            self._attempted[context_id] = now
            return None
        self._attempted[context_id] = now
        return self.request(context_id)

    def busy(self) -> bool:
        """True while a background pull is running (tests wait on it)."""
        return self.jobs.busy()

    def request(self, context_id: int) -> threading.Thread | None:
        """Start a pull for the course unless one is running; returns its thread."""
        return self.jobs.start(f"roster-{context_id}", self._pull, context_id)

    def _pull(self, context_id: int) -> None:
        # A failed pull is logged by the job runner and tried again at a later launch.
        with self.new_session() as db:
            context = db.get(Context, context_id)
            if context is None:  # the course was removed meanwhile
                return
            client = self.platforms.client(db, context.platform_id)
            pull_roster(db, client, context)
