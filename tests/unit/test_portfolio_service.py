"""The verification state machine, totals, marks, scores, Section I versions and showcase
rules, on a real (in-memory SQLite) database with no HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask_babel import Babel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.auth import Actor
from lti_tool.db import Base, load_models, make_engine, utcnow
from lti_tool.errors import Forbidden, ToolError
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.lti.models import Context, Membership, Platform, ResourceLink, User
from lti_tool.lti.roles import ToolRole
from lti_tool.portfolio import access, service, showcase
from lti_tool.portfolio.entries import EntryInput
from lti_tool.portfolio.rubric import load_rubric
from lti_tool.settings import PROJECT_ROOT, load

SETTINGS = load({"portfolio": {"grade": {"enabled": True, "mode": "points",
                                         "points_maximum": 1000}}}, environ={})


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(PROJECT_ROOT / "config" / "rubrics" / "kaznmu.yaml")


@pytest.fixture
def db():
    load_models()
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    app = Flask(__name__)
    Babel(app)
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def _platform(db, name="p"):
    platform = Platform(issuer=f"https://{name}", client_id="c", auth_login_url="x",
                        auth_token_url="x", key_set_url="x")
    db.add(platform)
    db.flush()
    return platform


def _user(db, platform, sub, name):
    user = User(platform_id=platform.id, sub=sub, name=name)
    db.add(user)
    db.flush()
    return user


@pytest.fixture
def world(db):
    """A course with a student and a tutor, a graded portfolio placement, another platform."""
    platform = _platform(db)
    student = _user(db, platform, "s1", "Aruzhan Student")
    tutor = _user(db, platform, "t1", "Tulegen Tutor")
    course = Context(platform_id=platform.id, context_id="C1", title="Anatomy")
    db.add(course)
    db.flush()
    db.add_all([Membership(user_id=student.id, context_id=course.id, role="learner", roles=[]),
                Membership(user_id=tutor.id, context_id=course.id, role="instructor", roles=[])])
    db.add(ResourceLink(context_id=course.id, resource_link_id="r1", placement="portfolio",
                        lineitem_url="https://lms/lineitems/1", title="Portfolio"))
    db.flush()
    portfolio = access.own_portfolio(db, student)
    return {
        "platform": platform, "student": student, "tutor": tutor, "course": course,
        "portfolio": portfolio,
        "owner": Actor(student.id, platform.id, student.name),
        "tutor_actor": Actor(tutor.id, platform.id, tutor.name, context_id=course.id,
                                    role=ToolRole.INSTRUCTOR),
    }


def _olympiad(**changes):
    values = {"list_key": "olympiads", "item_key": "olympiad", "course_year": 2,
              "level": "republic", "result": "first", "count": 1,
              "fields": {"title": "Olympiad", "note": "diploma"}}
    values.update(changes)
    return EntryInput(**values)


def _decide(db, w, entry, action, comment=""):
    return service.decide(db, w["tutor_actor"], [(entry.id, entry.version)], action, comment,
                          settings=SETTINGS, may_review=access.may_review)


def _scores(db, user):
    return [s.score_given for s in db.scalars(select(ScoreOutbox).where(
        ScoreOutbox.user_id == user.id).order_by(ScoreOutbox.id))]


def test_full_cycle_with_decisions_totals_and_scores(db, world, rubric):
    w = world
    entry = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad())
    assert entry.status == "draft" and entry.claimed_points == 100
    totals = service.totals_for(db, [w["portfolio"].id])[w["portfolio"].id]
    assert totals.claimed_total == 0 and totals.drafts[("achievements", 2)] == 100

    service.submit_entry(db, w["owner"], entry, entry.version)
    report = _decide(db, w, entry, "verify")
    assert [e.id for e in report.done] == [entry.id] and entry.status == "verified"
    assert entry.verified_points == 100
    assert [(d.action, d.from_status, d.to_status, d.actor_name) for d in entry.decisions] == [
        ("submit", "draft", "submitted", "Aruzhan Student"),
        ("verify", "submitted", "verified", "Tulegen Tutor")]
    assert all(d.created_at is not None for d in entry.decisions)
    assert _scores(db, w["student"]) == [100.0]

    # Editing a verified entry sends it back to the tutor and takes the points off.
    service.update_entry(db, w["owner"], entry, rubric, _olympiad(level="international"),
                         base_version=entry.version, settings=SETTINGS)
    assert entry.status == "submitted" and entry.claimed_points == 150
    assert entry.verified_points is None and entry.decisions[-1].action == "edited"
    assert _scores(db, w["student"])[-1] == 0.0
    # An unchanged save of a submitted entry changes nothing and queues nothing.
    before = len(_scores(db, w["student"]))
    service.update_entry(db, w["owner"], entry, rubric, _olympiad(level="international"),
                         base_version=entry.version, settings=SETTINGS)
    assert len(_scores(db, w["student"])) == before

    totals = service.totals_for(db, [w["portfolio"].id])[w["portfolio"].id]
    loaded = service.totals_from_entries([entry], [])
    assert totals.claimed_total == loaded.claimed_total == 150
    assert totals.waiting == loaded.waiting == 1


def test_return_reject_withdraw_and_wrong_transitions(db, world, rubric):
    w = world
    entry = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad(),
                                 submit=True)
    with pytest.raises(ToolError) as err:
        _decide(db, w, entry, "return")
    assert err.value.code == "comment_required"
    _decide(db, w, entry, "return", "attach the diploma")
    assert entry.status == "returned" and entry.last_comment.comment == "attach the diploma"
    with pytest.raises(service.NotAllowed):
        service.withdraw_entry(db, w["owner"], entry, entry.version)
    service.submit_entry(db, w["owner"], entry, entry.version)
    service.withdraw_entry(db, w["owner"], entry, entry.version)
    assert entry.status == "draft"
    with pytest.raises(service.NotAllowed):
        service.withdraw_entry(db, w["owner"], entry, entry.version)
    service.submit_entry(db, w["owner"], entry, entry.version)
    report = _decide(db, w, entry, "verify")
    assert report.done
    with pytest.raises(service.NotAllowed):
        service.submit_entry(db, w["owner"], entry, entry.version)
    _decide(db, w, entry, "reject", "not an olympiad")
    assert entry.status == "rejected" and entry.verified_points is None
    # Verify of a rejected entry is skipped for its status.
    assert _decide(db, w, entry, "verify").skipped == [(entry.id, "status")]
    # The owner edits a rejected entry: it becomes a draft to send again.
    service.update_entry(db, w["owner"], entry, rubric, _olympiad(result="second"),
                         base_version=entry.version, settings=SETTINGS)
    assert entry.status == "draft"
    assert [d.action for d in entry.decisions] == [
        "submit", "return", "submit", "withdraw", "submit", "verify", "reject", "edited"]


def test_bulk_decisions_skip_what_they_must(db, world, rubric):
    w = world
    a = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad(), submit=True)
    b = service.create_entry(db, w["owner"], w["portfolio"], rubric,
                             _olympiad(list_key="electives", item_key="elective", level=None,
                                       result=None, count=3, fields={"title": "Latin"}),
                             submit=True)
    draft = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad())
    # Somebody else's student on another platform.
    other_platform = _platform(db, "q")
    stranger = _user(db, other_platform, "s9", "Stranger")
    foreign = service.create_entry(db, Actor(stranger.id, other_platform.id, "S"),
                                   access.own_portfolio(db, stranger), rubric, _olympiad(),
                                   submit=True)
    report = service.decide(db, w["tutor_actor"],
                            [(a.id, a.version), (b.id, b.version - 1), (draft.id, 1),
                             (foreign.id, foreign.version), (999, 1)], "verify",
                            settings=SETTINGS, may_review=access.may_review)
    assert [e.id for e in report.done] == [a.id]
    assert dict(report.skipped) == {b.id: "stale", draft.id: "not_found",
                                    foreign.id: "not_found", 999: "not_found"}
    assert foreign.status == "submitted"
    assert b.claimed_points == 30  # 10 per elective course x 3


def test_only_the_owner_changes_content(db, world, rubric):
    w = world
    entry = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad())
    with pytest.raises(Forbidden):
        service.create_entry(db, w["tutor_actor"], w["portfolio"], rubric, _olympiad())
    with pytest.raises(Forbidden):
        service.update_entry(db, w["tutor_actor"], entry, rubric, _olympiad(),
                             base_version=entry.version)
    with pytest.raises(access.NotFound):
        service.owned_entry(db, w["tutor_actor"], entry.id)
    with pytest.raises(service.StaleEdit):
        service.update_entry(db, w["owner"], entry, rubric, _olympiad(),
                             base_version=entry.version - 1)
    # The owner cannot verify their own entries.
    service.submit_entry(db, w["owner"], entry, entry.version)
    report = service.decide(db, w["owner"], [(entry.id, entry.version)], "verify",
                            may_review=access.may_review)
    assert report.skipped == [(entry.id, "not_found")]


def test_access_rules(db, world):
    w = world
    portfolio = w["portfolio"]
    assert access.may_view(db, w["tutor_actor"], portfolio)
    # An inactive enrolment ends the tutor's view.
    membership = db.scalar(select(Membership).where(Membership.user_id == w["student"].id))
    membership.status = "Inactive"
    db.flush()
    assert not access.may_view(db, w["tutor_actor"], portfolio)
    admin = Actor(w["tutor"].id, w["platform"].id, "Admin", role=ToolRole.ADMIN)
    assert access.may_view(db, admin, portfolio)
    other = _platform(db, "z")
    foreign_admin = Actor(999, other.id, "Foreign", role=ToolRole.ADMIN)
    assert not access.may_view(db, foreign_admin, portfolio)
    with pytest.raises(access.NotFound):
        access.viewable_portfolio(db, foreign_admin, portfolio.id)
    with pytest.raises(Forbidden):
        access.viewable_portfolio(db, w["tutor_actor"], portfolio.id)


def test_staff_rights_follow_the_placement(db, world, rubric):
    """Issue 9: staff of a course where the portfolio is placed, from a launch or the roster;
    a shared course without it gives nothing; a mentor membership is never staff."""
    w = world
    portfolio, student = w["portfolio"], w["student"]
    teachhub = Context(platform_id=w["platform"].id, context_id="C7", title="TeachHub only")
    graded = Context(platform_id=w["platform"].id, context_id="C8", title="Physiology")
    db.add_all([teachhub, graded])
    db.flush()
    shared = _user(db, w["platform"], "t7", "Shared Course")
    roster_ta = _user(db, w["platform"], "t8", "Roster Assistant")
    observer = _user(db, w["platform"], "m1", "Parent")
    db.add_all([
        Membership(user_id=student.id, context_id=teachhub.id, role="learner", roles=[]),
        Membership(user_id=shared.id, context_id=teachhub.id, role="instructor", roles=[]),
        ResourceLink(context_id=teachhub.id, resource_link_id="th", placement="teachhub"),
        Membership(user_id=student.id, context_id=graded.id, role="learner", roles=[]),
        Membership(user_id=roster_ta.id, context_id=graded.id, role="instructor", roles=[],
                   source="roster"),
        Membership(user_id=observer.id, context_id=graded.id, role="mentor", roles=[]),
        ResourceLink(context_id=graded.id, resource_link_id="r8", placement="",
                     lineitem_url=None),
    ])
    db.flush()
    assert not access.teaches(db, shared.id, student.id)
    assert access.teaching_courses(db, roster_ta.id, student.id) == {graded.id}
    assert access.teaching_courses(db, w["tutor"].id, student.id) == {w["course"].id}
    assert not access.teaches(db, observer.id, student.id)
    parent = Actor(observer.id, w["platform"].id, "Parent", mentees=frozenset({"s1"}))
    assert access.may_view(db, parent, portfolio) and not access.may_review(db, parent, portfolio)
    with pytest.raises(Forbidden):
        access.exportable_portfolio(db, parent, portfolio.id)
    stranger = Actor(observer.id, w["platform"].id, "Parent", mentees=frozenset({"x"}))
    with pytest.raises(Forbidden):
        access.viewable_portfolio(db, stranger, portfolio.id)
    assert access.course_has_portfolio(db, graded.id)
    assert not access.course_has_portfolio(db, teachhub.id)


def test_design_mark_bounds_and_score(db, world, rubric):
    w = world
    with pytest.raises(ToolError):
        service.set_tutor_mark(db, w["tutor_actor"], w["portfolio"], rubric, "design", 1, 31)
    with pytest.raises(ToolError):
        service.set_tutor_mark(db, w["tutor_actor"], w["portfolio"], rubric, "design", 1, 9)
    service.set_tutor_mark(db, w["tutor_actor"], w["portfolio"], rubric, "design", 1, 25,
                           settings=SETTINGS)
    assert service.verified_total(db, w["portfolio"].id) == 25
    assert _scores(db, w["student"]) == [25.0]
    service.set_tutor_mark(db, w["tutor_actor"], w["portfolio"], rubric, "design", 1, None,
                           settings=SETTINGS)
    assert service.verified_total(db, w["portfolio"].id) == 0


def test_score_normalisation():
    grade = service.grade_settings(load({"portfolio": {"grade": {
        "mode": "normalised", "points_maximum": 500, "score_maximum": 100}}}, environ={}))
    assert service.score_for(250, grade) == (50.0, 100.0)
    assert service.score_for(900, grade) == (100.0, 100.0)
    # The shipped configuration: points as they are, out of 1000.
    assert service.score_for(321, service.grade_settings(load(environ={}))) == (321.0, 1000.0)


def test_section_one_versions_and_history(db, world):
    w = world
    portfolio = w["portfolio"]
    service.save_page(db, w["owner"], portfolio, "essay", {"essay": "I chose medicine"}, 0)
    service.save_page(db, w["owner"], portfolio, "essay",
                      {"essay": "I chose medicine to help people"}, 1)
    assert service.save_page(db, w["owner"], portfolio, "essay",
                             {"essay": "I chose medicine to help people"}, 2) is None
    with pytest.raises(service.StaleEdit):
        service.save_page(db, w["owner"], portfolio, "essay", {"essay": "old tab"}, 1)
    service.save_page(db, w["owner"], portfolio, "profile",
                      {"group_name": "MD-21", "course_year": 2}, 0)
    history = service.page_history(db, portfolio, "essay")
    assert [v.version.number for v in history] == [2, 1]
    assert ("+", "to help people") in history[0].changes[0].diff
    profile = service.page_history(db, portfolio, "profile")[0]
    # The first version records the name prefilled from the launch too.
    assert {c.field: c.after for c in profile.changes} == {
        "full_name": "Aruzhan Student", "course_year": "2", "group_name": "MD-21"}


def test_showcase_shows_only_chosen_shareable_entries(db, world, rubric):
    w = world
    shown = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad(),
                                 submit=True)
    draft = service.create_entry(db, w["owner"], w["portfolio"], rubric, _olympiad())
    link = showcase.create_showcase(db, w["owner"], w["portfolio"], title="x",
                                    sections=["achievements", "bogus"],
                                    entry_ids=[shown.id, draft.id, 12345], hide_personal=True,
                                    days=7)
    assert link.sections == ["achievements"] and link.entry_ids == [shown.id]
    assert len(link.token) >= 43
    view = showcase.open_showcase(db, link.token)
    assert [e.id for e in view.entries] == [shown.id]
    link.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(access.NotFound):
        showcase.open_showcase(db, link.token)
    other = showcase.create_showcase(db, w["owner"], w["portfolio"], title="", sections=["chest"],
                                     entry_ids=[], hide_personal=False, days=None)
    showcase.revoke_showcase(db, w["owner"], w["portfolio"], other.id)
    with pytest.raises(access.NotFound):
        showcase.open_showcase(db, other.token)
    with pytest.raises(Forbidden):
        showcase.create_showcase(db, w["tutor_actor"], w["portfolio"], title="", sections=[],
                                 entry_ids=[], hide_personal=True, days=None)
