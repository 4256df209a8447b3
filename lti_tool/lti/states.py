"""Where OIDC login states live: the database (default), or Redis shared by processes and hosts.

A state is used once (1EdTech Security Framework §5.1.1.5: the nonce must not be replayed).
In the database an UPDATE ... WHERE used_at IS NULL decides; in Redis a Lua script does the
same atomically. While Redis is down, new states go to the database and the launch finds
them there: logins keep working.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..cache import CacheError, RedisCache
from ..db import table_of, utcnow
from ..errors import LaunchError
from .models import LoginState

# How long a used or expired state is kept, so a late replay is told "already used" or
# "expired" rather than "unknown" (the database keeps them as long before sweeping).
KEEP_AFTER_EXPIRY = timedelta(hours=1)
FIELDS = ("state", "nonce", "platform_id", "target_link_uri", "storage_target", "login_params")

# 0: no such state; 1: marked used by this call; 2: used before.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'used_at', ARGV[1]) == 1 then return 1 end
return 2
"""


# Every login and launch runs these: plain statements with bound parameters, built and
# compiled once. Through the ORM (unit of work, identity map) each cost two to three times
# the statement itself (bench/launch.py).
_TABLE = table_of(LoginState)
_INSERT = insert(_TABLE)
_SELECT = select(_TABLE).where(_TABLE.c.state == bindparam("key"))
_CONSUME = (update(_TABLE).where(_TABLE.c.state == bindparam("key"), _TABLE.c.used_at.is_(None))
            .values(used_at=bindparam("now")))


class LoginStates:
    """Login states in the login_states table."""

    def put(self, db: Session, login_state: LoginState) -> None:
        """Store a new state (committed: the platform may answer within milliseconds)."""
        db.connection().execute(_INSERT, {column.key: getattr(login_state, column.key)
                                          for column in _TABLE.columns})
        db.commit()

    def get(self, db: Session, state: str) -> LoginState | None:
        """The state, used or not, or None (a detached copy: read it, do not change it)."""
        row = db.connection().execute(_SELECT, {"key": state}).first()
        return LoginState(**row._mapping) if row is not None else None

    def consume(self, db: Session, state: str) -> bool:
        """Mark the state used; False when it already was. The caller commits."""
        result = db.connection().execute(_CONSUME, {"key": state, "now": utcnow()})
        return result.rowcount == 1

    def consume_again(self, db: Session, state: str) -> bool:
        """After a rollback of the launch's transaction: take the state again."""
        return self.consume(db, state)


class RedisLoginStates(LoginStates):
    """Login states in Redis hashes; the database while Redis does not answer."""

    def __init__(self, cache: RedisCache):
        self.cache = cache
        self._claim = cache.client.register_script(_CLAIM)

    def _key(self, state: str) -> str:
        return self.cache.key("login-state:" + state)

    def put(self, db: Session, login_state: LoginState) -> None:
        data = {name: getattr(login_state, name) for name in FIELDS}
        data["created_at"] = login_state.created_at.isoformat()
        data["expires_at"] = login_state.expires_at.isoformat()
        keep = login_state.expires_at + KEEP_AFTER_EXPIRY - utcnow()
        pipeline = self.cache.client.pipeline(transaction=True)
        pipeline.hset(self._key(login_state.state), "data", json.dumps(data))
        pipeline.pexpire(self._key(login_state.state), int(keep.total_seconds() * 1000))
        try:
            self.cache.call(pipeline.execute)
        except CacheError:
            super().put(db, login_state)

    def get(self, db: Session, state: str) -> LoginState | None:
        try:
            data, used_at = self.cache.call(self.cache.client.hmget, self._key(state),
                                            ["data", "used_at"])
        except CacheError:
            data = used_at = None
        if data is None:
            return super().get(db, state)  # stored while Redis was down, or unknown
        values = json.loads(data)
        return LoginState(
            **{name: values[name] for name in FIELDS},
            created_at=datetime.fromisoformat(values["created_at"]),
            expires_at=datetime.fromisoformat(values["expires_at"]),
            used_at=datetime.fromisoformat(used_at.decode()) if used_at else None)

    def consume(self, db: Session, state: str) -> bool:
        try:
            claimed = self.cache.call(self._claim, keys=[self._key(state)],
                                      args=[utcnow().isoformat()])
        except CacheError:
            if db.get(LoginState, state) is None:
                # Read from Redis a moment ago, gone with it now: the user starts again.
                raise LaunchError(_l("The launch state is unknown. Please open the tool again "
                                     "from your course."), code="unknown_state") from None
            claimed = 0
        if claimed == 0:
            return super().consume(db, state)
        return claimed == 1

    def consume_again(self, db: Session, state: str) -> bool:
        if db.get(LoginState, state) is None:
            return True  # held in Redis, where this launch's claim stands (no rollback there)
        return super().consume_again(db, state)
