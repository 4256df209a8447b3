"""Load: gunicorn with 2 workers on PostgreSQL, 50 simulated students for 60 s.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--workers 2] [--threads 4]

Each student, in a thread of its own, visits the tool again and again from a Moodle-shaped
test LMS (tests/lti_platform, on loopback): OIDC login, the LMS's auth step (not timed: it is
the LMS), launch, landing page, their portfolio page, the new-entry form, and saving an entry
(without the portfolio package: the home page, and no entry). Every request is timed at the
client (time to the response headers). PostgreSQL runs with fsync on, in a directory of its
own; the client, the LMS, gunicorn and PostgreSQL share this machine's cores.

Prints requests/s, p50 and p99 per kind of request and overall, the errors (the target is
zero), whether every saved entry is in the database, and the peak RSS of each gunicorn worker.
Exit status 1 when a request failed or a saved entry is missing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter

from stack import Stack, Stats, Student, each_once, percentile, run_students

KINDS = ("login", "launch", "landing page", "portfolio page", "entry form", "save entry")


def report(stats, seconds: float) -> list:
    """Print the table of request figures; return the failed outcomes."""
    outcomes = stats.outcomes
    print(f"\n{'request':<16}{'count':>8}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for kind in (*KINDS, "all"):
        chosen = outcomes if kind == "all" else [o for o in outcomes if o.kind == kind]
        if not chosen:
            continue
        times = [o.seconds * 1000 for o in chosen]
        errors = sum(not o.ok for o in chosen)
        print(f"{kind:<16}{len(chosen):>8}{errors:>8}{len(chosen) / seconds:>9.1f}"
              f"{percentile(times, 50):>9.1f}{percentile(times, 99):>9.1f}")
    return [o for o in outcomes if not o.ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with Stack(workers=args.workers, threads=args.threads) as stack:
        portfolio = stack.portfolio_registered()
        print(f"gunicorn: {args.workers} workers x {args.threads} threads on PostgreSQL "
              f"(fsync on); {args.users} students for {args.seconds:g} s")
        if not portfolio:
            print("the portfolio package is not registered: students open the home page and "
                  "save no entries")
        warmup, stats = Stats(), Stats()
        students = [Student(n, stack.lms, stack.base_url, warmup, portfolio)
                    for n in range(args.users)]
        each_once(students)  # first launches: users, courses, portfolios are made
        warm_errors = [o for o in warmup.outcomes if not o.ok]
        for student in students:
            student.stats = stats
        started = time.monotonic()
        run_students(students, started + args.seconds)
        elapsed = time.monotonic() - started
        visits = Counter(o.kind for o in stats.outcomes)["launch"]
        print(f"warm-up: one visit per student ({len(warmup.outcomes)} requests, "
              f"{len(warm_errors)} errors), not counted below")
        failed = report(stats, elapsed)
        print(f"\nvisits (launches): {visits} in {elapsed:.1f} s = {visits / elapsed:.1f}/s; "
              f"requests: {len(stats.outcomes) / elapsed:.1f}/s")
        for outcome in failed[:10]:
            print(f"  error: {outcome.kind} -> {outcome.status}: {outcome.detail}")
        missing = 0
        if portfolio:
            saved = [entry for s in students for entry in s.saved]
            found = stack.entries_in_database([e.title for e in saved])
            missing = sum(1 for e in saved if found.get(e.title, (None,))[0] != e.entry_id)
            print(f"entries saved (303 received): {len(saved)}; in the database with the same "
                  f"id: {len(saved) - missing}; missing: {missing}")
        peaks = stack.peak_rss_mib()
        print("peak RSS of each gunicorn worker after the load: " +
              ", ".join(f"pid {pid}: {mib:.0f} MiB" for pid, mib in sorted(peaks.items())))
        bad = bool(failed or warm_errors or missing)
        print("RESULT: " + ("FAILED" if bad else "zero errors, every saved entry is in the "
                                                 "database"))
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
