"""Access control, route by route: nobody reads or changes another's portfolio by changing an id.

One student owns a portfolio with an entry, files, a summary and a showcase link. Then another
student of the same course, a teacher of another course, the owner's own teacher, and people of
another platform try every route that takes an id.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from test_portfolio_flow import (
    OTHER_STUDENT,
    PDF,
    add_entry,
    db_session,
    entry_version,
    launch,
    png_bytes,
)

from lti_tool.portfolio.models import Entry, Showcase, Summary


@dataclass
class Owned:
    """The ids of the owner's things."""

    portfolio: int
    entry: int
    draft: int
    file: int
    summary: int
    showcase: int
    version: int


@pytest.fixture
def owned(tool, moodle):
    """A student's portfolio with a verified entry, a draft, a file, a summary and a link."""
    owner = launch(tool, moodle)
    entry_id = add_entry(owner)
    draft_id = add_entry(owner, submit=False, f_title="Private draft")
    owner.post(f"/portfolio/entries/{entry_id}/evidence",
               files={"file": ("d.png", png_bytes(), "image/png")})
    owner.post("/portfolio/showcase", {"sections": ["achievements"], "entries": [str(entry_id)]})
    tutor = launch(tool, moodle, "teacher")
    tutor.post(f"/portfolio/entries/{entry_id}/decide",
               {"action": "verify", "version": str(entry_version(tool, entry_id))})
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        pid = entry.portfolio_id
    tutor.post(f"/portfolio/{pid}/summaries/new", {
        "version": "0", "academic_year": "2025-2026", "course_year": "2", "academic_level": "",
        "points": "100", "achievement_level": "low", "tutor_name": "T",
        "summary_date": "2026-06-20"})
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        return Owned(portfolio=pid, entry=entry_id, draft=draft_id,
                     file=entry.evidence[0].id,
                     summary=db.scalar(select(Summary.id).where(Summary.portfolio_id == pid)),
                     showcase=db.scalar(select(Showcase.id).where(Showcase.portfolio_id == pid)),
                     version=entry.version), owner, tutor


READS = [
    "/portfolio/{portfolio}", "/portfolio/{portfolio}/history/essay",
    "/portfolio/entries/{entry}", "/portfolio/files/{file}", "/portfolio/files/{file}?thumb=1",
    "/portfolio/{portfolio}/export.json", "/portfolio/{portfolio}/export.pdf",
    "/portfolio/summaries/{summary}", "/portfolio/summaries/{summary}.pdf",
]
REVIEW_READS = ["/portfolio/summaries/{summary}/edit", "/portfolio/{portfolio}/summaries/new"]
OWNER_READS = ["/portfolio/entries/{entry}/edit", "/portfolio/entries/{draft}"]
OWNER_WRITES = [
    ("/portfolio/entries/{entry}/edit", {"list": "olympiads", "course_year": "1",
                                         "item": "olympiad", "level": "international",
                                         "result": "first", "f_title": "Hacked",
                                         "version": "{version}"}),
    ("/portfolio/entries/{entry}/submit", {"version": "{version}"}),
    ("/portfolio/entries/{entry}/withdraw", {"version": "{version}"}),
    ("/portfolio/entries/{entry}/evidence/{file}/delete", {}),
    ("/portfolio/entries/{entry}/delete", {}),
    ("/portfolio/showcase/{showcase}/revoke", {}),
]
REVIEW_WRITES = [
    ("/portfolio/entries/{entry}/decide", {"action": "reject", "comment": "x",
                                           "version": "{version}"}),
    ("/portfolio/entries/{entry}/decide", {"action": "comment", "comment": "x"}),
    ("/portfolio/{portfolio}/marks", {"mark": "design", "year": "1", "points": "30"}),
    ("/portfolio/summaries/{summary}/edit", {"version": "1", "academic_year": "2025-2026",
                                            "course_year": "2", "points": "9999",
                                            "achievement_level": "high", "tutor_name": "X",
                                            "summary_date": "2026-06-20"}),
    ("/portfolio/{portfolio}/summaries/new", {"version": "0", "academic_year": "2024-2025",
                                             "course_year": "1", "points": "1",
                                             "achievement_level": "low", "tutor_name": "X",
                                             "summary_date": "2026-06-20"}),
]


def _fill(template: str, ids: Owned) -> str:
    return template.format(**ids.__dict__)


def _refused(client, ids: Owned, routes_get, routes_post, files_too: bool = True) -> list[str]:
    wrong = []
    for route in routes_get:
        answer = client.get(_fill(route, ids))
        if answer.status_code not in (403, 404):
            wrong.append(f"GET {route}: {answer.status_code}")
    for route, data in routes_post:
        body = {k: _fill(v, ids) for k, v in data.items()}
        answer = client.post(_fill(route, ids), body, follow=False)
        if answer.status_code not in (403, 404):
            wrong.append(f"POST {route}: {answer.status_code}")
    if files_too:
        answer = client.post(_fill("/portfolio/entries/{entry}/evidence", ids),
                             files={"file": ("x.pdf", PDF, "application/pdf")}, follow=False)
        if answer.status_code not in (403, 404):
            wrong.append(f"POST upload: {answer.status_code}")
    return wrong


def _unchanged(tool, ids: Owned) -> None:
    with db_session(tool) as db:
        entry = db.get(Entry, ids.entry)
        assert entry is not None and entry.title == "Anatomy olympiad"
        assert entry.status == "verified" and len(entry.attachments) == 1
        assert db.get(Showcase, ids.showcase).revoked_at is None
        summary = db.get(Summary, ids.summary)
        assert summary.points == 100 and summary.version == 1
        assert len(db.scalars(select(Summary).where(
            Summary.portfolio_id == ids.portfolio)).all()) == 1


def test_another_student_of_the_same_course_gets_nothing(tool, moodle, owned):
    ids, _owner, _tutor = owned
    other = launch(tool, moodle, OTHER_STUDENT)
    wrong = _refused(other, ids, READS + REVIEW_READS + OWNER_READS,
                     OWNER_WRITES + REVIEW_WRITES)
    assert not wrong, wrong
    # Not even a hint that the ids exist: a student gets 404, never 403, for reads.
    assert other.get(f"/portfolio/{ids.portfolio}").status_code == 404
    _unchanged(tool, ids)


def test_teacher_of_another_course_gets_nothing(tool, moodle, owned):
    ids, _owner, _tutor = owned
    stranger = launch(tool, moodle, {"role": "teacher", "id": "77", "given_name": "Other",
                                     "family_name": "Teacher"},
                      course=555)
    wrong = _refused(stranger, ids, READS + REVIEW_READS + OWNER_READS,
                     OWNER_WRITES + REVIEW_WRITES)
    assert not wrong, wrong
    _unchanged(tool, ids)


@pytest.mark.parametrize("who", ["student", "teacher", "admin"])
def test_another_platform_gets_nothing(tool, canvas, owned, who):
    ids, _owner, _tutor = owned
    outsider = launch(tool, canvas, who)
    wrong = _refused(outsider, ids, READS + REVIEW_READS + OWNER_READS,
                     OWNER_WRITES + REVIEW_WRITES)
    assert not wrong, wrong
    _unchanged(tool, ids)


def test_own_tutor_reads_and_reviews_but_never_inserts_material(tool, owned):
    ids, _owner, tutor = owned
    for route in READS + REVIEW_READS:
        answer = tutor.get(_fill(route, ids))
        assert answer.status_code == 200, f"{route}: {answer.status_code}"
    # Drafts stay the student's own.
    assert tutor.get(_fill("/portfolio/entries/{draft}", ids)).status_code == 404
    wrong = _refused(tutor, ids, ["/portfolio/entries/{entry}/edit"], OWNER_WRITES)
    assert not wrong, wrong
    _unchanged(tool, ids)


def test_owner_reads_everything(tool, owned):
    ids, owner, _tutor = owned
    for route in READS + OWNER_READS:
        answer = owner.get(_fill(route, ids))
        assert answer.status_code in (200, 302, 303), f"{route}: {answer.status_code}"
    # ...but cannot review their own entries.
    wrong = _refused(owner, ids, REVIEW_READS, REVIEW_WRITES, files_too=False)
    assert not wrong, wrong


def test_staff_pages_refuse_students(tool, moodle):
    student = launch(tool, moodle)
    for route in ("/portfolio/course", "/portfolio/course/queue", "/portfolio/course/analytics",
                  "/portfolio/course/export.csv", "/portfolio/course/export.xlsx",
                  "/portfolio/all"):
        assert student.get(route).status_code == 403, route
    teacher = launch(tool, moodle, "teacher")
    assert teacher.get("/portfolio/all").status_code == 403


def test_no_session_no_access(tool, owned):
    ids, _owner, _tutor = owned
    from lti_platform import LaunchDriver

    with LaunchDriver() as anonymous:
        for route in READS:
            answer = anonymous.get(tool.base_url + _fill(route, ids))
            assert answer.status_code == 401, route
