"""Dates, times and numbers on pages: Babel, the reader's locale, the institution's time zone,
one way everywhere (issue 11)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lti_tool import create_app
from lti_tool.i18n import day, number, when

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MOMENT = datetime(2026, 12, 3, 8, 12, tzinfo=UTC)  # 13:12 in Almaty


def plain(text: str) -> str:
    """Babel's no-break spaces as plain ones, for comparing."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture(scope="module")
def app():
    return create_app({"gradebook": {"timezone": "Asia/Almaty"}})


@pytest.mark.parametrize(
    "locale, moment, today, hours, gpa",
    [
        ("ru", "3 дек. 2026 г., 13:12 (GMT+05:00)", "3 дек. 2026 г.", "45,00", "3,67"),
        ("kk", "2026 ж. 03 жел., 13:12 (GMT+05:00)", "2026 ж. 03 жел.", "45,00", "3,67"),
        ("en", "Dec 3, 2026, 1:12 PM (GMT+05:00)", "Dec 3, 2026", "45.00", "3.67"),
    ],
)
def test_pages_show_moments_in_the_institutions_zone_and_numbers_in_the_readers_locale(
    app, locale, moment, today, hours, gpa
):
    with app.test_request_context(f"/?lang={locale}"):
        assert plain(when(MOMENT)) == moment  # not "2026-12-03 08:12 UTC"
        assert plain(day(date(2026, 12, 3))) == today
        assert number(Decimal("45")) == hours  # not "45.00" in ru and kk
        assert number(3.666) == gpa
        assert number("3.67") == gpa  # a GPA as a tutor typed it on a summary
        assert number(None) == when(None) == day(None) == "—"


def test_no_template_formats_a_date_or_number_by_hand():
    # One way everywhere: the filters above, never strftime, "%.2f", round or Babel's own
    # filters with a pattern of the template's choosing.
    by_hand = re.compile(
        r"strftime|['\"]%\.\d+f['\"]\s*\|\s*format|\|\s*round\b"
        r"|decimalformat|datetimeformat"
        # ISO dates are for attributes (datetime=, value=), not for reading.
        r"|(?<!=\")\{\{[^}]*\.isoformat\(\)"
    )
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:100]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        # A date input's value is ISO by HTML's rule (<input type="date">).
        if by_hand.search(line) and 'type="date"' not in line
    ]
    assert found == [], "\n".join(found)
