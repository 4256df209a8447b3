"""The `lti-tool` command: serve, database, platforms, keys."""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy import select

from . import create_app
from .extensions import services, settings
from .gradebook import worker as score_worker
from .gradebook.policy import GradingPolicy
from .lti.invites import IssuedInvite, issue_invite, parse_duration
from .lti.models import Platform
from .lti.registry import add_platform, find_platform
from .migrate import upgrade
from .settings import SettingsError, env_secret


@click.group()
def main() -> None:
    """LTI 1.3 portfolio and TeachHub tool."""


def _app():
    try:
        app = create_app()
    except SettingsError as err:  # a clear message naming every problem, no traceback
        click.echo(f"lti-tool: {err}", err=True)
        sys.exit(2)
    # The command's database connections close with it (matters when run in-process).
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(services(app).db.engine.dispose)
    return app


def print_urls(base_url: str, invite: IssuedInvite | None = None) -> None:
    """What an LMS administrator pastes into Moodle or Canvas."""
    if invite is None:
        registration = (f"{base_url}/lti/register?invite=...  "
                        f"(`lti-tool platform invite` prints one)")
    else:
        registration = (f"{invite.url}\n"
                        f"  {'':44}(single use, expires {invite.expires_at:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"""
  Tool URL / target link URI (Moodle, Canvas) : {base_url}/lti/launch
  Initiate login URL / OIDC login URL         : {base_url}/lti/login
  Redirection URI(s)                          : {base_url}/lti/launch
  Public keyset URL (JWKS)                    : {base_url}/.well-known/jwks.json
  Dynamic registration (Moodle "Tool URL",
    Canvas "Dynamic Registration")            : {registration}
  Canvas developer key, "Enter URL"           : {base_url}/lti/canvas.json
  Health check                                : {base_url}/healthz
""")


def _issue_invite(app, expires: str | None, name: str = "",
                  update_platform_id: int | None = None) -> IssuedInvite:
    text = expires or settings(app).registration.invite_expires
    try:
        expires_in = parse_duration(text)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--expires") from None
    with services(app).db.new_session() as session:
        return issue_invite(session, base_url=settings(app).tool.base_url, expires_in=expires_in,
                            name=name, update_platform_id=update_platform_id)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="default: the port of tool.base_url")
def serve(host: str, port: int | None) -> None:
    """Prepare keys and database, print the LMS URLs, and serve (embedded, threaded)."""
    from urllib.parse import urlsplit

    from werkzeug.serving import run_simple

    os.umask(0o077)  # whatever this server writes (database, evidence, metrics) is its own
    app = _app()
    services(app).keyring.ensure()
    upgrade(settings(app).tool.database_url)
    base_url = settings(app).tool.base_url
    port = port or urlsplit(base_url).port or 5000
    click.echo(f"Serving the LTI tool at {base_url}")
    if app.config.get("DEMO_ENTRY_URL"):
        click.echo(f"Try it: open {base_url} and press \"Try it\" (the built-in demo LMS, "
                   f"{app.config['DEMO_ENTRY_URL']})")
    # Development (make run): a fresh registration URL to paste into a test LMS. Not in
    # production, where the console is usually collected into logs.
    print_urls(base_url, None if settings(app).is_production
               else _issue_invite(app, None, name="lti-tool serve"))
    if settings(app).gradebook.worker.in_process:
        score_worker.start_in_process(app)
        click.echo("Score worker: running in this process (gradebook.worker.in_process)")
    # Threaded: Moodle's token endpoint fetches our JWKS while our token request waits.
    run_simple(host, port, app, threaded=True, use_reloader=False,
               request_handler=_redacted_request_handler())


def _redacted_request_handler():
    """werkzeug's request handler, logging route patterns instead of paths and queries.

    Session tokens travel in query strings (?ls=) and showcase tokens in paths (/s/<token>):
    neither may reach the log (the same rule as gunicorn's access log, config/gunicorn.conf.py).
    """
    import re

    from werkzeug.serving import WSGIRequestHandler

    from .ops.logs import REQUEST_ID_ENVIRON_KEY, ROUTE_ENVIRON_KEY

    secrets_in_uri = re.compile(r"(\?[^\s'\"]*)|(/s/[^\s'\"?/]+)")

    def redact(value):
        if not isinstance(value, str):
            return value
        return secrets_in_uri.sub(lambda m: "?..." if m.group(1) else "/s/<token>", value)

    class RedactedRequestHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            environ = getattr(self, "environ", None) or {}
            self.log("info", '"%s %s" %s %s request_id=%s', getattr(self, "command", "-"),
                     environ.get(ROUTE_ENVIRON_KEY) or "(no route)", code, size,
                     environ.get(REQUEST_ID_ENVIRON_KEY, "-"))

        def log_error(self, format, *args):
            # http.server names the raw request line in its complaints (a malformed request).
            self.log("error", redact(format), *map(redact, args))

    return RedactedRequestHandler


def _share_metrics_with_gunicorn(app) -> None:
    import os
    from pathlib import Path

    # gunicorn's directory on this host (config/gunicorn.conf.py): /metrics then sums this
    # process's score latency with the web workers' metrics.
    directory = settings(app).tool.data_dir / "prometheus"
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(directory))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


@main.command()
def worker() -> None:
    """Run the score outbox worker on its own (stops cleanly on SIGTERM or Ctrl-C)."""
    import signal
    import threading

    os.umask(0o077)  # whatever the worker writes is the tool's own
    app = _app()
    _share_metrics_with_gunicorn(app)
    upgrade(settings(app).tool.database_url)
    stop = threading.Event()
    # The handler runs in the main thread, which may be inside stop.wait() holding the event's
    # lock at that very moment: setting the event from the handler could deadlock on that lock.
    # Another thread sets it instead.
    signal.signal(signal.SIGTERM,
                  lambda *_: threading.Thread(target=stop.set, name="sigterm").start())
    click.echo(f"score worker running, {services(app).score_doorbell.describe()}")
    try:
        score_worker.run(app, stop)
    except KeyboardInterrupt:
        pass


@main.command()
@click.argument("archive", type=click.Path(dir_okay=False, writable=True))
@click.option("--logical", is_flag=True,
              help="rows as JSON lines instead of a database file or pg_dump (for another "
                   "database kind, or a pg_dump older than the server)")
def backup(archive: str, logical: bool) -> None:
    """Write a consistent archive of all data: database, evidence files, keys."""
    from pathlib import Path

    from .ops.backup import BackupError, Installation, backup as make_backup

    app = _app()
    try:
        summary = make_backup(Installation.from_settings(settings(app)), Path(archive),
                              logical=logical)
    except BackupError as err:
        click.echo(f"lti-tool: {err}", err=True)
        sys.exit(1)
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{archive}: database ({summary.database}, {sum(summary.rows.values())} rows), "
               f"{summary.files} evidence files, {summary.keys} key files")


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="replace the data of a non-empty installation")
def restore(archive: str, force: bool) -> None:
    """Bring an archive back on an empty installation (stop the tool and its worker first)."""
    from pathlib import Path

    from .ops.backup import BackupError, Installation, restore as restore_backup

    app = _app()
    try:
        summary = restore_backup(Installation.from_settings(settings(app)),
                                 Path(archive), force=force)
    except BackupError as err:
        click.echo(f"lti-tool: {err}", err=True)
        sys.exit(1)
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"restored from {archive}: database ({summary.database}, "
               f"{sum(summary.rows.values())} rows), {summary.files} evidence files, "
               f"{summary.keys} key files")


@main.command()
def urls() -> None:
    """Print the URLs an LMS administrator needs."""
    print_urls(settings(_app()).tool.base_url)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    app = _app()
    upgrade(settings(app).tool.database_url)
    click.echo("database is at the newest schema")


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("ensure")
def keys_ensure() -> None:
    """Generate the first key pair if there is none."""
    key = services(_app()).keyring.ensure()
    click.echo(f"signing key: {key.kid}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Start signing with a new key; the old one stays published for the grace period."""
    keyring = services(_app()).keyring
    key = keyring.rotate()
    click.echo(f"new signing key: {key.kid}")
    click.echo(f"previous keys stay in the JWKS for {keyring.grace}")


@keys.command("list")
def keys_list() -> None:
    """Show the keys and which are published."""
    keyring = services(_app()).keyring
    published = {k.kid for k in keyring.published()}
    for key in keyring._load():
        state = "signing" if key.retired_at is None else (
            f"retired {key.retired_at:%Y-%m-%d %H:%M}"
            + (", published" if key.kid in published else ""))
        click.echo(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M}  {state}")


@keys.command("prune")
def keys_prune() -> None:
    """Delete keys whose grace period is over."""
    for kid in services(_app()).keyring.prune():
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
    upgrade(settings(app).tool.database_url)
    with services(app).db.new_session() as session:
        row = add_platform(session, issuer=issuer, client_id=client_id,
                           auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                           key_set_url=key_set_url, deployment_ids=list(deployment_ids),
                           name=name, auth_audience=auth_audience,
                           frame_origins=list(frame_origins))
        session.commit()
        services(app).platforms.invalidate()  # with Redis: every running process at once
        click.echo(f"platform {row.id}: {row.issuer} client_id={row.client_id} "
                   f"deployments={','.join(d.deployment_id for d in row.deployments)}")


@platform.command("list")
def platform_list() -> None:
    """List registered platforms."""
    app = _app()
    with services(app).db.new_session() as session:
        rows = session.scalars(select(Platform).order_by(Platform.id)).all()
        if not rows:
            click.echo("no platforms registered")
        for row in rows:
            deployments = ",".join(d.deployment_id for d in row.deployments) or "-"
            click.echo(f"{row.id}\t{row.status}\t{row.issuer}\tclient_id={row.client_id}\t"
                       f"deployments={deployments}\tlogin={row.auth_login_url}\t"
                       f"unbound={'yes' if row.allow_unbound_launch else 'no'}")


def _find(session, ident: str, client_id: str | None) -> Platform:
    row = (session.get(Platform, int(ident)) if ident.isdigit()
           else find_platform(session, ident, client_id))
    if row is None:
        click.echo(f"no such platform: {ident}", err=True)
        sys.exit(1)
    return row


@platform.command("remove")
@click.argument("ident")
@click.option("--client-id", default=None, help="when IDENT is an issuer with several clients")
@click.option("--yes", is_flag=True, help="do not ask")
def platform_remove(ident: str, client_id: str | None, yes: bool) -> None:
    """Remove a platform (by id, or issuer [+ --client-id]) and everything launched from it,
    the evidence files its users uploaded included."""
    from .evidence.storage import stored_names_of_platform, unlink_stored

    app = _app()
    with services(app).db.new_session() as session:
        row = _find(session, ident, client_id)
        if not yes:
            click.confirm(f"Remove {row.issuer} ({row.client_id}) and all its data?", abort=True)
        files = stored_names_of_platform(session, row.id)
        session.delete(row)
        session.commit()
        services(app).platforms.invalidate()
        # After the commit: a failed removal must not leave rows pointing at deleted files.
        removed = unlink_stored(settings(app), files)
        click.echo(f"removed platform {ident} and {removed} stored files of its users")


@platform.command("invite")
@click.option("--expires", default=None, metavar="DURATION",
              help="how long the URL stays valid: 7d, 12h, 30m "
                   "(default: registration.invite_expires)")
@click.option("--name", default="", help="a note for yourself: which LMS this is for")
@click.option("--update", "update", default=None, metavar="PLATFORM",
              help="re-register this existing platform (id, or issuer with --client-id): the "
                   "registration may replace its URLs and add deployments")
@click.option("--client-id", default=None,
              help="with --update, when the issuer has several clients")
def platform_invite(expires: str | None, name: str, update: str | None,
                    client_id: str | None) -> None:
    """Print a single-use, expiring dynamic registration URL for an LMS administrator.

    Paste it into Moodle (Manage tools > Tool URL > Add LTI Advantage) or Canvas
    (Developer Keys > + LTI Registration). Only its hash is stored: it is shown once.
    """
    app = _app()
    upgrade(settings(app).tool.database_url)
    update_id = None
    if update:
        with services(app).db.new_session() as session:
            update_id = _find(session, update, client_id).id
    invite = _issue_invite(app, expires, name=name, update_platform_id=update_id)
    click.echo(invite.url)
    note = f"single use, expires {invite.expires_at:%Y-%m-%d %H:%M} UTC"
    if update_id is not None:
        note += f", may re-register platform {update_id}"
    click.echo(f"({note})", err=True)


@platform.command("activate")
@click.argument("ident")
@click.option("--client-id", default=None)
def platform_activate(ident: str, client_id: str | None) -> None:
    """Let a pending (dynamically registered) platform launch."""
    app = _app()
    with services(app).db.new_session() as session:
        row = _find(session, ident, client_id)
        row.status = "active"
        session.commit()
        services(app).platforms.invalidate()
        click.echo(f"platform {row.id} is active")


@platform.command("unbound")
@click.argument("ident")
@click.option("--client-id", default=None)
@click.option("--off", is_flag=True, help="require the browser binding again (the default)")
def platform_unbound(ident: str, client_id: str | None, off: bool) -> None:
    """Accept this platform's launches that no cookie or storage binds to the browser.

    Such a launch is open to login CSRF (README "Iframes and cookies"): for an institution that
    accepts that risk, e.g. Moodle in browsers that keep no cookie in frames nor in windows.
    """
    app = _app()
    with services(app).db.new_session() as session:
        row = _find(session, ident, client_id)
        row.allow_unbound_launch = not off
        session.commit()
        services(app).platforms.invalidate()
        click.echo(f"platform {row.id}: unbound launches "
                   f"{'refused' if off else 'accepted (login CSRF risk accepted)'}")


@main.group()
def connector() -> None:
    """Whole-gradebook connectors: course totals from Moodle Web Services or Canvas REST."""


def _cipher(app):
    from .gradebook.credentials import CredentialsError, credentials_cipher

    try:
        return credentials_cipher(app.config["SECRET_KEY"], env_secret("CREDENTIALS_KEY"))
    except CredentialsError as err:
        click.echo(str(err), err=True)
        sys.exit(1)


def _connector_of(session, ident: str, client_id: str | None):
    from .gradebook.connector_models import Connector

    platform_row = _find(session, ident, client_id)
    row = session.scalars(select(Connector).where(Connector.platform_id == platform_row.id)).first()
    if row is None:
        click.echo(f"platform {platform_row.id} has no connector", err=True)
        sys.exit(1)
    return row


@connector.command("add")
@click.option("--platform", "ident", required=True, help="platform id, or issuer")
@click.option("--client-id", default=None, help="when the issuer has several clients (Canvas)")
@click.option("--kind", type=click.Choice(["moodle", "canvas"]), required=True)
@click.option("--base-url", required=True,
              help="Moodle: the site URL; Canvas: https://school.instructure.com")
@click.option("--token-file", type=click.File("r", encoding="utf-8"), required=True,
              help="a file holding the API token ('-' reads stdin); never the token itself, "
                   "which would stay in the shell history")
def connector_add(ident, client_id, kind, base_url, token_file) -> None:
    """Add or replace a platform's connector; the token is stored encrypted."""
    from .gradebook.connector_models import Connector
    from .gradebook.credentials import encrypt_token

    if not base_url.startswith(("https://", "http://")):
        raise click.BadParameter(f"not a URL: {base_url}", param_hint="--base-url")
    token = token_file.read().strip()
    if not token or any(c.isspace() for c in token):
        raise click.BadParameter("the file must hold exactly one token", param_hint="--token-file")
    if base_url.startswith("http://"):
        click.echo("warning: http:// sends the token unencrypted; use https:// outside tests",
                   err=True)
    app = _app()
    upgrade(settings(app).tool.database_url)
    with services(app).db.new_session() as session:
        platform_row = _find(session, ident, client_id)
        row = session.scalars(
            select(Connector).where(Connector.platform_id == platform_row.id)).first()
        if row is None:
            row = Connector(platform_id=platform_row.id)
            session.add(row)
        row.kind, row.base_url, row.enabled, row.last_error = kind, base_url.rstrip("/"), True, ""
        row.token_encrypted = encrypt_token(_cipher(app), token)
        session.commit()
        click.echo(f"connector {row.id}: platform {platform_row.id} {kind} {row.base_url} "
                   f"(token stored encrypted)")


@connector.command("list")
def connector_list() -> None:
    """List connectors (never their tokens)."""
    from .gradebook.connector_models import Connector

    app = _app()
    with services(app).db.new_session() as session:
        rows = session.execute(select(Connector, Platform).join(
            Platform, Platform.id == Connector.platform_id).order_by(Connector.id)).all()
        if not rows:
            click.echo("no connectors")
        for row, platform_row in rows:
            pulled = f"{row.last_pull_at:%Y-%m-%d %H:%M}" if row.last_pull_at else "never"
            error = row.last_error.splitlines()[0] if row.last_error else "-"
            click.echo(f"{row.id}\tplatform={platform_row.id}\t{platform_row.issuer}\t{row.kind}\t"
                       f"{row.base_url}\t{'enabled' if row.enabled else 'disabled'}\t"
                       f"last pull {pulled}\tlast error: {error}")


@connector.command("remove")
@click.option("--platform", "ident", required=True)
@click.option("--client-id", default=None)
@click.option("--yes", is_flag=True, help="do not ask")
def connector_remove(ident: str, client_id: str | None, yes: bool) -> None:
    """Remove a platform's connector, its token and the course totals it read."""
    app = _app()
    with services(app).db.new_session() as session:
        row = _connector_of(session, ident, client_id)
        if not yes:
            click.confirm(f"Remove the {row.kind} connector of platform {row.platform_id} and "
                          f"the course totals it read?", abort=True)
        session.delete(row)
        session.commit()
        click.echo(f"removed the connector of platform {row.platform_id}")


@connector.command("enable")
@click.option("--platform", "ident", required=True)
@click.option("--client-id", default=None)
@click.option("--off", is_flag=True, help="disable: stop pulling and hide its totals from GPA")
def connector_enable(ident: str, client_id: str | None, off: bool) -> None:
    """Enable (or with --off disable) a platform's connector."""
    app = _app()
    with services(app).db.new_session() as session:
        row = _connector_of(session, ident, client_id)
        row.enabled = not off
        session.commit()
        click.echo(f"connector of platform {row.platform_id} "
                   f"{'disabled' if off else 'enabled'}")


@connector.command("pull")
@click.option("--platform", "ident", required=True)
@click.option("--client-id", default=None)
@click.option("--user", "sub", default=None,
              help="only this user (their LTI sub); default: every learner of the platform")
def connector_pull(ident: str, client_id: str | None, sub: str | None) -> None:
    """Read students' course totals from the LMS API and store them for GPA."""
    from .gradebook.connectors import learners_of_platform, pull_connector
    from .lti.models import User

    app = _app()
    upgrade(settings(app).tool.database_url)
    policy = services(app).get(GradingPolicy)
    with services(app).db.new_session() as session:
        row = _connector_of(session, ident, client_id)
        if not row.enabled:
            click.echo(f"the connector of platform {row.platform_id} is disabled", err=True)
            sys.exit(1)
        if sub is None:
            users = learners_of_platform(session, row.platform_id)
        else:
            user = session.scalars(select(User).where(User.platform_id == row.platform_id,
                                                      User.sub == sub)).first()
            if user is None:
                click.echo(f"no user {sub!r} on platform {row.platform_id} (they appear after "
                           f"a launch or a roster pull)", err=True)
                sys.exit(1)
            users = [user]
        summary = pull_connector(session, services(app).http, _cipher(app), row, users,
                                 start_month=policy.academic_year_start_month,
                                 zone=policy.timezone)
        click.echo(f"{summary.users} of {len(users)} users read, {summary.courses} course "
                   f"totals stored, {summary.failed} failed")
        if summary.stopped:
            click.echo(f"stopped: {summary.stopped}", err=True)
        elif row.last_error:
            click.echo(f"last error: {row.last_error}", err=True)
        if not summary.ok:
            sys.exit(1)


@connector.command("rekey")
def connector_rekey() -> None:
    """Re-encrypt every stored token with the first key of CREDENTIALS_KEY (after rotation)."""
    from .gradebook.connector_models import Connector
    from .gradebook.credentials import CredentialsError, reencrypt_token

    app = _app()
    cipher = _cipher(app)
    with services(app).db.new_session() as session:
        rows = session.scalars(select(Connector)).all()
        for row in rows:
            try:
                row.token_encrypted = reencrypt_token(cipher, row.token_encrypted)
            except CredentialsError as err:
                click.echo(f"connector of platform {row.platform_id}: {err}; nothing changed",
                           err=True)
                sys.exit(1)
        session.commit()
        click.echo(f"re-encrypted {len(rows)} connector tokens")


if __name__ == "__main__":
    main()
