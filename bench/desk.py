"""Staff desk (issue 12): the tutor's course overview with 2,000 students, the coordinator's
to-do with 6,000 participant cards, and a module page whose module holds 6,000 cards.

Seeds a scratch SQLite database through the real schema, signs a tutor and a coordinator in
(server-side sessions, as a launch makes), requests the pages through the real app and prints,
per request, the SQL query count (SQLAlchemy event listener) and the server time. The query
count must not grow with the data: the script runs a seed ten times smaller as well and fails
when the counts differ.

    .venv/bin/python bench/desk.py [--students 2000] [--people 2000] [--cards 6000] [--runs 10]

Sorting the overview by GPA reads every student's cumulative GPA (academic.cumulative_gpas: the
course lines and the Decimal gpa() of the academic record, without its per-year records); the
way it was before (academic_records, a whole record per student) is timed beside it.
The module page shows the first 20 cards of each stream (participants.stream_previews). The
way it was before (every card of the module loaded, then cut to 20 in the template) is timed
beside it as the service call alone, "old way", since the page no longer runs it.
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
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from teachhub import QueryCounter, measure, seed as seed_teachhub

from lti_tool import create_app
from lti_tool.auth import Actor
from lti_tool.db import utcnow
from lti_tool.extensions import services
from lti_tool.gradebook.academic import academic_records, cumulative_gpas
from lti_tool.gradebook.models import CourseGrading, LineItem, Result
from lti_tool.gradebook.policy import GradingPolicy
from lti_tool.lti.models import Context, Membership, ResourceLink, User
from lti_tool.lti.roles import ToolRole
from lti_tool.migrate import upgrade
from lti_tool.portfolio.models import Entry, GroupLeader, Portfolio, Update
from lti_tool.portfolio.summary import gpa_by_course_year
from lti_tool.teachhub import participants
from lti_tool.teachhub.models import Module, ModuleVersion, Participant, Person, Stream
from lti_tool.web_session import WebSession

GROUPS = [f"МД-{n:02d}" for n in range(1, 21)]
STATUSES = ("draft", "submitted", "verified", "verified", "returned")


def seed_course(app, platform_id: int, students: int, graded_courses: int = 5) -> tuple[int, int]:
    """A course with the portfolio placed, its tutor, `students` learners (one in five never
    opened the tool), five entries each and final grades in `graded_courses` other courses;
    returns (context id, tutor id)."""
    rng = random.Random(11)
    with services(app).db.new_session() as db:
        course = Context(platform_id=platform_id, context_id="course-desk", title="Desk course")
        db.add(course)
        db.flush()
        db.add(
            ResourceLink(context_id=course.id, resource_link_id="rl-desk", placement="portfolio")
        )
        tutor = User(platform_id=platform_id, sub="tutor", name="Tutor")
        db.add(tutor)
        db.flush()
        db.add(Membership(user_id=tutor.id, context_id=course.id, role="instructor"))
        db.execute(
            insert(User),
            [
                {
                    "platform_id": platform_id,
                    "sub": f"s{n}",
                    "given_name": f"Әлия{n}",
                    "family_name": f"Серікова{n % 400}",
                    "name": f"Әлия{n} Серікова{n % 400}",
                    "email": "",
                    "locale": "",
                    "updated_at": utcnow(),
                }
                for n in range(students)
            ],
        )
        ids = list(
            db.scalars(select(User.id).where(User.platform_id == platform_id, User.sub.like("s%")))
        )
        db.execute(
            insert(Membership),
            [
                {"user_id": uid, "context_id": course.id, "role": "learner", "status": "Active"}
                for uid in ids
            ],
        )
        opened = [uid for i, uid in enumerate(ids) if i % 5]
        db.execute(
            insert(Portfolio),
            [
                {
                    "platform_id": platform_id,
                    "user_id": uid,
                    "full_name": f"Серікова Әлия {uid}",
                    "group_name": GROUPS[i % len(GROUPS)],
                    "course_year": 1 + i % 5,
                }
                for i, uid in enumerate(opened)
            ],
        )
        portfolios = list(db.scalars(select(Portfolio.id).where(Portfolio.user_id.in_(opened))))
        entries, updates = [], []
        for pid in portfolios:
            for k in range(5):
                status = rng.choice(STATUSES)
                points = rng.randint(1, 20)
                entries.append(
                    {
                        "portfolio_id": pid,
                        "section": "achievements",
                        "list_key": "olympiads",
                        "item_key": "olympiad",
                        "course_year": 1 + k % 3,
                        "status": status,
                        "claimed_points": points,
                        "verified_points": points if status == "verified" else None,
                        "fields": {},
                        "title": "",
                        "count": 1,
                        "version": 1,
                    }
                )
            updates.append(
                {
                    "portfolio_id": pid,
                    "what": "entry_created",
                    "detail": {},
                    "at": utcnow() - timedelta(days=rng.randint(0, 300)),
                }
            )
        db.execute(insert(Entry), entries)
        db.execute(insert(Update), updates)
        for c in range(graded_courses):
            other = Context(platform_id=platform_id, context_id=f"graded-{c}", title=f"C{c}")
            db.add(other)
            db.flush()
            item = LineItem(context_id=other.id, url=f"https://lms/li/{c}", score_maximum=100.0)
            db.add(item)
            db.flush()
            db.add(
                CourseGrading(
                    context_id=other.id,
                    final_line_item_id=item.id,
                    credits=5,
                    academic_year=f"{2022 + c % 3}-{2023 + c % 3}",
                )
            )
            db.execute(
                insert(Result),
                [
                    {"line_item_id": item.id, "user_id": uid, "result_score": rng.randint(40, 100)}
                    for uid in ids
                ],
            )
        db.commit()
        return course.id, tutor.id


def sign_in(app, platform_id: int, user_id: int, role: str, context_id: int | None) -> str:
    """A server-side session as a launch makes one; its token."""
    token = secrets.token_urlsafe(32)
    data = {
        "user_id": user_id,
        "platform_id": platform_id,
        "role": role,
        "locale": "ru",
        "context_id": context_id,
    }
    with services(app).db.new_session() as db:
        db.add(
            WebSession(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                data=json.dumps(data),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        db.commit()
    return token


def mark_todo(app) -> None:
    """Give the to-do work: verified and unverified completions, streams of this month."""
    with services(app).db.new_session() as db:
        ids = list(db.scalars(select(Participant.id).where(Participant.status == "completed")))
        for n, card_id in enumerate(ids):
            if n % 2:
                db.get(Participant, card_id).verified_at = utcnow()
        db.commit()


def seed_big_module(app, platform_id: int, cards: int, streams: int = 3) -> int:
    """One published module with `streams` streams holding `cards` cards (one person each);
    returns its id."""
    today = utcnow().date()
    with services(app).db.new_session() as db:
        module = Module(
            platform_id=platform_id,
            title="Big module",
            published_number=1,
            workload_hours=36,
            module_format="integrative",
        )
        db.add(module)
        db.flush()
        version = ModuleVersion(
            module_id=module.id,
            number=1,
            title=module.title,
            workload_hours=36,
            module_format="integrative",
        )
        db.add(version)
        stream_rows = [
            Stream(
                module_id=module.id,
                name=f"Big {n + 1}",
                starts_on=today - timedelta(days=9),
                ends_on=today + timedelta(days=30),
            )
            for n in range(streams)
        ]
        db.add_all(stream_rows)
        db.flush()
        db.execute(
            insert(User),
            [
                {
                    "platform_id": platform_id,
                    "sub": f"big{n}",
                    "given_name": f"Марат{n}",
                    "family_name": f"Ахметов{n % 500}",
                    "name": "",
                    "email": "",
                    "locale": "",
                    "updated_at": utcnow(),
                }
                for n in range(cards)
            ],
        )
        ids = list(
            db.scalars(
                select(User.id).where(User.platform_id == platform_id, User.sub.like("big%"))
            )
        )
        db.execute(
            insert(Person),
            [
                {
                    "user_id": uid,
                    "department": f"Department {i % 20:02d}",
                    "source": "self",
                    "updated_at": utcnow(),
                }
                for i, uid in enumerate(ids)
            ],
        )
        db.execute(
            insert(Participant.__table__),
            [
                {
                    "module_id": module.id,
                    "stream_id": stream_rows[i % streams].id,
                    "version_id": version.id,
                    "user_id": uid,
                    "enrolled_via": "roster",
                    "status": "in_progress",
                    "contact_hours": 0,
                    "self_study_hours": 0,
                    "commission_number": "",
                    "record_number": "",
                    "mark_comment": "",
                    "verification_note": "",
                    "feedback_given": False,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for i, uid in enumerate(ids)
            ],
        )
        db.commit()
        return module.id


def old_stream_cards(db: Session, module_id: int) -> dict[int, list]:
    """The module page's list as it was: every card of the module, per stream."""
    rows = db.execute(
        select(Participant, User, Person.department)
        .join(User, User.id == Participant.user_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(Participant.module_id == module_id)
        .order_by(User.family_name, User.given_name, User.name, User.id)
    )
    result: dict[int, list] = {}
    for card, user, department in rows:
        result.setdefault(card.stream_id, []).append((card, user, department))
    return result


def time_service(app, counter, call, runs: int) -> dict:
    """A service call's queries and times, like `measure` for a page."""
    times, cpu, queries = [], [], set()
    for _ in range(runs + 1):
        with services(app).db.new_session() as db:
            before = counter.count
            start, start_cpu = time.perf_counter(), time.process_time()
            call(db)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            queries.add(counter.count - before)
    return {
        "median_ms": statistics.median(times[1:]),
        "max_ms": max(times[1:]),
        "cpu_ms": statistics.median(cpu[1:]),
        "queries": sorted(queries),
        "bytes": 0,
    }


def run(students: int, people: int, runs: int, cards: int = 6000) -> dict[str, dict]:
    """Seed a fresh database of this size and measure the overview and the to-do."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "tool": {
                    "data_dir": tmp,
                    "database_url": f"sqlite:///{tmp}/bench.db",
                    "base_url": "http://127.0.0.1:5000",
                },
                "keys": {"dir": f"{tmp}/keys"},
                "gradebook": {"worker": {"in_process": False}},
            }
        )
        upgrade(services(app).settings.tool.database_url)
        started = time.perf_counter()
        platform_id, coordinator_id = seed_teachhub(app, people, max(5, people // 40))
        mark_todo(app)
        context_id, tutor_id = seed_course(app, platform_id, students)
        big_module = seed_big_module(app, platform_id, cards)
        seeded = time.perf_counter() - started
        tutor = sign_in(app, platform_id, tutor_id, "instructor", context_id)
        # The leader of the first group, marked by the tutor: the group's GPA page.
        with services(app).db.new_session() as db:
            group_members = list(
                db.scalars(select(Portfolio).where(Portfolio.group_name == GROUPS[0]))
            )
            db.add(
                GroupLeader(
                    platform_id=platform_id,
                    group_name=GROUPS[0],
                    user_id=group_members[0].user_id,
                    set_by_id=tutor_id,
                )
            )
            db.commit()
            db.expunge_all()
        leader = sign_in(app, platform_id, group_members[0].user_id, "learner", context_id)
        coordinator = sign_in(app, platform_id, coordinator_id, "admin", None)
        counter = QueryCounter(services(app).db.engine)
        actor = Actor(
            user_id=coordinator_id,
            platform_id=platform_id,
            role=ToolRole.ADMIN,
            is_coordinator=True,
        )
        client = app.test_client()
        policy = services(app).get(GradingPolicy)
        with services(app).db.new_session() as db:
            learners = list(
                db.scalars(
                    select(Membership.user_id).where(
                        Membership.context_id == context_id, Membership.role == "learner"
                    )
                )
            )
            all_cards = db.query(Participant).count()
            entries = db.query(Entry).count()
        results = {
            "seed": {
                "students": students,
                "entries": entries,
                "cards": all_cards,
                "in the big module": cards,
                "in the leader's group": len(group_members),
                "seconds": round(seeded, 1),
            },
            "overview, page 1 by name": measure(
                client, counter, f"/portfolio/course?ls={tutor}", runs
            ),
            "overview, by GPA (all GPAs read)": measure(
                client, counter, f"/portfolio/course?sort=gpa&dir=desc&ls={tutor}", runs
            ),
            "overview, search + waiting, p. 2": measure(
                client,
                counter,
                f"/portfolio/course?q=%D1%81%D0%B5%D1%80%D1%96&state=waiting&page=2&ls={tutor}",
                runs,
            ),
            "  its GPAs: cumulative_gpas": time_service(
                app, counter, lambda db: cumulative_gpas(db, learners, policy), runs
            ),
            "  old way: academic_records": time_service(
                app, counter, lambda db: academic_records(db, learners, policy), runs
            ),
            "group leader's GPA page": measure(
                client, counter, f"/portfolio/group-gpa?ls={leader}", runs
            ),
            "  old way: a record per member": time_service(
                app,
                counter,
                lambda db: [gpa_by_course_year(db, p, policy) for p in group_members],
                runs,
            ),
            "coordinator's to-do": measure(
                client, counter, f"/teachhub/todo?ls={coordinator}", runs
            ),
            "module page (20 a stream)": measure(
                client, counter, f"/teachhub/modules/{big_module}?ls={coordinator}", runs
            ),
            "  its cards: stream_previews": time_service(
                app, counter, lambda db: participants.stream_previews(db, actor, big_module), runs
            ),
            "  old way: every card loaded": time_service(
                app, counter, lambda db: old_stream_cards(db, big_module), runs
            ),
        }
        services(app).db.engine.dispose()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument(
        "--people", type=int, default=2000, help="TeachHub participants (three cards each)"
    )
    parser.add_argument("--cards", type=int, default=6000, help="cards of the big module")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    small = run(
        max(50, args.students // 10), max(50, args.people // 10), 3, max(60, args.cards // 10)
    )
    big = run(args.students, args.people, args.runs, args.cards)
    print(f"Seeded: {big['seed']} (small run: {small['seed']})")
    print(
        f"{'request':36} {'queries':>8} {'small':>6} {'median ms':>10} {'max ms':>8} "
        f"{'CPU ms':>7} {'bytes':>9}"
    )
    ok = True
    for name, figures in big.items():
        if name == "seed":
            continue
        # The least per request: a session refresh may add a write to one request in a run.
        # The old ways are shown for comparison: theirs may grow.
        fixed = name.startswith("  old way") or min(small[name]["queries"]) == min(
            figures["queries"]
        )
        ok &= fixed
        print(
            f"{name:36} {','.join(map(str, figures['queries'])):>8} "
            f"{','.join(map(str, small[name]['queries'])):>6} {figures['median_ms']:10.1f} "
            f"{figures['max_ms']:8.1f} {figures['cpu_ms']:7.1f} {figures['bytes']:9d}"
        )
        if not fixed:
            print(f"FAIL: {name}: the query count grows with the data")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
