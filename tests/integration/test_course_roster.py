"""Every enrolled learner is on the staff's lists, counts and exports, launched or not.

A learner in the course roster (NRPS, status Active) who never opened the tool has no portfolio
yet; the tutor must still see them, marked "has not opened the portfolio yet", and count them.
"""

from __future__ import annotations

import csv
import io
import re

from lti_platform import parse_forms


def _link(page, text):
    match = re.search(r'href="([^"]+)"[^>]*>' + re.escape(text), page.text)
    assert match, f"no link {text!r} on {page.url}"
    return match.group(1).replace("&amp;", "&")


def _pull_roster(tool, browser, home) -> None:
    page = browser.get(tool.base_url + _link(home, "Gradebook sync"))
    form = next(f for f in parse_forms(page.text, page.url) if "/gradebook/sync/roster" in f.action)
    after = browser.post(form.action, data=form.fields, headers={"Accept-Language": "en"})
    assert re.search(r"Roster updated: \d+ members", after.text), after.text[:500]


def test_learners_who_never_opened_the_tool_are_listed_counted_and_exported(
        tool, moodle, browser):
    never_launched = moodle.add_members(2, 3)
    home = browser.launch(moodle.plan("teacher", locale="en", custom={"placement": "portfolio"}))
    token = re.search(r"[?&]ls=([^\"&]+)", home.url).group(1)
    _pull_roster(tool, browser, home)

    names = [u.family_name for u in never_launched]
    course = browser.get(f"{tool.base_url}/portfolio/course?ls={token}")
    assert course.status_code == 200
    for name in names:
        assert name in course.text, f"{name} missing from the course page"
    assert course.text.count("has not opened the portfolio yet") >= len(names)
    assert "No students match" not in course.text

    export = browser.get(f"{tool.base_url}/portfolio/course/export.csv?ls={token}")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    exported = "\n".join(row[0] for row in rows[1:])
    assert all(name in exported for name in names), exported

    analytics = browser.get(f"{tool.base_url}/portfolio/course/analytics?ls={token}")
    assert analytics.status_code == 200
    students = re.search(r'data-count="students">(\d+)<', analytics.text)
    assert students, analytics.text[:800]
    assert int(students.group(1)) >= len(names)
