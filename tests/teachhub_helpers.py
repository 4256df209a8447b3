"""Helpers for the TeachHub tests, integration and browser (no tests here): real launches, pages,
forms, database.

Each person browses in their own LaunchDriver after a real LTI launch; forms are posted with
the CSRF token the tool put in its pages, to URLs that carry the session token.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from lti_platform import LaunchDriver
from sqlalchemy import select

from lti_tool import settings as tool_settings
from lti_tool.extensions import services
from lti_tool.lti.models import Platform as ToolPlatform, User
from lti_tool.teachhub.config import load_config as load_teachhub_config
from lti_tool.teachhub.models import Module, Participant, Stream

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def _teachhub_config():
    return load_teachhub_config(tool_settings.load())


def today() -> date:
    """Today where the university is: the tool dates completions and commissions in its time
    zone (Asia/Almaty by default), which is a day ahead of UTC every evening."""
    return _teachhub_config().today()


PASSPORT = {
    "title": "Assessment literacy for clinical teachers",
    "curator_department": "Department of medical education",
    "target_audience": "Teaching staff and clinical mentors",
    "goal": "Design valid assessments of clinical skills",
    "competences": ["pedagogy", "assessment_simulation_mentoring"],
    "structure": ("Introduction\nTools and practices\nAssessment of materials\nPeer review\n"
                  "PDCA/CAPA"),
    "delivery_formats": ["online_session", "practicum", "project_work"],
    "mandatory_tasks": "Mini-project (audit)\nFeedback tool\nReflection on peer review",
    "completion_criteria": "All sessions attended; project task done; analytic note",
    "assessment": "Qualitative report, discussion, peer assessment",
    "workload_hours": "45",
    "duration_days": "28",
    "integration": ["participant_card", "work_plan", "lms"],
    "module_format": "integrative",
}


@dataclass(eq=False)
class Person:
    """Someone signed in to the tool through a launch, with their own browser."""

    tool: Any
    platform: Any
    driver: LaunchDriver
    page: Any  # the response the launch ended on
    user_id: int

    @property
    def token(self) -> str:
        """The session token the tool put in its URLs."""
        return re.search(r"[?&]ls=([^&]+)", self.page.url).group(1)

    def url(self, path: str) -> str:
        """A tool URL carrying this person's session."""
        joiner = "&" if "?" in path else "?"
        return f"{self.tool.base_url}{path}{joiner}ls={self.token}"

    def get(self, path: str, **kwargs):
        """GET a tool page as this person."""
        return self.driver.get(self.url(path), **kwargs)

    def csrf(self) -> str:
        """A CSRF token of this person's session, from a TeachHub page with a form."""
        found = CSRF.search(self.page.text)
        if found:
            return found.group(1)
        home = self.get("/teachhub/").text
        for link in re.findall(r'href="(/teachhub/(?:cards|modules)/\d+)\?', home):
            found = CSRF.search(self.get(link).text)
            if found:
                return found.group(1)
        # Administrators: the coordinators page; course staff: the gradebook sync page.
        for path in ("/teachhub/coordinators", "/gradebook/sync"):
            found = CSRF.search(self.get(path).text)
            if found:
                return found.group(1)
        raise AssertionError("no page with a form for this person")

    def post(self, path: str, data: dict | None = None, *, json: bool = False, **kwargs):
        """POST a form as this person (with a valid CSRF token).

        Card and module forms carry the revision their page showed (issue 10): unless the
        test names one, the card's current revision is sent, as a freshly opened page would.
        """
        headers = {"Accept": "application/json"} if json else {}
        body = {"csrf_token": self._csrf, **(data or {})}
        if "revision" not in body:
            revision = current_revision(self.tool, path)
            if revision is not None:
                body["revision"] = str(revision)
        return self.driver.post(self.url(path), data=body, headers=headers, **kwargs)

    @property
    def _csrf(self) -> str:
        if not hasattr(self, "_token_cache"):
            self._token_cache = self.csrf()
        return self._token_cache


def launch(tool, platform, stack: ExitStack, role: str = "student", **plan: Any) -> Person:
    """Launch `role` (student, teacher, admin or a user dict) into the tool in a new browser."""
    driver = stack.enter_context(LaunchDriver())
    page = driver.launch(platform.plan(role, **plan), params={"lti_storage_target": None})
    assert page.status_code == 200, page.text[:600]
    settle(tool)
    person = Person(tool, platform, driver, page, 0)
    person.user_id = user_id(tool, platform, platform.plan(role, **plan).user.sub)
    return person


def settle(tool, timeout: float = 10.0) -> None:
    """Wait for the background roster pulls a launch starts (SQLite takes one writer)."""
    refresher = services(tool.app).roster_refresher
    deadline = time.monotonic() + timeout
    while refresher.busy() and time.monotonic() < deadline:
        time.sleep(0.01)


def user_id(tool, platform, sub: str) -> int:
    """The tool's id for a platform user."""
    with services(tool.app).db.new_session() as session:
        return session.scalars(select(User.id).where(
            User.sub == sub, User.platform_id == tool_platform_id(tool, platform))).one()


def tool_platform_id(tool, platform) -> int:
    """The tool's id for a test platform."""
    with services(tool.app).db.new_session() as session:
        return session.scalars(select(ToolPlatform.id).where(
            ToolPlatform.issuer == platform.issuer,
            ToolPlatform.client_id == platform.client_id)).one()


CARD_FORM = re.compile(r"^/teachhub/cards/(\d+)/(?:hours|mark|verify|record|status)$")
MODULE_FORM = re.compile(r"^/teachhub/modules/(\d+)/(?:edit|publish|facilitators)$")


def current_revision(tool, path: str) -> int | None:
    """The revision a card or module form would carry now (None: the path has no such form)."""
    path = path.split("?", 1)[0]
    for pattern, model in ((CARD_FORM, Participant), (MODULE_FORM, Module)):
        found = pattern.match(path)
        if found:
            with services(tool.app).db.new_session() as session:
                row = session.get(model, int(found.group(1)))
                return row.revision if row is not None else 0
    return None


def db(tool):
    """A database session of the served tool."""
    return services(tool.app).db.new_session()


def create_module(coordinator: Person, facilitator_ids: list[int], **changes: Any) -> int:
    """A coordinator creates a module card; its id."""
    data = {**PASSPORT, **changes, "facilitators_shown": "1",
            "facilitator_ids": [str(i) for i in facilitator_ids]}
    page = coordinator.post("/teachhub/modules/new", data)
    assert page.status_code == 200, page.text[:600]
    return int(re.search(r"/teachhub/modules/(\d+)", page.url).group(1))


def add_stream(person: Person, module_id: int, name: str = "Spring", start: date | None = None,
               end: date | None = None) -> int:
    """Add a stream (open today by default); its id."""
    start = start or today() - timedelta(days=3)
    end = end or today() + timedelta(days=30)
    page = person.post(f"/teachhub/modules/{module_id}/streams",
                       {"name": name, "starts_on": start.isoformat(),
                        "ends_on": end.isoformat()})
    assert page.status_code == 200, page.text[:600]
    with db(person.tool) as session:
        return session.scalars(select(Stream.id).where(Stream.module_id == module_id,
                                                       Stream.name == name)).one()


def placement(module_id: int, link: str = "rl-th-1") -> dict:
    """Launch arguments of a module card's placement."""
    return {"custom": {"placement": "teachhub", "module_card": str(module_id)},
            "resource_link": {"id": link, "title": "TeachHub module"}}


def card_of(tool, module_id: int, uid: int) -> Participant | None:
    """A person's card in a module."""
    with db(tool) as session:
        return session.scalars(select(Participant).where(
            Participant.module_id == module_id, Participant.user_id == uid)).first()


def module(tool, module_id: int) -> Module:
    """A module row."""
    with db(tool) as session:
        return session.get(Module, module_id)


@dataclass
class Setup:
    """A platform with a coordinator (admin), a facilitator (teacher), a published module."""

    coordinator: Person
    facilitator: Person
    module_id: int
    stream_id: int


def published_module(tool, platform, stack: ExitStack, **changes: Any) -> Setup:
    """Coordinator and facilitator launched; a complete module published with an open stream."""
    coordinator = launch(tool, platform, stack, "admin")
    facilitator = launch(tool, platform, stack, "teacher")
    module_id = create_module(coordinator, [facilitator.user_id], **changes)
    published = coordinator.post(f"/teachhub/modules/{module_id}/publish")
    assert published.status_code == 200 and "version 1" in published.text, published.text[:600]
    stream_id = add_stream(coordinator, module_id)
    return Setup(coordinator, facilitator, module_id, stream_id)


def participant(tool, platform, stack: ExitStack, setup: Setup, uid: str = "50",
                name: str = "Aigerim", **plan: Any) -> Person:
    """A learner registered by launching the module's placement."""
    who = {"role": "student", "id": uid, "username": f"staff{uid}", "given_name": name,
           "family_name": f"N{uid}"}
    return launch(tool, platform, stack, who, **placement(setup.module_id), **plan)


def move(person: Person, card_id: int, status: str, **extra: str):
    """Ask to move a card's status (JSON answer)."""
    return person.post(f"/teachhub/cards/{card_id}/status", {"status": status, **extra},
                       json=True, follow_redirects=False)
