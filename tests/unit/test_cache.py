"""The cache interface behaves the same in memory and in Redis; a dead Redis fails fast."""

from __future__ import annotations

import time
import uuid

import pytest
from servers import RedisServer, free_port

from lti_tool.cache import CacheError, MemoryCache, RedisCache, redis_client


@pytest.fixture(scope="module")
def redis_url():
    """A Redis server for the module's [redis] tests (started only when one of them runs)."""
    server = RedisServer().start()
    yield server.url
    server.remove()


@pytest.fixture(params=["memory", "redis"])
def cache(request):
    """Each test runs on both backends; the [memory] ones need no Redis server."""
    if request.param == "memory":
        return MemoryCache()
    redis_url = request.getfixturevalue("redis_url")
    return RedisCache(redis_client(redis_url), prefix=f"test-{uuid.uuid4().hex}:")


def test_set_get_and_expiry(cache):
    cache.set("a", {"token": "x", "n": [1, 2]}, ttl=0.2)
    assert cache.get("a") == {"token": "x", "n": [1, 2]}
    time.sleep(0.3)
    assert cache.get("a") is None


def test_add_only_when_absent(cache):
    assert cache.add("lock", 1, ttl=5)
    assert not cache.add("lock", 2, ttl=5)
    assert cache.get("lock") == 1


def test_delete_only_while_it_holds_the_value(cache):
    cache.set("token", "old", ttl=5)
    cache.delete("token", only_if="other")
    assert cache.get("token") == "old"
    cache.delete("token", only_if="old")
    assert cache.get("token") is None
    cache.set("token", "new", ttl=5)
    cache.delete("token")
    assert cache.get("token") is None


def test_counters(cache):
    assert [cache.incr("generation") for _ in range(3)] == [1, 2, 3]
    assert cache.get("generation") == 3


def test_a_dead_redis_fails_fast_and_rests():
    cache = RedisCache(redis_client(f"redis://127.0.0.1:{free_port()}/0"), breaker_seconds=0.5)
    with pytest.raises(CacheError):
        cache.get("a")
    started = time.monotonic()
    for _ in range(100):  # within the rest: no connection attempt at all
        with pytest.raises(CacheError, match="waiting"):
            cache.set("a", 1, ttl=1)
    assert time.monotonic() - started < 0.1
    time.sleep(0.6)
    with pytest.raises(CacheError) as raised:  # tries again after the rest
        cache.get("a")
    assert "waiting" not in str(raised.value)
