"""Login states in Redis: used once, even by many at once; the database while Redis is down."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from servers import RedisServer, database_url_for
from sqlalchemy.orm import sessionmaker

from lti_tool.cache import RedisCache, redis_client
from lti_tool.db import make_engine, utcnow
from lti_tool.errors import LaunchError
from lti_tool.lti.models import LoginState, Platform
from lti_tool.lti.states import RedisLoginStates
from lti_tool.migrate import upgrade


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.remove()


@pytest.fixture
def sessions(tmp_path):
    url = database_url_for(str(tmp_path))
    upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as db:
        db.add(Platform(id=1, issuer="https://lms.example", client_id="c", name="LMS",
                        auth_login_url="x", auth_token_url="x", key_set_url="x",
                        frame_origins=[], product_family=""))
        db.commit()
    yield factory
    engine.dispose()


def _state() -> LoginState:
    now = utcnow()
    return LoginState(state=secrets.token_urlsafe(16), nonce=secrets.token_urlsafe(16),
                      platform_id=1, target_link_uri="https://tool.example/lti/launch",
                      storage_target=None, login_params={"iss": "https://lms.example"},
                      created_at=now, expires_at=now + timedelta(minutes=10))


def test_a_state_kept_in_redis_is_used_exactly_once(redis_server, sessions):
    states = RedisLoginStates(RedisCache(redis_client(redis_server.url), breaker_seconds=0.1))
    made = _state()
    with sessions() as db:
        states.put(db, made)
        assert db.get(LoginState, made.state) is None  # not in the database
        found = states.get(db, made.state)
        assert (found.nonce, found.used_at) == (made.nonce, None)
        assert found.login_params == {"iss": "https://lms.example"}

    def consume(_):
        with sessions() as db:
            return states.consume(db, made.state)

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(consume, range(32))) == [False] * 31 + [True]
    with sessions() as db:
        assert states.get(db, made.state).used_at is not None


def test_while_redis_is_down_states_live_in_the_database(redis_server, sessions):
    states = RedisLoginStates(RedisCache(redis_client(redis_server.url), breaker_seconds=0.1))
    redis_server.stop()
    made = _state()
    with sessions() as db:
        states.put(db, made)
        assert db.get(LoginState, made.state) is not None
        assert states.get(db, made.state).nonce == made.nonce
        assert states.consume(db, made.state) is True
        db.commit()
        assert states.consume(db, made.state) is False


def test_a_state_lost_with_redis_asks_the_user_to_start_again(redis_server, sessions):
    states = RedisLoginStates(RedisCache(redis_client(redis_server.url), breaker_seconds=0.1))
    made = _state()
    with sessions() as db:
        states.put(db, made)
        assert states.get(db, made.state) is not None
        redis_server.stop()  # between reading the state and using it
        with pytest.raises(LaunchError) as raised:
            states.consume(db, made.state)
        assert raised.value.code == "unknown_state"
