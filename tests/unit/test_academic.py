"""The academic record from the database: which courses count, dedupe, and a fixed query count."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from lti_tool.db import Base, load_models, make_engine
from lti_tool.gradebook.academic import academic_record, may_view_record
from lti_tool.gradebook.connector_models import Connector, ExternalCourseGrade
from lti_tool.gradebook.models import CourseGrading, LineItem, Result
from lti_tool.gradebook.policy import load_policy
from lti_tool.lti.models import Context, Membership, Platform, ResourceLink, User
from lti_tool.lti.roles import ToolRole
from lti_tool.settings import load as load_settings

POLICY = load_policy(load_settings(environ={}).gradebook)


@pytest.fixture
def db(tmp_path):
    load_models()
    engine = make_engine(f"sqlite:///{tmp_path}/academic.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _platform(db, name="moodle") -> Platform:
    platform = Platform(issuer=f"https://{name}.example.edu", client_id="c",
                        auth_login_url="x", auth_token_url="x", key_set_url="x")
    db.add(platform)
    db.flush()
    return platform


def _user(db, platform, sub) -> User:
    user = User(platform_id=platform.id, sub=sub)
    db.add(user)
    db.flush()
    return user


def _course(db, platform, student, lti_id, *, score, maximum=100.0, credits=5.0,
            year="2025-2026", role="learner", canvas_course_id=None) -> Context:
    context = Context(platform_id=platform.id, context_id=lti_id, title=f"Course {lti_id}")
    db.add(context)
    db.flush()
    db.add(Membership(user_id=student.id, context_id=context.id, role=role))
    if canvas_course_id:
        db.add(ResourceLink(context_id=context.id, resource_link_id=f"rl{lti_id}",
                            custom={"canvas_course_id": canvas_course_id}))
    item = LineItem(context_id=context.id, url=f"https://lms/{lti_id}", score_maximum=maximum)
    db.add(item)
    db.flush()
    db.add(CourseGrading(context_id=context.id, final_line_item_id=item.id, credits=credits,
                         academic_year=year))
    if score is not None:
        db.add(Result(line_item_id=item.id, user_id=student.id, result_score=score))
    db.flush()
    return context


def _external(db, connector, student, lms_id, percent, year="2025-2026", name=""):
    db.add(ExternalCourseGrade(user_id=student.id, connector_id=connector.id,
                               lms_course_id=lms_id, course_name=name or f"LMS {lms_id}",
                               academic_year=year, percent=percent))


def _count_queries(db):
    statements = []
    event.listen(db.get_bind(), "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    return statements


@pytest.mark.parametrize("courses", [1, 40])
def test_the_record_takes_a_fixed_number_of_queries(db, courses):
    platform = _platform(db)
    student = _user(db, platform, "4")
    connector = Connector(platform_id=platform.id, kind="moodle", base_url="x",
                          token_encrypted="x")
    db.add(connector)
    db.flush()
    for n in range(courses):
        _course(db, platform, student, str(1000 + n), score=80)
        _external(db, connector, student, str(5000 + n), 90.0)
    db.commit()
    student_id = student.id
    statements = _count_queries(db)
    record = academic_record(db, student_id, POLICY)
    assert len(record.years[0].courses) == 2 * courses
    # tool results, LMS totals, the student's placed courses, Section I (the course years)
    assert len(statements) == 4


def test_course_years_follow_the_year_of_admission_not_the_years_on_record(db):
    """Issue 13: a student admitted in 2023 whose first grades on record are of 2025-2026 is
    in year 3 then, moving to year 4 (the threshold of year 4 applies), not "year 1"."""
    from lti_tool.portfolio.models import Portfolio

    platform = _platform(db)
    student = _user(db, platform, "adm")
    db.add(Portfolio(platform_id=platform.id, user_id=student.id, admission_year=2023,
                     course_year=1))  # a stale stated course year: admission wins
    _course(db, platform, student, "c1", score=72, year="2025-2026")  # C+, 2.33
    _course(db, platform, student, "c2", score=66, year="2024-2025")  # C, 2.0
    db.commit()
    record = academic_record(db, student.id, POLICY)
    years = {y.academic_year: y for y in record.years}
    assert years["2025-2026"].study_year == 3
    assert years["2024-2025"].study_year == 2
    assert years["2025-2026"].progression.target_year == 4
    assert years["2025-2026"].progression.threshold == Decimal("2.0")
    assert years["2025-2026"].progression.passed
    assert years["2025-2026"].level == "good"  # C+ is good (2.33, config academic_levels)


def test_without_section_i_course_years_count_the_years_on_record(db):
    platform = _platform(db)
    student = _user(db, platform, "noadm")
    _course(db, platform, student, "c1", score=90, year="2025-2026")
    db.commit()
    assert academic_record(db, student.id, POLICY).years[0].study_year == 1


def test_an_lms_total_for_a_course_the_tool_grades_counts_once(db):
    platform = _platform(db)
    student = _user(db, platform, "4")
    connector = Connector(platform_id=platform.id, kind="moodle", base_url="x",
                          token_encrypted="x")
    db.add(connector)
    db.flush()
    _course(db, platform, student, "7", score=55)  # the tool's column: D+ 1.33
    _external(db, connector, student, "7", 99.0)  # Moodle's own total for course 7
    db.commit()
    record = academic_record(db, student.id, POLICY)
    (course,) = record.years[0].courses
    assert (course.source, course.band.letter, record.gpa) == ("tool", "D+", Decimal("1.33"))


def test_an_lms_total_takes_credits_and_year_from_the_courses_grading(db):
    platform = _platform(db, "canvas")
    student = _user(db, platform, "uuid-4")
    connector = Connector(platform_id=platform.id, kind="canvas", base_url="x",
                          token_encrypted="x")
    db.add(connector)
    db.flush()
    # The tool is placed in Canvas course 31 but has no result there for the student.
    _course(db, platform, student, "opaque-ctx", score=None, credits=2, year="2024-2025",
            canvas_course_id="31")
    _external(db, connector, student, "31", 80.0, year="2025-2026")
    _external(db, connector, student, "32", 100.0, year="2025-2026")
    db.commit()
    record = academic_record(db, student.id, POLICY)
    by_title = {c.title: c for y in record.years for c in y.courses}
    assert (by_title["LMS 31"].credits, by_title["LMS 31"].academic_year) == (2, "2024-2025")
    assert (by_title["LMS 32"].credits, by_title["LMS 32"].academic_year) == (5, "2025-2026")


def test_disabled_connectors_and_other_students_do_not_count(db):
    platform = _platform(db)
    student, other = _user(db, platform, "4"), _user(db, platform, "5")
    connector = Connector(platform_id=platform.id, kind="moodle", base_url="x",
                          token_encrypted="x", enabled=False)
    db.add(connector)
    db.flush()
    _external(db, connector, student, "1", 90.0)
    _course(db, platform, other, "2", score=100)
    db.commit()
    record = academic_record(db, student.id, POLICY)
    assert record.years == () and record.gpa is None and record.level is None


def test_years_newest_first_unset_year_last_and_the_warning_is_for_the_latest(db):
    platform = _platform(db)
    student = _user(db, platform, "4")
    _course(db, platform, student, "1", score=40, year="2023-2024")  # FX 0.5: year 1 fails
    _course(db, platform, student, "2", score=95, year="2024-2025")  # A: year 2 passes
    _course(db, platform, student, "3", score=70, year="")  # no year: cumulative only
    db.commit()
    record = academic_record(db, student.id, POLICY)
    assert [y.academic_year for y in record.years] == ["2024-2025", "2023-2024", ""]
    assert [y.study_year for y in record.years] == [2, 1, None]
    assert record.years[1].below_threshold and not record.years[0].below_threshold
    assert record.progression_warning is None  # the latest year is fine
    assert record.years[2].progression is None
    # (5 x 0.5 + 5 x 4.0 + 5 x 2.33) / 15 = 2.2767
    assert record.gpa == Decimal("2.28") and record.level == "average"


@pytest.mark.parametrize("placement", ["portfolio", ""])  # "": Moodle/Canvas default landing
def test_who_may_view_a_record(db, placement):
    """The student, the platform's administrators, and the staff who may review the student's
    portfolio (portfolio.access.teaches): not a teacher of a course without the portfolio, nor
    any mentor, designer or unserved session (issue 9)."""
    platform, elsewhere = _platform(db), _platform(db, "other")
    student, classmate = _user(db, platform, "4"), _user(db, platform, "5")
    teacher, stranger = _user(db, platform, "3"), _user(db, platform, "6")
    shared = _user(db, platform, "7")
    course = _course(db, platform, student, "1", score=90)
    db.add(ResourceLink(context_id=course.id, resource_link_id="rl1", placement=placement))
    db.add(Membership(user_id=classmate.id, context_id=course.id, role="learner"))
    db.add(Membership(user_id=teacher.id, context_id=course.id, role="instructor"))
    teachhub = _course(db, platform, student, "2", score=80)
    db.add(ResourceLink(context_id=teachhub.id, resource_link_id="rl2", placement="teachhub"))
    db.add(Membership(user_id=shared.id, context_id=teachhub.id, role="instructor"))
    db.commit()

    def may(viewer, target, role=ToolRole.INSTRUCTOR, platform_id=platform.id):
        return may_view_record(db, viewer_id=viewer.id, viewer_role=role,
                               viewer_platform_id=platform_id, student=target)

    assert may(student, student, ToolRole.LEARNER) and may(teacher, student)
    assert may(student, student, ToolRole.MENTOR)  # one's own record, whatever the launch
    assert not may(classmate, student, ToolRole.LEARNER)
    assert not may(stranger, student, ToolRole.LEARNER)
    assert not may(stranger, student)  # staff somewhere, not the student's
    assert not may(shared, student)  # shares a course without the portfolio
    assert not may(student, teacher, ToolRole.LEARNER)  # a learner cannot look at staff either
    for role in (ToolRole.MENTOR, ToolRole.DESIGNER, ToolRole.GUEST):
        assert not may(teacher, student, role), role  # no grades in such a session
    assert may(stranger, student, ToolRole.ADMIN)
    assert not may(stranger, student, ToolRole.ADMIN, platform_id=elsewhere.id)
    assert not may(student, student, ToolRole.LEARNER, platform_id=elsewhere.id)
    assert not may(teacher, None)
    db.execute(Membership.__table__.update()
               .where(Membership.user_id == student.id, Membership.context_id == course.id)
               .values(status="Inactive"))
    assert not may(teacher, student)  # the student left the tutor's course
