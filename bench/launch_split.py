"""Where a launch of ours spends its time, request by request (issue 15).

    .venv/bin/python bench/launch_split.py [--launches N] [--warmup W] [--profile] [--top K]

Our tool only, set up as bench/launch.py's wsgi mode does (tests/tool_server.start_tool, a
Moodle-shaped platform on loopback, the test client as the browser, the platform's auth step
in-process). For each of the tool's three requests (login POST, launch POST, the landing
page) it prints the time spent inside the tool's WSGI app, p50 and mean over N launches, and
their sum: the figures bench/README.md gives per request. With --profile, the same launches
run again under cProfile, one profile per request, and the K functions of the tool (and
Flask's request and response work) with the largest cumulative time are printed for each
(the profiler about doubles every time; read the shares, not the milliseconds).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import flask

BENCH_DIR = Path(__file__).resolve().parent
REPO = str(BENCH_DIR.parent) + "/"
SITE_PACKAGES = str(Path(flask.__file__).parents[1]) + "/"
for extra in (BENCH_DIR.parent / "tests", BENCH_DIR):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from launch import serve_ours, wsgi_launch

# What the profile lists: the tool's own code, its templates and Flask's request work.
PROFILED = r"lti_tool|templates|flask/app.py|flask/ctx.py"


def _request(environ: dict[str, Any]) -> str:
    return f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    times: dict[str, list[float]] = defaultdict(list)
    profiles: dict[str, cProfile.Profile] = defaultdict(cProfile.Profile)
    mode = {"timing": False, "profiling": False}
    with ExitStack() as stack:
        served = serve_ours(stack, nrps=False)
        inner = served.clock.app

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            name = _request(environ)
            profile = profiles[name] if mode["profiling"] else None
            start = time.perf_counter()
            if profile is not None:
                profile.enable()
            try:
                body = inner(environ, start_response)
                out = list(body)
                if hasattr(body, "close"):
                    body.close()
                return out
            finally:
                if profile is not None:
                    profile.disable()
                if mode["timing"]:
                    times[name].append(time.perf_counter() - start)

        served.clock.app = app
        for _ in range(args.warmup):
            wsgi_launch(served, served.platform.plan("student"))
        for flag in ("timing", "profiling") if args.profile else ("timing",):
            plans = [served.platform.plan("student") for _ in range(args.launches)]
            mode[flag] = True
            for plan in plans:
                wsgi_launch(served, plan)
            mode[flag] = False

    print(
        f"our tool's requests, inside its WSGI app (test client), {args.launches} launches"
        f" after {args.warmup} warm-up ones:"
    )
    total = 0.0
    for name, spent in times.items():
        p50, mean = statistics.median(spent), statistics.fmean(spent)
        total += p50
        print(f"  {name:<24} p50 {p50 * 1000:6.3f} ms   mean {mean * 1000:6.3f} ms")
    print(f"  {'sum of the p50s':<24}     {total * 1000:6.3f} ms")
    for name, profile in profiles.items():
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(PROFILED, args.top)
        print(f"\n== {name} (profiled), the {args.top} largest by cumulative time")
        text = out.getvalue().replace(SITE_PACKAGES, "").replace(REPO, "")
        print("\n".join(line for line in text.splitlines() if line.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
