"""TeachHub HR consolidated list: 2,000 participants across 50 modules, page and XLSX export.

Seeds a scratch SQLite database, signs a coordinator in (a server-side session, as a launch
makes), then requests the HR list page and its exports through the real app and prints, per
request, the SQL query count (SQLAlchemy event listener) and the server time. The page must
stay under 100 ms with the same number of queries whatever the number of rows; the script
checks that by running a smaller seed too.

    .venv/bin/python bench/teachhub.py [--people 2000] [--modules 50] [--runs 15]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert

from lti_tool.extensions import services

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lti_tool import create_app
from lti_tool.db import utcnow
from lti_tool.lti.models import Platform, User
from lti_tool.migrate import upgrade
from lti_tool.teachhub.models import Module, ModuleVersion, Participant, Person, Stream
from lti_tool.teachhub.status import STATUSES
from lti_tool.web_session import WebSession

DEPARTMENTS = [f"Department {n:02d}" for n in range(1, 21)]


def seed(app, people: int, modules: int, per_person: int = 3) -> tuple[int, int]:
    """A platform, its coordinator, `modules` published modules with two streams each, and
    `people` participants with `per_person` cards each; returns (platform id, coordinator id)."""
    rng = random.Random(7)
    today = date.today()
    with services(app).db.new_session() as db:
        platform = Platform(issuer="https://moodle.example.edu", client_id="bench",
                            auth_login_url="x", auth_token_url="x", key_set_url="x")
        db.add(platform)
        db.flush()
        coordinator = User(platform_id=platform.id, sub="coordinator", name="Coordinator")
        db.add(coordinator)
        db.flush()
        db.execute(insert(User), [
            {"platform_id": platform.id, "sub": f"u{n}", "given_name": f"Name{n}",
             "family_name": f"Family{n % 300}", "email": f"u{n}@example.edu",
             "updated_at": utcnow(), "name": "", "locale": ""} for n in range(people)])
        user_ids = [u.id for u in db.query(User.id).filter(User.platform_id == platform.id,
                                                           User.sub != "coordinator")]
        db.execute(insert(Person), [
            {"user_id": uid, "department": DEPARTMENTS[i % len(DEPARTMENTS)], "source": "self",
             "updated_at": utcnow()} for i, uid in enumerate(user_ids)])
        streams, versions = [], {}
        for m in range(modules):
            module = Module(platform_id=platform.id, title=f"Module {m:02d}", published_number=1,
                            workload_hours=36, module_format="integrative")
            db.add(module)
            db.flush()
            version = ModuleVersion(module_id=module.id, number=1, title=module.title,
                                    workload_hours=36, module_format="integrative")
            db.add(version)
            for half in (0, 1):
                stream = Stream(module_id=module.id, name=f"Stream {half + 1}",
                                starts_on=today - timedelta(days=200 - 120 * half),
                                ends_on=today - timedelta(days=150 - 120 * half))
                db.add(stream)
                streams.append(stream)
            db.flush()
            versions[module.id] = version.id
        rows = []
        for uid in user_ids:
            for stream in rng.sample(streams, per_person):
                status = rng.choice(STATUSES)
                done = STATUSES.index(status) >= 2
                rows.append({
                    "module_id": stream.module_id, "stream_id": stream.id,
                    "version_id": versions[stream.module_id], "user_id": uid,
                    "enrolled_via": "roster", "status": status,
                    "contact_hours": Decimal(rng.randint(0, 4000)) / 100,
                    "self_study_hours": Decimal(rng.randint(0, 2000)) / 100,
                    "completed_on": (today - timedelta(days=rng.randint(0, 365))) if done else None,
                    "commission_number": (f"{rng.randint(1, 99)}/2026"
                                          if status == "recognized" else ""),
                    "commission_date": today if status == "recognized" else None,
                    "record_number": "", "mark_comment": "", "verification_note": "",
                    "feedback_given": False, "created_at": utcnow(), "updated_at": utcnow()})
        db.execute(insert(Participant.__table__), rows)
        db.commit()
        return platform.id, coordinator.id


def sign_in(app, platform_id: int, user_id: int) -> str:
    """A server-side session for the coordinator, as a launch makes one; its token."""
    token = secrets.token_urlsafe(32)
    with services(app).db.new_session() as db:
        db.add(WebSession(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          data=json.dumps({"user_id": user_id, "platform_id": platform_id,
                                           "role": "admin", "locale": "en"}),
                          expires_at=utcnow() + timedelta(hours=1)))
        db.commit()
    return token


class QueryCounter:
    """Counts SQL statements sent to the engine."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kwargs):
        self.count += 1


def measure(client, counter: QueryCounter, url: str, runs: int) -> dict:
    """Median and worst server time of `runs` requests, and the queries of one request."""
    client.get(url)  # warm up: templates compiled, caches filled
    times, cpu, queries, size = [], [], set(), 0
    for _ in range(runs):
        before = counter.count
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        # This process's CPU time: what the request cost, whatever else the machine runs.
        cpu.append((time.process_time() - start_cpu) * 1000)
        queries.add(counter.count - before)
        assert response.status_code == 200, response.status_code
        size = len(response.data)
    return {"median_ms": statistics.median(times), "max_ms": max(times),
            "cpu_ms": statistics.median(cpu), "queries": sorted(queries), "bytes": size}


def run(people: int, modules: int, runs: int) -> dict[str, dict]:
    """Seed a fresh database of this size and measure the HR list and its exports."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"tool": {"data_dir": tmp, "database_url": f"sqlite:///{tmp}/bench.db",
                                   "base_url": "http://127.0.0.1:5000"},
                          "keys": {"dir": f"{tmp}/keys"},
                          "gradebook": {"worker": {"in_process": False}}})
        upgrade(services(app).settings.tool.database_url)
        started = time.perf_counter()
        platform_id, coordinator_id = seed(app, people, modules)
        seeded = time.perf_counter() - started
        token = sign_in(app, platform_id, coordinator_id)
        counter = QueryCounter(services(app).db.engine)
        client = app.test_client()
        with services(app).db.new_session() as db:
            cards = db.query(Participant).count()
            listed = db.query(Participant).filter(Participant.status.in_(STATUSES[2:])).count()
        results = {
            "seed": {"people": people, "modules": modules, "cards": cards, "listed": listed,
                     "seconds": round(seeded, 1)},
            "HR list page 1": measure(client, counter, f"/teachhub/hr?ls={token}", runs),
            "HR list page 20": measure(client, counter, f"/teachhub/hr?page=20&ls={token}", runs),
            "HR list, one department and a period": measure(
                client, counter, f"/teachhub/hr?department=Department+07&from="
                f"{(date.today() - timedelta(days=180)).isoformat()}&ls={token}", runs),
            "HR list XLSX export": measure(client, counter, f"/teachhub/hr.xlsx?ls={token}",
                                           max(3, runs // 5)),
            "HR list CSV export": measure(client, counter, f"/teachhub/hr.csv?ls={token}",
                                          max(3, runs // 5)),
        }
        services(app).db.engine.dispose()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    small = run(max(50, args.people // 10), max(5, args.modules // 10), 5)
    big = run(args.people, args.modules, args.runs)
    print(f"Seeded: {big['seed']}")
    print(f"{'request':40} {'queries':>8} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
    for name, figures in big.items():
        if name == "seed":
            continue
        print(f"{name:40} {','.join(map(str, figures['queries'])):>8} "
              f"{figures['median_ms']:10.1f} {figures['max_ms']:8.1f} {figures['bytes']:10d}")
    ok = True
    page = big["HR list page 1"]
    if page["median_ms"] >= 100:
        print(f"FAIL: the HR list page took {page['median_ms']:.1f} ms (budget 100 ms)")
        ok = False
    for name in ("HR list page 1", "HR list page 20", "HR list XLSX export"):
        if small[name]["queries"] != big[name]["queries"]:
            print(f"FAIL: {name}: {small[name]['queries']} queries with "
                  f"{small['seed']['cards']} cards, {big[name]['queries']} with "
                  f"{big['seed']['cards']}: the count must not grow with the data")
            ok = False
    print(f"Query count with {small['seed']['cards']} cards: page "
          f"{small['HR list page 1']['queries']}, export {small['HR list XLSX export']['queries']}"
          " (the same as above: fixed)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
