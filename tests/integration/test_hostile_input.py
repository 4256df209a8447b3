"""Every route, as every role, with hostile values in every path part, query parameter and form
field it reads: the tool answers 4xx (or its page), never a 5xx and never a stack trace.

The routes come from the app's URL map and the fields from the app itself: the names of the
forms on its pages, plus every name a view reads from request.args / request.form during the
test's own first request to the route (the request class records them). A new route or a new
field is attacked without a change here.

The people launch for real through the test platform (one served tool): a learner (on a module
card, with a portfolio entry, a file, a showcase link and a task), a course instructor, the
module's facilitator, a coordinator (named by the administrator), the administrator, and
anonymous. The attack itself uses Flask's test client in-process with their session tokens: it
is about the app's answers. Missing fields are the first request to each route; then each value
in each place, a repeated field, 1 MiB in each field, JSON of the wrong types.
"""

from __future__ import annotations

import io
import re
import time
from contextlib import ExitStack
from urllib.parse import quote

import pytest
from flask import Request
from flask.testing import FlaskClient
from lti_platform import Platform
from sqlalchemy import select
from teachhub_helpers import launch, participant, published_module
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.test import run_wsgi_app

from lti_tool.evidence.models import EvidenceFile
from lti_tool.extensions import services
from lti_tool.portfolio.models import Entry, Showcase, Summary
from lti_tool.teachhub.models import Participant, Task

# Values every path part gets alone, and every field and query parameter gets (in all of a
# route's fields at once; the SHARP ones also alone in each field).
HOSTILE = [
    "²",  # "²".isdigit() is True, int("²") raises
    "٣",  # an Arabic-Indic digit: int() takes it
    "１２",  # full-width digits
    "99999999999999999999",  # over SQLite's 2**63-1
    "2147483648",  # over PostgreSQL's integer
    "-1",
    "-99999999999999999999",
    "0",
    "1e100",
    "NaN",
    "Infinity",
    "1_000",
    "1:²",  # the queue's "entry:version" with a bad half
    "\x00\x01\x1b[31m\x7f",  # control characters
    "2026-13-45",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "\u202e\u200b",  # bidi override, zero width space
]
# The sharpest, also sent alone in each field.
SHARP = ["²", "99999999999999999999", "1e100", "-1"]
LONG = "A" * (1 << 20)  # 1 MiB (ASCII: quoting Cyrillic would take seconds)
ROLES = ("anonymous", "learner", "instructor", "facilitator", "coordinator", "administrator")
# Never attacked: the session token (it would only sign the person out) and the CSRF token (a
# bad one is refused before anything else is read).
KEPT = {"ls", "csrf_token"}
FORM_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.I)
FORM = re.compile(r'<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>', re.I | re.S)
TRACE = ("Traceback (most recent call last)", 'File "/')
# Routes that take something away run last, so the others still find it.
LAST = re.compile(r"delete|revoke|archive|withdraw")

READ: set[str] = set()


class RecordingDict(ImmutableMultiDict):
    """request.args and request.form that remember which names the view asked for."""

    def __getitem__(self, key):
        READ.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        READ.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        READ.add(key)
        return super().__contains__(key)


class RecordingRequest(Request):
    """The app's request with recording args and form."""

    parameter_storage_class = RecordingDict


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 120, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def world(tool):
    """One platform, one person per role, and one of everything the routes take an id of."""
    with ExitStack() as stack:
        platform = stack.enter_context(Platform("moodle"))
        tool.register(platform)
        setup = published_module(tool, platform, stack)
        learner = participant(tool, platform, stack, setup, uid="61", name="Ерлан")
        instructor = launch(
            tool, platform, stack, {"role": "teacher", "id": "62", "username": "tutor62"}
        )
        coordinator = launch(
            tool, platform, stack, {"role": "teacher", "id": "63", "username": "coord63"}
        )
        named = setup.coordinator.post(
            "/teachhub/coordinators", {"user_id": str(coordinator.user_id)}
        )
        assert named.status_code == 200, named.text[:400]
        people = {
            "learner": learner,
            "instructor": instructor,
            "facilitator": setup.facilitator,
            "coordinator": coordinator,
            "administrator": setup.coordinator,
        }
        # One of each thing: an entry with a file, a summary, a showcase link, a task with a file.
        entry = learner.post(
            "/portfolio/entries/new?list=olympiads",
            {
                "list": "olympiads",
                "course_year": "2",
                "action": "submit",
                "item": "olympiad",
                "level": "republic",
                "result": "first",
                "f_title": "Олимпиада",
                "f_when": "2026-03-14",
                "f_note": "Диплом",
            },
        )
        entry_id = int(re.search(r"/portfolio/entries/(\d+)", entry.url).group(1))
        learner.post(
            f"/portfolio/entries/{entry_id}/evidence",
            files={"file": ("photo.png", _png(), "image/png")},
        )
        learner.post(
            "/portfolio/showcase",
            {"title": "CV", "sections": ["achievements"], "entries": [str(entry_id)], "days": "30"},
        )
        with services(tool.app).db.new_session() as db:
            found = db.get(Entry, entry_id)
            card_id = db.scalars(
                select(Participant.id).where(Participant.user_id == learner.user_id)
            ).one()
        learner.post(
            f"/teachhub/cards/{card_id}/tasks",
            {"title": "Mini-project", "description": "Audit", "completed_on": ""},
            files={"file": ("task.png", _png(), "image/png")},
        )
        from learning_helpers import activity_data

        recorded = learner.post("/learning/new", activity_data("online"))
        activity_id = int(re.search(r"/learning/activities/(\d+)", recorded.url).group(1))
        learner.post(
            f"/learning/activities/{activity_id}/evidence",
            {"kind": "certificate"},
            files={"file": ("cert.png", _png(), "image/png")},
        )
        instructor.post(
            f"/portfolio/{found.portfolio_id}/summaries/new",
            {
                "version": "0",
                "academic_year": "2025-2026",
                "course_year": "2",
                "points": "0",
                "academic_level": "",
                "achievement_level": "low",
                "tutor_name": "T",
                "summary_date": "2026-06-20",
            },
        )
        with services(tool.app).db.new_session() as db:
            ids = {
                "module_id": setup.module_id,
                "stream_id": setup.stream_id,
                "card_id": card_id,
                "activity_id": activity_id,
                "fmt": "json",
                "kind": "report",
                "entry_id": entry_id,
                "portfolio_id": found.portfolio_id,
                "number": 1,
                "user_id": learner.user_id,
                "evidence_id": db.scalars(
                    select(EvidenceFile.id).order_by(EvidenceFile.id.desc())
                ).first()
                or 1,
                "task_id": db.scalars(select(Task.id)).first() or 1,
                "summary_id": db.scalars(select(Summary.id)).first() or 1,
                "showcase_id": db.scalars(select(Showcase.id)).first() or 1,
                "credential_id": 1,  # a portfolio credential (none issued here: 404s alike)
                "token": db.scalars(select(Showcase.token)).first() or "x",
                "page": "profile",
                "filename": "style.css",
                # The demo LMS (embedded default): a course and a seat of its role picker.
                "context_id": "demo-pedagogy-2",
                "seat": "student",
                "item_id": 1,
                "week": 1,  # the statement's week form
            }
        tokens = {role: (person.token, person._csrf) for role, person in people.items()}
        tokens["anonymous"] = (None, None)
        yield {"ids": ids, "tokens": tokens}


class _ClientWithoutJar(FlaskClient):
    """A test client with no cookie jar: the people sign in with their session tokens (`ls`).

    Even without a jar, werkzeug's client rebuilds each request's URL (here up to 1 MiB of query
    string) to match cookies against it: that was a third of this test's time.
    """

    def run_wsgi_app(self, environ, buffered=False):
        return run_wsgi_app(self.application, environ, buffered=buffered)


def _path(rule, values: dict) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[^:>]+:)?{arg}>", quote(str(values[arg]), safe=""), path)
    return path


def _fault(response) -> str | None:
    """Why an answer is wrong (a 5xx, a stack trace), or None."""
    body = response.get_data().decode("utf-8", "replace")
    if response.status_code >= 500:
        return str(response.status_code)
    if any(mark in body for mark in TRACE):
        return "a stack trace in the body"
    return None


@pytest.mark.timeout(900)  # every route of every role: staff learning (issue 14) added ~20
def test_every_route_survives_hostile_input(tool, world, capsys):
    app = tool.app
    normal_class = app.request_class
    app.request_class = RecordingRequest
    client = _ClientWithoutJar(app, app.response_class, use_cookies=False)
    counts = {"requests": 0, "routes": 0, "fields": 0}
    faults: list[str] = []
    started = time.monotonic()

    def send(method: str, path: str, role: str, *, query=(), form=(), what: str, **kwargs):
        token, csrf = world["tokens"][role]
        query = list(query) + ([("ls", token)] if token else [])
        if method == "POST" and "json" not in kwargs and "data" not in kwargs:
            kwargs["data"] = ImmutableMultiDict(
                list(form) + ([("csrf_token", csrf)] if csrf else [])
            )
        READ.clear()
        response = client.open(path, method=method, query_string=query, **kwargs)
        counts["requests"] += 1
        fault = _fault(response)
        response.close()  # files are sent from open handles
        if fault:
            faults.append(f"{role} {method} {path[:80]} {what}: {fault}")
        return response

    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (bool(LAST.search(r.rule)), r.rule),
    )
    try:
        # Names every request reads (the language switch): attacked once, on one page.
        common: set[str] = set()
        for role in ROLES:
            send("GET", "/no-such-page", role, what="(probe)")
            common |= READ
        for i, value in enumerate([*HOSTILE, LONG]):
            for name in sorted(common - KEPT):
                send(
                    "GET",
                    "/portfolio/",
                    ROLES[i % len(ROLES)],
                    query=[(name, value)],
                    what=f"{name}={value[:20]!r}",
                )
        # Every GET page as every role: what each view reads, and the fields of its forms.
        reads: dict[tuple, set[str]] = {}
        form_names: dict[str, set[str]] = {}
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            for role in ROLES:
                page = send("GET", _path(rule, world["ids"]), role, what="(normal)")
                reads[id(rule), "GET", role] = READ - KEPT - common
                html = (
                    page.get_data().decode("utf-8", "replace")
                    if page.mimetype == "text/html"
                    else ""
                )
                for action, body in FORM.findall(html):
                    target = action.split("?")[0] or _path(rule, world["ids"])
                    form_names.setdefault(target, set()).update(FORM_FIELD.findall(body))
        for rule in rules:
            counts["routes"] += 1
            path = _path(rule, world["ids"])
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for role in ROLES:
                    if (id(rule), method, role) not in reads:  # POST: the first request records
                        send(method, path, role, what="(probe)")
                        reads[id(rule), method, role] = READ - KEPT - common
                readers = {role: reads[id(rule), method, role] for role in ROLES}
                deep = [role for role in ROLES if readers[role]] or list(ROLES)
                # Each hostile value once in each path part, the roles taking turns.
                for arg in rule.arguments:
                    # <int:...> takes ASCII digits only: the others never reach a view.
                    numeric = type(rule._converters[arg]).__name__ == "IdConverter"
                    values = [
                        v for v in [*HOSTILE, LONG] if not numeric or (v.isascii() and v.isdigit())
                    ]
                    for i, value in enumerate(values):
                        send(
                            method,
                            _path(rule, {**world["ids"], arg: value}),
                            ROLES[i % len(ROLES)],
                            what=f"path {arg}={value[:20]!r}",
                        )
                names = sorted(
                    set().union(*readers.values()) | (form_names.get(path, set()) - KEPT - common)
                )
                if not names:
                    continue
                counts["fields"] += len(names)
                # Each hostile value in every field at once, the roles that read them taking
                # turns (half as JSON clients: their 400s are JSON) ...
                for i, value in enumerate(HOSTILE):
                    role = deep[i % len(deep)]
                    every = [(name, value) for name in names]
                    send(
                        method,
                        path,
                        role,
                        query=every,
                        form=every,
                        what=f"every={value!r}",
                        headers={"Accept": "application/json"} if i % 2 else {},
                    )
                # ... and the sharpest alone in each field (an earlier field's refusal must not
                # hide a later one), repeated, and 1 MB.
                for j, name in enumerate(names):
                    who = [role for role in deep if name in readers[role]] or deep
                    for i, value in enumerate([*SHARP, LONG]):
                        send(
                            method,
                            path,
                            who[(i + j) % len(who)],
                            query=[(name, value)],
                            form=[(name, value)],
                            what=f"{name}={value[:20]!r}",
                        )
                    send(
                        method,
                        path,
                        who[j % len(who)],
                        query=[(name, "1"), (name, "²")],
                        form=[(name, "1"), (name, "²")],
                        what=f"{name} repeated",
                    )
                if method == "POST":
                    # JSON where a form is read (lists, objects, null), its CSRF token in the
                    # header Flask-WTF also reads.
                    send(
                        method,
                        path,
                        deep[0],
                        json={n: [1, {"a": None}] for n in names},
                        headers={"X-CSRFToken": world["tokens"][deep[0]][1] or ""},
                        what="JSON of the wrong types",
                    )
    finally:
        app.request_class = normal_class
    took = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nhostile input: {counts['routes']} routes, {counts['fields']} route fields, "
            f"{len(ROLES)} roles, {len(HOSTILE) + 1} values: {counts['requests']} requests "
            f"in {took:.1f} s, {len(faults)} wrong answers"
        )
    assert not faults, "\n".join(faults[:60])
