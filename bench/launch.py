"""Launch benchmark: full OIDC login + launch, warm, our tool against pylti1p3's README example.

    .venv/bin/python bench/launch.py [--mode wsgi|http|both] [--launches N] [--concurrency C]
                                     [--nrps] [--warmup W] [--block B]
                                     [--placement none|portfolio|teachhub]

One launch is what a browser does when a user opens the tool from a Moodle course page:
login initiation POST to the tool -> the tool's redirect to the platform's auth endpoint (GET)
-> the platform's auto-post form -> launch POST to the tool -> (ours) follow the 303 to the
landing page. Each tool faces its own Moodle-shaped lti_platform.Platform, served on loopback,
whose key set (JWKS) answers after 20 ms. Every request reaching a platform that the browser
did not make is the tool calling it (key-set fetches, tokens, services): those are counted and
listed.

--mode wsgi (the default, and the headline figure): the browser is the tool's own Flask test
client (cookies kept like a first-party browser), and the platform's auth step is done
in-process (the tool's redirect is parsed and checked as the auth endpoint does, and the
id_token is `platform.sign(platform.claims_for(plan, nonce))`). Only the tool's requests are
timed: its own work through its WSGI app, without HTTP, client or platform costs.

--mode http: every step is real HTTP on loopback, driven by lti_platform.LaunchDriver. Three
figures per launch: the whole flow; the tool's share (its login, launch and landing-page
requests timed at the client, the platform's auth request left out); and the time spent inside
the tool's WSGI app for those requests.

--mode both: wsgi, then http, in one run.

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
from urllib.parse import parse_qsl, urljoin, urlsplit

from flask import Blueprint, Flask, Response, request

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
for extra in (REPO / "tests", BENCH_DIR):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from common import LogTally
from lti_platform import (
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
from naive_pylti1p3_tool import create_naive_app
from tool_server import start_tool

KEY_SET_DELAY = 0.020
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
RATIO_TARGET = 5.0
# http mode, the tool's share (login, launch and the redirects to the landed page, at the
# client; the platform's auth step and its signing left out): three requests are the floor.
TOOL_SHARE_TARGET = 3.0
# --placement: the launch's custom parameters, and the page ours must land on.
PLACEMENTS = {
    "none": ({}, "/"),
    "portfolio": ({"placement": "portfolio"}, "/"),
    "teachhub": ({"placement": "teachhub"}, "/teachhub/"),
}
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
                            status.split(maxsplit=1)[0])] += 1
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
    # Login + launch POST only, at the client: what the issue names "OIDC login + launch".
    # Ours answers the launch with a 303 and renders its landing page on the next request;
    # the naive tool renders its page inside the launch, so its figure includes a page.
    launch: float = 0.0
    redirects: int = 0  # redirects followed from the launch POST to the landed page
    # The tool's requests as the client waited on them: from sending each request to its
    # response's headers (requests' Response.elapsed), without the client's own work around
    # them (cookie rules, proxies from the environment, parsing the pages). http mode only.
    waiting: float = 0.0


class LaunchFailed(RuntimeError):
    """A launch did not end on the expected page."""


# (plan, status code, URL of the final page, its text): raises LaunchFailed if the page is wrong.
Check = Callable[[LaunchPlan, int, str, str], None]
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
    check(plan, response.status_code, response.url, response.text)
    waited = [step.response, *response.history, response]
    return Sample(total=t3 - t0, tool=(t1 - t0) + (t3 - t2), platform=t2 - t1,
                  server=clock.pop(launch_id), redirects=len(response.history),
                  waiting=sum(r.elapsed.total_seconds() for r in waited))


def check_ours(base_url: str, path: str = "/") -> Check:
    def check(plan: LaunchPlan, status: int, url: str, text: str) -> None:
        home = path == "/"
        if (status != 200 or not url.startswith(base_url + path + "?ls=")
                or (home and ('data-role="learner"' not in text or plan.user.name not in text))
                or (not home and "TeachHub" not in text)):
            raise LaunchFailed(f"our tool answered {status} at {url}: {text[:300]!r}")
    return check


def check_naive(plan: LaunchPlan, status: int, url: str, text: str) -> None:
    if status != 200 or f"Hello, {plan.user.name}" not in text:
        raise LaunchFailed(f"the naive tool answered {status} at {url}: {text[:300]!r}")


# -- wsgi mode: the tool's test client as the browser, the platform's auth step in-process ---


class AuthRefused(LaunchFailed):
    """The tool's auth request is one the platform's auth endpoint would refuse."""


def platform_auth(platform: Platform, plan: LaunchPlan, location: str) -> tuple[str, str, str]:
    """The platform's auth endpoint, in-process: (redirect_uri, id_token, state) for `location`.

    Checks what `Platform._view_auth` checks, picks the plan the same way (by lti_message_hint:
    it must be this launch's) and signs the same body: `platform.claims_for(plan, nonce)`.
    """
    url, _, query = location.partition("?")
    if url != platform.auth_login_url:
        raise AuthRefused(f"login redirected to {url!r}, not the auth endpoint")
    params = dict(parse_qsl(query, keep_blank_values=True))
    for name in ("scope", "response_type", "response_mode", "prompt", "client_id",
                 "redirect_uri", "login_hint", "nonce", "state"):
        if not params.get(name):
            raise AuthRefused(f"invalid_request: missing {name}")
    if ("openid" not in params["scope"].split() or params["response_type"] != "id_token"
            or params["response_mode"] != "form_post" or params["prompt"] != "none"):
        raise AuthRefused(f"invalid auth request: {params}")
    if platform.tool is None or params["redirect_uri"] not in platform.tool.allowed_redirects():
        raise AuthRefused(f"unregistered redirect_uri {params['redirect_uri']!r}")
    if params.get("lti_message_hint") != plan.lti_message_hint:
        raise AuthRefused("lti_message_hint does not name this launch")
    if params["login_hint"] != plan.login_hint:
        raise AuthRefused("login_hint is not the launching user")
    if params["client_id"] != plan.client_id:
        raise AuthRefused("client_id does not match the launch")
    id_token = platform.sign(platform.claims_for(plan, params["nonce"]))
    return params["redirect_uri"], id_token, params["state"]


def wsgi_launch(served: Served, plan: LaunchPlan) -> Sample:
    """Login -> (in-process) platform auth -> launch -> landing page through the test client."""
    # A new test client per launch: a fresh browser profile. It keeps the tool's cookies and
    # sends them back as a first-party browser does (no SameSite or third-party cookie rules).
    client = served.app.test_client()
    launch_id = str(next(_launch_ids))
    headers = {LAUNCH_HEADER: launch_id}
    login_url = served.platform.tool.login_url  # type: ignore[union-attr]
    t0 = time.perf_counter()
    response = client.post(login_url, data=plan.login_params, headers=headers)
    location = response.headers.get("Location", "")
    response.close()
    t1 = time.perf_counter()
    if response.status_code not in (302, 303) or not location:
        raise LaunchFailed(f"login answered {response.status_code}, not a redirect to the"
                           f" platform: {response.get_data(as_text=True)[:300]!r}")
    redirect_uri, id_token, state = platform_auth(served.platform, plan, location)
    t2 = time.perf_counter()
    url = redirect_uri
    response = client.post(url, data={"id_token": id_token, "state": state}, headers=headers)
    t_launched = time.perf_counter()
    redirects = 0
    for _ in range(5):  # follow redirects as a browser navigation does (ours: one 303)
        if response.status_code not in (301, 302, 303):
            break
        redirects += 1
        url = urljoin(url, response.headers["Location"])
        response.close()
        response = client.get(url, headers=headers)
    text = response.get_data(as_text=True)
    response.close()
    t3 = time.perf_counter()
    served.check(plan, response.status_code, url, text)
    tool = (t1 - t0) + (t3 - t2)
    return Sample(total=tool, tool=tool, platform=t2 - t1, server=served.clock.pop(launch_id),
                  launch=(t1 - t0) + (t_launched - t2), redirects=redirects)


# -- the two tools ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A tool on loopback, registered with its own platform."""

    platform: Platform
    check: Check
    clock: ServerClock
    calls: PlatformCalls
    app: Flask  # the tool's app, its wsgi_app wrapped in `clock`


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


def serve_ours(stack: ExitStack, nrps: bool, landing: str = "/") -> Served:
    """Our tool (tests/tool_server.start_tool), torn down by `stack`."""
    data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tool-"))
    tool = start_tool(data_dir)
    stack.callback(tool.stop)
    clock = ServerClock(tool.app.wsgi_app)
    tool.app.wsgi_app = clock  # type: ignore[method-assign]
    platform, calls = start_platform(stack, nrps)
    tool.register(platform)
    return Served(platform, check_ours(tool.base_url, landing), clock, calls, tool.app)


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
    return Served(platform, check_naive, clock, calls, app)


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
    def waiting_launches_per_second(self) -> float:
        return self._rate(s.waiting for s in self.samples)

    @property
    def login_launch_per_second(self) -> float:
        return self._rate(s.launch for s in self.samples)

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

    def __init__(self, served: Served, concurrency: int, mode: str = "http") -> None:
        self.served = served
        self.mode = mode
        self.platform = served.platform
        self.concurrency = concurrency
        self._local = threading.local()
        self._drivers: list[LaunchDriver] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency) if concurrency > 1 else None

    def _launch(self, plan: LaunchPlan) -> Sample:
        if self.mode == "wsgi":
            return wsgi_launch(self.served, plan)
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
            warmup: int, block: int, mode: str = "http",
            custom: dict[str, str] | None = None) -> dict[str, Run]:
    """Warm up, then n launches per tool in alternating blocks (background load hits all alike)."""
    subjects: dict[str, Subject] = {}
    for name, one in served.items():
        subjects[name] = Subject(one, concurrency, mode)
        stack.callback(subjects[name].close)
    for subject in subjects.values():
        subject.block([subject.platform.plan("student", custom=custom) for _ in range(warmup)])
    plans = {name: [s.platform.plan("student", custom=custom) for _ in range(n)]
             for name, s in subjects.items()}
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


def _empty_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def http_floor(samples: int = 300) -> float:
    """p50 seconds of one request to an empty WSGI app through the same client and server."""
    with LoopbackServer(_empty_app) as server, LaunchDriver(framed=False) as driver:
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            driver.send("GET", server.base_url + "/")
            times.append(time.perf_counter() - start)
    return statistics.median(times[samples // 10:])


def wsgi_floor(samples: int = 300) -> float:
    """p50 seconds of one request to an empty Flask app through its test client."""
    app = Flask("bench_empty")
    app.add_url_rule("/", "empty", lambda: "ok", methods=["GET", "POST"])
    client = app.test_client()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        client.get("/", headers={LAUNCH_HEADER: "0"}).close()
        times.append(time.perf_counter() - start)
    return statistics.median(times[samples // 10:])


# -- output ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def _group(rate: float, values: list[float]) -> str:
    return f"{rate:10.1f} {ms(percentile(values, 50))} {ms(percentile(values, 99))}"


def _to_platform(run: Run) -> str:
    return f"{run.key_set_fetches:8d} {run.tool_to_platform_calls - run.key_set_fetches:5d}"


def row(label: str, run: Run) -> str:
    s = run.samples
    return (f"  {label:<24} {_group(run.launches_per_second, [x.total for x in s])}  | "
            f"{_group(run.tool_launches_per_second, [x.tool for x in s])}  | "
            f"{_group(run.waiting_launches_per_second, [x.waiting for x in s])}  | "
            f"{_group(run.server_launches_per_second, [x.server for x in s])}  | "
            f"{_to_platform(run)}")


GROUP = f"{'launches/s':>10} {'p50 ms':>7} {'p99 ms':>7}"


def table(title: str, ours: Run, naive: Run) -> list[str]:
    ratios = [ours.launches_per_second / naive.launches_per_second,
              ours.tool_launches_per_second / naive.tool_launches_per_second,
              ours.waiting_launches_per_second / naive.waiting_launches_per_second,
              ours.server_launches_per_second / naive.server_launches_per_second]
    return [
        title,
        f"  {'':<24} {' whole flow '.center(26, '-')}  | {' tool share '.center(26, '-')}  | "
        f"{' waiting on the tool '.center(26, '-')}  | "
        f"{' inside tool app '.center(26, '-')}  | {' to platform '.center(14, '-')}",
        f"  {'':<24} {GROUP}  | {GROUP}  | {GROUP}  | {GROUP}  | {'key sets':>8} {'other':>5}",
        row("ours (lti_tool)", ours),
        row("naive (pylti1p3 README)", naive),
        (f"  {'ratio ours/naive':<24} "
         + "  | ".join(f"{r:9.2f}x{'':16}" for r in ratios)).rstrip(),
    ]


def wsgi_row(label: str, run: Run) -> str:
    s = run.samples
    return (f"  {label:<24} {_group(run.tool_launches_per_second, [x.tool for x in s])}  | "
            f"{_group(run.server_launches_per_second, [x.server for x in s])}  | "
            f"{_to_platform(run)}")


def wsgi_table(title: str, ours: Run, naive: Run) -> list[str]:
    ratios = [ours.tool_launches_per_second / naive.tool_launches_per_second,
              ours.server_launches_per_second / naive.server_launches_per_second]
    return [
        title,
        f"  {'':<24} {' tool requests (test client) '.center(26, '-')}  | "
        f"{' inside tool app '.center(26, '-')}  | {' to platform '.center(14, '-')}",
        f"  {'':<24} {GROUP}  | {GROUP}  | {'key sets':>8} {'other':>5}",
        wsgi_row("ours (lti_tool)", ours),
        wsgi_row("naive (pylti1p3 README)", naive),
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
    modes = {"wsgi": "wsgi (the tool's own work through its WSGI app)",
             "http": "http (the whole flow over real HTTP on loopback)",
             "both": "both: wsgi (the headline figure), then http"}[args.mode]
    return [
        "LTI 1.3 launch benchmark (bench/launch.py): full OIDC login + launch, warm",
        f"  mode     : {modes}",
        "  flow     : login POST (tool) -> auth (platform signs the id_token) -> launch POST"
        " (tool) -> landing page (tool; ours redirects 303 to it, naive renders it at launch)",
        f"  platform : one Moodle-shaped lti_platform.Platform per tool, a real loopback server;"
        f" its key set (JWKS) answers after {KEY_SET_DELAY * 1000:.0f} ms; services: what"
        " lti_platform serves"
        + (", plus the bench's NRPS blueprint (--nrps)" if args.nrps else ""),
        f"  placement: custom placement={args.placement!r} (ours lands on"
        f" {PLACEMENTS[args.placement][1]!r})",
        "  ours     : lti_tool via tests/tool_server.start_tool (SQLite in a temp dir; key sets"
        " cached in memory + DB)",
        "  naive    : bench/naive_pylti1p3_tool.py = pylti1p3's README Flask example (ToolConfDict,"
        " Flask cookie session, no key-set cache)",
        f"  machine  : {uname.system} {uname.release} {uname.machine}, os.cpu_count()="
        f"{os.cpu_count()}, Python {pyplatform.python_version()}, load average {load};"
        " tools, platforms and driver share one process (one GIL), werkzeug's threaded server",
        f"  run      : per tool and mode {args.warmup} warm-up launches, then {args.launches}"
        f" measured launches one at a time{concurrent}; the tools take turns every {args.block}"
        " launches",
        "  targets  : (1) a warm launch of ours makes 0 calls to the platform (key set, token,"
        " services, in the background too);"
        f" (2) ours does >= {RATIO_TARGET:.0f}x the naive launches/s, one at a time (wsgi: the"
        " tool's requests through its WSGI app, the headline; http: the whole flow)",
    ]


def wsgi_header() -> list[str]:
    return [
        "== mode wsgi: the tool's own work through its WSGI app (headline) ==",
        "  browser  : the tool's Flask test client (app.test_client(); a new one per launch ="
        " fresh cookies, sent back like a first-party browser)",
        "  auth     : in-process, not timed: the tool's redirect is checked as the platform's"
        " auth endpoint does (state, nonce, redirect_uri, login_hint, lti_message_hint naming"
        " the launch) and id_token = platform.sign(platform.claims_for(plan, nonce)) is POSTed"
        " to the redirect_uri",
        "  checked  : every launch must end on a 200 page showing the user's name (ours: the"
        " learner landing page after the 303; naive: its Hello page)",
        "  timing   : time.perf_counter around the tool's requests (login + launch + landing page)"
        " at the test client; inside tool app = in the tool's WSGI app. launches/s ="
        " launches x concurrency / time spent in that part",
    ]


def http_header(args: argparse.Namespace) -> list[str]:
    return [
        "== mode http: the whole flow over real HTTP on loopback ==",
        "  browser  : lti_platform.LaunchDriver(framed=False), fresh cookies per launch,"
        " keep-alive connections; the platform's auth step is a real GET",
        "  timing   : time.perf_counter. whole flow and tool share (login + launch + landing"
        " page, no platform auth) at the client; waiting on the tool = the same requests from"
        " sending each to its response (requests' Response.elapsed), without the client's own"
        " work around them; inside tool app = in the tool's WSGI app."
        " Their launches/s = launches x concurrency / time spent in that part",
    ]


@dataclass
class ModeResult:
    """The runs of one mode: one at a time, with concurrency (maybe none), and the floor."""

    mode: str
    runs: dict[str, Run]
    concurrent: dict[str, Run]
    floor: float

    def calls_and_fetches(self) -> tuple[int, int]:
        """Calls (key-set fetches among them) from our tool to its platform, measured runs."""
        our_runs = [self.runs["ours"], *([self.concurrent["ours"]] if self.concurrent else [])]
        return (sum(run.tool_to_platform_calls for run in our_runs),
                sum(run.key_set_fetches for run in our_runs))

    @property
    def ratio(self) -> float:
        ours, naive = self.runs["ours"], self.runs["naive"]
        if self.mode == "wsgi":
            return ours.tool_launches_per_second / naive.tool_launches_per_second
        return ours.launches_per_second / naive.launches_per_second

    def targets(self) -> tuple[bool, bool]:
        return self.calls_and_fetches()[0] == 0, self.ratio >= RATIO_TARGET


def report(result: ModeResult, args: argparse.Namespace) -> list[str]:
    """The section of the output for one mode."""
    wsgi = result.mode == "wsgi"
    ours, naive = result.runs["ours"], result.runs["naive"]
    make_table = wsgi_table if wsgi else table
    lines = wsgi_header() if wsgi else http_header(args)
    lines += ["", *make_table(f"{args.launches} launches, one at a time", ours, naive)]
    if result.concurrent:
        lines += ["", *make_table(f"{args.launches} launches, {args.concurrency} browsers at once",
                                  result.concurrent["ours"], result.concurrent["naive"])]
    lines += ["", "  requests to the platform not made by the browser (the tool calling it"
              + ("; here the browser makes none):" if wsgi else "):")]
    for name, run in (("ours", ours), ("naive", naive)):
        lines.append(f"    {name:<5} warm-up: {run.describe_calls(warmup=True)}")
        lines.append(f"    {name:<5} measured: {run.describe_calls()}")
    auth_p50 = percentile([s.platform for s in ours.samples], 50)
    if wsgi:
        lines.append(f"  context: an empty Flask request through a test client takes"
                     f" {ms(result.floor).strip()} ms (p50); the in-process auth step (signing,"
                     f" not timed) {ms(auth_p50).strip()} ms (p50)")
    else:
        naive_p50 = percentile([s.total for s in naive.samples], 50)
        floor = result.floor
        lines.append(
            f"  context: an empty request through this client and server takes"
            f" {ms(floor).strip()} ms (p50) and the platform's auth step {ms(auth_p50).strip()}"
            f" ms (p50): a tool whose own code took 0 ms would reach about"
            f" {naive_p50 / (auth_p50 + 3 * floor):.1f}x the naive p50 with 3 requests per"
            f" launch, {naive_p50 / (auth_p50 + 2 * floor):.1f}x with 2")
    calls, fetches = result.calls_and_fetches()
    zero_calls, fast = result.targets()
    what = ("the tool's requests through its WSGI app" if wsgi else "whole flow")
    hops = Counter(s.redirects for s in ours.samples)
    lines += [
        "  ours: redirects from the launch POST to the landed page: "
        + ", ".join(f"{n} in {count} launches" for n, count in sorted(hops.items())),
        "",
        f"  [{result.mode}] (1) calls from our tool to the platform during the measured warm"
        f" launches: {calls} (key-set fetches {fetches})  -> {verdict(zero_calls)}",
        f"  [{result.mode}] (2) ours/naive launches per second, {what}, one at a time:"
        f" {result.ratio:.2f}x (target >= {RATIO_TARGET:.0f}x)  -> {verdict(fast)}",
    ]
    if not wsgi:
        share = ours.tool_launches_per_second / naive.tool_launches_per_second
        lines.append(
            f"  [{result.mode}] (2c) ours/naive launches per second, tool share (login, launch,"
            f" redirects to the landed page; no platform auth or signing), one at a time:"
            f" {share:.2f}x (target >= {TOOL_SHARE_TARGET:.0f}x)"
            f"  -> {verdict(share >= TOOL_SHARE_TARGET)}")
        waiting = ours.waiting_launches_per_second / naive.waiting_launches_per_second
        lines.append(
            f"  [{result.mode}] (2d) the same, counting only the time spent waiting on the tool"
            f" (each request sent -> its response; the client's own work left out), one at a"
            f" time: {waiting:.2f}x (target >= {TOOL_SHARE_TARGET:.0f}x)"
            f"  -> {verdict(waiting >= TOOL_SHARE_TARGET)}")
    if wsgi:
        ours_ll, naive_ll = ours.login_launch_per_second, naive.login_launch_per_second
        lines.append(
            f"  [{result.mode}] (2b) login + launch POST only (no landing page for ours; the"
            f" naive renders its page inside the launch): ours {ours_ll:.1f}/s p50"
            f" {ms(percentile([x.launch for x in ours.samples], 50)).strip()} ms, naive"
            f" {naive_ll:.1f}/s p50 {ms(percentile([x.launch for x in naive.samples], 50)).strip()}"
            f" ms: {ours_ll / naive_ll:.2f}x")
    return lines


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--mode", choices=("wsgi", "http", "both"), default="wsgi",
                        help="wsgi: the tool's requests through its WSGI app (test client,"
                             " platform auth in-process; the headline); http: the whole flow"
                             " over real HTTP; both: wsgi then http (default: wsgi)")
    parser.add_argument("--launches", type=int, default=200, help="measured launches per tool")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="also run the launches with this many browsers at once (>1)")
    parser.add_argument("--warmup", type=int, default=10, help="launches before measuring")
    parser.add_argument("--block", type=int, default=10,
                        help="launches per tool before the other tool's turn")
    parser.add_argument("--placement", choices=sorted(PLACEMENTS), default="none",
                        help="the launch's custom `placement` (ours lands on its page: the"
                             " role's home, or TeachHub's; default: none)")
    parser.add_argument("--nrps", action="store_true",
                        help="the platforms also serve the course roster (NRPS) the launch names")
    args = parser.parse_args(argv)
    if min(args.launches, args.concurrency, args.warmup, args.block) < 1:
        parser.error("--launches, --concurrency, --warmup and --block must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    modes = ["wsgi", "http"] if args.mode == "both" else [args.mode]
    # The tool logs one INFO line per launch (alembic a few at start): keep the output to the
    # figures. Warnings and errors are counted and summed up at the end, not printed each time.
    logging.disable(logging.INFO)
    logged = LogTally()
    logging.getLogger().addHandler(logged)  # before create_app: its basicConfig adds no other
    started = time.perf_counter()
    print("\n".join(header(args)), end="\n\n", flush=True)

    results: list[ModeResult] = []
    with ExitStack() as stack:
        custom, landing = PLACEMENTS[args.placement]
        served = {"ours": serve_ours(stack, args.nrps, landing),
                  "naive": serve_naive(stack, args.nrps)}
        for mode in modes:
            runs = measure(stack, served, args.launches, 1, args.warmup, args.block, mode,
                           custom)
            concurrent = (measure(stack, served, args.launches, args.concurrency,
                                  args.concurrency, args.block, mode, custom)
                          if args.concurrency > 1 else {})
            floor = wsgi_floor() if mode == "wsgi" else http_floor()
            result = ModeResult(mode, runs, concurrent, floor)
            print("\n".join(report(result, args)), end="\n\n", flush=True)
            results.append(result)

    print(f"  warnings and errors logged: {logged.summary()}")
    if len(results) > 1:
        headline = results[0]
        zero_calls, fast = headline.targets()
        print(f"  headline (mode {headline.mode}): (1) {verdict(zero_calls)}, (2)"
              f" {headline.ratio:.2f}x -> {verdict(fast)}; mode http: (1)"
              f" {verdict(results[1].targets()[0])}, (2) {results[1].ratio:.2f}x ->"
              f" {verdict(results[1].targets()[1])}")
    print(f"  done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # an error, not a missed target: say what and exit non-zero
        traceback.print_exc()
        print("ERROR: the benchmark did not complete", file=sys.stderr)
        sys.exit(1)
