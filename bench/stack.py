"""The production stack on loopback for bench/load.py and bench/faults.py.

PostgreSQL (durable: fsync on), optionally Redis, the tool under gunicorn, optionally
`lti-tool worker`, and a Moodle-shaped test LMS (tests/lti_platform) with simulated students
who launch, open their portfolio and save entries. Everything runs on 127.0.0.1 and is
stopped when the `with` block ends.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lti_tool.extensions import services

REPO = Path(__file__).resolve().parent.parent
for extra in (REPO / "tests", REPO):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import requests
from lti_platform import DriverError, LaunchDriver, Platform, parse_forms
from servers import (
    Gunicorn,
    PostgresServer,
    RedisServer,
    clean_environment,
    free_port,
    to_toml,
)

TIMEOUT = 30.0  # a request slower than this counts as hung


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Outcome:
    """One request the tool answered (or did not)."""

    kind: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    ok: bool
    detail: str = ""


class Stats:
    """Every outcome, thread-safe."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def add(self, outcome: Outcome) -> None:
        """Record one outcome."""
        with self._lock:
            self.outcomes.append(outcome)

    def between(self, start: float, end: float) -> list[Outcome]:
        """The outcomes of requests that ended in [start, end)."""
        return [o for o in self.outcomes if start <= o.started + o.seconds < end]


@dataclass
class SavedEntry:
    """An entry the tool confirmed saving (a 303 to its page)."""

    entry_id: int
    title: str


@dataclass
class Student:
    """A simulated student: launches from the LMS, opens the portfolio, saves an entry."""

    number: int
    lms: Platform
    base_url: str
    stats: Stats
    save_entries: bool
    saved: list[SavedEntry] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)  # titles of every save sent
    plan: Any = None
    serial: int = 0

    def __post_init__(self) -> None:
        self.plan = self.lms.plan({"role": "student", "id": str(70000 + self.number),
                                   "username": f"load{self.number}", "given_name": "Load",
                                   "family_name": f"Student {self.number}"},
                                  resource_link={"id": "portfolio", "title": "Portfolio"},
                                  custom={"placement": "portfolio"})

    def _timed(self, kind: str, call, expect: tuple[int, ...]) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = call()
        except DriverError as err:
            response = err.response
            if response is None:
                self.stats.add(Outcome(kind, started, time.monotonic() - started, None, False,
                                       str(err)[:200]))
                return None
        except requests.RequestException as err:
            self.stats.add(Outcome(kind, started, time.monotonic() - started, None, False,
                                   type(err).__name__))
            return None
        ok = response.status_code in expect
        detail = ""
        if not ok:  # the tool's error pages name their reason code
            code = re.search(r"<code>([a-z_]+)</code>", response.text)
            detail = code.group(1) if code else response.text[:200].replace("\n", " ")
        self.stats.add(Outcome(kind, started, response.elapsed.total_seconds(),
                               response.status_code, ok, detail))
        return response if ok else None

    def cycle(self) -> None:
        """One visit: launch, portfolio page, save an entry (each step only if the last worked)."""
        with LaunchDriver(timeout=TIMEOUT) as browser:
            step = None

            def login():
                nonlocal step
                step = browser.start_login(self.plan)
                return step.response

            if self._timed("login", login, (302, 303)) is None:
                return
            try:
                id_token, state = step.authorize()  # the LMS, not timed
            except (DriverError, requests.RequestException):
                return
            launched = self._timed("launch", lambda: browser.post_launch(
                step.launch_url, id_token, state, follow_redirects=False), (303,))
            if launched is None:
                return
            landing = self._timed("landing page", lambda: browser.follow(launched), (200,))
            if landing is None:
                return
            token = re.search(r"[?&]ls=([^&#]+)", landing.url).group(1)
            page = "/portfolio/" if self.save_entries else "/"
            if self._timed("portfolio page", lambda: browser.get(
                    f"{self.base_url}{page}?ls={token}"), (200,)) is None or not self.save_entries:
                return
            form_page = self._timed("entry form", lambda: browser.get(
                f"{self.base_url}/portfolio/entries/new?list=electives&ls={token}"), (200,))
            if form_page is None:
                return
            form = next(f for f in parse_forms(form_page.text, form_page.url)
                        if "f_title" in f.fields)
            self.serial += 1
            title = f"load-{self.number}-{self.serial}-{os.getpid()}"
            fields = dict(form.fields, course_year="1", f_title=title, f_hours="36",
                          f_place_time="KazNMU, 2026", f_document="certificate")
            self.attempted.append(title)
            saved = self._timed("save entry", lambda: browser.post(
                form.action, data=fields, follow_redirects=False), (303,))
            if saved is not None:
                entry_id = int(re.search(r"/entries/(\d+)", saved.headers["Location"]).group(1))
                self.saved.append(SavedEntry(entry_id, title))


class Stack:
    """PostgreSQL, optional Redis, the tool under gunicorn, optional score worker, a test LMS."""

    def __init__(self, *, workers: int = 2, threads: int = 4, redis: bool = False,
                 redis_maxmemory: str | None = None, score_worker: bool = False,
                 worker_settings: dict | None = None):
        self.workers, self.threads = workers, threads
        self.want_redis, self.redis_maxmemory = redis, redis_maxmemory
        self.want_score_worker = score_worker
        self.worker_settings = worker_settings or {}
        self.directory = Path(tempfile.mkdtemp(prefix="lti-tool-bench-"))
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.gunicorn: Gunicorn | None = None
        self.lms: Platform | None = None
        self.score_worker: subprocess.Popen | None = None
        self.app = None
        self.env: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        from lti_tool import create_app
        from lti_tool.lti.registry import add_platform
        from lti_tool.migrate import upgrade

        self.postgres = PostgresServer(durable=True).start()
        database_url = self.postgres.create_database("lti_tool")
        if self.want_redis:
            self.redis = RedisServer(maxmemory=self.redis_maxmemory).start()
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        settings = {"gradebook": {"worker": {"in_process": False, **self.worker_settings}}}
        settings_file = self.directory / "settings.toml"
        settings_file.write_text(to_toml(settings))
        self.env = clean_environment(
            DATABASE_URL=database_url, BASE_URL=self.base_url,
            DATA_DIR=str(self.directory / "var"), KEYS_DIR=str(self.directory / "keys"),
            LTI_TOOL_SETTINGS=str(settings_file), WEB_CONCURRENCY=str(self.workers),
            GUNICORN_THREADS=str(self.threads), LOG_LEVEL="WARNING",
            **({"REDIS_URL": self.redis.url} if self.redis else {}))
        overrides = {"tool": {"base_url": self.base_url, "data_dir": self.env["DATA_DIR"],
                              "database_url": database_url},
                     "keys": {"dir": self.env["KEYS_DIR"]}, **settings}
        if self.redis:
            overrides["redis"] = {"url": self.redis.url}
        self.app = create_app(overrides)  # the bench's own view of the same installation
        services(self.app).keyring.ensure()
        upgrade(database_url)
        self.lms = Platform("moodle").start()
        with services(self.app).db.new_session() as db:
            add_platform(db, issuer=self.lms.issuer, client_id=self.lms.client_id,
                         auth_login_url=self.lms.auth_login_url,
                         auth_token_url=self.lms.auth_token_url,
                         key_set_url=self.lms.key_set_url,
                         deployment_ids=[self.lms.deployment_id], name="bench Moodle")
            db.commit()
        self.lms.set_tool(self.base_url + "/lti/login", self.base_url + "/lti/launch",
                          self.base_url + "/.well-known/jwks.json")
        self.gunicorn = Gunicorn(self.env, self.directory / "gunicorn.log", port).start()
        if self.want_score_worker:
            self.start_score_worker()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_score_worker()
        if self.gunicorn:
            self.gunicorn.stop()
        if self.app is not None:
            services(self.app).db.engine.dispose()
        if self.lms:
            self.lms.stop()
        if self.redis:
            self.redis.remove()
        if self.postgres:
            self.postgres.remove()

    # -- processes ------------------------------------------------------------------------
    def start_score_worker(self) -> None:
        """`lti-tool worker`, as systemd would start (and restart) it."""
        log = (self.directory / "worker.log").open("ab")
        self.score_worker = subprocess.Popen([sys.executable, "-m", "lti_tool.cli", "worker"],
                                             env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                             cwd=REPO)
        log.close()

    def stop_score_worker(self) -> None:
        """SIGTERM the score worker and wait for it."""
        if self.score_worker and self.score_worker.poll() is None:
            self.score_worker.send_signal(signal.SIGTERM)
            try:
                self.score_worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.score_worker.kill()
                self.score_worker.wait()

    def web_workers(self) -> list[int]:
        """The gunicorn worker pids now."""
        return self.gunicorn.worker_pids()

    def peak_rss_mib(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of each gunicorn worker, in MiB."""
        peaks = {}
        for pid in self.web_workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks[pid] = int(match.group(1)) / 1024
        return peaks

    def portfolio_registered(self) -> bool:
        """True when the portfolio package serves its pages in this tool."""
        return "portfolio" in self.app.blueprints

    def entries_in_database(self, titles: list[str]) -> dict[str, tuple[int, bool]]:
        """title -> (entry id, its "entry_created" log row exists) for the given titles."""
        from sqlalchemy import select

        from lti_tool.portfolio.models import Entry, Update

        found: dict[str, tuple[int, bool]] = {}
        with services(self.app).db.new_session() as db:
            for start in range(0, len(titles), 500):
                chunk = titles[start:start + 500]
                for entry_id, title in db.execute(select(Entry.id, Entry.title)
                                                  .where(Entry.title.in_(chunk))):
                    found[title] = (entry_id, False)
            created = {row.detail.get("entry") for row in db.scalars(
                select(Update).where(Update.what == "entry_created"))}
        return {title: (entry_id, entry_id in created) for title, (entry_id, _) in found.items()}


def run_students(students: list[Student], until: float) -> None:
    """Run every student's visits in its own thread until the monotonic time `until`."""
    def loop(student: Student) -> None:
        while time.monotonic() < until:
            student.cycle()

    threads = [threading.Thread(target=loop, args=(s,), daemon=True) for s in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, until - time.monotonic()) + TIMEOUT * 4)


def each_once(students: list[Student]) -> None:
    """Every student visits once, all at the same time."""
    threads = [threading.Thread(target=s.cycle, daemon=True) for s in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 6)
