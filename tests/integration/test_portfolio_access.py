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


# ---- issue 9: roles by the LTI vocabulary, least privilege -------------------------------------

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
MENTOR = LIS + "membership#Mentor"
CONTENT_DEVELOPER = LIS + "membership#ContentDeveloper"
ROLE_SCOPE_MENTOR = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"
# Routes that list students, export a course, decide, change grades or show TeachHub staff pages.
STAFF_ROUTES = [
    "/portfolio/course", "/portfolio/course/queue", "/portfolio/course/analytics",
    "/portfolio/course/export.csv", "/portfolio/course/export.xlsx", "/portfolio/all",
    "/grades/course", "/gradebook/sync", "/teachhub/hr", "/teachhub/coordinators",
]
EXPORTS = ["/portfolio/{portfolio}/export.json", "/portfolio/{portfolio}/export.pdf",
           "/portfolio/summaries/{summary}.pdf"]
ON_SCREEN = [route for route in READS if route not in EXPORTS]


def launch_as(tool, platform, user, *, extra_claims=None, course=None, placement="portfolio",
              status=200):
    """Like test_portfolio_flow.launch, with extra claims and the landing page's status."""
    from urllib.parse import parse_qs, urlsplit

    from lti_platform import LaunchDriver
    from test_portfolio_flow import Client

    browser = LaunchDriver()
    extra = {"course": course} if course else {}
    if platform.profile == "canvas":
        extra["ags"] = {"lineitem": f"{platform.base_url}/api/lti/courses/{course or 1}/"
                                    "line_items/1"}
    plan = platform.plan(user, custom={"placement": placement}, extra_claims=extra_claims,
                         **extra)
    home = browser.launch(plan, params={"lti_storage_target": None})
    assert home.status_code == status, home.text[:500]
    token = parse_qs(urlsplit(home.url).query)["ls"][0]
    return Client(tool, browser, token, home)


def _sub(platform, user="student") -> str:
    from lti_platform.claims import make_user

    return make_user(platform.profile, user).sub


def _owned_on(tool, platform) -> tuple[Owned, object, object]:
    """The `owned` fixture's portfolio on either platform."""
    owner = launch(tool, platform)
    entry_id = add_entry(owner)
    draft_id = add_entry(owner, submit=False, f_title="Private draft")
    owner.post(f"/portfolio/entries/{entry_id}/evidence",
               files={"file": ("d.png", png_bytes(), "image/png")})
    owner.post("/portfolio/showcase", {"sections": ["achievements"], "entries": [str(entry_id)]})
    tutor = launch(tool, platform, "teacher")
    tutor.post(f"/portfolio/entries/{entry_id}/decide",
               {"action": "verify", "version": str(entry_version(tool, entry_id))})
    with db_session(tool) as db:
        pid = db.get(Entry, entry_id).portfolio_id
    tutor.post(f"/portfolio/{pid}/summaries/new", {
        "version": "0", "academic_year": "2025-2026", "course_year": "2", "academic_level": "",
        "points": "100", "achievement_level": "low", "tutor_name": "T",
        "summary_date": "2026-06-20"})
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        return Owned(portfolio=pid, entry=entry_id, draft=draft_id, file=entry.evidence[0].id,
                     summary=db.scalar(select(Summary.id).where(Summary.portfolio_id == pid)),
                     showcase=db.scalar(select(Showcase.id).where(Showcase.portfolio_id == pid)),
                     version=entry.version), owner, tutor


def _observer(platform, uid: str, **names) -> dict:
    # Canvas observers come as Mentor with the system User role; Moodle sends the bare context
    # role when a site maps its parent/mentor role to Mentor.
    roles = [MENTOR, LIS + "system/person#User"] if platform.profile == "canvas" else [MENTOR]
    return {"role": "student", "id": uid, "given_name": names.get("given", "Parent"),
            "family_name": names.get("family", "Observer"), "roles": roles}


def _forbidden_with(answer, words: str) -> bool:
    return answer.status_code == 403 and words in answer.text


def test_observer_reads_only_the_learner_they_follow_and_changes_nothing(tool, platform):
    ids, _owner, _tutor = _owned_on(tool, platform)
    other = launch(tool, platform, OTHER_STUDENT)
    other_entry = add_entry(other, f_title="Someone else's olympiad")
    with db_session(tool) as db:
        other_pid = db.get(Entry, other_entry).portfolio_id
    observer = launch_as(tool, platform, _observer(platform, "90"),
                         extra_claims={ROLE_SCOPE_MENTOR: [_sub(platform)]})

    # The home page names the one learner they follow, and no one else.
    assert 'data-role="mentor"' in observer.home.text
    assert "Sam Student" in observer.home.text and "Bota" not in observer.home.text
    # Their portfolio, read on screen.
    for route in ON_SCREEN:
        answer = observer.get(_fill(route, ids))
        assert answer.status_code == 200, f"{route}: {answer.status_code}"
    page = observer.get(_fill("/portfolio/{portfolio}", ids))
    assert "Anatomy olympiad" in page.text and "/decide" not in page.text
    assert "export.pdf" not in page.text
    assert observer.get(_fill("/portfolio/entries/{draft}", ids)).status_code == 404
    # Exports, reviews and decisions: 403 with a page saying why.
    for route in EXPORTS + REVIEW_READS:
        answer = observer.get(_fill(route, ids))
        assert _forbidden_with(answer, "observer or mentor"), f"{route}: {answer.status_code}"
    for route, data in REVIEW_WRITES:
        answer = observer.post(_fill(route, ids), {k: _fill(v, ids) for k, v in data.items()},
                               follow=False)
        assert _forbidden_with(answer, "observer or mentor"), f"{route}: {answer.status_code}"
    wrong = _refused(observer, ids, OWNER_READS[:1], OWNER_WRITES)
    assert not wrong, wrong
    # No lists of students, no course exports, no grades, no TeachHub staff pages.
    for route in STAFF_ROUTES:
        answer = observer.get(route)
        assert answer.status_code == 403, f"{route}: {answer.status_code}"
        if route.startswith("/portfolio/"):
            assert "observer or mentor" in answer.text, route
    queue = observer.post("/portfolio/course/queue",
                          {"entry": f"{ids.entry}:{ids.version}", "action": "reject"},
                          follow=False)
    assert queue.status_code == 403
    # Another learner of the same course: refused, with the reason.
    assert _forbidden_with(observer.get(f"/portfolio/{other_pid}"), "learners you follow")
    # Nor do they place anything in the course.
    picker = observer.browser.launch(
        platform.plan(_observer(platform, "90"), message_type="LtiDeepLinkingRequest"),
        params={"lti_storage_target": None})
    assert _forbidden_with(picker, "can add the tool to a course")
    _unchanged(tool, ids)


def test_observer_without_a_scope_sees_no_one(tool, platform):
    ids, _owner, _tutor = _owned_on(tool, platform)
    observer = launch_as(tool, platform, _observer(platform, "91"))
    assert "did not name any learner you follow" in observer.home.text
    wrong = _refused(observer, ids, READS + REVIEW_READS, REVIEW_WRITES, files_too=False)
    assert not wrong, wrong
    for route in STAFF_ROUTES[:6]:
        assert observer.get(route).status_code == 403, route


def test_a_student_who_also_observes_keeps_their_own_portfolio_and_reads_the_other(tool, moodle):
    ids, _owner, _tutor = _owned_on(tool, moodle)
    sibling = launch_as(tool, moodle, {**OTHER_STUDENT, "roles": [LIS + "membership#Learner",
                                                                  MENTOR]},
                        extra_claims={ROLE_SCOPE_MENTOR: [_sub(moodle)]})
    assert 'data-role="learner"' in sibling.home.text and "Sam Student" in sibling.home.text
    assert sibling.get("/portfolio/").status_code == 200
    assert sibling.get(_fill("/portfolio/{portfolio}", ids)).status_code == 200
    refused = sibling.post(_fill("/portfolio/entries/{entry}/decide", ids),
                           {"action": "reject", "comment": "x", "version": str(ids.version)},
                           follow=False)
    assert refused.status_code == 403
    # A scope without the Mentor role counts for nothing.
    plain = launch_as(tool, moodle, {**OTHER_STUDENT, "id": "45"},
                      extra_claims={ROLE_SCOPE_MENTOR: [_sub(moodle)]})
    assert plain.get(_fill("/portfolio/{portfolio}", ids)).status_code == 404
    _unchanged(tool, ids)


def test_course_designer_sees_no_student_data_but_may_place_the_tool(tool, platform):
    ids, _owner, _tutor = _owned_on(tool, platform)
    designer_user = {"role": "teacher", "id": "92", "given_name": "Dana", "family_name": "Designer",
                     "roles": [CONTENT_DEVELOPER]}
    designer = launch_as(tool, platform, designer_user)
    assert 'data-role="designer"' in designer.home.text and "Sam Student" not in designer.home.text
    wrong = _refused(designer, ids, READS + REVIEW_READS + OWNER_READS,
                     OWNER_WRITES + REVIEW_WRITES)
    assert not wrong, wrong
    for route in STAFF_ROUTES:
        answer = designer.get(route)
        assert answer.status_code == 403, f"{route}: {answer.status_code}"
        if route.startswith("/portfolio/"):
            assert "course designer" in answer.text, route
    # Deep linking places content and shows no student data: a designer's job in Canvas.
    picker = designer.browser.launch(platform.plan(designer_user,
                                                   message_type="LtiDeepLinkingRequest"),
                                     params={"lti_storage_target": None})
    assert picker.status_code == 200 and 'value="portfolio"' in picker.text
    _unchanged(tool, ids)


@pytest.mark.parametrize("roles", [
    [LIS + "membership#Member"],
    [LIS + "institution/person#Staff", LIS + "system/person#User"],
    [],
], ids=["member", "institution-staff", "no-role"])
def test_a_role_the_tool_does_not_serve_gets_a_page_saying_so(tool, platform, roles):
    ids, _owner, _tutor = _owned_on(tool, platform)
    person = launch_as(tool, platform, {"role": "student", "id": "93", "roles": roles},
                       status=403)
    assert "The tool does not serve your role here" in person.home.text
    for role in roles:
        assert role.removeprefix(LIS) in person.home.text
    assert "ask your course administrator" in person.home.text
    wrong = _refused(person, ids, READS + REVIEW_READS, REVIEW_WRITES, files_too=False)
    assert not wrong, wrong
    for route in STAFF_ROUTES[:6]:
        answer = person.get(route)
        assert _forbidden_with(answer, "not one the tool serves"), route


@pytest.mark.parametrize("staff_role", [LIS + "membership/Instructor#TeachingAssistant",
                                        LIS + "membership/Instructor#Grader",
                                        LIS + "membership#Administrator"],
                         ids=["ta", "grader", "course-administrator"])
def test_site_admins_teaching_assistants_and_course_administrators_stay_staff(
        tool, platform, staff_role):
    ids, _owner, _tutor = _owned_on(tool, platform)
    ta = launch_as(tool, platform, {"role": "teacher", "id": "94", "roles": [
        staff_role, LIS + "system/person#User"]})
    assert 'data-role="instructor"' in ta.home.text
    assert ta.get("/portfolio/course").status_code == 200
    assert ta.get(_fill("/portfolio/{portfolio}", ids)).status_code == 200
    admin = launch(tool, platform, "admin")
    assert 'data-role="admin"' in admin.home.text
    assert admin.get("/portfolio/all").status_code == 200
    assert admin.get(_fill("/portfolio/{portfolio}/export.json", ids)).status_code == 200


# ---- issue 9: staff rights follow the placement ------------------------------------------------


def test_teacher_of_a_shared_course_without_the_portfolio_sees_nothing(tool, moodle, owned):
    ids, _owner, _tutor = owned
    # The student also takes part in course 7, where only TeachHub is placed.
    launch(tool, moodle, course=7, placement="teachhub")
    stranger = launch(tool, moodle, {"role": "teacher", "id": "78", "given_name": "Shared",
                                     "family_name": "Course"}, course=7, placement="teachhub")
    wrong = _refused(stranger, ids, READS + REVIEW_READS + OWNER_READS,
                     OWNER_WRITES + REVIEW_WRITES)
    assert not wrong, wrong
    assert _forbidden_with(stranger.get(_fill("/portfolio/{portfolio}", ids)),
                           "the portfolio is placed")
    for route in STAFF_ROUTES[:5]:
        answer = stranger.get(route)
        assert _forbidden_with(answer, "not placed in this course"), route
    _unchanged(tool, ids)


def test_a_decision_changes_only_the_deciding_course_gradebook(tool, moodle):
    from lti_tool.gradebook.models import ScoreOutbox
    from lti_tool.lti.models import Context

    owner = launch(tool, moodle)  # course 2, graded portfolio placement
    launch(tool, moodle, course=8)  # also course 8, its own graded portfolio placement
    first, second = add_entry(owner), add_entry(owner, f_title="Second olympiad")
    tutor = launch(tool, moodle, "teacher")
    other_tutor = launch(tool, moodle, {"role": "teacher", "id": "79", "given_name": "Eighth",
                                        "family_name": "Tutor"}, course=8)

    def scored_courses(entry_id):
        with db_session(tool) as db:
            user_id = db.get(Entry, entry_id).portfolio.user_id
            return sorted(db.scalars(select(Context.context_id).join(
                ScoreOutbox, ScoreOutbox.context_id == Context.id).where(
                ScoreOutbox.user_id == user_id, ScoreOutbox.status != "superseded")))

    verified = tutor.post(f"/portfolio/entries/{first}/decide",
                          {"action": "verify", "version": str(entry_version(tool, first))})
    assert verified.status_code == 200
    assert scored_courses(first) == ["2"]
    # Course 8's tutor teaches the student where the portfolio is placed: reads and decides,
    # and only course 8's gradebook changes.
    assert other_tutor.get(f"/portfolio/entries/{second}").status_code == 200
    other_tutor.post(f"/portfolio/entries/{second}/decide",
                     {"action": "verify", "version": str(entry_version(tool, second))})
    with db_session(tool) as db:
        assert db.get(Entry, second).status == "verified"
        scores = {db.get(Context, s.context_id).context_id: s.score_given
                  for s in db.scalars(select(ScoreOutbox).where(
                      ScoreOutbox.status != "superseded"))
                  if s.user_id == db.get(Entry, second).portfolio.user_id}
    assert scores == {"2": 100.0, "8": 200.0}


@pytest.mark.parametrize("role", [MENTOR, CONTENT_DEVELOPER, LIS + "membership#Member"])
def test_a_facilitator_launched_as_observer_designer_or_unserved_role_has_no_teachhub_staff_rights(
        tool, platform, role):
    from contextlib import ExitStack

    from teachhub_helpers import published_module

    with ExitStack() as stack:
        setup = published_module(tool, platform, stack)
        assert setup.facilitator.get(f"/teachhub/modules/{setup.module_id}").status_code == 200
        # The same person (the facilitator named on the card) from another course, in a role
        # that is not staff there: rights follow the launch.
        again = launch_as(tool, platform, {"role": "teacher", "roles": [role]}, course=9,
                          status=403 if role.endswith("Member") else 200)
        for route in (f"/teachhub/modules/{setup.module_id}",
                      f"/teachhub/modules/{setup.module_id}/report", "/teachhub/hr"):
            answer = again.get(route)
            assert answer.status_code == 403, f"{route}: {answer.status_code}"
