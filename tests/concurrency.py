"""Requests released at the same moment, for the race tests and bench/races.py."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
