"""Rating statement speed: the statement of a course of 300 students with 40 line items (issue 13).
Prints SQL queries per request and server time for the page, the XLSX and the PDF.

    .venv/bin/python bench/statement.py [--runs N]

The tool runs in-process (Flask's test client, SQLite in a temporary directory), as in
bench/portfolio.py, whose session and measuring helpers it uses. Each export is measured at
two sizes (30 and 300 students, 40 line items each, 33 of them mapped to the statement's
parts, a result for every student on every item): the same query count at both sizes is the
proof of no N+1.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from portfolio import measure, session_token  # bench/portfolio.py

from lti_tool import create_app
from lti_tool.extensions import services
from lti_tool.gradebook.models import LineItem, Result
from lti_tool.lti.models import Context, Membership, Platform, User
from lti_tool.migrate import upgrade
from lti_tool.statements.models import StatementCourse, StatementMapping
from lti_tool.statements.structure import Structures

ITEMS = 40


def seed(app, students: int) -> dict:
    """A course with `students` learners, 40 line items, every result, a mapped statement."""
    structure = services(app).get(Structures)["appendix2"]
    with services(app).db.new_session() as db:
        platform = Platform(
            issuer=f"https://canvas.bench/{secrets.token_hex(3)}",
            client_id="c",
            auth_login_url="x",
            auth_token_url="x",
            key_set_url="x",
        )
        db.add(platform)
        db.flush()
        course = Context(
            platform_id=platform.id, context_id=secrets.token_hex(4), title="Дуальное обучение"
        )
        db.add(course)
        db.flush()
        teacher = User(platform_id=platform.id, sub="teacher", name="Оқытушы")
        db.add(teacher)
        db.flush()
        db.add(Membership(user_id=teacher.id, context_id=course.id, role="instructor", roles=[]))
        users = [
            User(
                platform_id=platform.id,
                sub=f"s{n}",
                name=f"Студент {n}",
                given_name="Студент",
                family_name=f"{n:04d}",
            )
            for n in range(students)
        ]
        db.add_all(users)
        db.flush()
        db.add_all(
            [
                Membership(user_id=u.id, context_id=course.id, role="learner", roles=[])
                for u in users
            ]
        )
        items = [
            LineItem(
                context_id=course.id,
                url=f"https://canvas.bench/li/{course.id}/{i}",
                label=f"Column {i}",
                score_maximum=100.0,
            )
            for i in range(ITEMS)
        ]
        db.add_all(items)
        db.flush()
        for n, user in enumerate(users):
            db.add_all(
                [
                    Result(
                        line_item_id=item.id,
                        user_id=user.id,
                        result_score=float(50 + (n + i) % 50),
                        result_maximum=100.0,
                    )
                    for i, item in enumerate(items)
                ]
            )
        db.add(
            StatementCourse(
                context_id=course.id,
                structure_id=structure.id,
                group_name="ИС-22-1",
                version=0,
                updated_by="",
            )
        )
        db.add_all(
            [
                StatementMapping(context_id=course.id, slot=slot.key, line_item_id=items[i].id)
                for i, slot in enumerate(structure.slots)
            ]
        )
        db.commit()
        return {"platform": platform.id, "course": course.id, "teacher": teacher.id}


def main() -> int:
    """Seed two sizes, measure the page and the exports, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data_dir = tempfile.mkdtemp(prefix="bench-statement-")
    app = create_app(
        {
            "tool": {
                "data_dir": data_dir,
                "database_url": f"sqlite:///{data_dir}/t.db",
                "base_url": "http://127.0.0.1:5000",
            },
            "keys": {"dir": f"{data_dir}/keys"},
            "gradebook": {"worker": {"in_process": False}},
        }
    )
    upgrade(services(app).settings.tool.database_url)
    print(
        f"Rating statement, in-process WSGI, SQLite, {ITEMS} line items (33 mapped); server "
        f"time per request over {args.runs} warm runs"
    )
    print(f"{'request':<28}{'students':>9}{'queries':>9}{'median ms':>11}{'p95 ms':>9}{'KB':>7}")
    for students in (30, 300):
        ids = seed(app, students)
        token = session_token(
            app,
            {
                "user_id": ids["teacher"],
                "platform_id": ids["platform"],
                "context_id": ids["course"],
                "role": "instructor",
                "locale": "ru",
            },
        )
        for label, path in (
            ("statement page", "/statement"),
            ("statement XLSX", "/statement/export.xlsx"),
            ("statement PDF", "/statement/export.pdf"),
        ):
            queries, times, length = measure(app, f"{path}?ls={token}", args.runs)
            median = statistics.median(times)
            p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
            print(
                f"{label:<28}{students:>9}{queries:>9}{median:>11.1f}{p95:>9.1f}"
                f"{length / 1024:>7.0f}"
            )
    print("a fixed number of queries at both sizes: no query per student or per line item")
    return 0


if __name__ == "__main__":
    sys.exit(main())
