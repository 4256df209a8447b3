"""The `lti-tool` command: serve, database, platforms, keys."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from . import create_app
from .gradebook.worker import ScoreWorker, WorkerPolicy, start_in_process
from .lti.models import Platform
from .lti.registry import add_platform, find_platform
from .migrate import upgrade


@click.group()
def main() -> None:
    """LTI 1.3 portfolio and TeachHub tool."""


def _app():
    return create_app()


def print_urls(base_url: str) -> None:
    """What an LMS administrator pastes into Moodle or Canvas."""
    click.echo(f"""
  Tool URL / target link URI (Moodle, Canvas) : {base_url}/lti/launch
  Initiate login URL / OIDC login URL         : {base_url}/lti/login
  Redirection URI(s)                          : {base_url}/lti/launch
  Public keyset URL (JWKS)                    : {base_url}/.well-known/jwks.json
  Moodle dynamic registration ("Tool URL")    : {base_url}/lti/register
  Canvas developer key, "Enter URL"           : {base_url}/lti/canvas.json
  Health check                                : {base_url}/healthz
""")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="default: the port of tool.base_url")
def serve(host: str, port: int | None) -> None:
    """Prepare keys and database, print the LMS URLs, and serve (embedded, threaded)."""
    from urllib.parse import urlsplit

    from werkzeug.serving import run_simple

    app = _app()
    app.extensions["keyring"].ensure()
    upgrade(app.config["DATABASE_URL"])
    base_url = app.config["BASE_URL"]
    port = port or urlsplit(base_url).port or 5000
    click.echo(f"Serving the LTI tool at {base_url}")
    print_urls(base_url)
    if app.config["SETTINGS"].get("gradebook", {}).get("worker", {}).get("in_process", True):
        start_in_process(app)
        click.echo("Score worker: running in this process (gradebook.worker.in_process)")
    # Threaded: Moodle's token endpoint fetches our JWKS while our token request waits.
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
def worker() -> None:
    """Run the score outbox worker on its own (stops cleanly on SIGTERM or Ctrl-C)."""
    import signal
    import threading

    app = _app()
    upgrade(app.config["DATABASE_URL"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner = ScoreWorker(app.extensions["db"].sessionmaker, app.extensions["gradebook"],
                         WorkerPolicy.from_settings(app.config["SETTINGS"]))
    click.echo("score worker running")
    try:
        runner.run_forever(stop, float(app.config["SETTINGS"].get("gradebook", {})
                                       .get("worker", {}).get("idle_seconds", 1.0)))
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()


@main.command()
def urls() -> None:
    """Print the URLs an LMS administrator needs."""
    print_urls(_app().config["BASE_URL"])


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo("database is at the newest schema")


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("ensure")
def keys_ensure() -> None:
    """Generate the first key pair if there is none."""
    key = _app().extensions["keyring"].ensure()
    click.echo(f"signing key: {key.kid}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Start signing with a new key; the old one stays published for the grace period."""
    keyring = _app().extensions["keyring"]
    key = keyring.rotate()
    click.echo(f"new signing key: {key.kid}")
    click.echo(f"previous keys stay in the JWKS for {keyring.grace}")


@keys.command("list")
def keys_list() -> None:
    """Show the keys and which are published."""
    keyring = _app().extensions["keyring"]
    published = {k.kid for k in keyring.published()}
    for key in keyring._load():
        state = "signing" if key.retired_at is None else (
            f"retired {key.retired_at:%Y-%m-%d %H:%M}" + (", published" if key.kid in published else ""))
        click.echo(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M}  {state}")


@keys.command("prune")
def keys_prune() -> None:
    """Delete keys whose grace period is over."""
    for kid in _app().extensions["keyring"].prune():
        click.echo(f"deleted {kid}")


@main.group()
def platform() -> None:
    """Registered LMS platforms."""


@platform.command("add")
@click.option("--issuer", required=True, help="Moodle: the site URL; Canvas: https://canvas.instructure.com")
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--name", default="")
@click.option("--auth-audience", default=None)
@click.option("--frame-origin", "frame_origins", multiple=True,
              help="an extra origin allowed to frame the tool (e.g. https://school.instructure.com)")
def platform_add(issuer, client_id, auth_login_url, auth_token_url, key_set_url, deployment_ids,
                 name, auth_audience, frame_origins) -> None:
    """Register a platform (or add deployments to one)."""
    for url in (issuer, auth_login_url, auth_token_url, key_set_url):
        if not url.startswith(("https://", "http://")):
            raise click.BadParameter(f"not a URL: {url}")
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with app.extensions["db"].new_session() as session:
        row = add_platform(session, issuer=issuer, client_id=client_id,
                           auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                           key_set_url=key_set_url, deployment_ids=list(deployment_ids),
                           name=name, auth_audience=auth_audience,
                           frame_origins=list(frame_origins))
        session.commit()
        click.echo(f"platform {row.id}: {row.issuer} client_id={row.client_id} "
                   f"deployments={','.join(d.deployment_id for d in row.deployments)}")


@platform.command("list")
def platform_list() -> None:
    """List registered platforms."""
    app = _app()
    with app.extensions["db"].new_session() as session:
        rows = session.scalars(select(Platform).order_by(Platform.id)).all()
        if not rows:
            click.echo("no platforms registered")
        for row in rows:
            deployments = ",".join(d.deployment_id for d in row.deployments) or "-"
            click.echo(f"{row.id}\t{row.status}\t{row.issuer}\tclient_id={row.client_id}\t"
                       f"deployments={deployments}\tlogin={row.auth_login_url}")


def _find(session, ident: str, client_id: str | None) -> Platform:
    row = session.get(Platform, int(ident)) if ident.isdigit() else find_platform(session, ident, client_id)
    if row is None:
        click.echo(f"no such platform: {ident}", err=True)
        sys.exit(1)
    return row


@platform.command("remove")
@click.argument("ident")
@click.option("--client-id", default=None, help="when IDENT is an issuer with several clients")
@click.option("--yes", is_flag=True, help="do not ask")
def platform_remove(ident: str, client_id: str | None, yes: bool) -> None:
    """Remove a platform (by id, or issuer [+ --client-id]) and everything launched from it."""
    app = _app()
    with app.extensions["db"].new_session() as session:
        row = _find(session, ident, client_id)
        if not yes:
            click.confirm(f"Remove {row.issuer} ({row.client_id}) and all its data?", abort=True)
        session.delete(row)
        session.commit()
        click.echo(f"removed platform {ident}")


@platform.command("activate")
@click.argument("ident")
@click.option("--client-id", default=None)
def platform_activate(ident: str, client_id: str | None) -> None:
    """Let a pending (dynamically registered) platform launch."""
    app = _app()
    with app.extensions["db"].new_session() as session:
        row = _find(session, ident, client_id)
        row.status = "active"
        session.commit()
        click.echo(f"platform {row.id} is active")


if __name__ == "__main__":
    main()
