"""The portfolio over real HTTP: students, tutors and admins launched from Moodle and Canvas."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from lti_platform import LaunchDriver
from outbox_helpers import drain, park_leftovers
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.portfolio.models import Entry, Portfolio, Showcase

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OTHER_STUDENT = {"role": "student", "id": "44", "given_name": "Bota", "family_name": "Other"}
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def png_bytes() -> bytes:
    """A real 40x30 PNG."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Client:
    """One signed-in browser: its session token rides in every URL, as in the LMS iframe."""

    tool: object
    browser: LaunchDriver
    token: str
    home: object

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.tool.base_url}{path}{sep}ls={self.token}"

    def get(self, path: str, **kwargs):
        return self.browser.get(self.url(path), **kwargs)

    def csrf(self) -> str:
        page = self.get("/portfolio/showcase")
        match = CSRF.search(page.text)
        assert match, page.text[:300]
        return match.group(1)

    def post(self, path: str, data: dict | None = None, files=None, follow: bool = True):
        body = dict(data or {})
        body.setdefault("csrf_token", self.csrf())
        return self.browser.post(self.url(path), data=body, files=files,
                                 follow_redirects=follow)


def launch(tool, platform, user="student", *, context=None, placement="portfolio",
           browser: LaunchDriver | None = None, course: int | None = None) -> Client:
    """Launch `user` into a course (default: the platform's course 2 or 1)."""
    browser = browser or LaunchDriver()
    extra = {"course": course} if course else {}
    if platform.profile == "canvas":
        # A graded Canvas assignment carries its line item (course navigation would not).
        extra["ags"] = {"lineitem": f"{platform.base_url}/api/lti/courses/{course or 1}/"
                                    "line_items/1"}
    plan = platform.plan(user, context=context, custom={"placement": placement}, **extra)
    home = browser.launch(plan, params={"lti_storage_target": None})
    assert home.status_code == 200, home.text[:500]
    token = parse_qs(urlsplit(home.url).query)["ls"][0]
    return Client(tool, browser, token, home)


def db_session(tool):
    return services(tool.app).db.new_session()


def add_entry(client: Client, list_key="olympiads", submit=True, **fields) -> int:
    data = {"list": list_key, "course_year": "2", "action": "submit" if submit else "draft"}
    data.update({"item": "olympiad", "level": "republic", "result": "first",
                 "f_title": "Anatomy olympiad", "f_when": "2026-03-14", "f_note": "Diploma"})
    data.update(fields)
    answer = client.post(f"/portfolio/entries/new?list={list_key}", data)
    assert answer.status_code == 200, answer.text[:800]
    match = re.search(r"/portfolio/entries/(\d+)", answer.url)
    assert match, answer.url
    return int(match.group(1))


def entry_version(tool, entry_id: int) -> int:
    with db_session(tool) as db:
        return db.get(Entry, entry_id).version


# ---- the whole flow --------------------------------------------------------------------------


def test_student_claims_tutor_verifies_total_goes_to_gradebook(tool, platform):
    student = launch(tool, platform, "student")
    page = student.get("/portfolio/")
    assert page.status_code == 200
    assert "Sam Student" in page.text  # prefilled from the launch
    # Issue 11: an empty portfolio says what to do first, the current year is open and each
    # list has a visible "+ Add" (a button, named with its list and year for screen readers).
    assert 'id="start"' in page.text and 'id="year-1" open' in page.text
    assert page.text.count('class="button pf-add"') >= 9

    entry_id = add_entry(student)
    assert 'id="start"' not in student.get("/portfolio/").text
    entry_page = student.get(f"/portfolio/entries/{entry_id}")
    assert "Anatomy olympiad" in entry_page.text and "waiting for the tutor" in entry_page.text

    upload = student.post(f"/portfolio/entries/{entry_id}/evidence",
                          files={"file": ("диплом олимпиады.pdf", PDF, "application/pdf")})
    assert "The file was attached." in upload.text
    photo = student.post(f"/portfolio/entries/{entry_id}/evidence",
                         files={"file": ("photo.png", png_bytes(), "image/png")})
    assert "The file was attached." in photo.text

    teacher = launch(tool, platform, "teacher")
    course = teacher.get("/portfolio/course")
    assert course.status_code == 200 and "Sam Student" in course.text
    queue = teacher.get("/portfolio/course/queue")
    assert "Anatomy olympiad" in queue.text
    version = entry_version(tool, entry_id)
    done = teacher.post("/portfolio/course/queue", {"entry": f"{entry_id}:{version}",
                                                   "action": "verify"})
    assert "1 entries saved." in done.text

    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        assert entry.status == "verified" and entry.verified_points == 100
        assert [d.action for d in entry.decisions] == ["submit", "verify"]
        assert entry.decisions[-1].actor_name == "Terry Teacher"
        scores = db.scalars(select(ScoreOutbox).where(
            ScoreOutbox.user_id == entry.portfolio.user_id)).all()
        assert [s.score_given for s in scores] == [100.0]
        assert scores[0].source == "portfolio" and scores[0].score_maximum == 1000

    # The student's own page shows claimed vs verified.
    mine = student.get("/portfolio/")
    assert "Verified: <strong>100</strong>" in mine.text

    # Files come back with the sniffed type and safe headers; thumbnails for images.
    with db_session(tool) as db:
        files = db.get(Entry, entry_id).evidence
        pdf_id, png_id = files[0].id, files[1].id
    got = student.get(f"/portfolio/files/{pdf_id}")
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in got.headers["Cache-Control"]
    assert "filename*=UTF-8''%D0%B4%D0%B8" in got.headers["Content-Disposition"]
    assert got.content == PDF
    thumb = teacher.get(f"/portfolio/files/{png_id}?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"

    # An edit of a verified entry goes back to the tutor, and the verified total drops.
    form = student.get(f"/portfolio/entries/{entry_id}/edit")
    assert 'name="version"' in form.text
    saved = student.post(f"/portfolio/entries/{entry_id}/edit", {
        "list": "olympiads", "course_year": "2", "item": "olympiad", "level": "international",
        "result": "first", "f_title": "Anatomy olympiad", "action": "draft",
        "version": str(entry_version(tool, entry_id))})
    assert saved.status_code == 200
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        assert entry.status == "submitted" and entry.claimed_points == 150
        assert entry.verified_points is None and entry.decisions[-1].action == "edited"
        newest = db.scalars(select(ScoreOutbox).where(ScoreOutbox.user_id ==
                                                      entry.portfolio.user_id)
                            .order_by(ScoreOutbox.id.desc())).first()
        assert newest.score_given == 0.0 and newest.status == "pending"


def test_return_needs_comment_and_student_sees_it(tool, moodle):
    student = launch(tool, moodle)
    entry_id = add_entry(student)
    teacher = launch(tool, moodle, "teacher")
    version = entry_version(tool, entry_id)
    refused = teacher.post(f"/portfolio/entries/{entry_id}/decide",
                           {"action": "return", "version": str(version)})
    assert "Write a comment" in refused.text
    teacher.post(f"/portfolio/entries/{entry_id}/decide",
                 {"action": "return", "version": str(version),
                  "comment": "Attach the diploma, please"})
    page = student.get("/portfolio/")
    assert "Attach the diploma, please" in page.text
    assert "returned for changes" in page.text
    # Resubmitted, then rejected: every decision is kept with who and when.
    student.post(f"/portfolio/entries/{entry_id}/submit",
                 {"version": str(entry_version(tool, entry_id))})
    teacher.post(f"/portfolio/entries/{entry_id}/decide",
                 {"action": "reject", "version": str(entry_version(tool, entry_id)),
                  "comment": "Not an olympiad"})
    history = student.get(f"/portfolio/entries/{entry_id}")
    for word in ("submitted", "returned for changes", "rejected", "Terry Teacher",
                 "Not an olympiad"):
        assert word in history.text


def test_tutor_sees_a_stale_queue_item_refused(tool, moodle):
    student = launch(tool, moodle)
    entry_id = add_entry(student)
    old = entry_version(tool, entry_id)
    student.post(f"/portfolio/entries/{entry_id}/edit", {
        "list": "olympiads", "course_year": "2", "item": "olympiad", "level": "republic",
        "result": "second", "f_title": "Changed", "action": "submit", "version": str(old)})
    teacher = launch(tool, moodle, "teacher")
    answer = teacher.post("/portfolio/course/queue", {"entry": f"{entry_id}:{old}",
                                                     "action": "verify"})
    # The 409 page says what changed and offers the entry as it is now, checked.
    assert answer.status_code == 409
    assert "Changed since you looked" in answer.text
    assert "The student changed the entry's content." in answer.text
    with db_session(tool) as db:
        entry = db.get(Entry, entry_id)
        assert entry.status == "submitted"
        assert f'value="{entry_id}:{entry.version}" checked' in answer.text


def test_design_mark_is_the_tutors_and_checked(tool, moodle):
    student = launch(tool, moodle)
    student.get("/portfolio/")
    teacher = launch(tool, moodle, "teacher")
    with db_session(tool) as db:
        pid = db.scalar(select(Portfolio.id).join(Portfolio.user).where(
            Portfolio.platform_id == db.scalar(select(Portfolio.platform_id)
                                               .order_by(Portfolio.id.desc()))))
    bad = teacher.post(f"/portfolio/{pid}/marks", {"mark": "design", "year": "1",
                                                  "points": "45"})
    assert "The mark must be from 10 to 30." in bad.text
    ok = teacher.post(f"/portfolio/{pid}/marks", {"mark": "design", "year": "1", "points": "25"})
    assert "The mark was saved." in ok.text
    assert "Verified: <strong>25</strong>" in student.get("/portfolio/").text
    # The student cannot give themselves a mark.
    assert student.post(f"/portfolio/{pid}/marks", {"mark": "design", "year": "1",
                                                   "points": "30"}).status_code == 403


# ---- bad input, stale edits, uploads ---------------------------------------------------------


def test_validation_errors_keep_the_users_text(tool, moodle):
    student = launch(tool, moodle)
    answer = student.post("/portfolio/entries/new?list=olympiads", {
        "list": "olympiads", "course_year": "9", "item": "olympiad", "level": "",
        "result": "first", "f_title": "", "f_note": "Мой длинный текст о дипломе",
        "action": "submit"})
    assert answer.status_code == 400
    assert "Мой длинный текст о дипломе" in answer.text
    assert "This field is required." in answer.text
    assert "Choose the level." in answer.text
    assert "Choose a course year from 1 to 5." in answer.text
    profile = student.post("/portfolio/portrait/profile", {
        "version": "0", "full_name": "Сэм Студент", "birth_year": "1890",
        "group_name": "МД-21-03"})
    assert profile.status_code == 400
    assert "МД-21-03" in profile.text and "Enter a year from 1940 to 2015." in profile.text


def test_two_tabs_do_not_overwrite_newer_text(tool, moodle):
    student = launch(tool, moodle)
    student.get("/portfolio/")
    first = student.post("/portfolio/portrait/essay", {"version": "0",
                                                       "essay": "Text from tab one"})
    assert first.status_code == 200
    stale = student.post("/portfolio/portrait/essay", {"version": "0",
                                                       "essay": "Text from tab two"})
    assert stale.status_code == 409
    assert "Text from tab one" in stale.text and "Text from tab two" in stale.text
    again = student.post("/portfolio/portrait/essay", {"version": "1",
                                                       "essay": "Text from tab one and two"})
    assert again.status_code == 200
    with db_session(tool) as db:
        portfolio = db.scalars(select(Portfolio).order_by(Portfolio.id.desc())).first()
        assert portfolio.essay == "Text from tab one and two" and portfolio.essay_version == 2
        pid = portfolio.id
    history = student.get(f"/portfolio/{pid}/history/essay")
    assert "Version 2" in history.text and "<ins>and two</ins>" in history.text

    entry_id = add_entry(student)
    version = entry_version(tool, entry_id)
    base = {"list": "olympiads", "course_year": "2", "item": "olympiad", "level": "republic",
            "result": "first", "action": "draft", "version": str(version)}
    student.post(f"/portfolio/entries/{entry_id}/edit", {**base, "f_title": "Tab one title"})
    refused = student.post(f"/portfolio/entries/{entry_id}/edit",
                           {**base, "f_title": "Tab two title"})
    assert refused.status_code == 409
    assert "Tab one title" in refused.text and "Tab two title" in refused.text


def test_disguised_and_oversized_uploads_are_refused(tool, moodle):
    student = launch(tool, moodle)
    entry_id = add_entry(student)
    for name, body in (("cv.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200),
                       ("cv.pdf", b"<!doctype html><script>alert(1)</script>"),
                       ("empty.pdf", b"")):
        answer = student.post(f"/portfolio/entries/{entry_id}/evidence",
                              files={"file": (name, body, "application/pdf")})
        # The entry page itself, the reason beside the file field.
        assert answer.status_code == 400 and 'id="pf-file-error"' in answer.text
        assert "is not a file of an accepted kind" in answer.text or "The file is empty." \
            in answer.text
    big = PDF + b"0" * (20 * 1024 * 1024)
    answer = student.post(f"/portfolio/entries/{entry_id}/evidence",
                          files={"file": ("big.pdf", big, "application/pdf")})
    assert "The file is larger than the limit of 20 MB." in answer.text
    huge = PDF + b"0" * (21 * 1024 * 1024)
    answer = student.post(f"/portfolio/entries/{entry_id}/evidence",
                          files={"file": ("huge.pdf", huge, "application/pdf")})
    assert answer.status_code == 413 and "larger than the limit of 20 MB" in answer.text
    with db_session(tool) as db:
        assert db.get(Entry, entry_id).attachments == []


# ---- summaries, showcase, exports, analytics ---------------------------------------------------


def test_tutor_summary_printable_and_pdf(tool, moodle):
    student = launch(tool, moodle)
    entry_id = add_entry(student)
    teacher = launch(tool, moodle, "teacher")
    teacher.post(f"/portfolio/entries/{entry_id}/decide",
                 {"action": "verify", "version": str(entry_version(tool, entry_id))})
    with db_session(tool) as db:
        pid = db.get(Entry, entry_id).portfolio_id
    form = teacher.get(f"/portfolio/{pid}/summaries/new?academic_year=2025-2026&course_year=2")
    assert form.status_code == 200
    # The year's verified points and all years', and the level they give (thresholds beside).
    assert ("Verified portfolio points: 100 in 2025-2026 (course year 2), 100 in all years"
            in form.text)
    assert "They give the level: low." in form.text
    assert "high from 400, medium from 150" in form.text and "give no thresholds" in form.text
    assert "Anatomy olympiad" in form.text  # activity prefilled from verified entries
    saved = teacher.post(f"/portfolio/{pid}/summaries/new", {
        "version": "0", "academic_year": "2025-2026", "course_year": "2", "group_name": "МД-21",
        "gpa": "3.40", "academic_level": "good", "points": "100", "achievement_level": "medium",
        "activity": "Олимпиада по анатомии", "self_development": "Английский язык",
        "competences": "Клиническое мышление", "remarks": "", "tutor_name": "Terry Teacher",
        "head_name": "Қ. Әбілқасымова", "department": "Анатомия", "summary_date": "2026-06-20"})
    assert saved.status_code == 200 and "Олимпиада по анатомии" in saved.text
    sid = int(re.search(r"/portfolio/summaries/(\d+)", saved.url).group(1))
    pdf = teacher.get(f"/portfolio/summaries/{sid}.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    own = student.get(f"/portfolio/summaries/{sid}")
    assert own.status_code == 200 and "Қ. Әбілқасымова" in own.text
    # The tutor chose "medium" for 100 points (low): shown as the tutor's, beside the points.
    level = re.search(r'<dd id="achievement-level">(.*?)</dd>', own.text, re.S).group(1)
    assert "medium" in level and "set by the tutor" in level
    assert "the verified points give: low" in level and "100 in 2025-2026" in level
    assert "has reached" not in own.text  # neutral wording (issue 12)
    # A second summary for the same year is refused, the form keeps the text.
    dup = teacher.post(f"/portfolio/{pid}/summaries/new", {
        "version": "0", "academic_year": "2025-2026", "course_year": "2", "points": "1",
        "academic_level": "", "achievement_level": "low", "tutor_name": "T",
        "summary_date": "2026-06-21",
        "remarks": "keep me"})
    assert dup.status_code == 409 and "keep me" in dup.text


def test_showcase_link_is_read_only_revocable_and_hides_details(tool, moodle):
    student = launch(tool, moodle)
    shown = add_entry(student, f_title="Shown olympiad")
    hidden = add_entry(student, f_title="Hidden olympiad")
    student.post(f"/portfolio/entries/{shown}/evidence",
                 files={"file": ("d.pdf", PDF, "application/pdf")})
    student.post(f"/portfolio/entries/{hidden}/evidence",
                 files={"file": ("h.pdf", PDF, "application/pdf")})
    student.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Sam Student",
                                                 "group_name": "SECRET-GROUP"})
    made = student.post("/portfolio/showcase", {"title": "For the clinic",
                                                "sections": ["portrait", "achievements"],
                                                "entries": [str(shown)], "hide_personal": "y"})
    link = re.search(r'value="(http[^"]+/s/[^"]+)"', made.text).group(1)
    assert "ls=" not in link
    with LaunchDriver(framed=False) as employer:
        page = employer.get(link)
        assert page.status_code == 200
        assert page.headers["X-Robots-Tag"].startswith("noindex")
        assert "Shown olympiad" in page.text and "Hidden olympiad" not in page.text
        assert "SECRET-GROUP" not in page.text
        with db_session(tool) as db:
            shown_file = db.get(Entry, shown).evidence[0].id
            hidden_file = db.get(Entry, hidden).evidence[0].id
        assert employer.get(f"{link}/files/{shown_file}").content == PDF
        assert employer.get(f"{link}/files/{hidden_file}").status_code == 404
        assert employer.get(link + "x").status_code == 404
        # Revoked: gone at once.
        with db_session(tool) as db:
            showcase_id = db.scalar(select(Showcase.id).order_by(Showcase.id.desc()))
        student.post(f"/portfolio/showcase/{showcase_id}/revoke")
        assert employer.get(link).status_code == 404
    expiring = student.post("/portfolio/showcase", {"sections": ["achievements"],
                                                    "entries": [str(shown)], "days": "1"})
    link2 = re.findall(r'value="(http[^"]+/s/[^"]+)"', expiring.text)[0]
    with db_session(tool) as db:
        from datetime import timedelta

        from lti_tool.db import utcnow
        newest = db.scalars(select(Showcase).order_by(Showcase.id.desc())).first()
        newest.expires_at = utcnow() - timedelta(minutes=1)
        db.commit()
    with LaunchDriver(framed=False) as employer:
        assert employer.get(link2).status_code == 404


def test_exports_and_analytics(tool, canvas):
    student = launch(tool, canvas)
    student.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Сэм Студент",
                                                 "group_name": "=HYPERLINK(1)",
                                                 "specialty": "Общая медицина"})
    entry_id = add_entry(student)
    teacher = launch(tool, canvas, "teacher")
    teacher.post(f"/portfolio/entries/{entry_id}/decide",
                 {"action": "verify", "version": str(entry_version(tool, entry_id))})
    with db_session(tool) as db:
        pid = db.get(Entry, entry_id).portfolio_id
    data = student.get(f"/portfolio/{pid}/export.json").json()
    assert data["totals"] == {"claimed": 100, "verified": 100}
    assert data["entries"][0]["decisions"][-1]["action"] == "verify"
    pdf = student.get(f"/portfolio/{pid}/export.pdf")
    assert pdf.content.startswith(b"%PDF")
    csv_text = teacher.get("/portfolio/course/export.csv").content.decode("utf-8-sig")
    assert "Сэм Студент" in csv_text and "'=HYPERLINK(1)" in csv_text
    xlsx = teacher.get("/portfolio/course/export.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c.value for c in sheet[2]]
    assert "Сэм Студент" in values and "'=HYPERLINK(1)" in values and 100 in values
    analytics = teacher.get("/portfolio/course/analytics")
    assert analytics.status_code == 200 and "<svg" in analytics.text
    assert "Общая медицина" in analytics.text


def test_course_view_filters_by_group_and_year(tool, moodle):
    first = launch(tool, moodle)
    first.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Aigerim A",
                                               "group_name": "G1", "course_year": "2"})
    second = launch(tool, moodle, OTHER_STUDENT)
    second.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Bota B",
                                                "group_name": "G2", "course_year": "3"})
    teacher = launch(tool, moodle, "teacher")
    both = teacher.get("/portfolio/course")
    assert "Aigerim A" in both.text and "Bota B" in both.text
    only = teacher.get("/portfolio/course?group=G2")
    assert "Bota B" in only.text and "Aigerim A" not in only.text
    year = teacher.get("/portfolio/course?year=2")
    assert "Aigerim A" in year.text and "Bota B" not in year.text


def test_admin_sees_all_portfolios_of_the_platform(tool, moodle):
    student = launch(tool, moodle, course=901)
    student.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Far Away"})
    admin = launch(tool, moodle, "admin", course=902)
    listing = admin.get("/portfolio/all")
    assert "Far Away" in listing.text
    with db_session(tool) as db:
        pid = db.scalar(select(Portfolio.id).where(Portfolio.full_name == "Far Away"))
    assert admin.get(f"/portfolio/{pid}").status_code == 200


@pytest.mark.parametrize("page", ["/portfolio/", "/portfolio/portrait/profile",
                                  "/portfolio/entries/new?list=letters",
                                  "/portfolio/showcase"])
def test_student_pages_render(tool, moodle, page):
    student = launch(tool, moodle)
    answer = student.get(page)
    assert answer.status_code == 200, answer.text[:400]
    assert "style=" not in answer.text  # CSP: no inline styles


def test_gpa_by_course_year_comes_from_the_gradebook(tool, moodle):
    from lti_tool.gradebook.models import CourseGrading, LineItem, Result
    from lti_tool.lti.models import Membership, User

    student = launch(tool, moodle)
    student.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Sam Student",
                                                 "admission_year": "2024"})
    with db_session(tool) as db:
        portfolio = db.scalars(select(Portfolio).order_by(Portfolio.id.desc())).first()
        user = db.get(User, portfolio.user_id)
        context_id = db.scalar(select(Membership.context_id).where(
            Membership.user_id == user.id))
        item = LineItem(context_id=context_id, url="https://lms/li/final", label="Final",
                        score_maximum=100)
        db.add(item)
        db.flush()
        db.add(Result(line_item_id=item.id, user_id=user.id, result_score=92,
                      result_maximum=100))
        db.add(CourseGrading(context_id=context_id, final_line_item_id=item.id, credits=5,
                             academic_year="2025-2026"))
        db.commit()
        pid = portfolio.id
    page = student.get("/portfolio/")
    # Admitted in 2024: 2025-2026 is course year 2 (the academic calendar), and says so.
    row = re.search(r'href="#year-2">2</a> <span class="muted pf-ay">2025-2026</span></th>'
                    r'\s*<td>([^<]+)</td>', page.text)
    assert row and row.group(1).strip() == "3.67"  # A- (90-94 %), the dual-training rules
    teacher = launch(tool, moodle, "teacher")
    form = teacher.get(f"/portfolio/{pid}/summaries/new?academic_year=2025-2026")
    assert 'value="3.67"' in form.text
    assert re.search(r"<option selected value=\"excellent\">", form.text)


def test_course_staff_choose_how_points_reach_the_gradebook_and_students_read_it(tool, moodle):
    """Issue 11: 155 verified points showed as 15.5 / 100 in the LMS, read as failing. The
    student's page says what the points become; the course's staff choose the normalisation,
    and every learner's score is sent again under it."""
    student = launch(tool, moodle, "student")
    entry_id = add_entry(student)
    teacher = launch(tool, moodle, "teacher")
    teacher.post("/portfolio/course/queue", {"entry": f"{entry_id}:{entry_version(tool, entry_id)}",
                                            "action": "verify"})
    page = student.get("/portfolio/").text
    assert ("100 verified points = 10 / 100 in the course gradebook: the gradebook gets your "
            "points out of 1000 (1000 points = 100 %)") in page

    course = teacher.get("/portfolio/course").text
    assert re.search(r'<input checked[^>]*value="points"', course) and 'value="1000"' in course
    park_leftovers(tool)
    saved = teacher.post("/portfolio/course/score", {"mode": "normalised",
                                                     "points_maximum": "200"})
    assert "Scores queued for the gradebook: 1." in saved.text
    with db_session(tool) as db:
        user_id = db.get(Entry, entry_id).portfolio.user_id
        newest = db.scalars(select(ScoreOutbox).where(ScoreOutbox.user_id == user_id)
                            .order_by(ScoreOutbox.id.desc())).first()
        assert (newest.score_given, newest.score_maximum) == (50.0, 100.0)
    # The worker recomputes the score when it sends: under the course's choice, not the default.
    drain(tool)
    stored = moodle.scores(newest.line_item_url)[newest.user_sub]
    assert stored["scoreGiven"] / stored["scoreMaximum"] == 0.5, stored
    page = student.get("/portfolio/?lang=ru").text
    assert ("100 подтверждённых баллов = 50 / 100 в журнале оценок курса: 200 баллов и больше "
            "дают полные 100.") in page

    refused = teacher.post("/portfolio/course/score", {"mode": "normalised",
                                                       "points_maximum": "0"})
    assert "From 1 to 100000 points." in refused.text
    assert 'value="200"' in teacher.get("/portfolio/course").text  # the choice stands


def test_refusals_are_the_tools_own_translated_pages(tool, moodle):
    """An unknown page, list or action is a ToolError: the tool's page in the user's language."""
    student = launch(tool, moodle)
    entry_id = add_entry(student)
    unknown_page = student.get("/portfolio/portrait/nope?lang=ru")
    assert unknown_page.status_code == 404
    assert "Такой страницы не существует" in unknown_page.text
    assert "<code>not_found</code>" in unknown_page.text
    unknown_list = student.get("/portfolio/entries/new?list=nope&lang=kk")
    assert unknown_list.status_code == 404 and "<code>not_found</code>" in unknown_list.text
    teacher = launch(tool, moodle, "teacher")
    stale_form = teacher.post(f"/portfolio/entries/{entry_id}/decide?lang=ru",
                              {"action": "approve-all", "version": "1"})
    assert stale_form.status_code == 400
    assert "<code>unknown_action</code>" in stale_form.text
    assert "Это действие здесь неизвестно" in stale_form.text


def test_issue_13_summary_files_the_year_by_the_calendar_and_never_contradicts_points(
        tool, moodle):
    """Issue 13: admitted in 2023, 155 points verified in course year 3; the summary of
    2025-2026 is course year 3 with those 155 points (and the total beside them), its level
    the one the points give, in Russian "средний" (masculine, like высокий / низкий)."""
    student = launch(tool, moodle)
    student.post("/portfolio/portrait/profile", {"version": "0", "full_name": "Sam Student",
                                                 "admission_year": "2023", "group_name": "МД-21"})
    first = add_entry(student, course_year="3", level="republic", result="first")  # 100
    second = add_entry(student, course_year="3", level="university", result="third")  # 50
    third = add_entry(student, list_key="self_development", item="self_development_event",
                      course_year="3", count="1", level="", result="", f_title="Training",
                      f_when="", f_date="2026-02-10")  # 5
    older = add_entry(student, course_year="1", level="university", result="second")  # 75
    teacher = launch(tool, moodle, "teacher")
    for entry_id in (first, second, third, older):
        answer = teacher.post(f"/portfolio/entries/{entry_id}/decide", {
            "action": "verify", "version": str(entry_version(tool, entry_id))})
        assert answer.status_code == 200
    with db_session(tool) as db:
        pid = db.get(Entry, first).portfolio_id
    form = teacher.get(f"/portfolio/{pid}/summaries/new?academic_year=2025-2026")
    assert re.search(r'name="course_year"[^>]*value="3"', form.text)
    assert ("Verified portfolio points: 155 in 2025-2026 (course year 3), 230 in all years"
            in form.text)
    base = {"version": "0", "academic_year": "2025-2026", "group_name": "МД-21", "gpa": "2.33",
            "academic_level": "", "achievement_level": "", "tutor_name": "Terry Teacher",
            "summary_date": "2026-06-20"}
    # Another course year than the calendar's for 2025-2026 is refused, with the reason.
    wrong = teacher.post(f"/portfolio/{pid}/summaries/new", {**base, "course_year": "4"})
    assert wrong.status_code == 400
    assert "In 2025-2026 the student is in course year 3" in wrong.text
    saved = teacher.post(f"/portfolio/{pid}/summaries/new", {**base, "course_year": "3"})
    assert saved.status_code == 200
    sid = int(re.search(r"/portfolio/summaries/(\d+)", saved.url).group(1))
    ru = teacher.get(f"/portfolio/summaries/{sid}?lang=ru")
    level = re.search(r'<dd id="achievement-level">(.*?)</dd>', ru.text, re.S).group(1)
    assert "средний" in level and "155" in level and "230" in level
    assert "тьютор" not in level.lower()  # no override
    # C+ = 2.33 is "good" (хорошая успеваемость), worked out from the GPA.
    assert "хорошая (GPA 2,33)" in ru.text
    with db_session(tool) as db:
        from lti_tool.portfolio.models import Summary

        summary = db.get(Summary, sid)
        assert (summary.course_year, summary.points, summary.points_total,
                summary.achievement_level, summary.level_overridden,
                summary.academic_level) == (3, 155, 230, "medium", False, "good")
        version = summary.version
    # The tutor overrides the level: kept, and shown as the tutor's beside the points' level.
    edited = teacher.post(f"/portfolio/summaries/{sid}/edit", {
        **base, "version": str(version), "course_year": "3", "achievement_level": "high"})
    assert edited.status_code == 200
    ru = teacher.get(f"/portfolio/summaries/{sid}?lang=ru")
    level = re.search(r'<dd id="achievement-level">(.*?)</dd>', ru.text, re.S).group(1)
    assert "высокий" in level and "средний" in level and "155" in level


def test_section_i_and_entries_follow_the_academic_calendar(tool, moodle):
    """Issue 13: Section I cannot say "admitted 2023" and another course year than the
    calendar's; an entry's course year comes from its date, and another one shows its note."""
    from lti_tool.calendar import AcademicCalendar, StudentYears

    calendar = AcademicCalendar()
    now = calendar.course_year(calendar.today(), StudentYears(admission_year=2023))
    student = launch(tool, moodle)
    wrong = student.post("/portfolio/portrait/profile", {
        "version": "0", "full_name": "Sam Student", "admission_year": "2023",
        "course_year": str(now % 5 + 1)})
    assert wrong.status_code == 400 and f"you are in course year {now} in" in wrong.text
    saved = student.post("/portfolio/portrait/profile", {
        "version": "0", "full_name": "Sam Student", "admission_year": "2023",
        "course_year": str(now)})
    assert saved.status_code == 200
    assert f"Course year {now}" in student.get("/portfolio/").text
    base = {"item": "sports_competition", "level": "university", "result": "first",
            "f_title": "Cup", "f_date": "2025-09-01", "f_when": "", "f_note": ""}
    by_date = add_entry(student, "sports", course_year="", **base)
    with db_session(tool) as db:
        assert db.get(Entry, by_date).course_year == 3  # 2025-2026, admitted 2023
    refused = student.post("/portfolio/entries/new?list=sports", {
        **base, "list": "sports", "course_year": "2", "action": "draft"})
    assert refused.status_code == 400 and "falls in your course year 3" in refused.text
    noted = add_entry(student, "sports", course_year="2", year_note="Results came in August",
                      **base)
    page = student.get(f"/portfolio/entries/{noted}")
    assert "Filed under course year 2, not the date's: Results came in August" in page.text


def test_group_leader_confirms_the_groups_gpa_and_a_change_clears_it(tool, moodle):
    """The portfolio regulations, Section II: the GPA by course year is signed by the group leader.
    A tutor marks the leader; the leader confirms each row as shown; the student's table shows who
    and when; a later change of the GPA clears the confirmation."""
    from lti_tool.gradebook.models import CourseGrading, LineItem, Result
    from lti_tool.lti.models import Membership

    leader = launch(tool, moodle)
    member = launch(tool, moodle, {"role": "student", "id": "41", "given_name": "Mia",
                                   "family_name": "Member"})
    outsider = launch(tool, moodle, {"role": "student", "id": "42", "given_name": "Oleg",
                                     "family_name": "Other"})
    for client, name, group in ((leader, "Sam Student", "МД-21"), (member, "Mia Member", "МД-21"),
                                (outsider, "Oleg Other", "МД-22")):
        client.post("/portfolio/portrait/profile", {"version": "0", "full_name": name,
                                                    "admission_year": "2024",
                                                    "group_name": group})
    with db_session(tool) as db:
        # Newest last: earlier tests of this module left portfolios with the same names.
        portfolios = {p.full_name: p for p in db.scalars(select(Portfolio).order_by(Portfolio.id))}
        mia, sam = portfolios["Mia Member"], portfolios["Sam Student"]
        context_id = db.scalar(select(Membership.context_id).where(
            Membership.user_id == mia.user_id))
        item = LineItem(context_id=context_id, url="https://lms/li/final", label="Final",
                        score_maximum=100)
        db.add(item)
        db.flush()
        result = Result(line_item_id=item.id, user_id=mia.user_id, result_score=92,
                        result_maximum=100)
        db.add(result)
        db.add(CourseGrading(context_id=context_id, final_line_item_id=item.id, credits=5,
                             academic_year="2025-2026"))
        db.commit()
        mia_id, sam_id, result_id = mia.id, sam.id, result.id
    # Not a leader yet: refused, clearly.
    early = leader.get("/portfolio/group-gpa")
    assert early.status_code == 409 and "Only the group leader" in early.text
    teacher = launch(tool, moodle, "teacher")
    marked = teacher.post(f"/portfolio/{sam_id}/leader")
    assert marked.status_code == 200 and "Leader of group МД-21" in marked.text
    assert "Confirm the GPA of group МД-21" in leader.get("/portfolio/").text
    table = leader.get("/portfolio/group-gpa")
    assert table.status_code == 200 and "Mia Member" in table.text
    assert "Oleg Other" not in table.text  # another group
    assert 'name="gpa" value="3.67"' in table.text
    # A GPA other than the current one (a stale page) is refused.
    stale = leader.post("/portfolio/group-gpa/confirm", {
        "portfolio": str(mia_id), "academic_year": "2025-2026", "gpa": "3.00"})
    assert stale.status_code == 409 and "The GPA changed" in stale.text
    # Someone who does not lead the group cannot confirm.
    refused = outsider.post("/portfolio/group-gpa/confirm", {
        "portfolio": str(mia_id), "academic_year": "2025-2026", "gpa": "3.67"})
    assert refused.status_code == 409
    done = leader.post("/portfolio/group-gpa/confirm", {
        "portfolio": str(mia_id), "academic_year": "2025-2026", "gpa": "3.67"})
    assert done.status_code == 200 and "Confirmed." in done.text
    own = member.get("/portfolio/").text
    cell = re.search(r'href="#year-2">2</a>.*?<td>3\.67<span class="pf-confirmed">([^<]*)</span>',
                     own, re.S)
    assert cell and "confirmed by the group leader Sam Student" in cell.group(1)
    assert member.get(f"/portfolio/{mia_id}/export.pdf").status_code == 200
    # The grade changes (92 % -> 80 %, A- -> B): the confirmation no longer applies.
    with db_session(tool) as db:
        db.get(Result, result_id).result_score = 80
        db.commit()
    own = member.get("/portfolio/").text
    assert "pf-confirmed" not in own
    assert 'name="gpa" value="3.00"' in leader.get("/portfolio/group-gpa").text
