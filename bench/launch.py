"""Launch benchmark: full OIDC login + launch, warm, our tool against pylti1p3's README example.

    .venv/bin/python bench/launch.py [--launches N] [--concurrency C] [--nrps]
                                     [--warmup W] [--block B]

One launch is what a browser does when a user opens the tool from a Moodle course page:
login initiation POST to the tool -> the tool's redirect to the platform's auth endpoint (GET)
-> the platform's auto-post form -> launch POST to the tool -> (ours) follow the 303 to the
landing page. Every step is real HTTP on loopback, driven by lti_platform.LaunchDriver.

Three figures per launch: the whole flow; the tool's share (its login, launch and landing-page
requests timed at the client, the platform's auth request left out); and the time spent inside
the tool's WSGI app for those requests (the tool's own code, without HTTP and client costs).
Each tool faces its own Moodle-shaped lti_platform.Platform whose key set (JWKS) answers after
20 ms. Every request reaching a platform that the browser did not make is the tool calling
it (key-set fetches, tokens, services): those are counted and listed.

Exit status: 1 if a launch fails or anything else goes wrong; missing a target is reported
("TARGET MISSED") but is not an error.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import platform as pyplatform
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response, request

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
for extra in (REPO / "tests", BENCH_DIR):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from lti_platform import (  # noqa: E402
    ROLE_LEARNER,
    SCOPE_NRPS,
    LaunchDriver,
    LaunchPlan,
    LoopbackServer,
    Platform,
    make_user,
    public_key_pem,
    rsa_private_key_pem,
)
from naive_pylti1p3_tool import create_naive_app  # noqa: E402
from tool_server import start_tool  # noqa: E402

KEY_SET_DELAY = 0.020
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
RATIO_TARGET = 5.0
# The browser sends this on every request: a request to a platform without it is the tool's.
LAUNCH_HEADER = "X-Bench-Launch"
LAUNCH_ENVIRON = "HTTP_" + LAUNCH_HEADER.upper().replace("-", "_")


# -- measuring -------------------------------------------------------------------------------


class ServerClock:
    """WSGI middleware: seconds spent inside the app, summed per launch (by request header)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._spent: dict[str, float] = defaultdict(float)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start = time.perf_counter()
        try:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            launch = environ.get(LAUNCH_ENVIRON)
            if launch:
                with self._lock:
                    self._spent[launch] += time.perf_counter() - start

    def pop(self, launch: str) -> float:
        """The time spent for one launch (0.0 if none of its requests reached the app)."""
        with self._lock:
            return self._spent.pop(launch, 0.0)


class PlatformCalls:
    """WSGI middleware on a platform: the requests that did not come from the browser."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str, str]] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get(LAUNCH_ENVIRON):
            return self.app(environ, start_response)

        def note_status(status: str, headers: Any, *rest: Any) -> Any:
            with self._lock:
                self.calls[(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                            status.split()[0])] += 1
            return start_response(status, headers, *rest)

        return self.app(environ, note_status)

    def take(self) -> Counter[tuple[str, str, str]]:
        """The calls so far, and start counting again."""
        with self._lock:
            calls, self.calls = self.calls, Counter()
        return calls


@dataclass(frozen=True)
class Sample:
    """Seconds spent in one launch."""

    total: float  # the whole flow, at the client
    tool: float  # the tool's requests (login, launch, landing page), at the client
    platform: float  # the platform's auth request, at the client
    server: float  # inside the tool's WSGI app, for the tool's requests


class LaunchFailed(RuntimeError):
    """A launch did not end on the expected page."""


Check = Callable[[LaunchPlan, requests.Response], None]
_launch_ids = itertools.count(1)


def one_launch(driver: LaunchDriver, plan: LaunchPlan, check: Check,
               clock: ServerClock) -> Sample:
    """Run login -> platform auth -> launch -> landing page; time each part."""
    # A fresh browser profile per launch (keep-alive connections stay): many users, not one
    # user launching N times. pylti1p3's Flask session cookie keeps every launch's data (it
    # grows by about 0.2 KB a launch, past a browser's 4 KB limit after about a dozen).
    driver.session.cookies.clear()
    launch_id = str(next(_launch_ids))
    driver.session.headers[LAUNCH_HEADER] = launch_id
    t0 = time.perf_counter()
    step = driver.start_login(plan)
    t1 = time.perf_counter()
    id_token, state = step.authorize()
    t2 = time.perf_counter()
    if step.launch_url is None:
        raise LaunchFailed("the platform's auth page has no launch URL")
    response = driver.post_launch(step.launch_url, id_token, state, follow_redirects=False)
    response = driver.follow(response)
    t3 = time.perf_counter()
    check(plan, response)
    return Sample(total=t3 - t0, tool=(t1 - t0) + (t3 - t2), platform=t2 - t1,
                  server=clock.pop(launch_id))


def check_ours(base_url: str) -> Check:
    def check(plan: LaunchPlan, response: requests.Response) -> None:
        if (response.status_code != 200 or not response.url.startswith(base_url + "/?ls=")
                or 'data-role="learner"' not in response.text
                or plan.user.name not in response.text):
            raise LaunchFailed(f"our tool answered {response.status_code} at {response.url}: "
                               f"{response.text[:300]!r}")
    return check


def check_naive(plan: LaunchPlan, response: requests.Response) -> None:
    if response.status_code != 200 or f"Hello, {plan.user.name}" not in response.text:
        raise LaunchFailed(f"the naive tool answered {response.status_code} at {response.url}: "
                           f"{response.text[:300]!r}")


# -- the two tools ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A tool on loopback, registered with its own platform."""

    platform: Platform
    check: Check
    clock: ServerClock
    calls: PlatformCalls


def nrps_blueprint(holder: dict[str, Platform]) -> Blueprint:
    """Moodle's roster service (NRPS) for the course of every plan: the launching user only."""
    bp = Blueprint("bench_nrps", __name__)

    @bp.get("/mod/lti/services.php/CourseSection/<int:course>/bindings/<type_id>/memberships")
    def memberships(course: int, type_id: str) -> Response:
        platform = holder["platform"]
        platform.check_bearer(request, SCOPE_NRPS)
        user = make_user(platform.profile, "student")
        body = {
            "id": request.base_url,
            "context": {"id": str(course), "label": "BENCH", "title": "Benchmark course"},
            "members": [{"user_id": user.id, "roles": [ROLE_LEARNER], "status": "Active",
                         "name": user.name, "given_name": user.given_name,
                         "family_name": user.family_name}],
        }
        return Response(json.dumps(body), mimetype=MEMBERSHIP_CONTAINER)

    return bp


def start_platform(stack: ExitStack, nrps: bool) -> tuple[Platform, PlatformCalls]:
    """A Moodle-shaped platform whose key set answers after KEY_SET_DELAY; counts tool calls."""
    holder: dict[str, Platform] = {}
    platform = Platform("moodle", key_set_delay=KEY_SET_DELAY,
                        blueprints=[nrps_blueprint(holder)] if nrps else [])
    holder["platform"] = platform
    calls = PlatformCalls(platform.app.wsgi_app)
    platform.app.wsgi_app = calls  # type: ignore[method-assign]
    return stack.enter_context(platform), calls


def serve_ours(stack: ExitStack, nrps: bool) -> Served:
    """Our tool (tests/tool_server.start_tool), torn down by `stack`."""
    data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tool-"))
    tool = start_tool(data_dir)
    stack.callback(tool.stop)
    clock = ServerClock(tool.app.wsgi_app)
    tool.app.wsgi_app = clock  # type: ignore[method-assign]
    platform, calls = start_platform(stack, nrps)
    tool.register(platform)
    return Served(platform, check_ours(tool.base_url), clock, calls)


def serve_naive(stack: ExitStack, nrps: bool) -> Served:
    """The README example (bench/naive_pylti1p3_tool.py), torn down by `stack`."""
    platform, calls = start_platform(stack, nrps)
    private_pem = rsa_private_key_pem("bench-naive-tool")
    app = create_naive_app(
        {
            "issuer": platform.issuer,
            "client_id": platform.client_id,
            "auth_login_url": platform.auth_login_url,
            "auth_token_url": platform.auth_token_url,
            "key_set_url": platform.key_set_url,
            "deployment_ids": [platform.deployment_id],
        },
        private_pem,
        public_key_pem(private_pem),
    )
    clock = ServerClock(app.wsgi_app)
    app.wsgi_app = clock  # type: ignore[method-assign]
    server = stack.enter_context(LoopbackServer(app))
    platform.set_tool(server.base_url + "/login", server.base_url + "/launch",
                      server.base_url + "/jwks")
    return Served(platform, check_naive, clock, calls)


# -- runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    """N launches of one tool at one concurrency."""

    samples: list[Sample]
    wall: float
    calls: Counter[tuple[str, str, str]]  # (method, path, status) of the tool's requests
    key_set_path: str
    concurrency: int
    warmup_calls: Counter[tuple[str, str, str]]

    @property
    def launches_per_second(self) -> float:
        return len(self.samples) / self.wall

    def _rate(self, seconds: Iterable[float]) -> float:
        # Launches per second if only this part took time (C launches in flight at once).
        return len(self.samples) * self.concurrency / sum(seconds)

    @property
    def tool_launches_per_second(self) -> float:
        return self._rate(s.tool for s in self.samples)

    @property
    def server_launches_per_second(self) -> float:
        return self._rate(s.server for s in self.samples)

    @property
    def key_set_fetches(self) -> int:
        return sum(n for (_, path, _), n in self.calls.items() if path == self.key_set_path)

    @property
    def tool_to_platform_calls(self) -> int:
        return sum(self.calls.values())

    def describe_calls(self, warmup: bool = False) -> str:
        calls = self.warmup_calls if warmup else self.calls
        if not calls:
            return "none"
        return ", ".join(f"{method} {path} -> {status} x{n}"
                         for (method, path, status), n in calls.most_common())


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


class Subject:
    """One served tool, launched by `concurrency` browsers (one per thread)."""

    def __init__(self, served: Served, concurrency: int) -> None:
        self.served = served
        self.platform = served.platform
        self.concurrency = concurrency
        self._local = threading.local()
        self._drivers: list[LaunchDriver] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency) if concurrency > 1 else None

    def _launch(self, plan: LaunchPlan) -> Sample:
        driver = getattr(self._local, "driver", None)
        if driver is None:
            driver = self._local.driver = LaunchDriver(framed=False)
            with self._lock:
                self._drivers.append(driver)
        return one_launch(driver, plan, self.served.check, self.served.clock)

    def block(self, plans: list[LaunchPlan]) -> tuple[list[Sample], float]:
        """Launch every plan; return the samples and the wall time."""
        start = time.perf_counter()
        if self._pool is None:
            samples = [self._launch(plan) for plan in plans]
        else:
            samples = list(self._pool.map(self._launch, plans))
        return samples, time.perf_counter() - start

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for driver in self._drivers:
            driver.close()


def measure(stack: ExitStack, served: dict[str, Served], n: int, concurrency: int,
            warmup: int, block: int) -> dict[str, Run]:
    """Warm up, then n launches per tool in alternating blocks (background load hits all alike)."""
    subjects: dict[str, Subject] = {}
    for name, one in served.items():
        subjects[name] = Subject(one, concurrency)
        stack.callback(subjects[name].close)
    for subject in subjects.values():
        subject.block([subject.platform.plan("student") for _ in range(warmup)])
    plans = {name: [s.platform.plan("student") for _ in range(n)] for name, s in subjects.items()}
    time.sleep(0.25)  # let calls the warm-up started in the background arrive
    warmup_calls = {name: s.served.calls.take() for name, s in subjects.items()}
    samples: dict[str, list[Sample]] = {name: [] for name in subjects}
    walls = dict.fromkeys(subjects, 0.0)
    order = list(subjects)
    block = max(block, concurrency)
    for start in range(0, n, block):
        for name in order:
            got, wall = subjects[name].block(plans[name][start:start + block])
            samples[name].extend(got)
            walls[name] += wall
        order.reverse()
    time.sleep(0.25)  # let calls a launch started in the background arrive before counting
    return {
        name: Run(samples=samples[name], wall=walls[name], calls=s.served.calls.take(),
                  key_set_path=urlsplit(s.platform.key_set_url).path, concurrency=concurrency,
                  warmup_calls=warmup_calls[name])
        for name, s in subjects.items()
    }


def http_floor(samples: int = 300) -> float:
    """p50 seconds of one request to an empty WSGI app through the same client and server."""

    def empty(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with LoopbackServer(empty) as server, LaunchDriver(framed=False) as driver:
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            driver.send("GET", server.base_url + "/")
            times.append(time.perf_counter() - start)
    return statistics.median(times[samples // 10:])


# -- output ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def _group(rate: float, values: list[float]) -> str:
    return f"{rate:10.1f} {ms(percentile(values, 50))} {ms(percentile(values, 99))}"


def row(label: str, run: Run) -> str:
    s = run.samples
    return (f"  {label:<24} {_group(run.launches_per_second, [x.total for x in s])}  | "
            f"{_group(run.tool_launches_per_second, [x.tool for x in s])}  | "
            f"{_group(run.server_launches_per_second, [x.server for x in s])}  | "
            f"{run.key_set_fetches:8d} {run.tool_to_platform_calls - run.key_set_fetches:5d}")


def table(title: str, ours: Run, naive: Run) -> list[str]:
    ratios = [ours.launches_per_second / naive.launches_per_second,
              ours.tool_launches_per_second / naive.tool_launches_per_second,
              ours.server_launches_per_second / naive.server_launches_per_second]
    group = f"{'launches/s':>10} {'p50 ms':>7} {'p99 ms':>7}"
    return [
        title,
        f"  {'':<24} {' whole flow '.center(26, '-')}  | {' tool share '.center(26, '-')}  | "
        f"{' inside tool app '.center(26, '-')}  | {' to platform '.center(14, '-')}",
        f"  {'':<24} {group}  | {group}  | {group}  | {'key sets':>8} {'other':>5}",
        row("ours (lti_tool)", ours),
        row("naive (pylti1p3 README)", naive),
        (f"  {'ratio ours/naive':<24} "
         + "  | ".join(f"{r:9.2f}x{'':16}" for r in ratios)).rstrip(),
    ]


def verdict(ok: bool) -> str:
    return "TARGET MET" if ok else "TARGET MISSED"


def header(args: argparse.Namespace) -> list[str]:
    uname = pyplatform.uname()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    concurrent = (f", then {args.launches} with {args.concurrency} browsers at once"
                  if args.concurrency > 1 else "")
    return [
        "LTI 1.3 launch benchmark (bench/launch.py): full OIDC login + launch, warm",
        "  flow     : login POST (tool) -> auth GET (platform signs the id_token) -> launch POST"
        " (tool) -> landing page (tool; ours redirects 303 to it, naive renders it at launch)",
        f"  platform : one Moodle-shaped lti_platform.Platform per tool; its key set (JWKS)"
        f" answers after {KEY_SET_DELAY * 1000:.0f} ms; roster service (NRPS): "
        + ("served (--nrps)" if args.nrps else "none, as lti_platform has by default"),
        "  ours     : lti_tool via tests/tool_server.start_tool (SQLite in a temp dir; key sets"
        " cached in memory + DB)",
        "  naive    : bench/naive_pylti1p3_tool.py = pylti1p3's README Flask example (ToolConfDict,"
        " Flask cookie session, no key-set cache)",
        "  browser  : lti_platform.LaunchDriver(framed=False), fresh cookies per launch,"
        " keep-alive connections",
        f"  machine  : {uname.system} {uname.release} {uname.machine}, os.cpu_count()="
        f"{os.cpu_count()}, Python {pyplatform.python_version()}, load average {load};"
        " tools, platforms and driver share one process (one GIL), werkzeug's threaded server",
        f"  run      : per tool {args.warmup} warm-up launches, then {args.launches} measured"
        f" launches one at a time{concurrent}; the tools take turns every {args.block} launches",
        "  timing   : time.perf_counter. whole flow and tool share (login + launch + landing"
        " page, no platform auth) at the client; inside tool app = in the tool's WSGI app."
        " Their launches/s = launches x concurrency / time spent in that part",
        f"  targets  : (1) a warm launch of ours makes 0 calls to the platform (key set, token,"
        " services, in the background too);"
        f" (2) ours does >= {RATIO_TARGET:.0f}x the naive launches/s (whole flow, one at a time)",
    ]


class LogTally(logging.Handler):
    """Counts WARNING and above per logger, keeping the first message of each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name}"
        self.counts[key] += 1
        self.first.setdefault(key, record.getMessage().replace("\n", " ")[:160])

    def summary(self) -> str:
        if not self.counts:
            return "none"
        return "; ".join(f"{key} x{n} (first: {self.first[key]})"
                         for key, n in self.counts.most_common())


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=200, help="measured launches per tool")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="also run the launches with this many browsers at once (>1)")
    parser.add_argument("--warmup", type=int, default=10, help="launches before measuring")
    parser.add_argument("--block", type=int, default=10,
                        help="launches per tool before the other tool's turn")
    parser.add_argument("--nrps", action="store_true",
                        help="the platforms also serve the course roster (NRPS) the launch names")
    args = parser.parse_args(argv)
    if min(args.launches, args.concurrency, args.warmup, args.block) < 1:
        parser.error("--launches, --concurrency, --warmup and --block must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The tool logs one INFO line per launch (alembic a few at start): keep the output to the
    # figures. Warnings and errors are counted and summed up at the end, not printed each time.
    logging.disable(logging.INFO)
    logged = LogTally()
    logging.getLogger().addHandler(logged)  # before create_app: its basicConfig adds no other
    started = time.perf_counter()
    print("\n".join(header(args)), end="\n\n", flush=True)

    with ExitStack() as stack:
        served = {"ours": serve_ours(stack, args.nrps), "naive": serve_naive(stack, args.nrps)}
        runs = measure(stack, served, args.launches, 1, args.warmup, args.block)
        concurrent = (measure(stack, served, args.launches, args.concurrency, args.concurrency,
                              args.block) if args.concurrency > 1 else {})
        floor = http_floor()

    ours, naive = runs["ours"], runs["naive"]
    print("\n".join(table(f"{args.launches} launches, one at a time", ours, naive)))
    if concurrent:
        print()
        print("\n".join(table(f"{args.launches} launches, {args.concurrency} browsers at once",
                              concurrent["ours"], concurrent["naive"])))
    print()
    print("  requests to the platform not made by the browser (the tool calling it):")
    for name, run in (("ours", ours), ("naive", naive)):
        print(f"    {name:<5} warm-up: {run.describe_calls(warmup=True)}")
        print(f"    {name:<5} measured: {run.describe_calls()}")
    print(f"  warnings and errors logged: {logged.summary()}")
    naive_p50 = percentile([s.total for s in naive.samples], 50)
    auth_p50 = percentile([s.platform for s in ours.samples], 50)
    print(f"  context: an empty request through this client and server takes {ms(floor).strip()}"
          f" ms (p50) and the platform's auth step {ms(auth_p50).strip()} ms (p50): a tool whose"
          f" own code took 0 ms would reach about {naive_p50 / (auth_p50 + 3 * floor):.1f}x the"
          f" naive p50 with 3 requests per launch, {naive_p50 / (auth_p50 + 2 * floor):.1f}x"
          " with 2")
    print()

    our_runs = [ours, *([concurrent["ours"]] if concurrent else [])]
    calls = sum(run.tool_to_platform_calls for run in our_runs)
    fetches = sum(run.key_set_fetches for run in our_runs)
    ratio = ours.launches_per_second / naive.launches_per_second
    print(f"  (1) calls from our tool to the platform during the measured warm launches: {calls}"
          f" (key-set fetches {fetches})  -> {verdict(calls == 0)}")
    print(f"  (2) ours/naive launches per second, whole flow, one at a time: {ratio:.2f}x"
          f" (target >= {RATIO_TARGET:.0f}x)  -> {verdict(ratio >= RATIO_TARGET)}")
    print(f"  done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # an error, not a missed target: say what and exit non-zero
        traceback.print_exc()
        print("ERROR: the benchmark did not complete", file=sys.stderr)
        sys.exit(1)
