"""Simultaneous decisions on PostgreSQL (issue 10): conflicts refused, decisions lost, LMS totals
that differ from the tool's, and what the version check costs per decision.

    .venv/bin/python bench/races.py [--trials N] [--students S] [--decisions N] [--seed N]

PostgreSQL (durable: fsync on) is started on loopback, the tool is served in this process on
loopback (a threaded WSGI server, as in the tests), and a Moodle-shaped test LMS
(tests/lti_platform) serves AGS and stores the scores. Tutors and students are real launches;
every decision below is a real HTTP request.

A trial: each student submits one new entry; then, released together in threads, two tutors
verify or return entries (half the time the same one), one student edits the entry being
decided, and a tutor sets the student's design mark. After all trials the score worker drains
the outbox and the LMS's value is compared with the tool's verified total for every student.

Each trial set runs twice in the same run:
- **versioned**: the tool as it is (one conditional UPDATE per decision; the worker computes
  scores from committed state when it sends);
- **today**: the same code with the conditional UPDATE replaced by the check in Python and a
  plain write it replaces, and the worker sending the score each transaction computed.

"Decisions lost" counts decisions answered as done (303) but not recorded, plus decisions
recorded on top of another for the same change of state (a verify after a verify), plus
verifications whose points are not the content's. The cost of the version check is measured
on the service (decide alone, and decide + commit; one entry per decision), alternating the
two paths.

Exit status: 1 when the versioned tool loses a decision, answers 5xx or ends with an LMS
value that differs from the tool's.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lti_tool.extensions import services

REPO = Path(__file__).resolve().parent.parent
for extra in (REPO / "tests", REPO):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from concurrency import at_once
from lti_platform import LaunchDriver, Platform
from servers import PostgresServer
from sqlalchemy import select
from tool_server import start_tool

from bench.common import LogTally
from lti_tool import versioning
from lti_tool.auth import Actor
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.gradebook.worker import build_score_worker
from lti_tool.portfolio import (
    service,
    summary as summary_module,
)
from lti_tool.portfolio.models import Entry, Portfolio

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Person:
    """A launched user: their browser and the session token in the tool's URLs."""

    def __init__(self, tool, platform: Platform, who):
        self.tool = tool
        self.driver = LaunchDriver()
        plan = platform.plan(who, custom={"placement": "portfolio"})
        page = self.driver.launch(plan, params={"lti_storage_target": None})
        if page.status_code != 200:
            raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
        self.token = parse_qs(urlsplit(page.url).query)["ls"][0]
        # The background roster pull a first launch starts must not overwrite later members.
        deadline = time.monotonic() + 10
        while services(tool.app).roster_refresher.busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.csrf = CSRF.search(self.get("/portfolio/showcase").text).group(1)

    def url(self, path: str) -> str:
        return f"{self.tool.base_url}{path}{'&' if '?' in path else '?'}ls={self.token}"

    def get(self, path: str):
        return self.driver.get(self.url(path))

    def post(self, path: str, data: dict):
        return self.driver.post(
            self.url(path), data={"csrf_token": self.csrf, **data}, follow_redirects=False
        )


def entry_form(level: str, version: int | None = None) -> dict:
    form = {
        "list": "olympiads",
        "course_year": "2",
        "item": "olympiad",
        "level": level,
        "result": "first",
        "f_title": "Olympiad",
        "action": "submit",
    }
    if version is not None:
        form["version"] = str(version)
    return form


@contextmanager
def todays_path(app):
    """The check-then-write of before: the check in Python, then a plain write of the version;
    and the score each transaction computed is the one sent."""
    real = versioning.claim

    def check_then_write(db, obj, seen, column="version"):
        setattr(obj, column, seen + 1)  # the caller checked `seen` in Python just before
        return True

    scorers = dict(services(app).gradebook.scorers)
    for module in (service, summary_module):
        module.claim = check_then_write
    services(app).gradebook.scorers.clear()
    try:
        yield
    finally:
        for module in (service, summary_module):
            module.claim = real
        services(app).gradebook.scorers.update(scorers)


class Run:
    """One set of trials on one tool, and what came of them."""

    def __init__(self, tool, platform, tutors, students, rng: random.Random):
        self.tool, self.platform, self.tutors, self.students = tool, platform, tutors, students
        self.rng = rng
        self.answers: list[tuple[str, int]] = []
        self.entries: list[int] = []
        self.differ = 0  # (trial, student) pairs where the LMS did not end on the tool's total
        self.compared = 0

    def session(self):
        return services(self.tool.app).db.new_session()

    def seen(self, entry_id: int) -> int:
        with self.session() as db:
            return db.get(Entry, entry_id).version

    def trial(self) -> None:
        made = []
        for student in self.students:
            page = student.driver.post(
                student.url("/portfolio/entries/new?list=olympiads"),
                data={"csrf_token": student.csrf, **entry_form("republic")},
            )
            made.append(int(page.url.split("/portfolio/entries/")[1].split("?")[0]))
        self.entries += made
        index = self.rng.randrange(len(made))
        target = made[index]
        other = made[self.rng.randrange(len(made))] if self.rng.random() < 0.5 else target
        with self.session() as db:
            portfolio_id = db.get(Entry, target).portfolio_id
        versions = {e: self.seen(e) for e in {target, other}}
        first_action = self.rng.choice(["verify", "verify", "return"])
        calls = [
            lambda: (
                "decide",
                self.tutors[0].post(
                    f"/portfolio/entries/{target}/decide",
                    {"action": first_action, "comment": "fix", "version": str(versions[target])},
                ),
            ),
            lambda: (
                "decide",
                self.tutors[1].post(
                    f"/portfolio/entries/{other}/decide",
                    {"action": "verify", "version": str(versions[other])},
                ),
            ),
            lambda: (
                "edit",
                self.students[index].post(
                    f"/portfolio/entries/{target}/edit",
                    entry_form(self.rng.choice(["international", "university"]), versions[target]),
                ),
            ),
            lambda: (
                "mark",
                self.tutors[1].post(
                    f"/portfolio/{portfolio_id}/marks",
                    {"mark": "design", "year": "2", "points": str(self.rng.choice([10, 20, 30]))},
                ),
            ),
        ]
        self.rng.shuffle(calls)
        for what, answer in at_once(*calls):
            self.answers.append((what, answer.status_code))

    def drain(self, timeout: float = 120.0) -> None:
        worker = build_score_worker(self.tool.app, max_attempts=30)
        try:
            if not worker.drain(timeout):
                raise SystemExit("the score outbox did not drain")
        finally:
            worker.close()

    def figures(self) -> dict:
        done = sum(1 for what, status in self.answers if what == "decide" and status == 303)
        conflicts = sum(1 for _what, status in self.answers if status == 409)
        errors = sum(1 for _what, status in self.answers if status >= 500)
        lost = 0
        with self.session() as db:
            recorded = 0
            for entry_id in self.entries:
                entry = db.get(Entry, entry_id)
                chain = [d for d in entry.decisions if d.action != "comment"]
                staff = [d for d in chain if d.action in ("verify", "return", "reject")]
                recorded += len(staff)
                # A decision on top of another for the same change of state is a lost one.
                lost += sum(1 for a, b in itertools.pairwise(chain) if b.from_status != a.to_status)
                if entry.status == "verified" and entry.verified_points != entry.claimed_points:
                    lost += 1  # verified content its tutor never saw
            lost += max(0, done - recorded)
        return {
            "trials": 0,
            "requests": len(self.answers),
            "decided": done,
            "conflicts": conflicts,
            "errors": errors,
            "lost": lost,
            "differ": self.differ,
            "students": self.compared,
        }

    def compare(self) -> None:
        """After a drain: count the students whose LMS value is not the tool's total."""
        with self.session() as db:
            students = db.scalars(
                select(Portfolio).where(
                    Portfolio.id.in_(select(Entry.portfolio_id).where(Entry.id.in_(self.entries)))
                )
            ).all()
            for portfolio in students:
                total = service.verified_total(db, portfolio.id)
                row = db.scalars(
                    select(ScoreOutbox)
                    .where(ScoreOutbox.user_id == portfolio.user_id)
                    .order_by(ScoreOutbox.id.desc())
                ).first()
                stored = self.platform.scores(row.line_item_url).get(row.user_sub) if row else None
                lms = (
                    round(stored["scoreGiven"] * row.score_maximum / stored["scoreMaximum"], 2)
                    if stored
                    else None
                )
                self.compared += 1
                if lms != total and not (lms is None and total == 0):
                    self.differ += 1


def cost_per_decision(app, n: int) -> dict[str, tuple[float, float]]:
    """Median ms per decision, versioned and today's path, alternated on fresh entries: the
    service call alone (its statements), and with the commit (what a request pays)."""
    sessions = services(app).db.sessionmaker
    settings = services(app).settings
    with sessions() as db:
        portfolio = db.scalars(select(Portfolio).order_by(Portfolio.id)).first()
        tutor = Actor(user_id=None, platform_id=portfolio.platform_id, name="bench")
        ids = []
        for _ in range(2 * n):
            entry = Entry(
                portfolio_id=portfolio.id,
                section="achievements",
                list_key="olympiads",
                item_key="olympiad",
                course_year=2,
                level="republic",
                result="first",
                count=1,
                title="bench",
                fields={},
                claimed_points=100,
                status="submitted",
                version=1,
            )
            db.add(entry)
            db.flush()
            ids.append(entry.id)
        db.commit()
    times: dict[str, list[float]] = {"versioned": [], "today": []}
    statements: dict[str, list[float]] = {"versioned": [], "today": []}
    for mode, entry_id in zip(["versioned", "today"] * n, ids, strict=True):
        context = todays_path(app) if mode == "today" else _nothing()
        with context, sessions() as db:
            started = time.perf_counter()
            report = service.decide(
                db, tutor, [(entry_id, 1)], "verify", settings=settings, may_review=lambda *_: True
            )
            db.flush()
            statements[mode].append((time.perf_counter() - started) * 1000)
            db.commit()
            times[mode].append((time.perf_counter() - started) * 1000)
            assert len(report.done) == 1, report
    return {
        "statements": (
            statistics.median(statements["versioned"]),
            statistics.median(statements["today"]),
        ),
        "commit": (statistics.median(times["versioned"]), statistics.median(times["today"])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument(
        "--decisions",
        type=int,
        default=500,
        help="decisions per path for the cost of the version check",
    )
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    postgres = PostgresServer(durable=True).start()
    results = {}
    try:
        for mode in ("versioned", "today"):
            url = postgres.create_database(f"races_{mode}")
            tool = start_tool(
                tempfile.mkdtemp(prefix="lti-races-"),
                {"tool": {"database_url": url}, "gradebook": {"worker": {"in_process": False}}},
            )
            with Platform("moodle") as platform:
                tool.register(platform)
                tutors = [
                    Person(tool, platform, "teacher"),
                    Person(
                        tool,
                        platform,
                        {
                            "role": "teacher",
                            "id": "77",
                            "given_name": "Tina",
                            "family_name": "Tutor",
                        },
                    ),
                ]
                students = [
                    Person(
                        tool,
                        platform,
                        {
                            "role": "student",
                            "id": str(100 + i),
                            "given_name": f"S{i}",
                            "family_name": "Student",
                        },
                    )
                    for i in range(args.students)
                ]
                run = Run(tool, platform, tutors, students, random.Random(args.seed))
                started = time.monotonic()
                context = todays_path(tool.app) if mode == "today" else _nothing()
                with context:
                    for _ in range(args.trials):
                        run.trial()
                        run.drain()  # then the LMS must hold the tool's total, every time
                        run.compare()
                    trials_s = time.monotonic() - started
                figures = run.figures()
                figures.update(trials=args.trials, seconds=trials_s)
                if mode == "versioned":
                    figures["cost"] = cost_per_decision(tool.app, args.decisions)
                results[mode] = figures
            tool.stop()
    finally:
        postgres.remove()

    print(
        f"bench/races.py on PostgreSQL {postgres.bin.parent.name} (durable), "
        f"{args.trials} trials x 4 simultaneous requests, {args.students} students, "
        f"seed {args.seed}"
    )
    print(f"{'':<34}{'versioned':>12}{'today':>12}")
    rows = [
        ("trials", "trials"),
        ("requests", "requests"),
        ("decisions answered done (303)", "decided"),
        ("conflicts refused with 409", "conflicts"),
        ("answers 5xx", "errors"),
        ("decisions lost (target 0)", "lost"),
        ("LMS totals != tool's (target 0)", "differ"),
        ("LMS totals compared", "students"),
    ]
    for label, key in rows:
        print(f"{label:<34}{results['versioned'][key]:>12}{results['today'][key]:>12}")
    print(f"cost per decision, median of {args.decisions} each, the two paths alternated:")
    for label, key in (("decide (statements)", "statements"), ("decide + commit", "commit")):
        versioned_ms, today_ms = results["versioned"]["cost"][key]
        print(
            f"  {label:<22} versioned {versioned_ms:6.2f} ms, today {today_ms:6.2f} ms, "
            f"version check {versioned_ms - today_ms:+.2f} ms"
        )
    print(f"warnings and errors logged: {tally.summary()}")
    bad = results["versioned"]
    return 1 if bad["lost"] or bad["differ"] or bad["errors"] else 0


@contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    sys.exit(main())
