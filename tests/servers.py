"""Real servers the tests start themselves: gunicorn serving the tool, PostgreSQL, Redis.

PostgreSQL and Redis come from Debian's packages (`make test` installs them when missing);
each runs in a temporary directory on loopback and stops when the tests end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from lti_tool.extensions import services

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
# Variables of the developer's shell that would change what a started tool does.
TOOL_VARIABLES = ("LTI_TOOL_ENV", "LTI_TOOL_SETTINGS", "SECRET_KEY", "CREDENTIALS_KEY",
                  "DATABASE_URL", "BASE_URL", "DATA_DIR", "KEYS_DIR", "REDIS_URL", "PORT",
                  "LOG_FORMAT", "LOG_LEVEL", "TRUSTED_PROXIES", "METRICS_TOKEN",
                  "METRICS_NETWORKS", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """os.environ without the tool's own variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in TOOL_VARIABLES and not k.endswith("_FILE")}
    env.update(extra)
    return env


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def children_of(pid: int) -> list[int]:
    """The pids of the direct children of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: the parent pid follows the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Gunicorn:
    """`gunicorn -c config/gunicorn.conf.py` in a subprocess, its output kept in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.env = dict(env, GUNICORN_BIND=f"127.0.0.1:{self.port}")
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Gunicorn:
        """Start and wait until every worker is up and the tool answers."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)], cwd=ROOT,
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_for_http(self.base_url + "/healthz", timeout, self.process)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.log()[-3000:]}") from None
        wanted = int(self.env.get("WEB_CONCURRENCY", "2"))
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def worker_pids(self) -> list[int]:
        """The worker processes right now."""
        return children_of(self.process.pid) if self.process else []

    def log(self) -> str:
        """Everything gunicorn and the app wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it does not end; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_gunicorn_tool(data_dir: str, *, workers: int = 2, env: dict[str, str] | None = None,
                        overrides: dict[str, Any] | None = None):
    """The tool under gunicorn (keys made, database migrated), as a tool_server.ServedTool.

    Its `app` is an in-process twin on the same database and keys: tests use it to register
    platforms and look into the database; requests go to gunicorn.
    """
    from tool_server import ServedTool

    from lti_tool import create_app
    from lti_tool.migrate import upgrade

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database_url = migrated_database_url_for(data_dir)
    settings: dict[str, Any] = {
        "tool": {"base_url": base_url, "data_dir": data_dir, "database_url": database_url},
        "keys": {"dir": f"{data_dir}/keys"},
        "gradebook": {"worker": {"in_process": False}},
    }
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    app = create_app(settings)
    services(app).keyring.ensure()
    upgrade(database_url)
    settings_file = Path(data_dir) / "settings.toml"
    settings_file.write_text(to_toml({k: v for k, v in settings.items()
                                      if k not in ("tool", "keys")}))
    server_env = clean_environment(
        DATA_DIR=data_dir, KEYS_DIR=f"{data_dir}/keys", DATABASE_URL=database_url,
        BASE_URL=base_url, WEB_CONCURRENCY=str(workers), LTI_TOOL_SETTINGS=str(settings_file),
        **(env or {}))
    server = Gunicorn(server_env, Path(data_dir) / "gunicorn.log", port).start()
    return ServedTool(app=app, base_url=base_url, server=server)


def suite_database() -> str:
    """Which database the tools of this run use: "sqlite" or "postgresql" (env LTI_TEST_DB)."""
    return os.environ.get("LTI_TEST_DB", "sqlite")


def database_url_for(data_dir: str) -> str:
    """A new, empty database for one tool: SQLite in `data_dir`, or PostgreSQL (LTI_TEST_DB)."""
    if suite_database() == "postgresql":
        return postgres().create_database()
    return f"sqlite:///{data_dir}/tool.db"


_template: str | None = None
_template_lock = threading.Lock()


def migrated_database_url_for(data_dir: str) -> str:
    """A new database for one tool, already migrated to the newest revision: a copy of a
    template this test process migrates once (SQLite: the file copied; PostgreSQL: CREATE
    DATABASE ... TEMPLATE). Running every migration for each tool cost about a second; a copy
    costs a few milliseconds. A database already in `data_dir` (a tool started again) is kept."""
    global _template  # noqa: PLW0603 (one template per test process)
    from lti_tool.migrate import upgrade

    with _template_lock:
        if _template is None:
            if suite_database() == "postgresql":
                name = f"template_{os.getpid()}"
                upgrade(postgres().create_database(name))
                _template = name
            else:
                directory = Path(tempfile.mkdtemp(prefix="lti-tool-template-"))
                atexit.register(shutil.rmtree, directory, ignore_errors=True)
                upgrade(f"sqlite:///{directory}/template.db")
                _template = str(directory / "template.db")
    if suite_database() == "postgresql":
        return postgres().create_database(template=_template)
    target = Path(data_dir) / "tool.db"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


def _as_postgres_user() -> list[str]:
    # initdb and postgres refuse to run as root; the tests run as root in CI.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's "
                           "postgresql package (apt-get install postgresql)")
    return found[-1].parent


class PostgresServer:
    """A PostgreSQL cluster of its own in a temporary directory, on a free port on 127.0.0.1.

    `durable=False` (tests) turns fsync off: faster, and nothing here must survive a crash of
    the machine. Benchmarks keep the defaults.
    """

    def __init__(self, *, durable: bool = False):
        self.bin = postgres_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="lti-tool-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.durable = durable
        self._serial = 0
        self._lock = threading.Lock()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*_as_postgres_user(), *args], capture_output=True, text=True,
                              check=False, timeout=timeout, cwd=self.directory)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> PostgresServer:
        """initdb on first start, then start and wait until it accepts connections."""
        if not (self.data / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                      "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                   f"-k {self.directory}", "-c max_connections=300"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.directory / "server.log"), "-o", " ".join(options), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: disconnect everyone, clean shutdown)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop and start again, as an administrator's restart or a failover does."""
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); returns its URL."""
        import psycopg

        with self._lock:
            self._serial += 1
            name = name or f"tool_{os.getpid()}_{self._serial}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def remove(self) -> None:
        """Stop and delete the cluster."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


_postgres: PostgresServer | None = None
_postgres_lock = threading.Lock()


def postgres() -> PostgresServer:
    """This process's PostgreSQL server, started on first use and removed at exit."""
    global _postgres  # noqa: PLW0603 (one server per test process)
    with _postgres_lock:
        if _postgres is None:
            _postgres = PostgresServer().start()
            atexit.register(_postgres.remove)
        return _postgres


def to_toml(tree: dict[str, Any], prefix: str = "") -> str:
    """A settings tree of tables, strings, numbers, booleans and lists as TOML."""
    import json

    lines, tables = [], []
    for key, value in tree.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        else:  # JSON strings, numbers and lists of them are valid TOML
            lines.append(f"{key} = {json.dumps(value)}")
    text = (f"[{prefix}]\n" if prefix and lines else "") + "".join(f"{line}\n" for line in lines)
    for key, value in tables:
        text += to_toml(value, f"{prefix}.{key}" if prefix else key)
    return text


class RedisServer:
    """redis-server (Debian's package) on a free port of 127.0.0.1, data in a temporary
    directory."""

    def __init__(self, *, maxmemory: str | None = None):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed: `make test` installs Debian's "
                               "redis-server package")
        self.binary = binary
        self.directory = Path(tempfile.mkdtemp(prefix="lti-tool-redis-"))
        self.port = free_port()
        self.maxmemory = maxmemory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (no persistence: the tool keeps nothing in Redis it cannot lose)."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                "--protected-mode", "yes"]
        if self.maxmemory:
            args += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (its data is gone)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def remove(self) -> None:
        """Stop and delete its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
