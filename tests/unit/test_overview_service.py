"""The tutor's course overview service: every enrolled student, GPA and letter, search, filters,
sorting, paging, in a fixed number of queries whatever the course size."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lti_tool.calendar import StudentYears
from lti_tool.db import Base, load_models, make_engine
from lti_tool.gradebook.academic import (
    academic_record,
    academic_records,
    cumulative_gpas,
    letter_for_gpa,
)
from lti_tool.gradebook.connector_models import Connector, ExternalCourseGrade
from lti_tool.gradebook.models import CourseGrading, LineItem, Result
from lti_tool.gradebook.policy import load_policy
from lti_tool.lti.models import Context, Membership, Platform, ResourceLink, User
from lti_tool.portfolio.models import Entry, Portfolio, Update
from lti_tool.portfolio.overview import OverviewQuery, course_overview
from lti_tool.settings import load as load_settings

POLICY = load_policy(load_settings(environ={}).gradebook)


@pytest.fixture
def db(tmp_path):
    load_models()
    engine = make_engine(f"sqlite:///{tmp_path}/overview.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _course(db, platform, lti_id: str) -> Context:
    context = Context(platform_id=platform.id, context_id=lti_id, title=f"Course {lti_id}")
    db.add(context)
    db.flush()
    db.add(
        ResourceLink(context_id=context.id, resource_link_id=f"rl-{lti_id}", placement="portfolio")
    )
    return context


def _graded(db, context, student, percent: float, credits: float = 5.0) -> None:
    """A course where the student has a final result of `percent` (for GPA)."""
    item = LineItem(context_id=context.id, url=f"https://lms/{context.id}", score_maximum=100.0)
    db.add(item)
    db.flush()
    db.add(
        CourseGrading(
            context_id=context.id,
            final_line_item_id=item.id,
            credits=credits,
            academic_year="2025-2026",
        )
    )
    db.add(Result(line_item_id=item.id, user_id=student.id, result_score=percent))


@pytest.fixture
def course(db):
    """A course of six learners (two never opened the tool), one teacher, one dropped learner."""
    platform = Platform(
        issuer="https://moodle.example.edu",
        client_id="c",
        auth_login_url="x",
        auth_token_url="x",
        key_set_url="x",
    )
    db.add(platform)
    db.flush()
    context = _course(db, platform, "101")
    people = {}
    for sub, given, family, group, year, opened in (
        ("s1", "Әлия", "Серікова", "МД-21", 2, True),
        ("s2", "Иван", "Петров", "МД-21", 2, True),
        ("s3", "Дана", "Ахметова", "МД-22", 3, True),
        ("s4", "Ерлан", "Жұмабаев", "МД-22", 3, True),
        ("s5", "Мария", "Ким", "", None, False),
        ("s6", "Нұрлан", "Оспанов", "", None, False),
    ):
        user = User(
            platform_id=platform.id,
            sub=sub,
            given_name=given,
            family_name=family,
            name=f"{given} {family}",
        )
        db.add(user)
        db.flush()
        db.add(Membership(user_id=user.id, context_id=context.id, role="learner"))
        if opened:
            portfolio = Portfolio(
                platform_id=platform.id,
                user_id=user.id,
                full_name=f"{family} {given}",
                group_name=group,
                course_year=year,
            )
            db.add(portfolio)
            db.flush()
            people[sub] = (user, portfolio)
        else:
            people[sub] = (user, None)
    teacher = User(platform_id=platform.id, sub="t1", name="Teacher")
    dropped = User(platform_id=platform.id, sub="s9", name="Dropped Learner")
    db.add_all([teacher, dropped])
    db.flush()
    db.add(Membership(user_id=teacher.id, context_id=context.id, role="instructor"))
    db.add(Membership(user_id=dropped.id, context_id=context.id, role="learner", status="Inactive"))
    # Points: s1 verified 30 and 1 waiting; s2 2 waiting; s3 verified 50; s4 nothing.
    p = {sub: pair[1] for sub, pair in people.items()}

    def entry(portfolio, status, claimed, verified=None):
        db.add(
            Entry(
                portfolio_id=portfolio.id,
                section="achievements",
                list_key="olympiads",
                item_key="olympiad",
                course_year=portfolio.course_year,
                status=status,
                claimed_points=claimed,
                verified_points=verified,
            )
        )

    entry(p["s1"], "verified", 30, 30)
    entry(p["s1"], "submitted", 10)
    entry(p["s2"], "submitted", 5)
    entry(p["s2"], "submitted", 5)
    entry(p["s3"], "verified", 50, 50)
    db.add(
        Update(portfolio_id=p["s3"].id, what="entry_created", at=datetime(2026, 11, 2, tzinfo=UTC))
    )
    db.add(
        Update(portfolio_id=p["s1"].id, what="entry_created", at=datetime(2026, 10, 1, tzinfo=UTC))
    )
    # GPA: s1 has A (95 %) in one course; s2 has C (67 %); the others no grades.
    _graded(db, _course(db, platform, "201"), people["s1"][0], 95)
    _graded(db, _course(db, platform, "202"), people["s2"][0], 67)
    db.commit()
    return context, {sub: pair[0] for sub, pair in people.items()}


def _names(overview) -> list[str]:
    return [row.sub for row in overview.rows]


def test_every_enrolled_learner_is_listed_with_points_waiting_gpa_and_letter(db, course):
    context, _ = course
    found = course_overview(db, context.id, OverviewQuery(), policy=POLICY)
    assert found.total == 6  # not the teacher, not the dropped learner
    assert sorted(_names(found)) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    rows = {row.sub: row for row in found.rows}
    assert rows["s5"].portfolio_id is None and rows["s6"].portfolio_id is None
    assert (
        rows["s1"].totals.claimed_total,
        rows["s1"].totals.verified_total,
        rows["s1"].totals.waiting,
    ) == (40, 30, 1)
    assert rows["s2"].totals.waiting == 2
    assert (rows["s1"].gpa, rows["s1"].letter) == (Decimal("4.00"), "A")
    assert (rows["s2"].gpa, rows["s2"].letter) == (Decimal("2.00"), "C")
    assert rows["s3"].gpa is None and rows["s3"].letter == ""
    assert found.waiting == 3


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (OverviewQuery(sort="verified", descending=True), ["s3", "s1"]),
        (OverviewQuery(sort="waiting", descending=True), ["s2", "s1"]),
        (OverviewQuery(sort="gpa", descending=True), ["s1", "s2"]),
        (OverviewQuery(sort="activity", descending=True), ["s3", "s1"]),
        (OverviewQuery(state="waiting", sort="waiting"), ["s1", "s2"]),
        (OverviewQuery(state="unopened"), ["s5", "s6"]),
        (OverviewQuery(group="МД-22"), ["s3", "s4"]),
        (OverviewQuery(year=2), ["s2", "s1"]),  # by name: Петров, Серікова
        (OverviewQuery(search="ахмет"), ["s3"]),  # Cyrillic, any case, family name
        (OverviewQuery(search="НҰРЛАН"), ["s6"]),  # Kazakh letters, a learner without a portfolio
    ],
)
def test_sort_filter_and_search_on_the_server(db, course, asked, expected):
    context, _ = course
    found = course_overview(db, context.id, asked, policy=POLICY)
    assert _names(found)[: len(expected)] == expected


def test_state_clear_lists_opened_portfolios_with_nothing_waiting(db, course):
    context, _ = course
    found = course_overview(db, context.id, OverviewQuery(state="clear"), policy=POLICY)
    assert sorted(_names(found)) == ["s3", "s4"]


def test_pages_cover_every_student_once_and_a_page_past_the_end_shows_the_last(db, course):
    context, _ = course
    seen = []
    for page in (1, 2, 3):
        found = course_overview(
            db, context.id, OverviewQuery(page=page), policy=POLICY, page_size=2
        )
        assert (found.page, found.pages, found.total) == (page, 3, 6)
        seen += _names(found)
    assert sorted(seen) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    last = course_overview(db, context.id, OverviewQuery(page=99), policy=POLICY, page_size=2)
    assert last.page == 3


def test_without_a_grading_policy_there_is_no_gpa_column(db, course):
    context, _ = course
    found = course_overview(db, context.id, OverviewQuery(), policy=None)
    assert not found.gpa_available and all(row.gpa is None for row in found.rows)


def test_batch_records_match_one_by_one(db, course):
    _, users = course
    ids = [u.id for u in users.values()]
    batch = academic_records(db, ids, POLICY)
    for uid in ids:
        assert batch[uid] == academic_record(db, uid, POLICY)


def test_batch_records_count_course_years_as_each_portfolio_says(db, course):
    """The group leader's page reads its members' records at once, each with the course years
    its Section I gives (year of admission): the same rows as one by one."""
    _, users = course
    ids = [u.id for u in users.values()]
    admitted = {uid: StudentYears(admission_year=2023 + n % 2) for n, uid in enumerate(ids)}
    batch = academic_records(db, ids, POLICY, admitted)
    for uid in ids:
        assert batch[uid] == academic_record(db, uid, POLICY, admitted[uid])


def test_sorting_by_gpa_reads_the_exact_gpa_of_the_academic_record(db, course):
    """The GPA the whole course is sorted by is the record's, to the cent: percents rounded
    half up to a whole percent (94.5 -> A, 94.49 -> A-), credit-weighted, the mean rounded half
    up to two decimals (3.665 -> 3.67, not the banker's 3.66)."""
    context, users = course
    platform = db.get(Platform, users["s3"].platform_id)
    for n, (sub, percent, credits) in enumerate(
        (
            ("s3", 94.5, 1),  # A, 4.00
            ("s3", 87, 1),  # B+, 3.33: (4.00 + 3.33) / 2 = 3.665 -> 3.67
            ("s4", 94.49, 1),  # A-, 3.67
            ("s4", 87, 1),  # B+: 3.50
            ("s5", 60, 4),  # C-, 1.67 x 4 and A x 1: (6.68 + 4.00) / 5 = 2.136 -> 2.14
            ("s5", 100, 1),
        )
    ):
        _graded(db, _course(db, platform, f"3{n:02d}"), users[sub], percent, credits)
    # LMS course totals (a connector): s6's counts (84.5 -> 85 -> B+, default credits); s1's
    # total of course 201 does not, the tool's own final result there is the record.
    connector = Connector(
        platform_id=platform.id, kind="moodle", base_url="https://lms", token_encrypted="x"
    )
    db.add(connector)
    db.flush()
    course_201 = db.scalars(select(Context).where(Context.context_id == "201")).one()
    db.add(Membership(user_id=users["s1"].id, context_id=course_201.id, role="learner"))
    for sub, lms_course, percent in (("s6", "900", 84.5), ("s1", "201", 10.0)):
        db.add(
            ExternalCourseGrade(
                user_id=users[sub].id,
                connector_id=connector.id,
                lms_course_id=lms_course,
                academic_year="2025-2026",
                percent=percent,
            )
        )
    db.commit()
    ids = [u.id for u in users.values()]
    fast = cumulative_gpas(db, ids, POLICY)
    assert fast == {uid: academic_record(db, uid, POLICY).gpa for uid in ids}
    by_sub = {sub: fast[u.id] for sub, u in users.items()}
    assert by_sub["s3"] == Decimal("3.67") and by_sub["s4"] == Decimal("3.50")
    assert by_sub["s5"] == Decimal("2.14") and by_sub["s6"] == Decimal("3.33")
    assert by_sub["s1"] == Decimal("4.00")
    found = course_overview(
        db, context.id, OverviewQuery(sort="gpa", descending=True), policy=POLICY
    )
    assert [(r.sub, r.gpa) for r in found.rows] == [
        ("s1", Decimal("4.00")),
        ("s3", Decimal("3.67")),
        ("s4", Decimal("3.50")),
        ("s6", Decimal("3.33")),
        ("s5", Decimal("2.14")),
        ("s2", Decimal("2.00")),
    ]
    assert found.rows[1].letter == "A-" and found.rows[2].letter == "B+"


@pytest.mark.parametrize(
    ("gpa", "letter"),
    [("4.00", "A"), ("3.67", "A-"), ("3.50", "B+"), ("2.10", "C"), ("0.40", "F"), (None, "")],
)
def test_letter_for_gpa_is_the_highest_letter_the_gpa_reaches(gpa, letter):
    assert letter_for_gpa(Decimal(gpa) if gpa else None, POLICY) == letter


def test_query_count_does_not_grow_with_the_course(db, course):
    context, _ = course
    context_id = context.id  # loaded before counting
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    for asked in (OverviewQuery(), OverviewQuery(sort="gpa"), OverviewQuery(search="a")):
        statements.clear()
        course_overview(db, context_id, asked, policy=POLICY)
        # learners, totals (2), last activity, GPA (tool results + LMS totals)
        assert len(statements) <= 6, "\n\n".join(s[:90] for s in statements)
