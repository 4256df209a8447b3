"""Faults under load: PostgreSQL restarted, a gunicorn worker and the score worker SIGKILLed,
Redis filled and then stopped. The service must recover by itself, requests in flight must fail
cleanly, and no saved entry or queued score may be lost.

    .venv/bin/python bench/faults.py [--users 20] [--scale 1.0]

The stack of bench/stack.py with Redis (maxmemory 64 MB, noeviction) and `lti-tool worker`
(lease 10 s, so rows a killed worker held come due again quickly). Students visit as in
bench/load.py. A producer thread queues scores through the tool's own outbox API
(lti_tool.gradebook.outbox.enqueue_score, as the portfolio and TeachHub services do) for the
students' placement, 10 a second. The timeline (seconds, times --scale):

    10  PostgreSQL restarted (pg_ctl restart -m fast: every connection is cut)
    25  one gunicorn worker SIGKILLed (gunicorn starts another)
    35  `lti-tool worker` SIGKILLed, started again 3 s later (as systemd's Restart= does)
    50  Redis filled until it refuses writes
    60  Redis stopped
    72  Redis started again, empty
    90  load ends; the outbox is given up to 120 s to drain

Checks: a failed request is a 503 page or a cut connection (no 500, no hang), or, in the second
after Redis stops, a launch whose login state died with it (the page asks to open the tool
again; Redis keeps no copy on disk and needs none); errors stop after
each fault; the last 10 s have none; every entry the tool confirmed is in the database, and any
entry whose request failed is either absent or complete; every student's newest queued score
is the one the LMS holds, and nothing is left pending or parked. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import threading
import time
from collections import Counter

from stack import TIMEOUT, Stack, Stats, Student, each_once, percentile, run_students

from lti_tool.extensions import services

EVENTS = [(10, "restart PostgreSQL"), (25, "SIGKILL a gunicorn worker"),
          (35, "SIGKILL the score worker"), (50, "fill Redis"), (60, "stop Redis"),
          (72, "start Redis")]
LOAD_SECONDS = 90


class ScoreProducer(threading.Thread):
    """Queues a score for a random student now and then, as the tool's services do."""

    def __init__(self, stack: Stack, subs: list[str], every: float = 0.1):
        super().__init__(daemon=True)
        self.stack, self.subs, self.every = stack, subs, every
        self.stop = threading.Event()
        self.committed: dict[str, float] = {}  # sub -> newest committed score
        self.failed = 0
        self.serial = 0

    def run(self) -> None:
        from sqlalchemy import select

        from lti_tool.gradebook.outbox import enqueue_score
        from lti_tool.lti.models import ResourceLink, User

        while not self.stop.wait(self.every):
            sub = random.choice(self.subs)
            self.serial += 1
            value = float(self.serial % 100)
            try:
                with services(self.stack.app).db.new_session() as db:
                    user = db.scalars(select(User).where(User.sub == sub)).one()
                    link = db.scalars(select(ResourceLink).where(
                        ResourceLink.resource_link_id == "portfolio")).one()
                    enqueue_score(db, resource_link=link, user=user, score_given=value,
                                  score_maximum=100, activity_progress="Completed",
                                  grading_progress="FullyGraded", source="bench")
                    db.commit()
                self.committed[sub] = value
            except Exception:  # the database is restarting: this score was never queued
                self.failed += 1


def fill_redis(url: str) -> int:
    """Write 1 MB values until Redis refuses; returns how many it took."""
    import redis

    client = redis.Redis.from_url(url)
    blob = os.urandom(1 << 20)
    n = 0
    try:
        while n < 10_000:
            client.set(f"filler:{n}", blob)
            n += 1
    except redis.ResponseError:  # OOM command not allowed when used memory > 'maxmemory'
        return n
    finally:
        client.close()
    return n


def classify(outcome) -> str:
    """How a failed request failed: "HTTP 503 service_unavailable", "connection cut", ..."""
    if outcome.status is None:
        return "timeout" if outcome.seconds >= TIMEOUT else "connection cut"
    return f"HTTP {outcome.status} {outcome.detail[:40]}"


def clean(outcome, redis_stopped: tuple[float, float]) -> bool:
    """A 503 page, a cut connection, or a login whose state died with Redis (asked to relaunch)."""
    kind = classify(outcome)
    if kind in ("HTTP 503 service_unavailable", "connection cut"):
        return True
    ended = outcome.started + outcome.seconds
    return kind == "HTTP 400 unknown_state" and redis_stopped[0] <= ended < redis_stopped[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="stretch (>1) or shrink (<1) the timeline")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    problems: list[str] = []
    with Stack(workers=2, redis=True, redis_maxmemory="64mb", score_worker=True,
               worker_settings={"lease_seconds": 10, "backoff_base_seconds": 0.5,
                                "backoff_cap_seconds": 5.0}) as stack:
        print(f"gunicorn 2 workers on PostgreSQL (fsync on), Redis, `lti-tool worker`; "
              f"{args.users} students")
        warmup, stats = Stats(), Stats()
        students = [Student(n, stack.lms, stack.base_url, warmup, True)
                    for n in range(args.users)]
        each_once(students)
        for student in students:
            student.stats = stats
        producer = ScoreProducer(stack, [s.plan.user.sub for s in students])
        started = time.monotonic()
        load = threading.Thread(target=run_students,
                                args=(students, started + LOAD_SECONDS * args.scale))
        load.start()
        producer.start()
        happened: list[tuple[float, str]] = []
        for at, what in EVENTS:
            time.sleep(max(0.0, started + at * args.scale - time.monotonic()))
            now = time.monotonic() - started
            if what == "restart PostgreSQL":
                stack.postgres.restart()
            elif what == "SIGKILL a gunicorn worker":
                os.kill(stack.web_workers()[0], signal.SIGKILL)
            elif what == "SIGKILL the score worker":
                os.kill(stack.score_worker.pid, signal.SIGKILL)
                stack.score_worker.wait()
                time.sleep(3)
                stack.start_score_worker()
            elif what == "fill Redis":
                what += f" ({fill_redis(stack.redis.url)} MB written before it refused)"
            elif what == "stop Redis":
                stack.redis.stop()
            elif what == "start Redis":
                stack.redis.start()
            happened.append((now, what))
            print(f"  t={now:5.1f} s  {what}")
        load.join()
        producer.stop.set()
        producer.join()
        ended = time.monotonic() - started
        print(f"  t={ended:5.1f} s  load ended")

        # -- requests ---------------------------------------------------------------------
        outcomes = stats.outcomes
        failed = [o for o in outcomes if not o.ok]
        kinds = Counter(classify(o) for o in failed)
        print(f"\nrequests: {len(outcomes)}, ok {len(outcomes) - len(failed)}, failed "
              f"{len(failed)}: " + (", ".join(f"{k} {n}" for k, n in kinds.most_common())
                                    or "none"))
        at = {what.split(" (")[0]: t for t, what in happened}
        redis_stopped = (started + at["stop Redis"], started + at["stop Redis"] + 1.0)
        unclean = [o for o in failed if not clean(o, redis_stopped)]
        if unclean:
            problems.append(f"{len(unclean)} requests failed other than with a 503 page, a "
                            f"cut connection or a relaunch request for a state lost with Redis")
            for o in unclean[:5]:
                print(f"    {o.kind}: {classify(o)}: {o.detail}")
        boundaries = [t for t, _ in happened] + [ended]
        print(f"\n{'fault':<58}{'requests':>9}{'failed':>8}{'errors end':>12}")
        for (at, what), until in zip(happened, boundaries[1:], strict=False):
            window = stats.between(started + at, started + until)
            bad = [o for o in window if not o.ok]
            last = max((o.started + o.seconds - started - at for o in bad), default=0.0)
            print(f"{what[:57]:<58}{len(window):>9}{len(bad):>8}"
                  f"{(f'+{last:.1f} s' if bad else '-'):>12}")
        tail = stats.between(started + ended - 10 * args.scale, started + ended + 1)
        tail_errors = sum(not o.ok for o in tail)
        print(f"last {10 * args.scale:g} s: {len(tail)} requests, {tail_errors} failed")
        if tail_errors:
            problems.append("the service had not recovered by the end")
        times = [o.seconds * 1000 for o in outcomes if o.ok]
        print(f"successful requests: p50 {percentile(times, 50):.0f} ms, "
              f"p99 {percentile(times, 99):.0f} ms")

        # -- entries ----------------------------------------------------------------------
        saved = [e for s in students for e in s.saved]
        attempted = [t for s in students for t in s.attempted]
        found = stack.entries_in_database(attempted)
        lost = [e for e in saved if found.get(e.title, (None,))[0] != e.entry_id]
        unconfirmed = set(attempted) - {e.title for e in saved}
        committed_anyway = [t for t in unconfirmed if t in found]
        half = [t for t, (_id, logged) in found.items() if not logged]
        print(f"\nentries: {len(saved)} confirmed, all in the database: {not lost} "
              f"({len(lost)} missing); {len(unconfirmed)} saves failed in flight, of which "
              f"{len(committed_anyway)} were committed before the failure (complete); "
              f"half-written entries: {len(half)}")
        if lost:
            problems.append(f"{len(lost)} confirmed entries are missing")
        if half:
            problems.append(f"{len(half)} entries lack their 'entry_created' record")

        # -- scores -----------------------------------------------------------------------
        from sqlalchemy import func, select

        from lti_tool.gradebook.models import ScoreOutbox
        from lti_tool.lti.models import ResourceLink

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with services(stack.app).db.new_session() as db:
                pending = db.scalar(select(func.count()).select_from(ScoreOutbox)
                                    .where(ScoreOutbox.status == "pending"))
            if pending == 0:
                break
            time.sleep(0.5)
        with services(stack.app).db.new_session() as db:
            counts = dict(db.execute(select(ScoreOutbox.status, func.count())
                                     .group_by(ScoreOutbox.status)).all())
            url = db.scalar(select(ResourceLink.lineitem_url).where(
                ResourceLink.resource_link_id == "portfolio"))
        held = {sub: s["scoreGiven"] for sub, s in (stack.lms.scores(url) if url else {}).items()}
        wrong = {sub: (value, held.get(sub)) for sub, value in producer.committed.items()
                 if held.get(sub) != value}
        print(f"scores: {producer.serial} queued ({producer.failed} refused while the database "
              f"was down), outbox {dict(sorted(counts.items()))}; the LMS holds the newest "
              f"score of {len(producer.committed) - len(wrong)} of {len(producer.committed)} "
              f"students")
        if wrong or counts.get("pending") or counts.get("parked"):
            problems.append(f"scores: {len(wrong)} students without their newest score, "
                            f"{counts.get('pending', 0)} pending, {counts.get('parked', 0)} parked")

        peaks = stack.peak_rss_mib()
        print("peak RSS of each gunicorn worker: " +
              ", ".join(f"pid {pid}: {mib:.0f} MiB" for pid, mib in sorted(peaks.items())))
    print("\nRESULT: " + ("; ".join(problems) if problems else
                          "recovered from every fault by itself; failures were clean; no "
                          "entry or score lost"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
