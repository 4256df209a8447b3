"""What the tool depends on (database, Redis): health checks, and a 503 while the database is
down."""

from __future__ import annotations

import logging

from flask import Flask, request
from sqlalchemy import text

from ..errors import unavailable
from ..extensions import services
from ..web_session import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)


def check_database(app: Flask) -> str | None:
    """None when the database answers, else the kind of error."""
    try:
        with services(app).db.new_session() as db:
            db.execute(text("SELECT 1"))
    except Exception as err:  # any failure means "down"
        return type(err).__name__
    return None


def check_redis(app: Flask) -> str | None:
    """None when Redis answers (or is not configured), else the kind of error."""
    shared = services(app).shared_cache
    if shared is None:
        return None
    try:
        shared.client.ping()
    except Exception as err:  # any failure means "down"
        return type(err).__name__
    return None


def init_app(app: Flask) -> None:
    """Answer 503 when the session could not be read because the database is down."""

    def _database_was_unreachable():
        if request.environ.get(DATABASE_UNAVAILABLE):
            log.warning("database unavailable while reading the session: 503")
            return unavailable()
        return None

    # First of all before_request handlers: CSRF would otherwise refuse the form (400) of a
    # session it could not read.
    app.before_request_funcs.setdefault(None, []).insert(0, _database_was_unreachable)
