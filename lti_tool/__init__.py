"""LTI 1.3 tool for student portfolios and TeachHub staff development."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask, request, session
from flask_wtf.csrf import CSRFProtect

from . import (
    errors,
    home,
    i18n,
    parsing,
    portfolio,
    security,
    settings as settings_module,
    teachhub,
    web_session,
)
from .cache import shared_cache
from .db import Database
from .gradebook import doorbell, outbox
from .gradebook.lms import TokenCache
from .gradebook.refresh import RosterRefresher
from .gradebook.sync import Services
from .http import make_session
from .lti.keys import keyring_from_settings
from .lti.keysets import PlatformKeySets
from .lti.records import RecordCache
from .lti.registry import PlatformCache
from .lti.states import LoginStates, RedisLoginStates
from .ops import health, limits, logs, metrics, proxy

csrf = CSRFProtect()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The application factory: settings -> extensions -> blueprints -> errors."""
    settings = settings_module.load(overrides)
    app = Flask(__name__, template_folder=str(settings_module.PROJECT_ROOT / "templates"),
                static_folder=str(settings_module.PROJECT_ROOT / "static"))
    settings_module.private_data_dir(settings)  # 0700 before anything is written there
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings_module.secret_key(settings),
        DATABASE_URL=settings["tool"]["database_url"],
        BASE_URL=settings["tool"]["base_url"],
        LOCALES=settings["i18n"]["locales"],
        BABEL_DEFAULT_LOCALE=settings["i18n"]["default_locale"],
        # Pages show times where the institution is (i18n.when), not in UTC.
        BABEL_DEFAULT_TIMEZONE=settings.get("gradebook", {}).get("timezone", "Asia/Almaty"),
        SESSION_LIFETIME_HOURS=settings["session"]["lifetime_hours"],
        SESSION_IDLE_MINUTES=settings["session"].get("idle_minutes", 60),
        # Launch forms carry a JWT; nothing legitimate is bigger (uploads set their own limit).
        MAX_CONTENT_LENGTH=int(settings.get("uploads", {}).get("max_request_bytes", 1 << 20)),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        WTF_CSRF_SSL_STRICT=False,  # Referer is withheld in cross-site iframes
    )
    # Every <int:...> in a route is bounded to an id column (a larger number is a 404, not a 500).
    app.url_map.converters["int"] = parsing.IdConverter
    logs.init_app(app)  # the request id middleware wraps Flask itself: every request has one

    db = Database()
    db.init_app(app)
    http = make_session(settings)
    app.extensions["http"] = http
    # Dynamic registrations calling an LMS at once, per process (lti/registration.py).
    app.extensions["registration_slots"] = threading.BoundedSemaphore(
        max(1, int(settings.get("registration", {}).get("max_in_flight", 2))))
    app.extensions["keyring"] = keyring_from_settings(settings)
    # Redis (redis.url / REDIS_URL), when set, is shared by every process and host.
    shared = shared_cache(settings)
    if shared is not None:
        app.extensions["redis"] = shared.client
        app.extensions["shared_cache"] = shared
    app.extensions["login_states"] = RedisLoginStates(shared) if shared else LoginStates()
    app.extensions["platforms"] = PlatformCache(shared=shared)
    app.extensions["launch_records"] = RecordCache()
    lti_settings = settings["lti"]
    app.extensions["keysets"] = PlatformKeySets(
        http, db.sessionmaker, ttl=int(lti_settings["keyset_ttl_seconds"]),
        refetch_interval=int(lti_settings["keyset_refetch_interval_seconds"]), shared=shared,
    )

    app.extensions["gradebook"] = Services(http, app.extensions["keyring"])
    if shared is not None:
        app.extensions["gradebook"].tokens = TokenCache(shared)
    app.extensions["roster_refresher"] = RosterRefresher(app, timedelta(
        minutes=float(settings.get("gradebook", {}).get("roster_max_age_minutes", 60))))

    web_session.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    metrics.init_app(app, outbox=outbox.outbox_gauges)
    doorbell.init_app(app)
    proxy.init_app(app)

    @app.before_request
    def _no_nul() -> None:
        parsing.refuse_nul(request.path, [v for _k, v in request.args.items(multi=True)] + (
            [v for _k, v in request.form.items(multi=True)] if request.method == "POST" else []))

    @app.before_request
    def _remember_language() -> None:
        chosen = i18n.supported_locale(request.args.get("lang"), app.config["LOCALES"])
        if chosen and session.get("user_id"):
            session["locale"] = chosen

    from .gradebook.sync_views import bp as gradebook_sync_bp
    from .gradebook.views import bp as gradebook_bp
    from .home.views import bp as home_bp
    from .learning.public import bp as learning_public_bp
    from .learning.views import bp as learning_bp
    from .lti.views import bp as lti_bp
    from .portfolio.showcase_views import bp as showcase_bp
    from .portfolio.staff_views import bp as portfolio_staff_bp
    from .portfolio.views import bp as portfolio_bp
    from .teachhub.views import bp as teachhub_bp

    app.register_blueprint(lti_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(gradebook_sync_bp)
    app.register_blueprint(gradebook_bp)
    app.register_blueprint(portfolio_bp)
    app.register_blueprint(portfolio_staff_bp)
    app.register_blueprint(showcase_bp)
    app.register_blueprint(teachhub_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(learning_public_bp)
    # Each domain registers what it can place with the LTI core (which imports none of them).
    home.init_app(app)
    portfolio.init_app(app)
    teachhub.init_app(app)
    limits.init_app(app)  # wraps the anonymous views: after the blueprints
    return app
