"""Launch benchmark: full OIDC login + launch, warm, our tool against pylti1p3's README example.

    .venv/bin/python bench/launch.py [--launches N] [--concurrency C] [--warmup W]

One launch is what a browser does when a user opens the tool from a Moodle course page:
login initiation POST to the tool -> the tool's redirect to the platform's auth endpoint (GET)
-> the platform's auto-post form -> launch POST to the tool -> (ours) follow the 303 to the
landing page. Every step is real HTTP on loopback, driven by lti_platform.LaunchDriver.

Two figures per launch: the whole flow, and the tool's share (login + launch + landing page
requests, timed at the client; the platform's auth request left out). Both tools face their own
Moodle-shaped lti_platform.Platform whose key set (JWKS) answers after 20 ms; the platform's
per-endpoint request counts tell how often each tool fetched it during the measured launches.

Exit status: 1 if a launch fails or anything else goes wrong; missing a target is reported
("TARGET MISSED") but is not an error.
"""

from __future__ import annotations

import argparse
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
for extra in (REPO / "tests", BENCH_DIR):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from lti_platform import (  # noqa: E402
    LaunchDriver,
    LaunchPlan,
    LoopbackServer,
    Platform,
    public_key_pem,
    rsa_private_key_pem,
)
from naive_pylti1p3_tool import create_naive_app  # noqa: E402
from tool_server import start_tool  # noqa: E402

KEY_SET_DELAY = 0.020
RATIO_TARGET = 5.0
# Requests the browser makes to the platform itself; everything else counted is the tool calling.
BROWSER_ENDPOINTS = frozenset({"auth", "course"})


# -- one launch ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """Seconds spent in one launch: the whole flow, the tool's requests, the platform's auth."""

    total: float
    tool: float
    platform: float


class LaunchFailed(RuntimeError):
    """A launch did not end on the expected page."""


Check = Callable[[LaunchPlan, requests.Response], None]


def one_launch(driver: LaunchDriver, plan: LaunchPlan, check: Check) -> Sample:
    """Run login -> platform auth -> launch -> landing page; time each part."""
    # A fresh browser profile per launch (keep-alive connections stay): pylti1p3's Flask
    # session cookie keeps every launch's data and would outgrow a browser's 4 KB cookie limit.
    driver.session.cookies.clear()
    t0 = time.perf_counter()
    step = driver.start_login(plan)
    t1 = time.perf_counter()
    id_token, state = step.authorize()
    t2 = time.perf_counter()
    assert step.launch_url is not None
    response = driver.post_launch(step.launch_url, id_token, state, follow_redirects=False)
    response = driver.follow(response)
    t3 = time.perf_counter()
    check(plan, response)
    return Sample(total=t3 - t0, tool=(t1 - t0) + (t3 - t2), platform=t2 - t1)


def check_ours(base_url: str) -> Check:
    def check(plan: LaunchPlan, response: requests.Response) -> None:
        if (response.status_code != 200 or not response.url.startswith(base_url + "/?ls=")
                or 'data-role="learner"' not in response.text or plan.user.name not in response.text):
            raise LaunchFailed(f"our tool answered {response.status_code} at {response.url}: "
                               f"{response.text[:300]!r}")
    return check


def check_naive(plan: LaunchPlan, response: requests.Response) -> None:
    if response.status_code != 200 or f"Hello, {plan.user.name}" not in response.text:
        raise LaunchFailed(f"the naive tool answered {response.status_code} at {response.url}: "
                           f"{response.text[:300]!r}")


# -- runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    """N launches of one tool at one concurrency."""

    samples: list[Sample]
    wall: float
    counts: dict[str, int]
    concurrency: int

    @property
    def launches_per_second(self) -> float:
        return len(self.samples) / self.wall

    @property
    def tool_launches_per_second(self) -> float:
        # What the tool alone could do if the platform's auth step took no time.
        busy = sum(s.tool for s in self.samples) / self.concurrency
        return len(self.samples) / busy

    @property
    def key_set_fetches(self) -> int:
        return self.counts.get("jwks", 0)

    @property
    def tool_to_platform_calls(self) -> int:
        return sum(n for name, n in self.counts.items() if name not in BROWSER_ENDPOINTS)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


class Subject:
    """One tool and its platform, launched by `concurrency` browsers (one per thread)."""

    def __init__(self, platform: Platform, check: Check, concurrency: int) -> None:
        self.platform = platform
        self.check = check
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
        return one_launch(driver, plan, self.check)

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


def run_interleaved(subjects: dict[str, Subject], n: int, block: int) -> dict[str, Run]:
    """n launches per subject, in alternating blocks so background load hits all alike."""
    plans = {name: [s.platform.plan("student") for _ in range(n)] for name, s in subjects.items()}
    for subject in subjects.values():
        subject.platform.reset_counts()
    samples: dict[str, list[Sample]] = {name: [] for name in subjects}
    walls = dict.fromkeys(subjects, 0.0)
    order = list(subjects)
    for start in range(0, n, block):
        for name in order:
            got, wall = subjects[name].block(plans[name][start:start + block])
            samples[name].extend(got)
            walls[name] += wall
        order.reverse()
    return {
        name: Run(samples=samples[name], wall=walls[name], counts=dict(s.platform.counts),
                  concurrency=s.concurrency)
        for name, s in subjects.items()
    }


def warm_up(subject: Subject, n: int) -> None:
    if n:
        subject.block([subject.platform.plan("student") for _ in range(n)])


def http_floor(samples: int = 300) -> float:
    """p50 seconds of one request to an empty WSGI app through the same client stack."""

    def empty(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with LoopbackServer(empty) as server, LaunchDriver(framed=False) as driver:
        url = server.base_url + "/"
        times = []
        for _ in range(samples):
            t = time.perf_counter()
            driver.send("GET", url)
            times.append(time.perf_counter() - t)
    return statistics.median(times[samples // 10:])


# -- the two tools ---------------------------------------------------------------------------


def our_tool(stack: ExitStack) -> tuple[Platform, Check]:
    """Our tool, served and registered with its own platform; torn down by `stack`."""
    data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tool-"))
    tool = start_tool(data_dir)
    stack.callback(tool.stop)
    platform = stack.enter_context(Platform("moodle", key_set_delay=KEY_SET_DELAY))
    tool.register(platform)
    return platform, check_ours(tool.base_url)


def naive_tool(stack: ExitStack) -> tuple[Platform, Check]:
    """The README example, served and registered with its own platform; torn down by `stack`."""
    platform = stack.enter_context(Platform("moodle", key_set_delay=KEY_SET_DELAY))
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
    server = stack.enter_context(LoopbackServer(app))
    platform.set_tool(server.base_url + "/login", server.base_url + "/launch",
                      server.base_url + "/jwks")
    return platform, check_naive


# -- output ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def row(label: str, run: Run) -> str:
    whole = [s.total for s in run.samples]
    tool = [s.tool for s in run.samples]
    return (f"  {label:<24} {run.launches_per_second:10.1f} {ms(percentile(whole, 50))} "
            f"{ms(percentile(whole, 99))}  | {run.tool_launches_per_second:10.1f} "
            f"{ms(percentile(tool, 50))} {ms(percentile(tool, 99))}  | "
            f"{run.key_set_fetches:8d} {run.tool_to_platform_calls - run.key_set_fetches:8d}")


def table(title: str, ours: Run, naive: Run) -> list[str]:
    whole = ours.launches_per_second / naive.launches_per_second
    tool = ours.tool_launches_per_second / naive.tool_launches_per_second
    return [
        title,
        f"  {'':<24} {' whole flow '.center(26, '-')}  | {' tool share '.center(26, '-')}  | "
        f"{' tool->platform '.center(17, '-')}",
        f"  {'':<24} {'launches/s':>10} {'p50 ms':>7} {'p99 ms':>7}  | "
        f"{'launches/s':>10} {'p50 ms':>7} {'p99 ms':>7}  | {'key sets':>8} {'other':>8}",
        row("ours (lti_tool)", ours),
        row("naive (pylti1p3 README)", naive),
        f"  {'ratio ours/naive':<24} {whole:9.2f}x {'':15}  | {tool:9.2f}x",
    ]


def verdict(ok: bool) -> str:
    return "TARGET MET" if ok else "TARGET MISSED"


def header(args: argparse.Namespace) -> list[str]:
    uname = pyplatform.uname()
    return [
        "LTI 1.3 launch benchmark (bench/launch.py): full OIDC login + launch, warm",
        "  flow     : login POST (tool) -> auth GET (platform, signs the id_token) -> launch POST"
        " (tool) -> landing page (tool; ours redirects 303 to it, naive renders it in the launch)",
        f"  platform : a Moodle-shaped lti_platform.Platform per tool; its key set (JWKS) answers"
        f" after {KEY_SET_DELAY * 1000:.0f} ms",
        "  ours     : lti_tool via tests/tool_server.start_tool (SQLite in a temp dir, key-set cache)",
        "  naive    : bench/naive_pylti1p3_tool.py, pylti1p3's README Flask example (ToolConfDict,"
        " Flask cookie session, no key-set cache)",
        "  browser  : lti_platform.LaunchDriver(framed=False), fresh cookies per launch,"
        " keep-alive connections",
        f"  machine  : {uname.system} {uname.release} {uname.machine}, os.cpu_count()="
        f"{os.cpu_count()}, Python {pyplatform.python_version()}; tools, platforms and"
        " driver share one process (one GIL), werkzeug's threaded dev server",
        f"  run      : per tool {args.warmup} warm-up launches, then {args.launches} measured"
        f" launches sequentially" + (f", then {args.launches} with {args.concurrency} browsers"
                                     " at once" if args.concurrency > 1 else "")
        + f"; the tools take turns every {args.block} launches (background load hits both)",
        "  timing   : time.perf_counter around each step at the client; 'tool share' = login +"
        " launch + landing-page requests; its launches/s = launches / time spent in them",
        f"  targets  : (1) a warm launch of ours makes 0 calls to the platform (key set, token);"
        f" (2) ours does >= {RATIO_TARGET:.0f}x the naive launches/s (whole flow, sequential)",
    ]


def measure(stack: ExitStack, platforms: dict[str, tuple[Platform, Check]], n: int,
            concurrency: int, warmup: int, block: int) -> dict[str, Run]:
    subjects = {}
    for name, (platform, check) in platforms.items():
        subjects[name] = Subject(platform, check, concurrency)
        stack.callback(subjects[name].close)
    for subject in subjects.values():
        warm_up(subject, warmup)
    return run_interleaved(subjects, n, max(block, concurrency))


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=200, help="measured launches per tool")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="also run the launches with this many browsers at once (>1)")
    parser.add_argument("--warmup", type=int, default=10, help="launches before measuring (>=1)")
    parser.add_argument("--block", type=int, default=10,
                        help="launches per tool before switching to the other (interleaving)")
    args = parser.parse_args(argv)
    if min(args.launches, args.concurrency, args.warmup, args.block) < 1:
        parser.error("--launches, --concurrency, --warmup and --block must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The tool logs one INFO line per launch (and alembic a few at start): keep the output
    # to the figures. Warnings and errors still show.
    logging.disable(logging.INFO)
    started = time.perf_counter()
    for line in header(args):
        print(line)
    print(flush=True)

    with ExitStack() as stack:
        platforms = {"ours": our_tool(stack), "naive": naive_tool(stack)}
        sequential = measure(stack, platforms, args.launches, 1, args.warmup, args.block)
        concurrent = (measure(stack, platforms, args.launches, args.concurrency, args.concurrency,
                              args.block)
                      if args.concurrency > 1 else {})
        floor = http_floor()

    ours, naive = sequential["ours"], sequential["naive"]
    for line in table(f"{args.launches} launches, sequential (1 browser)", ours, naive):
        print(line)
    if concurrent:
        print()
        for line in table(f"{args.launches} launches, {args.concurrency} browsers at once",
                          concurrent["ours"], concurrent["naive"]):
            print(line)
    print()
    print(f"  platform requests during the measured launches: ours {ours.counts}, "
          f"naive {naive.counts}")
    naive_whole = percentile([s.total for s in naive.samples], 50)
    auth = percentile([s.platform for s in ours.samples], 50)
    print(f"  context: an empty request through this client and server takes {ms(floor).strip()}"
          f" ms (p50) and the platform's auth step {ms(auth).strip()} ms (p50), so a tool whose"
          f" own code took 0 ms would reach about {naive_whole / (auth + 3 * floor):.1f}x the"
          f" naive p50 with 3 requests per launch, {naive_whole / (auth + 2 * floor):.1f}x with 2.")
    print()

    calls = sum(run.tool_to_platform_calls for run in (ours, *([concurrent["ours"]]
                                                               if concurrent else [])))
    ratio = ours.launches_per_second / naive.launches_per_second
    print(f"  (1) calls from our tool to the platform during warm launches: {calls} "
          f"(key-set fetches {ours.key_set_fetches})  -> {verdict(calls == 0)}")
    print(f"  (2) ours/naive launches per second, whole flow: {ratio:.2f}x (target >= "
          f"{RATIO_TARGET:.0f}x)  -> {verdict(ratio >= RATIO_TARGET)}")
    print(f"  done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # an error, not a missed target: say what and exit non-zero
        traceback.print_exc()
        print("ERROR: the benchmark did not complete", file=sys.stderr)
        sys.exit(1)
