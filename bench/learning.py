"""Staff learning: the consolidated list of every form with 2,000 people and 20,000 activities
(4,000 TeachHub module cards and 16,000 recorded activities of the forms 4.1-4.4), and issuing
1,000 Open Badges 3.0 credentials.

Seeds a scratch SQLite database, signs an HR coordinator in, requests the list page, a filtered
page and both exports through the real app, and prints per request the SQL query count and the
server time; a seed a tenth the size shows the query count does not grow with the data. Then
issues 1,000 credentials (row, OpenBadgeCredential, RS256 VC-JWT) and builds the status list.

    .venv/bin/python bench/learning.py [--people 2000] [--activities 16000] [--runs 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from teachhub import QueryCounter, measure, seed as seed_teachhub, sign_in

from lti_tool import create_app
from lti_tool.credentials import ob3 as shared_ob3
from lti_tool.db import utcnow
from lti_tool.extensions import services
from lti_tool.learning import credentials, ob3, rules
from lti_tool.learning.models import Activity
from lti_tool.lti.models import User
from lti_tool.migrate import upgrade

AREAS = [
    "clinical_practice",
    "pedagogy",
    "assessment_simulation_mentoring",
    "digital_management",
    "patient_safety_ebm_ethics",
]
STATUSES = [
    rules.IMPLEMENTED,
    rules.SUBMITTED,
    rules.RETURNED,
    rules.RECOGNIZED,
    rules.RECOGNIZED,
    rules.REVOKED,
]


class AppQueries(QueryCounter):
    """Counts the SQL a request runs for its page, not the session's idle-expiry touch (an
    UPDATE of web_sessions once a minute or so: a slow run makes it fall inside more requests)."""

    def _count(self, _conn, _cursor, statement, *_args, **_kwargs):
        if "web_sessions" not in statement:
            self.count += 1


def seed_activities(app, platform_id: int, count: int) -> None:
    """`count` activities of the four forms spread over the platform's people."""
    rng = random.Random(11)
    today = date.today()
    with services(app).db.new_session() as db:
        people = list(
            db.scalars(
                select(User.id).where(User.platform_id == platform_id, User.sub != "coordinator")
            )
        )
        rows = []
        for n in range(count):
            form = rules.FORMS[n % 4]
            status = rng.choice(STATUSES)
            ends = today - timedelta(days=rng.randint(1, 700))
            hours = Decimal(rng.randint(100, 7200)) / 100
            decided = status in (rules.RECOGNIZED, rules.REVOKED)
            rows.append(
                {
                    "platform_id": platform_id,
                    "user_id": people[n % len(people)],
                    "form": form,
                    "format": "",
                    "title": f"{form} activity {n}",
                    "foreign_language": False,
                    "title_translation": "",
                    "organiser": "Organiser",
                    "mentor": "",
                    "starts_on": ends - timedelta(days=rng.randint(0, 30)),
                    "ends_on": ends,
                    "content": "Content",
                    "competence_area": rng.choice(AREAS),
                    "hours_claimed": hours,
                    "hours_estimated": False,
                    "estimate_reason": "",
                    "status": status,
                    "revision": 1,
                    "opinion_note": "",
                    "returned_reason": "",
                    "submitted_on": ends if status != rules.IMPLEMENTED else None,
                    "hours_recognized": hours if decided else None,
                    "hours_note": "",
                    "decision_date": today if decided else None,
                    "decision_number": f"{rng.randint(1, 99)}/2026" if decided else "",
                    "revoked_reason": "",
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )
        db.execute(insert(Activity), rows)
        db.commit()


def issue_many(app, platform_id: int, count: int) -> dict:
    """Issue `count` credentials (row + signed VC-JWT) and build the status list; seconds."""
    issuer = shared_ob3.Issuer("http://127.0.0.1:5000", "KazNMU")
    key = services(app).keyring.current()
    with app.test_request_context("/"), services(app).db.new_session() as db:
        ids = list(
            db.scalars(
                select(Activity.id)
                .where(Activity.platform_id == platform_id, Activity.status == rules.RECOGNIZED)
                .limit(count)
            )
        )
        started = time.perf_counter()
        for activity_id in ids:
            activity = db.get(Activity, activity_id)
            record = credentials._activity_record(db, activity, "", Decimal(30))
            credential = credentials.issue(db, record)
            body = ob3.credential_json(
                record,
                credential,
                issuer,
                verify_url=f"{issuer.base_url}/verify/{credential.token}",
                form_name=record.form,
                description=record.title,
            )
            shared_ob3.sign(body, key, subject=body["credentialSubject"]["id"])
        issued = time.perf_counter() - started
        started = time.perf_counter()
        shared_ob3.status_list(db, issuer, key, utcnow())
        listed = time.perf_counter() - started
    return {"credentials": len(ids), "seconds": issued, "status_list_ms": listed * 1000}


def run(people: int, activities: int, runs: int, issue: int) -> dict:
    """Seed a database of this size; measure the list and its exports (and issuing)."""
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
        upgrade(app.config["DATABASE_URL"])
        services(app).keyring.ensure()
        started = time.perf_counter()
        platform_id, coordinator_id = seed_teachhub(app, people, 50, per_person=2)
        seed_activities(app, platform_id, activities)
        seeded = time.perf_counter() - started
        token = sign_in(app, platform_id, coordinator_id)
        counter = AppQueries(services(app).db.engine)
        client = app.test_client()
        since = (date.today() - timedelta(days=180)).isoformat()
        results = {
            "seed": {
                "people": people,
                "cards": people * 2,
                "activities": activities,
                "seconds": round(seeded, 1),
            },
            "list page 1": measure(client, counter, f"/learning/list?ls={token}", runs),
            "list page 50": measure(client, counter, f"/learning/list?page=50&ls={token}", runs),
            "list, form+status+area+period+dept": measure(
                client,
                counter,
                f"/learning/list?form=online&status=recognized&area=pedagogy"
                f"&from={since}&department=Department+07&ls={token}",
                runs,
            ),
            "list XLSX export": measure(
                client, counter, f"/learning/list.xlsx?ls={token}", max(2, runs // 5)
            ),
            "list CSV export": measure(
                client, counter, f"/learning/list.csv?ls={token}", max(2, runs // 5)
            ),
        }
        if issue:
            results["issue"] = issue_many(app, platform_id, issue)
        services(app).db.engine.dispose()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--activities", type=int, default=16000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--issue", type=int, default=1000)
    args = parser.parse_args()
    small = run(max(50, args.people // 10), max(100, args.activities // 10), 3, 0)
    big = run(args.people, args.activities, args.runs, args.issue)
    print(f"Seeded: {big['seed']}")
    print(f"{'request':40} {'queries':>8} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
    for name, figures in big.items():
        if name in ("seed", "issue"):
            continue
        print(
            f"{name:40} {','.join(map(str, figures['queries'])):>8} "
            f"{figures['median_ms']:10.1f} {figures['max_ms']:8.1f} {figures['bytes']:10d}"
        )
    ok = True
    for name in ("list page 1", "list page 50", "list XLSX export"):
        if small[name]["queries"] != big[name]["queries"]:
            print(
                f"FAIL: {name}: {small[name]['queries']} queries with the small seed, "
                f"{big[name]['queries']} with the large one: the count must not grow"
            )
            ok = False
    print(
        f"Query count with a tenth of the data: page {small['list page 1']['queries']}, "
        f"export {small['list XLSX export']['queries']} (the same as above: fixed)"
    )
    issued = big["issue"]
    print(
        f"Issued {issued['credentials']} credentials (row + OpenBadgeCredential + RS256 "
        f"VC-JWT) in {issued['seconds']:.2f} s "
        f"({issued['seconds'] * 1000 / max(1, issued['credentials']):.2f} ms each); "
        f"status list built and signed in {issued['status_list_ms']:.1f} ms"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
