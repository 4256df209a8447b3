"""Server-side sessions that survive a browser blocking third-party cookies.

Inside an LMS iframe the browser may refuse every cookie of ours, so the session token also
travels in the URL (`?ls=...`, added to every url_for by a url_defaults hook) and in a
partitioned cookie (CHIPS) where the browser allows one. The token is random, stored only
hashed, rotated at each launch, and expires: after the lifetime since the launch, or sooner
after the idle time without a request (expires_at holds the earlier of the two, moved on by
requests at most once a minute). Referrer-Policy keeps it from leaking to others.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import datetime, timedelta

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import String, Text, bindparam, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.datastructures import CallbackDict

from .db import Base, UtcDateTime, get_db, table_of, utcnow
from .extensions import services, settings

TOKEN_PARAM = "ls"
COOKIE_NAME = "lti_session"
# Set in the WSGI environ when the session could not be read because the database is down.
DATABASE_UNAVAILABLE = "lti_tool.database_unavailable"


class WebSession(Base):
    """Session data, found by the SHA-256 of the token the browser carries."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Every request reads its session and every launch writes one: plain statements with bound
# parameters, built and compiled once (the ORM's per-statement work cost more than the
# statements themselves; bench/launch.py).
_TABLE = table_of(WebSession)
_SELECT = select(_TABLE.c.data, _TABLE.c.created_at, _TABLE.c.expires_at).where(
    _TABLE.c.token_hash == bindparam("key"))
_INSERT = insert(_TABLE)
_UPDATE = update(_TABLE).where(_TABLE.c.token_hash == bindparam("key")).values(
    data=bindparam("data"), expires_at=bindparam("expires"))
_TOUCH = update(_TABLE).where(_TABLE.c.token_hash == bindparam("key")).values(
    expires_at=bindparam("expires"))
_DELETE = delete(_TABLE).where(_TABLE.c.token_hash == bindparam("key"))
# An idle session's expiry is moved on at most this often (not a write on every request).
TOUCH_EVERY = timedelta(minutes=1)


class ServerSession(CallbackDict, SessionMixin):
    """A dict that knows its token and whether it changed."""

    def __init__(self, initial=None, token: str | None = None, new: bool = False,
                 created_at: datetime | None = None):
        def on_update(this):
            this.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.new = new
        self.modified = False
        self.created_at = created_at or utcnow()
        self.touch_due = False  # the idle expiry should move on (saved after the request)
        self.ended = False  # signed out: the cookie is removed

    def start(self, data: dict) -> None:
        """Begin a new signed-in session (at a launch): new token, only `data` kept.

        The previous session is left alone: another tab may still use it (two courses open).
        """
        self.clear()
        self.update(data)
        self.token = secrets.token_urlsafe(32)
        self.new = True
        self.modified = True
        self.created_at = utcnow()


class DatabaseSessionInterface(SessionInterface):
    """Flask session interface over the web_sessions table."""

    _last_sweep = float("-inf")

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.args.get(TOKEN_PARAM) or request.cookies.get(COOKIE_NAME)
        if token and len(token) <= 128:
            # Read through the request's own database session: the page's queries then reuse
            # its connection instead of taking a second one from the pool.
            db = get_db()
            try:
                row = db.connection().execute(_SELECT, {"key": _hash(token)}).first()
            except SQLAlchemyError:
                # The database is down: an empty session lets the 503 page render
                # (lti_tool/ops/health.py answers it before any view; the request's database
                # session is closed at teardown).
                request.environ[DATABASE_UNAVAILABLE] = True
                return ServerSession(new=True)
            now = utcnow()
            if row is not None and row.expires_at > now:
                session = ServerSession(json.loads(row.data), token=token,
                                        created_at=row.created_at)
                session.touch_due = (_expiry(app, row.created_at, now) - row.expires_at
                                     >= min(TOUCH_EVERY, _idle(app) / 2))
                return session
        return ServerSession(new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):  # open_session above only makes these
            raise TypeError(f"not a server-side session: {type(session).__name__}")
        if session.ended:
            response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True,
                                   samesite="None", partitioned=True)
            return
        if session.modified and (session.token or dict(session)):
            with services(app).db.new_session() as db:
                self.write(app, db, session)
                db.commit()
        elif session.touch_due and session.token:
            with services(app).db.new_session() as db:
                db.connection().execute(_TOUCH, {"key": _hash(session.token), "expires": _expiry(
                    app, session.created_at, utcnow())})
                db.commit()
        self._set_cookie(app, session, response)

    def write(self, app: Flask, db: Session, session: ServerSession) -> None:
        """Put the session's row into `db`'s transaction; the caller commits. A launch writes
        its new session this way, in the one commit that also keeps what the launch recorded."""
        if not session.token:
            session.token = secrets.token_urlsafe(32)
        values = {"key": _hash(session.token), "data": json.dumps(dict(session)),
                  "expires": _expiry(app, session.created_at, utcnow())}
        connection = db.connection()
        # A token made in this request has no row yet: no need to look for one.
        if session.new or connection.execute(_UPDATE, values).rowcount == 0:
            # Expired sessions are swept now and then; no cron on the embedded default.
            if time.monotonic() - self._last_sweep > 60:
                self._last_sweep = time.monotonic()
                connection.execute(delete(_TABLE).where(_TABLE.c.expires_at < utcnow()))
            connection.execute(_INSERT, {"token_hash": values["key"], "data": values["data"],
                                         "created_at": session.created_at,
                                         "expires_at": values["expires"]})
        session.modified = False

    @staticmethod
    def _set_cookie(app: Flask, session: ServerSession, response: Response) -> None:
        if not session.token or not session.new:
            return
        # SameSite=None; Secure; Partitioned: the only cookie a cross-site iframe keeps when
        # third-party cookies are blocked (Chromium accepts Secure on http://localhost).
        response.set_cookie(
            COOKIE_NAME, session.token, max_age=int(app.permanent_session_lifetime.total_seconds()),
            secure=True, httponly=True, samesite="None", partitioned=True, path="/",
        )


def presented(request: Request) -> bool:
    """Whether the request carries a session token (in the URL or the cookie), valid or not."""
    return bool(request.args.get(TOKEN_PARAM) or request.cookies.get(COOKIE_NAME))


def _expiry(app: Flask, created_at: datetime, now: datetime) -> datetime:
    """When a session used at `now` ends: idle time from now, never past its lifetime."""
    return min(created_at + app.permanent_session_lifetime, now + _idle(app))


def _idle(app: Flask) -> timedelta:
    """How long a session lasts without a request (settings session.idle_minutes)."""
    return timedelta(minutes=settings(app).session.idle_minutes)


def end(db: Session, session: ServerSession) -> None:
    """Sign out: the session's row goes (the caller commits); its cookie goes with the answer."""
    if session.token:
        db.connection().execute(_DELETE, {"key": _hash(session.token)})
    session.clear()
    session.token = None
    session.modified = False
    session.ended = True


def start(db: Session, data: dict) -> None:
    """A launch's session: `data` in this request's session, its row put into `db`'s
    transaction (the caller commits)."""
    from flask import current_app, session

    interface = current_app.session_interface
    if not isinstance(session, ServerSession) or not isinstance(
            interface, DatabaseSessionInterface):  # init_app installs both
        raise TypeError("the app does not use the server-side sessions of web_session")
    session.start(data)
    interface.write(current_app, db, session)


def end_if_someone_else(db: Session, token: str | None, platform_id: int,
                        user_id: int | None) -> bool:
    """At a launch: end the session this browser already has when it is another person's.

    Two courses of one person in two tabs keep their sessions; a shared computer where the
    next student launches does not keep the previous one signed in. The caller commits.
    """
    if not token or len(token) > 128:
        return False
    row = db.connection().execute(_SELECT, {"key": _hash(token)}).first()
    if row is None:
        return False
    data = json.loads(row.data)
    if data.get("platform_id") == platform_id and data.get("user_id") == user_id:
        return False
    db.connection().execute(_DELETE, {"key": _hash(token)})
    return True


def init_app(app: Flask) -> None:
    """Install the session interface and carry the token in every URL we build."""
    app.session_interface = DatabaseSessionInterface()
    app.permanent_session_lifetime = timedelta(hours=settings(app).session.lifetime_hours)

    @app.url_defaults
    def _carry_token(endpoint: str, values: dict) -> None:
        from flask import session

        token = getattr(session, "token", None)
        if token and endpoint != "static" and not g.get("no_session_in_urls"):
            values.setdefault(TOKEN_PARAM, token)
