"""Helpers for the staff learning tests (no tests here): people with named roles, activities
recorded and moved over real HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from teachhub_helpers import CSRF, Person, db, launch as teachhub_launch, today

from lti_tool.learning.models import Activity

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def launch(tool, platform, stack, who) -> Person:
    """A launched person whose forms carry the CSRF token of the record page."""
    person = teachhub_launch(tool, platform, stack, who)
    page = person.get("/learning/new")
    if page.status_code == 200:
        person._token_cache = CSRF.search(page.text).group(1)
    return person


def activity_data(form: str = "internship", **changes: str) -> dict:
    """A complete activity of one form, as the record form posts it."""
    formats = {
        "self_education": "international_platform",
        "internal_event": "peer_review",
        "online": "mooc",
        "internship": "job_shadowing",
    }
    data = {
        "form": form,
        "format": formats[form],
        "title": f"{form.replace('_', ' ').title()}: clinical teaching",
        "organiser": "KazNMU clinical school",
        "mentor": "Dr. Seitkali" if form == "internship" else "",
        "starts_on": (today() - timedelta(days=20)).isoformat(),
        "ends_on": (today() - timedelta(days=2)).isoformat(),
        "content": "Goals, topics and how the results are applied in teaching.",
        "competence_area": "pedagogy",
        "workload": "36",
        "workload_unit": "hours",
        "department": "Department of surgery",
    }
    data.update(changes)
    return data


def record(person: Person, form: str = "internship", **changes: str) -> int:
    """The person records an activity; its id."""
    page = person.post("/learning/new", activity_data(form, **changes))
    assert page.status_code == 200, page.text[:800]
    return int(re.search(r"/learning/activities/(\d+)", page.url).group(1))


def revision(tool, activity_id: int) -> int:
    """An activity's current revision."""
    with db(tool) as session:
        return session.get(Activity, activity_id).revision


def activity(tool, activity_id: int) -> Activity:
    """An activity row."""
    with db(tool) as session:
        return session.get(Activity, activity_id)


def act(person: Person, tool, activity_id: int, action: str, **data: str):
    """Take one step (JSON answer: the status code says whether it was allowed)."""
    body = {"action": action, "revision": str(revision(tool, activity_id)), **data}
    return person.post(
        f"/learning/activities/{activity_id}/act", body, json=True, follow_redirects=False
    )


def attach(
    person: Person, activity_id: int, kind: str, content: bytes = PDF, name: str = "evidence.pdf"
):
    """Attach an evidence file."""
    return person.post(
        f"/learning/activities/{activity_id}/evidence",
        {"kind": kind},
        files={"file": (name, content, "application/pdf")},
    )


@dataclass
class Staff:
    """A coordinator (admin, also secretary and HR), a head, an expert and an HR officer."""

    coordinator: Person
    head: Person
    expert: Person
    hr: Person


def name(coordinator: Person, person: Person, role: str, department: str = "") -> None:
    """The coordinator names a person to a role."""
    page = coordinator.post(
        "/learning/roles", {"user_id": str(person.user_id), "role": role, "department": department}
    )
    assert page.status_code == 200, page.text[:600]


def staff(tool, platform, stack, department: str = "Department of surgery") -> Staff:
    """Launch and name the staff of the verification chain."""
    coordinator = launch(tool, platform, stack, "admin")
    head = launch(
        tool,
        platform,
        stack,
        {"role": "teacher", "id": "head1", "given_name": "Head", "family_name": "H"},
    )
    expert = launch(
        tool,
        platform,
        stack,
        {"role": "teacher", "id": "exp1", "given_name": "Expert", "family_name": "E"},
    )
    hr = launch(
        tool,
        platform,
        stack,
        {"role": "teacher", "id": "hr1", "given_name": "Hr", "family_name": "R"},
    )
    name(coordinator, head, "head", department)
    name(coordinator, expert, "expert")
    name(coordinator, hr, "hr")
    return Staff(coordinator, head, expert, hr)


def member(tool, platform, stack, uid: str = "60", name_: str = "Aliya") -> Person:
    """A staff member who opens the tool (as a learner of a staff-development course)."""
    return launch(
        tool,
        platform,
        stack,
        {
            "role": "student",
            "id": uid,
            "username": f"staff{uid}",
            "given_name": name_,
            "family_name": f"N{uid}",
        },
    )


def ids(tool, user_id: int) -> list[int]:
    """A person's activity ids."""
    with db(tool) as session:
        return list(session.scalars(select(Activity.id).where(Activity.user_id == user_id)))
