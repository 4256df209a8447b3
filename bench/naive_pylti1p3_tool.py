"""The comparison tool: pylti1p3's README Flask example, as close to the letter as it runs.

What the README ("Usage with Flask", "Configuration") shows, and what this app does:

- a `ToolConfDict` holding the platform's registration (one issuer ~ many client ids), with
  the tool's keys set by `set_private_key` / `set_public_key`;
- login: `FlaskRequest()` (flask.request + flask.session), then `FlaskOIDCLogin(request=...,
  tool_config=..., session_service=FlaskSessionService(request),
  cookie_service=FlaskCookieService(request)).redirect(target_link_uri)`;
- launch: `FlaskMessageLaunch(request=..., tool_config=...).get_launch_data()`, then a page.

So the launch data storage is the default one, Flask's session (a signed cookie), and there is
no key-set cache (no `set_public_key_caching`): every launch builds a fresh Registration and a
fresh `requests.Session` and fetches the platform's JWKS. The README's `enable_check_cookies()`
(shown in some versions) is left out: it answers login with a JavaScript page that a browser
without JS cannot pass, and it would only add a request.

Deployment, as the README and our own README require for a real LMS: the app sits behind a
TLS-terminating proxy (here a two-line WSGI middleware that says https), so `request.is_secure`
is true, pylti1p3's state cookie is `Secure; SameSite=None; Partitioned`, and the session cookie
is configured `Secure; SameSite=None` as the pylti1p3 Flask example's comments say to do in
production. Without that the browser never sends the state cookie back on the cross-site launch
POST and every launch fails with "State not found".
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, render_template_string
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
    FlaskSessionService,
)
from pylti1p3.tool_config import ToolConfDict

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Naive tool</title></head>
<body><h1>Hello, {{ name }}</h1>
<p>Course: {{ course }}</p><p>Roles: {{ roles|join(", ") }}</p>
<p>Launch id: {{ launch_id }}</p></body></html>
"""


class _BehindTLSProxy:
    """The TLS-terminating proxy in front of the app: every request arrived over https."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)


def create_naive_app(registration: dict[str, Any], private_key_pem: str,
                     public_key_pem: str) -> Flask:
    """The README app for one platform registration (issuer, client_id, URLs, deployments)."""
    app = Flask("naive_pylti1p3_tool")
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_HTTPONLY=True,
    )
    iss = registration["issuer"]
    client_id = registration["client_id"]
    settings = {
        iss: [{
            "default": True,
            "client_id": client_id,
            "auth_login_url": registration["auth_login_url"],
            "auth_token_url": registration["auth_token_url"],
            "auth_audience": None,
            "key_set_url": registration["key_set_url"],
            "key_set": None,
            "deployment_ids": list(registration["deployment_ids"]),
        }],
    }

    def tool_conf() -> ToolConfDict:
        # The README builds its tool conf per request ("tool_conf = ... # See Configuration").
        conf = ToolConfDict(settings)
        conf.set_private_key(iss, private_key_pem, client_id=client_id)
        conf.set_public_key(iss, public_key_pem, client_id=client_id)
        return conf

    @app.route("/login", methods=["GET", "POST"])
    def login():
        request = FlaskRequest()
        oidc_login = FlaskOIDCLogin(
            request=request,
            tool_config=tool_conf(),
            session_service=FlaskSessionService(request),
            cookie_service=FlaskCookieService(request),
        )
        return oidc_login.redirect(request.get_param("target_link_uri"))

    @app.route("/launch", methods=["POST"])
    def launch():
        request = FlaskRequest()
        message_launch = FlaskMessageLaunch(request=request, tool_config=tool_conf())
        data = message_launch.get_launch_data()
        return render_template_string(
            PAGE,
            name=data.get("name", ""),
            course=(data.get("https://purl.imsglobal.org/spec/lti/claim/context") or {}).get(
                "title", ""),
            roles=data.get("https://purl.imsglobal.org/spec/lti/claim/roles", []),
            launch_id=message_launch.get_launch_id(),
        )

    @app.route("/jwks")
    def jwks():
        return tool_conf().get_jwks()

    app.wsgi_app = _BehindTLSProxy(app.wsgi_app)  # type: ignore[method-assign]
    return app
