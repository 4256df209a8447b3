"""gunicorn settings: `make serve`, or `gunicorn -c config/gunicorn.conf.py lti_tool.wsgi:app`.

Tuned by environment variables (README "Operations"): GUNICORN_BIND (127.0.0.1:8000),
WEB_CONCURRENCY (worker processes, 2), GUNICORN_THREADS (threads per worker, 4),
GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (30 s), TRUSTED_PROXIES (the TLS proxies
whose X-Forwarded-* headers count), LOG_FORMAT (plain or json). The score worker is not run
here: start `lti-tool worker` as its own process.
"""

import importlib.util
import os
import sys
from ipaddress import ip_network
from pathlib import Path

from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parent.parent


def _by_path(name: str, relative: str):
    # By path, not `import lti_tool`: the master must not import the app, or workers forked
    # after a reload (kill -HUP) would keep running the old code.
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: pydantic resolves the settings models' annotations through
    # sys.modules[<module>].
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_settings_module = _by_path("_lti_tool_settings", "lti_tool/settings.py")
_logs = _by_path("_lti_tool_logs", "lti_tool/ops/logs.py")
try:
    # The same checks as the app, once, before any worker starts: a missing secret stops
    # the start with one message naming all of them instead of workers failing to boot.
    _settings = _settings_module.load()
except _settings_module.SettingsError as err:
    sys.exit(f"lti-tool: {err}")

wsgi_app = "lti_tool.wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads: a request may wait on the LMS (a key set, a token) or the database; the other
# threads of the worker keep serving meanwhile.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Off: each worker imports the app itself and opens its own database pool (a pool must
# never be shared across fork), and a reload (HUP) picks up new code.
preload_app = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Workers are replaced now and then, so slow leaks never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Canvas's lti_message_hint (a JWT) makes login URLs long.
limit_request_line = 8190
# gunicorn's control socket (gunicornc) sits in $HOME by default, shared by every instance
# of the user; the tool is managed with signals (HUP, TERM) instead.
control_socket_disable = True
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # the heartbeat file; a slow disk must not look like a hang

# X-Forwarded-Proto is believed only from the TLS proxies; the app does the same with
# werkzeug's ProxyFix (lti_tool/ops/proxy.py) for X-Forwarded-For and -Host.
forwarded_allow_ips = ",".join(
    str(ip_network(value, strict=False))
    for value in _settings.proxy.trusted if value != "unix")

# Metrics from every worker (and `lti-tool worker` on this host) are summed from files here.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      str(_settings.tool.data_dir / "prometheus"))

# Files the workers write (the SQLite database, evidence, metrics) are the tool user's alone.
# (gunicorn's own `umask` setting covers only its sockets; workers inherit the master's.)
os.umask(0o077)

accesslog = "-"
errorlog = "-"
# The path is the route pattern (/s/<token>), never the raw path or query string: session
# and showcase tokens travel there. The request id comes from the response header.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'


def _without_query(value):
    # gunicorn's own error lines name the request URI; its query string may hold a session token.
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0] + "?..."
    return value


class AccessLogger(Logger):
    """gunicorn's logger: route patterns in the access log, no query strings anywhere."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = environ.get(_logs.ROUTE_ENVIRON_KEY) or "(no route)"
        atoms["q"] = atoms["r"] = "-"
        return atoms

    def exception(self, msg, *args, **kwargs):
        super().exception(msg, *map(_without_query, args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(msg, *map(_without_query, args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(msg, *map(_without_query, args), **kwargs)


logger_class = AccessLogger

if _settings.logging.format == "json":
    _json = {"()": _logs.JsonFormatter}
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False,
                               "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json",
                       "stream": "ext://sys.stdout"},
            "stderr": {"class": "logging.StreamHandler", "formatter": "json",
                       "stream": "ext://sys.stderr"},
        },
        "formatters": {"json": _json},
    }


def _live(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    """Prepare the metrics directory: drop the files of processes that are gone."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _live(int(pid)):
            path.unlink(missing_ok=True)


def when_ready(server):
    """Say where the score worker runs."""
    server.log.info("scores are sent by `lti-tool worker`, a process of its own; "
                    "gunicorn workers never run it")


def child_exit(server, worker):
    """Forget a dead worker's live gauges (its counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
