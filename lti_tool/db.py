"""SQLAlchemy 2 engine and sessions, bound to the Flask app in init_app()."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Table, create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every timestamp we store is UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A DateTime that always comes back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use lti_tool.db.utcnow()")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base of every model."""


def table_of(model: type[Base]) -> Table:
    """A model's Table, for Core statements built once (`__table__` is typed as any FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (Session.execute is typed as returning a plain
    Result; for these statements it is a CursorResult)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on a {type(result).__name__}")
    return result.rowcount


def load_models() -> None:
    """Import every `*models` module of every package, so Base.metadata knows every table."""
    import importlib
    import pkgutil

    import lti_tool

    for module in pkgutil.walk_packages(lti_tool.__path__, "lti_tool."):
        # models.py, and sibling modules named like connector_models.py
        if (module.name.rsplit(".", 1)[-1].endswith("models")
                or module.name == "lti_tool.web_session"):
            importlib.import_module(module.name)


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or None (in memory)."""
    name = make_url(url).database
    return Path(name) if name and name != ":memory:" and not name.startswith("file:") else None


def _make_private(path: Path, *, create: bool = True) -> None:
    """0600 on a database file (made so when missing): it holds personal data and tokens."""
    # A missing directory is left missing: the database is then reported unavailable.
    if create and not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except FileNotFoundError:
        pass


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str) -> Engine:
    """An engine with the pragmas SQLite needs to behave like a server database."""
    # hide_parameters: an error message (logged) must not carry the values of a statement,
    # which hold personal data and token hashes.
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            _make_private(path)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's lower() folds ASCII only; names here are Kazakh and Russian. Python's
            # str.lower folds every letter as PostgreSQL's lower() does (searches, lists.py).
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
            if path is not None:
                # SQLite makes -wal and -shm with the database's mode; older ones are fixed here.
                for suffix in ("-wal", "-shm"):
                    _make_private(path.with_name(path.name + suffix), create=False)

        return engine
    # pre_ping: a connection broken by a database restart is replaced, not handed out.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                         connect_args={"connect_timeout": 5} if "+psycopg" in url else {})


class Database:
    """The app's engine and session factory; one session per request in `g`."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session] | None = None

    def init_app(self, app: Flask, url: str) -> None:
        """Connect to the database at `url` (settings tool.database_url)."""
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        app.teardown_appcontext(self._close)
        # Flask's convention for an extension: the app keeps it under the extension's name, so
        # get_db finds it without importing the services (which import the database).
        app.extensions[EXTENSION_KEY] = self

    def new_session(self) -> Session:
        """A session outside any request (CLI, worker, session store)."""
        assert self.sessionmaker is not None, "init_app() first"
        return self.sessionmaker()

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            try:
                session.close()
            except SQLAlchemyError:
                # The database went away under this request (a restart): its response is
                # made already, the pool drops the dead connection; nothing to roll back.
                pass


def insert_ignore(db: Session, model, **values) -> None:
    """INSERT a row unless one with the same key exists (no race between processes)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        db.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        db.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing())


EXTENSION_KEY = "lti_tool.db"  # where Database.init_app registers itself


def get_db() -> Session:
    """The current request's session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION_KEY].new_session()
    return g.db_session
