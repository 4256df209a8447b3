"""Log lines, plain or JSON, each carrying the id of the request it belongs to.

This module imports only the standard library at the top: gunicorn's master loads it by path
for its own log lines without importing the app.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config/gunicorn.conf.py loads this file alone: no package imports here
    from ..settings import LoggingSettings

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON_KEY = "lti_tool.request_id"
# Where the app leaves the request's route pattern (/s/<token>) for gunicorn's access log.
ROUTE_ENVIRON_KEY = "lti_tool.route"
# What a proxy may hand us as a request id; anything else (too long, odd characters that
# could forge log lines) is replaced by a new one.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# gunicorn's access log atoms that go into a JSON line (never the query string: session
# tokens travel there; the path is the route pattern, see config/gunicorn.conf.py).
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "s": "status", "B": "bytes",
                 "M": "duration_ms", "{x-request-id}o": "request_id"}


def request_id_from(value: str | None) -> str:
    """The proxy's request id when it is well-formed, else a new random one."""
    if value and VALID_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being served on this thread, or "-" outside a request."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return "-"
    return flask.request.environ.get(REQUEST_ID_ENVIRON_KEY, "-")


class RequestIdMiddleware:
    """Gives every request an id, echoed as X-Request-ID, and answers 500 if the app cannot.

    Outside Flask, so that even a response Flask failed to make carries the id, and gunicorn
    never logs such a failure with the raw URL (session tokens travel in query strings).
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID_ENVIRON_KEY] = request_id
        started = []

        def start(status, headers, exc_info=None):
            started.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        except Exception:
            if started:
                raise
            logging.getLogger(__name__).exception(
                "the app failed without a response", extra={"request_id": request_id})
            start_response("500 Internal Server Error", [
                ("Content-Type", "text/plain; charset=utf-8"), (REQUEST_ID_HEADER, request_id)])
            return [b"Something went wrong on our side. Please try again.\n"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            entry["message"] = "request"
            for atom, name in ACCESS_FIELDS.items():
                value = record.args.get(atom, "-")
                entry[name] = int(str(value)) if name in ("status", "bytes", "duration_ms") and \
                    str(value).isdigit() else value
        else:
            entry["message"] = record.getMessage()
            entry["request_id"] = getattr(record, "request_id", None) or current_request_id()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The plain line, with [request id]."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return super().format(record)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for settings logging.format: "json" or "plain"."""
    return JsonFormatter() if kind == "json" else PlainFormatter()


class _ToolHandler(logging.StreamHandler):
    """The stderr handler configure() adds, known again by its marker."""

    _lti_tool = True


def configure(options: LoggingSettings) -> None:
    """Send the app's log lines to stderr in the configured format (once per process).

    Under gunicorn in JSON mode the root logger already has gunicorn's handler with our
    formatter (config/gunicorn.conf.py); under pytest it has pytest's capture handler.
    """
    root = logging.getLogger()
    root.setLevel(options.level.upper())
    ours = [h for h in root.handlers if getattr(h, "_lti_tool", False)]
    if ours:
        ours[0].setFormatter(formatter(options.format))
        return
    if root.handlers:
        return
    handler = _ToolHandler(sys.stderr)
    handler.setFormatter(formatter(options.format))
    root.addHandler(handler)


def init_app(app, options: LoggingSettings) -> None:
    """Configure logging; give each request an id (the proxy's X-Request-ID, or a new one)."""
    from flask import request

    configure(options)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)

    @app.after_request
    def _remember_route(response):
        if request.url_rule is not None:
            request.environ[ROUTE_ENVIRON_KEY] = request.url_rule.rule
        return response
