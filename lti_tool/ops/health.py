"""What the tool depends on (database, Redis): health checks, and a clean 503 when one is down."""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..errors import ToolError, render_error
from ..web_session import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(ToolError):
    """The database (or another service the tool needs) does not answer right now."""

    status = 503
    code = "service_unavailable"
    message = _l("The service is briefly unavailable. Please try again in a minute.")


def check_database(app: Flask) -> str | None:
    """None when the database answers, else the kind of error."""
    try:
        with app.extensions["db"].new_session() as db:
            db.execute(text("SELECT 1"))
    except Exception as err:  # any failure means "down"
        return type(err).__name__
    return None


def check_redis(app: Flask) -> str | None:
    """None when Redis answers (or is not configured), else the kind of error."""
    redis = app.extensions.get("redis")
    if redis is None:
        return None
    try:
        redis.ping()
    except Exception as err:  # any failure means "down"
        return type(err).__name__
    return None


def _unavailable():
    response = render_error(ServiceUnavailable.status, ServiceUnavailable.code,
                            str(ServiceUnavailable.message))
    return response[0], response[1], {"Retry-After": str(RETRY_AFTER_SECONDS)}


def init_app(app: Flask) -> None:
    """Answer 503 (not 500) while the database is unreachable; the next request retries it."""

    @app.before_request
    def _database_was_unreachable():
        if request.environ.get(DATABASE_UNAVAILABLE):
            log.warning("database unavailable while reading the session: 503")
            return _unavailable()
        return None

    def _database_error(err: Exception):
        # A restart or failover of the database: connections in the pool are dropped and
        # re-made (pool_pre_ping); this request's transaction never committed.
        log.warning("database unavailable: %s: 503", type(err).__name__)
        return _unavailable()

    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, _database_error)
