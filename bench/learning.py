"""Staff learning: the consolidated list of every form with 2,000 people and 20,000 activities
(4,000 TeachHub module cards and 16,000 recorded activities of the forms 4.1-4.4), and issuing
1,000 Open Badges 3.0 credentials.

Seeds a scratch SQLite database, signs an HR coordinator in, requests the list page, a filtered
page and both exports through the real app, and prints per request the SQL query count and the
server time; a seed a tenth the size shows the query count does not grow with the data. Then
issues 1,000 credentials (row, OpenBadgeCredential, RS256 VC-JWT) the naive way (the key's PEM
parsed for every signature, a commit per credential) and 1,000 others as the tool does (the key
parsed once per kid, one commit for the batch), and builds the status list (one query).

    .venv/bin/python bench/learning.py [--people 2000] [--activities 16000] [--runs 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jwt
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


def _naive_sign(body: dict, key) -> str:
    """Signing as it was: jwt.encode with the PEM text, parsed (and checked) on every call."""
    valid_from = datetime.strptime(body["validFrom"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    claims = {**body, "iss": body["issuer"]["id"], "nbf": int(valid_from.timestamp())}
    claims["jti"], claims["sub"] = body["id"], body["credentialSubject"]["id"]
    return jwt.encode(
        claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"}
    )


def _recognised_ids(db, platform_id: int, count: int, skip: int) -> list[int]:
    return list(
        db.scalars(
            select(Activity.id)
            .where(Activity.platform_id == platform_id, Activity.status == rules.RECOGNIZED)
            .order_by(Activity.id)
            .offset(skip)
            .limit(count)
        )
    )


def _body(issuer, record, credential) -> dict:
    return ob3.credential_json(
        record,
        credential,
        issuer,
        verify_url=f"{issuer.base_url}/verify/{credential.token}",
        form_name=record.form,
        description=record.title,
    )


def issue_many(app, platform_id: int, count: int) -> dict:
    """Issue `count` credentials the naive way (the key's PEM parsed for each signature, a
    commit per credential) and `count` others the way the tool does now (the key parsed once
    per kid, one commit for the batch); then build the status list. Seconds and queries."""
    issuer = shared_ob3.Issuer("http://127.0.0.1:5000", "KazNMU")
    key = services(app).keyring.current()
    counter = QueryCounter(services(app).db.engine)
    figures: dict = {}
    with app.test_request_context("/"), services(app).db.new_session() as db:
        naive_ids = _recognised_ids(db, platform_id, count, 0)
        fast_ids = _recognised_ids(db, platform_id, count, count)
        db.expunge_all()

        before, started = counter.count, time.perf_counter()
        for activity_id in naive_ids:
            activity = db.get(Activity, activity_id)
            record = credentials._activity_record(db, activity, "", Decimal(30))
            credential = credentials.issue(db, record)  # commits each
            _naive_sign(_body(issuer, record, credential), key)
        figures["naive"] = {
            "credentials": len(naive_ids),
            "seconds": time.perf_counter() - started,
            "queries": counter.count - before,
        }
        db.expunge_all()

        before, started = counter.count, time.perf_counter()
        activities = list(db.scalars(select(Activity).where(Activity.id.in_(fast_ids))))
        # Kept referenced, so the records' look-ups of their people hit the identity map.
        people = list(db.scalars(select(User).where(User.id.in_({a.user_id for a in activities}))))
        records = [
            credentials._activity_record(db, activity, "", Decimal(30)) for activity in activities
        ]
        issued = credentials.issue_all(db, records)  # one commit
        by_id = {record.record_id: record for record in records}
        for credential in issued:
            body = _body(issuer, by_id[credential.activity_id], credential)
            shared_ob3.sign(body, key, subject=body["credentialSubject"]["id"])
        figures["batch"] = {
            "credentials": len(issued) if people else 0,
            "seconds": time.perf_counter() - started,
            "queries": counter.count - before,
        }

        before, started = counter.count, time.perf_counter()
        shared_ob3.status_list(db, issuer, key, utcnow())
        figures["status_list_ms"] = (time.perf_counter() - started) * 1000
        figures["status_list_queries"] = counter.count - before
    return figures


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
        upgrade(services(app).settings.tool.database_url)
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
        # The fewest queries of a request: now and then a request also moves the session's idle
        # expiry on (one UPDATE, web_session.TOUCH_EVERY), which is not the page's own.
        if min(small[name]["queries"]) != min(big[name]["queries"]):
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
    for name, label in (
        ("naive", "naive: PEM parsed per signature, a commit each"),
        ("batch", "now: key parsed once per kid, one commit"),
    ):
        f = issued[name]
        print(
            f"Issued {f['credentials']} credentials (row + OpenBadgeCredential + RS256 VC-JWT), "
            f"{label}: {f['seconds']:.2f} s ({f['seconds'] * 1000 / max(1, f['credentials']):.2f}"
            f" ms each), {f['queries']} queries"
        )
    print(
        f"Status list built and signed in {issued['status_list_ms']:.1f} ms, "
        f"{issued['status_list_queries']} query for {2 * args.issue} credentials"
    )
    if issued["status_list_queries"] != 1:
        print("FAIL: the status list must be one query, whatever the number of credentials")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
