"""Background jobs of this process: named daemon threads, at most one running per name.

The one way the tool runs work in the background (roster refreshes after a launch, the
embedded score worker of `make run`). Nothing here is durable: a job that must not be lost
is a row (the score outbox), and its job only drains the table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Jobs:
    """Starts jobs on daemon threads; a job whose name is running already is not started."""

    def __init__(self) -> None:
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def start(self, name: str, target: Callable[..., object], *args) -> threading.Thread | None:
        """Run target(*args) on a thread named `name`, unless that job is running; its thread."""
        with self._lock:
            if name in self._running:
                return None
            self._running.add(name)
        thread = threading.Thread(
            target=self._run, args=(name, target, args), daemon=True, name=name
        )
        thread.start()
        return thread

    def busy(self) -> bool:
        """True while a job is running (tests wait on it)."""
        return bool(self._running)

    def _run(self, name: str, target: Callable[..., object], args: tuple) -> None:
        try:
            target(*args)
        except Exception:  # a failed job is logged; whoever started it tries again later
            log.exception("background job %s failed", name)
        finally:
            with self._lock:
                self._running.discard(name)
