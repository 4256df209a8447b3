"""Portfolio speed: the student's page with 300 entries and 300 evidence files, and the tutor's
course view of 200 students. Prints SQL queries per request and server time.

    .venv/bin/python bench/portfolio.py [--runs N]

The tool runs in-process (its WSGI app through Flask's test client, SQLite in a temporary
directory): the time measured is the tool's own work for one request, without HTTP. Queries are
counted with a SQLAlchemy event listener on the engine, for every statement the request runs
(session load included). Each page is measured at two sizes: a fixed number of queries whatever
the size is the proof of no N+1.

Target (issue 3): a fixed query count, and well under 50 ms server time per page.
Exit status: 1 when a page fails; a missed target is reported ("TARGET MISSED").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from lti_tool.extensions import services

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lti_tool import create_app
from lti_tool.db import utcnow
from lti_tool.evidence.models import EvidenceFile
from lti_tool.lti.models import Context, Membership, Platform, User
from lti_tool.migrate import upgrade
from lti_tool.portfolio.models import Decision, Entry, EntryEvidence, Portfolio
from lti_tool.web_session import WebSession

TARGET_MS = 50.0
LISTS = [("olympiads", "olympiad", "republic", "first", 100),
         ("conferences", "conference", "international", "talk", 130),
         ("electives", "elective", None, None, 10),
         ("sports", "sports_competition", "university", "second", 75),
         ("letters", "thank_you_letter", None, None, 20)]
STATUSES = ["draft", "submitted", "verified", "returned", "verified", "rejected"]


def _entries(db, portfolio: Portfolio, owner: User, n: int, files: int) -> None:
    made = []
    for i in range(n):
        list_key, item, level, result, points = LISTS[i % len(LISTS)]
        status = STATUSES[i % len(STATUSES)]
        entry = Entry(portfolio_id=portfolio.id,
                      section="chest" if list_key == "letters" else "achievements",
                      list_key=list_key, item_key=item, course_year=1 + i % 5, level=level,
                      result=result, count=1, title=f"Entry {i} — Олимпиада по анатомии",
                      fields={"note": "Диплом I степени", "when": "2026-03-14"},
                      claimed_points=points,
                      verified_points=points if status == "verified" else None, status=status)
        db.add(entry)
        made.append(entry)
    db.flush()
    for i, entry in enumerate(made):
        if entry.status != "draft":
            db.add(Decision(entry_id=entry.id, action="submit", from_status="draft",
                            to_status="submitted", actor_id=owner.id, actor_name="S"))
        if i < files:
            image = i % 2 == 0
            evidence = EvidenceFile(
                platform_id=owner.platform_id, owner_user_id=owner.id,
                storage_name=secrets.token_hex(16) + (".png" if image else ".pdf"),
                original_name=f"диплом-{i}.{'png' if image else 'pdf'}",
                content_type="image/png" if image else "application/pdf", size=12345,
                sha256="0" * 64, thumbnail_name=secrets.token_hex(16) + ".thumb.jpg"
                if image else None)
            db.add(evidence)
            db.flush()
            db.add(EntryEvidence(entry_id=entry.id, evidence_id=evidence.id))


def seed(app, entries: int, files: int, students: int) -> dict:
    """A platform, a course, one student with `entries`, and `students` classmates."""
    with services(app).db.new_session() as db:
        platform = Platform(issuer=f"https://moodle.bench/{secrets.token_hex(3)}", client_id="c",
                            auth_login_url="x", auth_token_url="x", key_set_url="x")
        db.add(platform)
        db.flush()
        course = Context(platform_id=platform.id, context_id=secrets.token_hex(4),
                         title="Anatomy")
        db.add(course)
        db.flush()
        tutor = User(platform_id=platform.id, sub="tutor", name="Tulegen Tutor")
        db.add(tutor)
        db.flush()
        db.add(Membership(user_id=tutor.id, context_id=course.id, role="instructor", roles=[]))
        owner = None
        for n in range(students):
            user = User(platform_id=platform.id, sub=f"s{n}", name=f"Студент {n}",
                        given_name="Студент", family_name=f"{n:04d}")
            db.add(user)
            db.flush()
            db.add(Membership(user_id=user.id, context_id=course.id, role="learner", roles=[]))
            portfolio = Portfolio(platform_id=platform.id, user_id=user.id,
                                  full_name=f"Студент {n}", group_name=f"МД-{n % 8}",
                                  course_year=1 + n % 5, specialty="Общая медицина")
            db.add(portfolio)
            db.flush()
            if n == 0:
                owner = (user, portfolio)
                _entries(db, portfolio, user, entries, files)
            else:
                _entries(db, portfolio, user, 10, 0)
        db.commit()
        return {"platform": platform.id, "course": course.id, "tutor": tutor.id,
                "student": owner[0].id}


def session_token(app, data: dict) -> str:
    """A signed-in web session, as a launch would have made it."""
    token = secrets.token_urlsafe(32)
    with services(app).db.new_session() as db:
        db.add(WebSession(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                          data=json.dumps(data), expires_at=utcnow() + timedelta(hours=8)))
        db.commit()
    return token


def measure(app, url: str, runs: int) -> tuple[int, list[float], int]:
    """(queries of one request, server times in ms, response size)."""
    engine = services(app).db.engine
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        client = app.test_client()
        for _ in range(3):  # warm: templates compiled, csrf token in the session
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}\n{response.text[:800]}")
        counter["n"] = 0
        client.get(url)
        queries = counter["n"]
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        return queries, times, len(response.data)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def main() -> int:
    """Seed two sizes, measure each page, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data_dir = tempfile.mkdtemp(prefix="bench-portfolio-")
    app = create_app({"tool": {"data_dir": data_dir, "database_url": f"sqlite:///{data_dir}/t.db",
                               "base_url": "http://127.0.0.1:5000"},
                      "keys": {"dir": f"{data_dir}/keys"},
                      "gradebook": {"worker": {"in_process": False}}})
    upgrade(services(app).settings.tool.database_url)
    print("Portfolio pages, in-process WSGI, SQLite; server time per request over "
          f"{args.runs} warm runs")
    print(f"{'page':<44}{'size':>14}{'queries':>9}{'median ms':>11}{'p95 ms':>9}{'KB':>7}")
    missed = False
    for entries, files, students in ((100, 100, 50), (300, 300, 200)):
        ids = seed(app, entries, files, students)
        student = session_token(app, {"user_id": ids["student"], "platform_id": ids["platform"],
                                      "context_id": ids["course"], "role": "learner",
                                      "locale": "ru"})
        tutor = session_token(app, {"user_id": ids["tutor"], "platform_id": ids["platform"],
                                    "context_id": ids["course"], "role": "instructor",
                                    "locale": "ru"})
        pid = _portfolio_id(app, ids["student"])
        for label, url, size in (
                ("student's portfolio page", f"/portfolio/?ls={student}",
                 f"{entries} entries, {files} files"),
                ("tutor's course view", f"/portfolio/course?ls={tutor}", f"{students} students"),
                ("tutor's queue", f"/portfolio/course/queue?ls={tutor}", f"{students} students"),
                ("tutor views the student's portfolio",
                 f"/portfolio/{pid}?ls={tutor}",
                 f"{entries} entries")):
            queries, times, length = measure(app, url, args.runs)
            median = statistics.median(times)
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            flag = "" if median < TARGET_MS else "  TARGET MISSED"
            missed |= bool(flag)
            print(f"{label:<44}{size:>14}{queries:>9}{median:>11.1f}{p95:>9.1f}"
                  f"{length / 1024:>7.0f}{flag}")
    print(f"target: a fixed number of queries at both sizes, median < {TARGET_MS:.0f} ms")
    if missed:
        print("TARGET MISSED")
    return 0


def _portfolio_id(app, user_id: int) -> int:
    """The portfolio of a user."""
    with services(app).db.new_session() as db:
        return db.scalar(select(Portfolio.id).where(Portfolio.user_id == user_id))


if __name__ == "__main__":
    sys.exit(main())
