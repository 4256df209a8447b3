"""The exception hierarchy and the error pages (HTML, or JSON when the client asks)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from blinker import Namespace
from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .sizes import format_size

log = logging.getLogger(__name__)

# Sent for every refused login or launch, with its reason `code` (ops.metrics counts them).
launch_refused = Namespace().signal("launch-refused")


class ToolError(Exception):
    """Base of every error a user may see; `code` is stable, `message` is translated."""

    status = 400
    code = "bad_request"
    message = _l("The request could not be processed.")

    def __init__(self, message=None, *, code: str | None = None, status: int | None = None,
                 detail: str | None = None):
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        # Technical detail for admins (safe to show: never a token or personal data).
        self.detail = detail


class LaunchError(ToolError):
    """An LTI login or launch that failed validation."""

    code = "invalid_launch"
    message = _l("This LTI launch is not valid.")


class RegistrationError(ToolError):
    """Dynamic registration could not be completed."""

    code = "registration_failed"
    message = _l("The tool could not be registered with the platform.")


class NotSignedIn(ToolError):
    """A page that needs a launch was opened without one."""

    status = 401
    code = "no_session"
    message = _l("Your session has ended or you opened this page directly. "
                 "Please open the tool again from your course in the LMS.")


class NotFound(ToolError):
    """The thing does not exist, or this person may not know that it does."""

    status = 404
    code = "not_found"
    message = _l("This page does not exist.")


class UnknownAction(ToolError):
    """A form named an action the page does not offer (a stale or hand-made form)."""

    code = "unknown_action"
    message = _l("This action is not known here. Please reload the page and try again.")


class Forbidden(ToolError):
    """The user's role does not allow this."""

    status = 403
    code = "forbidden"
    message = _l("You do not have access to this page.")


class UpstreamError(ToolError):
    """The LMS answered badly or not at all."""

    status = 502
    code = "upstream_error"
    message = _l("The LMS did not answer as expected. Please try again later.")


class TooManyRequests(ToolError):
    """A client address over the rate limit of a page (ops/limits.py): back in `retry_after`
    seconds."""

    status = 429
    code = "too_many_requests"
    message = _l("Too many requests from your address. Please wait a little and try again.")

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = retry_after


class ServiceUnavailable(ToolError):
    """The database does not answer right now (a restart, a failover)."""

    status = 503
    code = "service_unavailable"
    message = _l("The service is briefly unavailable. Please try again in a minute.")


# A database that is restarting or unreachable: the request's transaction never committed,
# the pool re-makes its connections (pool_pre_ping), the next request works again.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


def wants_json() -> bool:
    """True when the client prefers JSON over HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (best == "application/json"
            and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"])


def render_error(status: int, code: str, message: str, detail: str | None = None,
                 back: str | None = None):
    """An error response in the client's preferred format (`back`: a link to the form)."""
    if wants_json():
        body = {"error": code, "message": message}
        if detail:
            body["detail"] = detail
        return jsonify(body), status
    try:
        return render_template("errors/error.html", status=status, code=code, message=message,
                               detail=detail, back=back), status
    except Exception:  # an error page must never fail: fall back to plain text
        log.exception("could not render the error page")
        return f"{message} ({code})", status, {"Content-Type": "text/plain; charset=utf-8"}


HTTP_MESSAGES = {
    404: (_l("This page does not exist."), "not_found"),
    405: (_l("This page cannot be used this way."), "method_not_allowed"),
    429: (_l("Too many requests from your address. Please wait a little and try again."),
          "too_many_requests"),
}


def unavailable():
    """The 503 page, with Retry-After."""
    body, status = render_error(ServiceUnavailable.status, ServiceUnavailable.code,
                                str(ServiceUnavailable.message))
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _same_site_referrer() -> str | None:
    """The page the request came from, when it is one of ours (a link back to the form)."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        return referrer
    return None


def _route() -> str:
    # The route pattern, not the path: /s/<token> must not put a showcase token in the log.
    return request.url_rule.rule if request.url_rule is not None else request.path[:100]


def init_app(app: Flask) -> None:
    """Register the handlers: tool errors, HTTP errors, and anything unexpected."""

    @app.errorhandler(ToolError)
    def _tool_error(err: ToolError):
        log.warning("refused %s %s: %s (%s)", request.method, _route(), err.code, err.detail or "")
        if isinstance(err, LaunchError):
            launch_refused.send(err, code=err.code)
        if isinstance(err, TooManyRequests):
            body, status = render_error(err.status, err.code, str(err.message))
            return body, status, {"Retry-After": str(err.retry_after)}
        return render_error(err.status, err.code, str(err.message), err.detail)

    @app.errorhandler(413)
    def _too_large(_err):
        # The tool's own page, not the server's bare 413: the limit, and the way back.
        if g.get("upload_limit"):
            code, message = "file_too_large", _l(
                "The file is larger than the limit of %(limit)s.",
                limit=format_size(g.upload_limit))
        else:
            code, message = "too_large", _l(
                "What you sent is larger than the limit of %(limit)s.",
                limit=format_size(request.max_content_length or 0))
        log.warning("refused %s %s: %s", request.method, _route(), code)
        return render_error(413, code, str(message), back=_same_site_referrer())

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        # Saving the session after the view (Flask wraps that failure in a 500).
        original = getattr(err, "original_exception", None)
        if status == 500 and isinstance(original, DATABASE_DOWN):
            return _database_down(original)
        if isinstance(err, CSRFError):
            code, message = "csrf_failed", _l(
                "The form expired or was sent from elsewhere. "
                "Please reload the page and try again.")
        else:
            message, code = HTTP_MESSAGES.get(
                status, (ToolError.message, err.name.lower().replace(" ", "_")))
        log.warning("refused %s %s: %s", request.method, _route(), code)
        response = make_response(render_error(status, code, str(message)))
        valid_methods = getattr(err, "valid_methods", None)  # a 405's
        if valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_down(err: Exception):
        log.warning("database unavailable on %s %s: %s: 503", request.method, _route(),
                    type(err).__name__)
        return unavailable()

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unexpected error on %s %s", request.method, _route())
        return render_error(500, "internal_error", str(_l(
            "Something went wrong on our side. The error has been logged; please try again.")))
