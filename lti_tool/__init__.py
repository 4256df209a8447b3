"""LTI 1.3 tool for student portfolios and TeachHub staff development."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask, request, session

from . import (
    credentials,
    demo,
    errors,
    gradebook,
    home,
    i18n,
    learning,
    parsing,
    portfolio,
    security,
    settings as settings_module,
    statements,
    static_files,
    teachhub,
    web_session,
)
from .cache import shared_cache
from .calendar import calendar_from_settings
from .db import Database
from .extensions import ToolServices, csrf, install
from .gradebook import doorbell, outbox
from .gradebook.doorbell import make_doorbell
from .gradebook.lms import TokenCache
from .gradebook.refresh import RosterRefresher
from .gradebook.sync import Services
from .gradebook.sync_views import bp as gradebook_sync_bp
from .gradebook.views import bp as gradebook_bp
from .home.views import bp as home_bp
from .http import make_session
from .lti.keys import Keyring
from .lti.keysets import PlatformKeySets
from .lti.placements import PlacementRegistry
from .lti.records import RecordCache
from .lti.registry import PlatformCache
from .lti.states import LoginStates, RedisLoginStates
from .lti.views import bp as lti_bp
from .ops import health, limits, logs, metrics, proxy
from .portfolio.leader_views import bp as portfolio_group_bp
from .portfolio.showcase_views import bp as showcase_bp
from .portfolio.staff_views import bp as portfolio_staff_bp
from .portfolio.views import bp as portfolio_bp
from .routing import LazyBuildRule
from .security import FrameAncestors
from .teachhub.views import bp as teachhub_bp


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The application factory: settings -> extensions -> blueprints -> errors."""
    settings = settings_module.load(overrides)
    app = Flask(__name__, template_folder=str(settings_module.PROJECT_ROOT / "templates"),
                static_folder=str(settings_module.PROJECT_ROOT / "static"))
    app.url_rule_class = LazyBuildRule  # before any route is added (lti_tool/routing.py)
    settings_module.private_data_dir(settings)  # 0700 before anything is written there
    app.config.update(
        SECRET_KEY=settings_module.secret_key(settings),
        BABEL_DEFAULT_LOCALE=settings.i18n.default_locale,
        # Pages show times where the institution is (i18n.when), not in UTC.
        BABEL_DEFAULT_TIMEZONE=settings.gradebook.timezone.key,
        # Launch forms carry a JWT; nothing legitimate is bigger (uploads set their own limit).
        MAX_CONTENT_LENGTH=settings.uploads.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        WTF_CSRF_SSL_STRICT=False,  # Referer is withheld in cross-site iframes
    )
    # Every <int:...> in a route is bounded to an id column (a larger number is a 404, not a 500).
    app.url_map.converters["int"] = parsing.IdConverter
    # The request id middleware wraps Flask itself: every request has one.
    logs.init_app(app, settings.logging)

    db = Database()
    db.init_app(app, settings.tool.database_url)
    if db.sessionmaker is None:  # init_app just made it
        raise RuntimeError("the database has no session factory")
    http = make_session(settings.http, base_url=settings.tool.base_url)
    keyring = Keyring(settings.keys.dir, timedelta(hours=settings.keys.rotation_grace_hours))
    # Redis (redis.url / REDIS_URL), when set, is shared by every process and host.
    shared = shared_cache(settings.redis)
    gradebook_services = Services(http, keyring)
    if shared is not None:
        gradebook_services.tokens = TokenCache(shared)
    lti, worker = settings.lti, settings.gradebook.worker
    tool = install(app, ToolServices(
        settings=settings,
        db=db,
        http=http,
        keyring=keyring,
        shared_cache=shared,
        login_states=RedisLoginStates(shared) if shared else LoginStates(),
        platforms=PlatformCache(shared=shared),
        launch_records=RecordCache(),
        keysets=PlatformKeySets(
            http, db.sessionmaker, ttl=lti.keyset_ttl_seconds,
            refetch_interval=lti.keyset_refetch_interval_seconds, shared=shared,
        ),
        registration_slots=threading.BoundedSemaphore(settings.registration.max_in_flight),
        frame_ancestors=FrameAncestors(),
        placements=PlacementRegistry(),
        # The one academic calendar rule (start month, time zone), checked at start-up.
        academic_calendar=calendar_from_settings(settings),
        gradebook=gradebook_services,
        roster_refresher=RosterRefresher(db.new_session, gradebook_services, timedelta(
            minutes=settings.gradebook.roster_max_age_minutes)),
        score_doorbell=make_doorbell(shared, idle_seconds=worker.idle_seconds,
                                     queue_poll_seconds=worker.queue_poll_seconds),
    ))

    web_session.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    security.init_app(app, tool.frame_ancestors)
    errors.init_app(app)
    health.init_app(app)
    metrics.init_app(app, outbox=outbox.outbox_gauges)
    doorbell.init_app(app, tool.db, tool.score_doorbell)
    proxy.init_app(app)
    static_files.init_app(app)

    @app.before_request
    def _no_nul() -> None:
        parsing.refuse_nul(request.path, [v for _k, v in request.args.items(multi=True)] + (
            [v for _k, v in request.form.items(multi=True)] if request.method == "POST" else []))

    @app.before_request
    def _remember_language() -> None:
        chosen = i18n.supported_locale(request.args.get("lang"), settings.i18n.locales)
        if chosen and session.get("user_id"):
            session["locale"] = chosen

    app.register_blueprint(lti_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(gradebook_sync_bp)
    app.register_blueprint(gradebook_bp)
    app.register_blueprint(portfolio_bp)
    app.register_blueprint(portfolio_staff_bp)
    app.register_blueprint(portfolio_group_bp)
    app.register_blueprint(showcase_bp)
    app.register_blueprint(teachhub_bp)
    # Each domain loads and checks its configuration (a bad file stops the start, naming it)
    # and registers what it can place with the LTI core (which imports none of them).
    credentials.init_app(app)  # before the domains that register kinds of credentials
    gradebook.init_app(app)
    home.init_app(app)
    portfolio.init_app(app)
    teachhub.init_app(app)
    learning.init_app(app)
    statements.init_app(app)
    demo.init_app(app)  # the demo LMS, on the embedded default only
    limits.init_app(app)  # wraps the anonymous views: after the blueprints
    return app
