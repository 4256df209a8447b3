"""The tool, fully set up (keys, migrated database: SQLite, or PostgreSQL with --db), on
loopback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from lti_platform import LoopbackServer, Platform
from servers import migrated_database_url_for

from lti_tool import create_app
from lti_tool.extensions import services
from lti_tool.lti.invites import issue_invite
from lti_tool.lti.registry import add_platform
from lti_tool.migrate import upgrade


@dataclass
class ServedTool:
    """A running tool: its app, its public URL and the server."""

    app: Flask
    base_url: str
    server: LoopbackServer

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.base_url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"

    def register(self, platform: Platform, **changes: Any) -> None:
        """Register `platform` with the tool (as `lti-tool platform add` does) and vice versa."""
        with services(self.app).db.new_session() as db:
            values = dict(
                issuer=platform.issuer, client_id=platform.client_id,
                auth_login_url=platform.auth_login_url, auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url, deployment_ids=[platform.deployment_id],
                name=f"{platform.profile} test platform",
            )
            values.update(changes)
            add_platform(db, **values)
            db.commit()
        services(self.app).frame_ancestors.invalidate()
        services(self.app).platforms.invalidate()
        platform.set_tool(self.login_url, self.launch_url, self.jwks_url)

    def invite(self, expires_in: timedelta = timedelta(days=7), **options: Any) -> str:
        """A registration URL (`lti-tool platform invite` does the same)."""
        with services(self.app).db.new_session() as db:
            return issue_invite(db, base_url=self.base_url, expires_in=expires_in,
                                **options).url

    def allow_unbound_launches(self, platform: Platform, allowed: bool = True) -> None:
        """Accept `platform`'s launches that no cookie or storage binds to the browser (as
        `lti-tool platform unbound` does): an institution that accepts the login CSRF risk."""
        from sqlalchemy import update

        from lti_tool.lti.models import Platform as PlatformRow

        with services(self.app).db.new_session() as db:
            db.execute(update(PlatformRow).where(PlatformRow.issuer == platform.issuer,
                                                 PlatformRow.client_id == platform.client_id)
                       .values(allow_unbound_launch=allowed))
            db.commit()
        services(self.app).platforms.invalidate()

    def stop(self) -> None:
        """Stop serving and release the database."""
        self.server.stop()
        services(self.app).db.engine.dispose()


def start_tool(data_dir: str, overrides: dict[str, Any] | None = None,
               host_name: str = "localhost") -> ServedTool:
    """Start a tool whose public URL is http://HOST_NAME:PORT (PORT chosen by the OS).

    `localhost` by default: the browser tests frame it from a page on 127.0.0.1, another site.
    """
    holder: dict[str, Any] = {}
    # A lambda: the app is made after the server (it needs the server's port).
    server = LoopbackServer(lambda environ, start: holder["app"](environ, start)).start()  # noqa: PLW0108
    base_url = f"http://{host_name}:{server.port}"
    settings: dict[str, Any] = {
        "tool": {"base_url": base_url, "data_dir": data_dir},
        "keys": {"dir": f"{data_dir}/keys"},
        # The suite launches hundreds of times from 127.0.0.1: limits only a test sets low.
        "rate_limits": {"login": "100000 per minute", "register": "100000 per minute",
                        "verify": "100000 per minute"},
    }
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    if "database_url" not in settings["tool"]:
        settings["tool"]["database_url"] = migrated_database_url_for(data_dir)
    app = create_app(settings)
    services(app).keyring.ensure()
    upgrade(services(app).settings.tool.database_url)
    holder["app"] = app
    return ServedTool(app=app, base_url=base_url, server=server)
