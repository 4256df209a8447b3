"""Caches: kept in this process (MemoryCache), or shared by every process and host (RedisCache).

Values are JSON-able (dicts, lists, strings, numbers). Nothing in a cache is the only copy of
anything: the database stays the record, so a flushed or stopped Redis costs time, never data.
A RedisCache that cannot reach Redis raises CacheError at once for a few seconds (a circuit
breaker), so a request never waits on a dead Redis more than once in that window.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import RedisSettings

log = logging.getLogger(__name__)


class CacheError(Exception):
    """The shared cache did not answer; callers carry on without it."""


class Cache(ABC):
    """What the tool asks of a cache."""

    @abstractmethod
    def get(self, key: str) -> Any | None:
        """The value, or None when absent or expired."""

    @abstractmethod
    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store `value` for `ttl` seconds."""

    @abstractmethod
    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store only if absent (a lock, a rate limit); True when this call stored it."""

    @abstractmethod
    def delete(self, key: str, only_if: Any = None) -> None:
        """Remove the key; with `only_if`, only while it still holds that value."""

    @abstractmethod
    def incr(self, key: str) -> int:
        """Add one to a counter (created at 0) and return it."""


class MemoryCache(Cache):
    """A dict with expiry times, for one process."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> tuple[float, Any] | None:
        entry = self._values.get(key)
        if entry is not None and entry[0] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return entry

    def get(self, key: str) -> Any | None:
        entry = self._live(key)
        return entry[1] if entry else None

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._values[key] = (time.monotonic() + ttl, value)

    def add(self, key: str, value: Any, ttl: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._values[key] = (time.monotonic() + ttl, value)
            return True

    def delete(self, key: str, only_if: Any = None) -> None:
        with self._lock:
            entry = self._live(key)
            if entry is not None and (only_if is None or entry[1] == only_if):
                self._values.pop(key, None)

    def incr(self, key: str) -> int:
        with self._lock:
            entry = self._live(key)
            value = (entry[1] if entry else 0) + 1
            self._values[key] = (float("inf"), value)
            return value


# Delete a key only while it holds the expected value (a token another process replaced stays).
_DELETE_IF = ("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
              "end return 0")


class RedisCache(Cache):
    """Keys under a prefix in Redis, values as JSON; CacheError when Redis does not answer."""

    def __init__(self, client, prefix: str = "lti-tool:", breaker_seconds: float = 5.0):
        self.client = client
        self.prefix = prefix
        self.breaker_seconds = breaker_seconds
        self._down_until = 0.0
        self._warned_at = float("-inf")
        self._delete_if = client.register_script(_DELETE_IF)

    def key(self, key: str) -> str:
        """The Redis key of a cache key."""
        return self.prefix + key

    def call(self, operation, *args, **kwargs):
        """Run a redis-py call; CacheError (and a few seconds of rest) when Redis fails."""
        import redis

        if time.monotonic() < self._down_until:
            raise CacheError("redis is unavailable (waiting before the next try)")
        try:
            return operation(*args, **kwargs)
        except redis.RedisError as err:
            # Out of memory (a full Redis with noeviction) is as good as down for a cache.
            self._down_until = time.monotonic() + self.breaker_seconds
            if time.monotonic() - self._warned_at > 30:
                self._warned_at = time.monotonic()
                log.warning("redis unavailable, going on without it: %s", type(err).__name__)
            raise CacheError(str(err)) from err

    def get(self, key: str) -> Any | None:
        raw = self.call(self.client.get, self.key(key))
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.call(self.client.set, self.key(key), json.dumps(value), px=max(1, int(ttl * 1000)))

    def add(self, key: str, value: Any, ttl: float) -> bool:
        return bool(self.call(self.client.set, self.key(key), json.dumps(value),
                              px=max(1, int(ttl * 1000)), nx=True))

    def delete(self, key: str, only_if: Any = None) -> None:
        if only_if is None:
            self.call(self.client.delete, self.key(key))
        else:
            self.call(self._delete_if, keys=[self.key(key)], args=[json.dumps(only_if)])

    def incr(self, key: str) -> int:
        return int(self.call(self.client.incr, self.key(key)))


def redis_client(url: str):
    """A redis-py client with short timeouts: a cache that hangs is worse than none."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0,
                                health_check_interval=15)


def shared_cache(options: RedisSettings) -> RedisCache | None:
    """The Redis cache of settings [redis] (url from REDIS_URL), or None without one."""
    if not options.url:
        return None
    return RedisCache(redis_client(options.url), options.prefix, options.breaker_seconds)
