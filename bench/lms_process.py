"""The test LMS of bench/sync.py: one lti_platform.Platform, in this process or in a child of
its own.

`LocalLms` wraps a started `Platform` and offers what the benchmark needs from it as plain
methods whose arguments and answers are builtins (str, int, float, list, dict). `RemoteLms` has
the same methods, but the `Platform` runs in a child process (this file run as a script) and
every method is one command over a pipe. The LMS behaves the same either way: same
`Platform(profile)`, same endpoints, same `faults.delay`, same quirks; only the process differs.

    with RemoteLms("moodle") as lms:              # or LocalLms("moodle")
        served.register(lms)                      # issuer, client_id, ... and set_tool()
        students = lms.add_members(2, 1000)       # [Member(sub=...), ...]

The child process:
- is `python bench/lms_process.py --fd N --profile P`; N is its end of a socketpair, wrapped in
  a `multiprocessing.connection.Connection`. It sends ("ready", info) once the platform serves,
  then answers each (name, args, kwargs) with ("ok", result) or ("err", text).
- ignores SIGINT (Ctrl-C reaches the whole process group): the parent stops it.
- ends on "stop", and on EOF, which it gets as soon as the parent is gone in any way (even
  SIGKILL), because then no process holds the other end of the socketpair.

The parent (`RemoteLms`) waits for every answer with a timeout, and notices a dead child (EOF).
`close()` (also from `__exit__` and atexit) sends "stop", then terminates and at last kills the
child if it has not ended within a few seconds, and always reaps it.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
for _extra in (REPO / "tests",):
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

START_TIMEOUT = 60.0  # the child imports, makes keys and starts serving
CALL_TIMEOUT = 120.0  # no command takes more than a few seconds (a launch, 1,000 results)
STOP_GRACE = 5.0


@dataclass(frozen=True)
class Member:
    """A course member as the benchmark needs it: the `sub` the platform gives the tool."""

    sub: str


class LmsError(RuntimeError):
    """The test LMS failed a command, died or did not answer in time."""


class LocalLms:
    """A Moodle- (or Canvas-) shaped `Platform`, started in this process."""

    mode = "in-process"

    def __init__(self, profile: str = "moodle") -> None:
        from lti_platform import Platform

        self.platform = Platform(profile).start()
        self.pid = os.getpid()
        self.log_tally: Counter[str] | None = None  # set in the child: its own warnings
        self._info = self.info()

    # -- addresses (what the tool's registration and pylti1p3's ToolConfDict need) -----------

    def info(self) -> dict[str, Any]:
        """The platform's ids, keys' and endpoints' URLs."""
        p = self.platform
        return {"profile": p.profile, "issuer": p.issuer, "client_id": p.client_id,
                "deployment_id": p.deployment_id, "base_url": p.base_url,
                "auth_login_url": p.auth_login_url, "auth_token_url": p.auth_token_url,
                "key_set_url": p.key_set_url, "pid": os.getpid()}

    @property
    def profile(self) -> str:
        return self._info["profile"]

    @property
    def issuer(self) -> str:
        return self._info["issuer"]

    @property
    def client_id(self) -> str:
        return self._info["client_id"]

    @property
    def deployment_id(self) -> str:
        return self._info["deployment_id"]

    @property
    def base_url(self) -> str:
        return self._info["base_url"]

    @property
    def auth_login_url(self) -> str:
        return self._info["auth_login_url"]

    @property
    def auth_token_url(self) -> str:
        return self._info["auth_token_url"]

    @property
    def key_set_url(self) -> str:
        return self._info["key_set_url"]

    # -- commands --------------------------------------------------------------------------------

    def set_tool(self, login_url: str, launch_url: str, jwks_url: str) -> None:
        """Where the tool logs in, launches and publishes its key set (Platform.set_tool)."""
        self.platform.set_tool(login_url, launch_url, jwks_url)

    def add_members(self, course: int, n: int, role: str = "Learner") -> list[Member]:
        """Enrol n new users with `role` (Platform.add_members)."""
        return [Member(u.sub) for u in self.platform.add_members(course, n, role)]

    def launch(self, user: str, *, course: int, custom: dict[str, Any],
               resource_link: dict[str, Any],
               params: dict[str, str | None] | None = None) -> dict[str, Any]:
        """A full OIDC launch of the tool by `user`, as a browser in the course page does it
        (`Platform.plan` + `LaunchDriver().launch`, run where the platform is). Answers the tool's
        final HTTP status and the AGS claim the id_token carried."""
        from lti_platform import CLAIM_AGS, LaunchDriver

        plan = self.platform.plan(user, course=course, custom=custom,
                                  resource_link=resource_link)
        with LaunchDriver() as browser:
            response = browser.launch(plan, params=params)
        return {"status": response.status_code,
                "ags_claim": dict(plan.claims(os.urandom(8).hex())[CLAIM_AGS])}

    def set_delay(self, seconds: float) -> None:
        """How long AGS and NRPS wait before answering each request (faults.delay)."""
        self.platform.faults.delay = seconds

    def delay(self) -> float:
        return float(self.platform.faults.delay)

    def quirks(self) -> list[str]:
        """The profile's quirks now on (platform.quirks)."""
        return sorted(self.platform.quirks)

    def set_quirks(self, quirks: list[str]) -> None:
        """Turn exactly these quirks on."""
        self.platform.quirks.clear()
        self.platform.quirks.update(quirks)

    def reset_counts(self) -> None:
        self.platform.reset_counts()

    def counts(self) -> Counter[str]:
        """Requests per endpoint since the last reset_counts()."""
        return Counter(dict(self.platform.counts))

    def score_log_mark(self) -> int:
        """A mark in the score log: score POSTs after it are the ones `stored_since` looks at."""
        return len(self.platform.score_log)

    def stored_since(self, mark: int) -> dict[str, Any]:
        """Score POSTs received after `mark`: how many, how many applied, and the wall time
        (time.time(), the machine's clock: the same in both processes) of the last applied."""
        entries = self.platform.score_log[mark:]
        applied = [e.received_at for e in entries if e.applied]
        return {"received": len(entries), "applied": len(applied),
                "last_applied_at": max(applied) if applied else None}

    def scores(self, line_item_url: str) -> dict[str, dict[str, Any]]:
        """Each user's stored grade on a line item (Platform.scores)."""
        return self.platform.scores(line_item_url)

    def line_items(self, course: int) -> list[dict[str, Any]]:
        return self.platform.line_items(course)

    def add_line_item(self, course: int, label: str, score_maximum: float,
                      **fields: Any) -> str:
        return self.platform.add_line_item(course, label, score_maximum, **fields)

    def delete_line_item(self, url: str) -> None:
        self.platform.delete_line_item(url)

    def resource_link_line_item_url(self, course: int, resource_link_id: str,
                                    **kwargs: Any) -> str:
        return self.platform.resource_link_line_item_url(course, resource_link_id, **kwargs)

    def lineitems_url(self, course: int) -> str:
        return self.platform.lineitems_url(course)

    def memberships_url(self, course: int) -> str:
        return self.platform.memberships_url(course)

    def set_result(self, line_item_url: str, user_id: str, score_given: float | None,
                   **kwargs: Any) -> None:
        self.platform.set_result(line_item_url, user_id, score_given, **kwargs)

    def set_results(self, line_item_url: str, results: list[tuple[str, float | None]]) -> None:
        """Platform.set_result for each (user_id, score_given): one command for them all."""
        for user_id, score in results:
            self.platform.set_result(line_item_url, user_id, score)

    def member_statuses(self, course: int) -> Counter[str]:
        """How many of the course's members are Active, Inactive, Deleted."""
        return Counter(m.status for m in self.platform.members(course))

    def cpu(self) -> float:
        """CPU time of the process the LMS runs in (every thread), time.process_time()."""
        return time.process_time()

    def logged(self) -> dict[str, int]:
        """Warnings and errors the LMS's process logged, by "LEVEL logger" (in the child only:
        in-process, the benchmark's own tally sees them)."""
        return dict(self.log_tally or {})

    def alive(self) -> bool:
        return True

    def kill(self) -> None:
        """Nothing to kill: the LMS is this process."""

    def close(self) -> None:
        self.platform.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


COMMANDS = ("info", "set_tool", "add_members", "launch", "set_delay", "delay", "quirks",
            "set_quirks", "reset_counts", "counts", "score_log_mark", "stored_since", "scores",
            "line_items", "add_line_item", "delete_line_item", "resource_link_line_item_url",
            "lineitems_url", "memberships_url", "set_result", "set_results", "member_statuses",
            "cpu", "logged")


# -- the parent's side -------------------------------------------------------------------------


class RemoteLms(LocalLms):
    """The same LMS, in a child process; each method is one command over a pipe."""

    mode = "out-of-process"

    def __init__(self, profile: str = "moodle", *, start_timeout: float = START_TIMEOUT,
                 call_timeout: float = CALL_TIMEOUT) -> None:
        self.call_timeout = call_timeout
        self._lock = threading.Lock()
        self._closed = False
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--fd", str(theirs.fileno()),
                 "--profile", profile],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # only the child holds it now: its EOF when we go, ours when it goes
        self._conn = Connection(ours.detach())
        self.pid = self._proc.pid
        atexit.register(self.close)
        try:
            kind, info = self._receive(start_timeout, "start")
            if kind != "ready":
                raise LmsError(f"the test LMS process did not start: {info}")
        except BaseException:
            self.close()
            raise
        self._info = info

    def _receive(self, timeout: float, what: str) -> tuple[str, Any]:
        try:
            if not self._conn.poll(timeout):
                raise LmsError(f"the test LMS process (pid {self.pid}) did not answer {what}"
                               f" within {timeout:.0f} s")
            return self._conn.recv()
        except (EOFError, OSError) as err:
            code = self._proc.poll()
            raise LmsError(f"the test LMS process (pid {self.pid}) is gone"
                           f" (exit status {code}) during {what}: {err!r}") from None

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._closed:
                raise LmsError(f"the test LMS process is stopped ({name})")
            try:
                self._conn.send((name, args, kwargs))
            except OSError as err:
                raise LmsError(f"the test LMS process (pid {self.pid}) is gone"
                               f" (exit status {self._proc.poll()}): {err!r}") from None
            kind, value = self._receive(self.call_timeout, name)
        if kind != "ok":
            raise LmsError(f"the test LMS failed {name}: {value}")
        return value

    def add_members(self, course: int, n: int, role: str = "Learner") -> list[Member]:
        return [Member(sub) for sub in self._call("add_members", course, n, role)]

    def alive(self) -> bool:
        return not self._closed and self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the child at once, without the pipe (the watchdog's last resort)."""
        if self._proc.poll() is None:
            self._proc.kill()

    def close(self) -> None:
        """Stop the child: "stop", then SIGTERM, then SIGKILL, a few seconds apart; reap it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        try:
            if self._proc.poll() is None:
                try:
                    self._conn.send(("stop", (), {}))
                    if self._conn.poll(STOP_GRACE):
                        self._conn.recv()
                except (EOFError, OSError):
                    pass
            try:
                self._proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self._proc.terminate()
                try:
                    self._proc.wait(STOP_GRACE)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
        finally:
            if self._proc.poll() is None:  # interrupted above (a second Ctrl-C): no waiting now
                self._proc.kill()
            self._proc.wait()
            self._conn.close()


def _remote_method(name: str):
    def method(self: RemoteLms, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(LocalLms, name).__doc__
    return method


for _name in COMMANDS:
    if _name not in RemoteLms.__dict__:
        setattr(RemoteLms, _name, _remote_method(_name))


def start_lms(out_of_process: bool, profile: str = "moodle") -> LocalLms:
    return RemoteLms(profile) if out_of_process else LocalLms(profile)


# -- the child's side --------------------------------------------------------------------------


def serve(conn: Connection, profile: str) -> int:
    """Run the LMS and answer commands until "stop" or EOF (the parent is gone)."""
    import logging

    tally: Counter[str] = Counter()

    class Tally(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            tally[f"{record.levelname} {record.name}"] += 1

    logging.disable(logging.INFO)  # as in the parent; warnings are counted, not printed
    logging.getLogger().addHandler(Tally(logging.WARNING))
    try:
        lms = LocalLms(profile)
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return 1
    lms.log_tally = tally
    try:
        conn.send(("ready", lms.info()))
        while True:
            try:
                name, args, kwargs = conn.recv()
            except (EOFError, OSError):
                return 0  # the parent is gone
            if name == "stop":
                conn.send(("ok", None))
                return 0
            try:
                if name not in COMMANDS:
                    raise ValueError(f"unknown command {name!r}")
                result = getattr(lms, name)(*args, **kwargs)
                if name == "add_members":  # builtins only over the pipe
                    result = [m.sub for m in result]
                answer = ("ok", result)
            except Exception as err:
                answer = ("err", f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
            conn.send(answer)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the parent went away while we answered
    finally:
        lms.close()
        conn.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="the test LMS for bench/sync.py (a child)")
    parser.add_argument("--fd", type=int, required=True, help="this end of the socketpair")
    parser.add_argument("--profile", default="moodle", choices=("moodle", "canvas"))
    args = parser.parse_args(argv)
    return serve(Connection(args.fd), args.profile)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    sys.exit(main())
