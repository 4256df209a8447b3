"""Pictures where people would rather look (issue 12): the HR list and the module report draw
status counts and hours by department as server-rendered SVG charts (no scripts, no CDN), with
the data table beside them."""

from __future__ import annotations

import re
from contextlib import ExitStack

from test_teachhub_reports import _hr_fixture

SVG = re.compile(r'<svg class="chart"[^>]*role="img"[^>]*aria-label="([^"]+)"')


def _bars(chart: str) -> dict[str, str]:
    return dict(re.findall(r'<rect class="col"[^>]*><title>([^<]+): ([^<]+)</title>', chart))


def _charts(page) -> dict[str, str]:
    """Each chart's accessible name -> its markup."""
    found = {}
    for part in page.text.split("<svg ")[1:]:
        svg = "<svg " + part.split("</svg>", 1)[0]
        name = SVG.match(svg)
        assert name, svg[:200]
        found[name.group(1)] = svg
    return found


def test_hr_list_and_module_report_draw_statuses_and_hours_by_department(tool, moodle):
    with ExitStack() as stack:
        setup, _a, _b, _c, _ids = _hr_fixture(tool, moodle, stack)
        hr = setup.coordinator.get("/teachhub/hr")
        assert hr.status_code == 200
        charts = _charts(hr)
        assert set(charts) == {"Activities by status", "Hours by department"}
        assert _bars(charts["Activities by status"]) == {
            "Completed": "1",
            "Submitted for recognition": "0",
            "Recognized": "1",
        }
        assert _bars(charts["Hours by department"]) == {"Pediatrics": "10", "Surgery": "45.5"}
        # The table with the same figures is in the same section.
        section = hr.text.split('id="departments"', 1)[1].split("</section>", 1)[0]
        assert 'id="hr-charts"' in section and "<table" in section
        assert "<script" not in section and "style=" not in section

        report = setup.coordinator.get(f"/teachhub/modules/{setup.module_id}/report")
        assert report.status_code == 200
        charts = _charts(report)
        assert set(charts) == {"Participants by status", "Hours by department"}
        assert _bars(charts["Participants by status"]) == {
            "Registered": "1",
            "In progress": "0",
            "Completed": "1",
            "Submitted for recognition": "0",
            "Recognized": "1",
        }
        assert _bars(charts["Hours by department"]) == {
            "not given": "0",
            "Pediatrics": "10",
            "Surgery": "45.5",
        }
        table = report.text.split('id="departments"', 1)[1].split("</table>", 1)[0]
        assert re.search(r"Surgery</th><td[^>]*>1</td><td[^>]*>45.50<", table), table
