"""The academic view over HTTP: real launches, results seeded in the database, pages as seen."""

from __future__ import annotations

import re
from html import unescape

import pytest
from gradebook_seed import Seeder, open_page, session_token
from lti_platform import LaunchDriver, parse_forms

OTHER_STUDENT = {"role": "student", "id": "501", "given_name": "Bea", "family_name": "Other"}
THIRD_STUDENT = {"role": "student", "id": "502", "given_name": "Cem", "family_name": "Third"}


def launch(browser, platform, user, context_id: str, title: str = "", **plan):
    # One platform course per context; no NRPS claim, so no background roster pull changes the
    # memberships a test sets up; no lti_storage_target (Canvas's postMessage storage page).
    # `plan`: more of the platform's launch (custom parameters, extra claims).
    response = browser.launch(platform.plan(
        user, context={"id": context_id, "title": title or f"Course {context_id}"},
        course=int(context_id) if context_id.isdigit() else 1, nrps=False, **plan),
        params={"lti_storage_target": None})
    assert response.status_code == 200, response.text[:500]
    return response


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed (what a reader sees)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


@pytest.fixture
def seed(tool, moodle) -> Seeder:
    return Seeder(tool, moodle)


def test_a_student_sees_letters_gpa_per_year_and_a_progression_warning(tool, moodle, browser,
                                                                        seed):
    launch(browser, moodle, "student", "101", "Anatomy")
    launch(browser, moodle, "student", "102", "Pharmacology")
    launch(browser, moodle, "student", "103", "Histology")
    launch(browser, moodle, "student", "104", "Not graded yet")
    home = launch(browser, moodle, "student", "105", "No final column")
    seed.course("101", credits=5, year="2024-2025", sub="4", score=95)           # A, 4.0
    seed.course("103", credits=5, year="2024-2025", sub="4", score=18.9, maximum=20)  # 94.5: A
    seed.course("102", credits=3, year="2025-2026", sub="4", score=55)           # D+, 1.33
    item = seed.line_item("104", "Final grade")
    seed.grading("104", item, credits=5, year="2025-2026")  # no result for the student
    other = seed.line_item("105", "Quiz")
    seed.result(other, "4", 10)
    seed.grading("105", None, credits=5, year="2025-2026")  # no final column chosen

    link = re.search(r'href="(/grades\?ls=[^"]+)"', home.text)
    assert link, "the learner home page links to /grades"
    page = browser.get(tool.base_url + unescape(link.group(1)))
    assert page.status_code == 200, page.text[:500]
    html = page.text
    # 2024-2025: (5 x 4.0 + 5 x 4.0) / 10 = 4.00, year 1 of study: enough for year 2 (1.33).
    assert 'data-gpa="2024-2025">4.00<' in html
    # 2025-2026: 3 x 1.33 / 3 = 1.33, year 2 of study: below the 1.67 needed for year 3.
    assert 'data-gpa="2025-2026">1.33<' in html
    # Cumulative: (20 + 20 + 3.99) / 13 = 3.3838 -> 3.38, "good".
    assert 'data-gpa="cumulative">3.38<' in html
    assert 'data-level="cumulative">good<' in html
    assert 'data-credits="cumulative">13<' in html
    assert 'data-progression="below"' in html
    text = text_of(page)
    assert ("The GPA for 2025-2026 is 1.33; moving on to year 3 of study needs at least 1.67."
            in text)
    assert "Enough to move on to year 2 (needs 1.33)." in text
    assert html.count('data-letter="A"') == 2 and html.count('data-letter="D+"') == 1
    assert "94.5" in text and "Histology" in text and "Anatomy" in text
    assert "Pharmacology" in text and "Excellent" in text and "Satisfactory" in text
    assert "Not graded yet" not in text and "No final column" not in text


def test_the_record_speaks_the_users_language(tool, moodle, browser, seed):
    home = launch(browser, moodle, "student", "111", "Анатомия")
    seed.course("111", credits=5, year="2025-2026", sub="4", score=91.5)  # 92 -> A-, 3.67
    page = open_page(browser, tool, home, "/grades?lang=ru")
    text = text_of(page)
    assert "Отлично" in text and "3,67" in text and "91,5" in text
    page = open_page(browser, tool, home, "/grades?lang=kk")
    assert "Өте жақсы" in text_of(page)


def test_a_record_without_grades_says_so(tool, moodle, browser):
    home = launch(browser, moodle, "student", "121")
    page = open_page(browser, tool, home, "/grades")
    assert page.status_code == 200
    assert 'id="no-grades"' in page.text and 'data-gpa="cumulative">—<' in page.text


def test_a_fail_shows_the_retake_rule(tool, moodle, browser, seed):
    home = launch(browser, moodle, "student", "131")
    seed.course("131", credits=5, year="2025-2026", sub="4", score=30)  # FX
    launch(browser, moodle, "student", "132")
    seed.course("132", credits=5, year="2025-2026", sub="4", score=10)  # F
    text = text_of(open_page(browser, tool, home, "/grades"))
    assert "may retake the final exam" in text and "must take the course again" in text


class People:
    """Launched sessions and user ids for the access-control table."""

    def __init__(self, tool, moodle, canvas, seed):
        self.tool = tool
        self.pages: dict[str, object] = {}
        self.browsers: dict[str, LaunchDriver] = {}
        for name, platform, user, context in [
            ("student", moodle, "student", "301"), ("other_student", moodle, OTHER_STUDENT, "301"),
            ("teacher", moodle, "teacher", "301"), ("third_student", moodle, THIRD_STUDENT, "302"),
            ("admin", moodle, "admin", "303"), ("canvas_admin", canvas, "admin", "c1"),
            ("deleted_student", moodle, {"role": "student", "id": "503"}, "301"),
        ]:
            browser = LaunchDriver()
            self.browsers[name] = browser
            self.pages[name] = launch(browser, platform, user, context)
        seed.set_membership_status("503", "301", "Deleted")
        self.ids = {"student": seed.user_id("4"), "other_student": seed.user_id("501"),
                    "third_student": seed.user_id("502"), "deleted_student": seed.user_id("503"),
                    "teacher": seed.user_id("3"), "nobody": 987654}

    def get(self, viewer: str, path: str):
        return open_page(self.browsers[viewer], self.tool, self.pages[viewer], path)

    def close(self):
        for browser in self.browsers.values():
            browser.close()


@pytest.fixture
def people(tool, moodle, canvas, seed):
    launched = People(tool, moodle, canvas, seed)
    yield launched
    launched.close()


ACCESS = [
    # viewer, whose record (None: the route itself), route, expected status
    ("student", "student", "/grades/student/{id}", 200),
    ("student", "other_student", "/grades/student/{id}", 403),  # a classmate: never
    ("student", "third_student", "/grades/student/{id}", 403),
    ("student", "teacher", "/grades/student/{id}", 403),
    ("student", "nobody", "/grades/student/{id}", 403),
    ("student", None, "/grades", 200),
    ("student", None, "/grades/course", 403),
    ("teacher", "student", "/grades/student/{id}", 200),  # a learner of the teacher's course
    ("teacher", "other_student", "/grades/student/{id}", 200),
    ("teacher", "third_student", "/grades/student/{id}", 403),  # not in the teacher's course
    ("teacher", "deleted_student", "/grades/student/{id}", 403),  # deleted from the roster
    ("teacher", "nobody", "/grades/student/{id}", 403),
    ("teacher", None, "/grades/course", 200),
    ("admin", "third_student", "/grades/student/{id}", 200),  # any student of the platform
    ("admin", "student", "/grades/student/{id}", 200),
    ("admin", None, "/grades/course", 200),
    ("canvas_admin", "student", "/grades/student/{id}", 403),  # another platform
    ("canvas_admin", None, "/grades", 200),
]


@pytest.mark.parametrize("viewer, whose, route, status", ACCESS)
def test_access_to_records(people, viewer, whose, route, status):
    path = route.format(id=people.ids[whose]) if whose else route
    response = people.get(viewer, path)
    assert response.status_code == status, (viewer, path, response.text[:300])
    if status == 403:
        assert "Sam Student" not in response.text and "data-gpa" not in response.text


def test_a_student_cannot_walk_the_ids(people):
    own = people.ids["student"]
    for user_id in range(max(1, own - 5), own + 15):
        response = people.get("student", f"/grades/student/{user_id}")
        assert response.status_code == (200 if user_id == own else 403), user_id


def test_the_teacher_lists_only_their_courses_students(people):
    page = people.get("teacher", "/grades/course")
    links = set(re.findall(r'href="/grades/student/(\d+)\?', page.text))
    assert links == {str(people.ids["student"]), str(people.ids["other_student"])}


def test_pages_need_a_launch(tool):
    with LaunchDriver() as browser:
        for path in ("/grades", "/grades/course", "/grades/student/1"):
            assert browser.get(tool.base_url + path).status_code == 401


def _form(page):
    forms = [f for f in parse_forms(page.text, page.url) if f.method == "POST"]
    assert len(forms) == 1
    return forms[0]


def test_an_instructor_chooses_the_final_column_credits_and_year(tool, moodle, browser, seed):
    launch(browser, moodle, "student", "401", "Biochemistry")
    launch(browser, moodle, "student", "402")
    teacher = launch(browser, moodle, "teacher", "401", "Biochemistry")
    assert re.search(r'href="/grades/course\?ls=', teacher.text), "instructor home links here"
    exam = seed.line_item("401", "Final exam", 100)
    total = seed.line_item("401", "Course total", 50)
    elsewhere = seed.line_item("402", "Another course", 100)
    seed.result(total, "4", 40)  # 80 % -> B, 3.0

    page = open_page(browser, tool, teacher, "/grades/course")
    assert page.status_code == 200
    assert "Final exam (out of 100)" in page.text and "Course total (out of 50)" in page.text
    assert "Another course" not in page.text
    form = _form(page)
    assert form.fields["credits"] == "5"  # the configured default
    assert re.fullmatch(r"\d{4}-\d{4}", form.fields["academic_year"])

    def post(**fields):
        return browser.post(form.action, data={**form.fields, **fields})

    for fields, message in [
        ({"credits": "0"}, "Credits must be a whole number from 1 to 60."),
        ({"credits": "4.5"}, "Credits"),
        ({"academic_year": "2025-2027"}, "two consecutive years"),
        ({"final_line_item": str(elsewhere)}, "Not a valid choice"),
    ]:
        refused = post(**{"final_line_item": str(total), "credits": "4",
                          "academic_year": "2025-2026", **fields})
        assert refused.status_code == 400, fields
        assert message in unescape(refused.text), fields
        assert seed.course_grading("401") is None

    no_csrf = browser.post(form.action, data={"final_line_item": str(total), "credits": "4",
                                              "academic_year": "2025-2026"})
    assert no_csrf.status_code == 400 and "csrf_failed" in no_csrf.text

    saved = post(final_line_item=str(total), credits="4", academic_year="2025-2026")
    assert saved.status_code == 200 and "Saved" in saved.text
    row = seed.course_grading("401")
    assert (row.final_line_item_id, row.credits, row.academic_year) == (total, 4.0, "2025-2026")
    assert _form(saved).fields["credits"] == "4"

    student_page = open_page(browser, tool, teacher, f"/grades/student/{seed.user_id('4')}")
    assert 'data-letter="B"' in student_page.text
    assert 'data-gpa="cumulative">3.00<' in student_page.text
    assert exam  # the other column stays available

    cleared = post(final_line_item="0", credits="4", academic_year="2025-2026")
    assert cleared.status_code == 200 and seed.course_grading("401").final_line_item_id is None


def test_the_session_token_is_carried_in_the_form(tool, moodle, browser):
    teacher = launch(browser, moodle, "teacher", "411")
    page = open_page(browser, tool, teacher, "/grades/course")
    assert f"ls={session_token(teacher)}" in _form(page).action


# ---- issue 9: the grades record follows the portfolio's placement rule ------------------------

MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
ROLE_SCOPE_MENTOR = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"
SHARED_TEACHER = {"role": "teacher", "id": "601", "given_name": "Shared", "family_name": "Course"}


def test_a_teacher_who_only_shares_another_course_sees_no_grades(people, tool, moodle, seed):
    # The student also takes course 311, where only TeachHub is placed; its teacher shares a
    # course with the student but may not review their portfolio, so sees no grades either.
    seed.course("301", credits=5, year="2025-2026", sub="4", score=92)
    with LaunchDriver() as browser:
        launch(browser, moodle, "student", "311", custom={"placement": "teachhub"})
        shared = launch(browser, moodle, SHARED_TEACHER, "311", custom={"placement": "teachhub"})
        page = open_page(browser, tool, shared, f"/grades/student/{people.ids['student']}")
    assert page.status_code == 403, page.text[:300]
    assert "data-gpa" not in page.text
    assert "only if you teach the student in a course where the portfolio is placed" in unescape(
        page.text)
    # The student's tutor (course 301, portfolio placed) still does.
    tutor = people.get("teacher", f"/grades/student/{people.ids['student']}")
    assert tutor.status_code == 200 and 'data-gpa="cumulative">3.67<' in tutor.text


def test_a_teacher_of_a_course_the_student_left_sees_no_grades(people, seed):
    # A learner membership that is no longer Active (Inactive in the roster) gives nothing, as
    # for the portfolio; before, anything but "Deleted" counted.
    seed.set_membership_status("4", "301", "Inactive")
    answer = people.get("teacher", f"/grades/student/{people.ids['student']}")
    assert answer.status_code == 403 and "data-gpa" not in answer.text
    assert people.get("admin", f"/grades/student/{people.ids['student']}").status_code == 200


def _gpa_cell(html: str) -> str:
    """The GPA cell of course year 1 in the portfolio page's points table."""
    row = re.search(r'href="#year-1">1</a></th>\s*<td>([^<]+)</td>', html)
    assert row, "the points table has a row for course year 1"
    return row.group(1).strip()


@pytest.mark.parametrize("also_teaches", [False, True], ids=["observer", "observer-who-teaches"])
def test_a_mentor_reads_the_portfolio_but_sees_no_grades(people, tool, moodle, seed,
                                                         also_teaches):
    """README roles table: a mentor reads the learners they follow, read-only, and no grades:
    not the record, not the GPA row of the portfolio page; not even a mentor who teaches the
    learner elsewhere, in that mentor session."""
    seed.course("301", credits=5, year="2025-2026", sub="4", score=92)  # A-, 3.67
    own = people.get("student", "/portfolio/")
    assert own.status_code == 200 and _gpa_cell(own.text) == "3.67"
    portfolio_id = re.search(r'/portfolio/(\d+)/export\.pdf', own.text).group(1)
    tutor = people.get("teacher", f"/portfolio/{portfolio_id}")
    assert tutor.status_code == 200 and _gpa_cell(tutor.text) == "3.67"

    observer = {"role": "student", "id": "602", "given_name": "Parent", "family_name": "Observer",
                "roles": [MENTOR]}
    with LaunchDriver() as browser:
        if also_teaches:
            # The same person teaches the student in course 312 (portfolio placed).
            launch(browser, moodle, "student", "312")
            teacher = {k: v for k, v in observer.items() if k != "roles"}
            launch(browser, moodle, {**teacher, "role": "teacher"}, "312")
        follows = launch(browser, moodle, observer, "301",
                         extra_claims={ROLE_SCOPE_MENTOR: ["4"]})
        assert 'data-role="mentor"' in follows.text
        record = open_page(browser, tool, follows, f"/grades/student/{people.ids['student']}")
        assert record.status_code == 403 and "data-gpa" not in record.text
        assert "observer or mentor" in unescape(record.text)
        portfolio = open_page(browser, tool, follows, f"/portfolio/{portfolio_id}")
        assert portfolio.status_code == 200, portfolio.text[:300]
        assert _gpa_cell(portfolio.text) == "—" and "3.67" not in portfolio.text
        assert "GPA will appear here" not in portfolio.text
        # Their own record stays theirs.
        assert open_page(browser, tool, follows, "/grades").status_code == 200
