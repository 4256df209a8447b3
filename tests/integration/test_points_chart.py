"""The student's points per course year as a small chart on their portfolio (issue 12): drawn
on the server as SVG, beside the table with the same figures; verified points are the bars,
what is claimed and still waiting reaches up as the line."""

from __future__ import annotations

import re

from test_portfolio_flow import add_entry, entry_version, launch


def _chart(page) -> str:
    return page.text.split('id="points-chart"', 1)[1].split("</figure>", 1)[0]


def test_the_portfolio_shows_points_per_course_year_as_a_chart(tool, moodle):
    student = launch(tool, moodle, "student")
    entry_id = add_entry(student)  # course year 2, 100 points claimed, waiting
    chart = _chart(student.get("/portfolio/"))
    assert '<svg class="chart chart-small"' in chart and 'role="img"' in chart
    assert "<script" not in chart and "style=" not in chart  # CSP: no scripts, no inline styles
    assert "<title>2: 0</title>" in chart  # nothing verified yet in year 2
    assert 'class="range"' in chart  # the line up to the 100 points claimed
    assert "<title>1: 0</title>" in chart and "<title>3: 0</title>" in chart

    teacher = launch(tool, moodle, "teacher")
    done = teacher.post(
        "/portfolio/course/queue",
        {"entry": f"{entry_id}:{entry_version(tool, entry_id)}", "action": "verify"},
    )
    assert "1 entries saved." in done.text
    page = student.get("/portfolio/")
    assert "<title>2: 100</title>" in _chart(page)
    # The tutor sees the same chart on the student's portfolio.
    portfolio_id = re.search(r"/portfolio/(\d+)\?", teacher.get("/portfolio/course").text)
    assert portfolio_id
    tutor_view = teacher.get(f"/portfolio/{portfolio_id.group(1)}")
    assert "<title>2: 100</title>" in _chart(tutor_view)
