"""The rate limits' in-memory counts (ops/limits.py SweptMemoryStorage): the same counting as
`limits`' memory storage, without starting a thread per counted request, and expired counts of
clients that never come back are still dropped."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from lti_tool.ops import limits as rate_limits


def _threads() -> set[int | None]:
    return {thread.ident for thread in threading.enumerate()}


def test_the_storage_counts_like_limits_memory_storage_without_a_thread_per_hit():
    storage = storage_from_string("lti-tool-memory://")
    assert isinstance(storage, rate_limits.SweptMemoryStorage)
    time.sleep(0.05)  # the one timer the parent's constructor starts has run
    before = _threads()
    for strategy in (FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)):
        three = parse("3 per minute")
        answers = [strategy.hit(three, "login", "198.51.100.7") for _ in range(4)]
        assert answers == [True, True, True, False]
        assert strategy.hit(three, "login", "198.51.100.8")  # another address: its own count
    assert _threads() <= before  # no Timer thread started by the hits


def test_expired_counts_of_clients_gone_are_swept_by_a_later_request():
    storage = storage_from_string("lti-tool-memory://")
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("5 per minute")
    limiter.hit(limit, "login", "203.0.113.1")
    gone = limit.key_for("login", "203.0.113.1")
    assert gone in storage.storage
    storage.expirations[gone] = time.time() - 1  # its minute is over; nobody reads it again
    limiter.hit(limit, "login", "203.0.113.2")
    assert gone in storage.storage  # not yet: sweeps are at most once a minute
    storage._swept_at -= rate_limits.SWEEP_EVERY_SECONDS
    limiter.hit(limit, "login", "203.0.113.2")
    assert gone not in storage.storage


def test_over_the_limit_an_address_is_told_when_to_come_back_and_others_are_not_counted():
    counts = rate_limits.AddressLimits("lti-tool-memory://", prefix="t", fallback=False)
    two = parse("2 per minute")
    answers = [counts.hit(two, "lti.login", "198.51.100.1") for _ in range(3)]
    assert answers[:2] == [None, None]
    assert answers[2] is not None and 1 <= answers[2] <= 60  # Retry-After, in seconds
    assert counts.hit(two, "lti.register", "198.51.100.1") is None  # another endpoint
    assert counts.hit(two, "lti.login", "198.51.100.2") is None  # another address


def test_while_redis_does_not_answer_the_limit_is_counted_in_memory():
    """Redis down: logins are still answered, and still limited (in this process)."""
    counts = rate_limits.AddressLimits("redis://127.0.0.1:1/0", prefix="t", fallback=True)
    started = time.monotonic()
    answers = [counts.hit(parse("2 per minute"), "lti.login", "198.51.100.3") for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None
    assert time.monotonic() - started < 5  # one failed try, then memory for a while
