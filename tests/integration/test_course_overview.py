"""The tutor's course overview over HTTP: the roster's learners with GPA and letter, search,
sort and paging by query string, bad parameters refused with a page, not a 500."""

from __future__ import annotations

import re

from gradebook_seed import Seeder
from lti_platform import parse_forms
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.lti.models import Membership, User


def _link(page, text):
    match = re.search(r'href="([^"]+)"[^>]*>' + re.escape(text), page.text)
    assert match, f"no link {text!r} on {page.url}"
    return match.group(1).replace("&amp;", "&")


def _rows(page) -> list[str]:
    table = page.text.split('id="overview"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td data-label="Student">(?:<a [^>]*>)?([^<]+)', table)


def test_the_overview_lists_the_roster_with_gpa_and_answers_search_sort_and_pages(
    tool, moodle, browser
):
    learners = moodle.add_members(2, 4)
    home = browser.launch(moodle.plan("teacher", locale="en", custom={"placement": "portfolio"}))
    token = re.search(r"[?&]ls=([^\"&]+)", home.url).group(1)
    sync = browser.get(tool.base_url + _link(home, "Gradebook sync"))
    form = next(f for f in parse_forms(sync.text, sync.url) if "/gradebook/sync/roster" in f.action)
    browser.post(form.action, data=form.fields, headers={"Accept-Language": "en"})

    # One learner has a final grade of 91 % with credits in this course: GPA 3.67, A-.
    seeder = Seeder(tool, moodle)
    with services(tool.app).db.new_session() as db:
        teacher = db.scalars(
            select(User).where(
                User.sub == moodle.plan("teacher").user.sub,
                User.platform_id == seeder.platform_id(),
            )
        ).one()
        context_id = db.scalars(
            select(Membership.context_id).where(Membership.user_id == teacher.id)
        ).first()
        from lti_tool.lti.models import Context

        lti_context = db.get(Context, context_id).context_id
    seeder.course(lti_context, credits=5, year="2025-2026", sub=learners[0].sub, score=91)

    def page(query: str):
        answer = browser.get(
            f"{tool.base_url}/portfolio/course?ls={token}&{query}",
            headers={"Accept-Language": "en"},
        )
        return answer

    everyone = page("")
    assert everyone.status_code == 200
    names = _rows(everyone)
    for learner in learners:
        assert any(learner.family_name in name for name in names), names
    assert "3.67 (A-)" in everyone.text
    assert "has not opened the portfolio yet" in everyone.text
    assert 'aria-sort="ascending"' in everyone.text  # by name, the default

    wanted = learners[2].family_name
    found = page(f"q={wanted.lower()}")
    assert [n for n in _rows(found)] == [n for n in names if wanted in n]

    by_gpa = page("sort=gpa&dir=desc")
    assert learners[0].family_name in _rows(by_gpa)[0]
    assert 'aria-sort="descending"' in by_gpa.text

    unopened = page("state=unopened")
    assert len(_rows(unopened)) == len([n for n in names if n])  # nobody has opened it yet

    for bad in ("sort=password", "state=everything", "dir=sideways", "page=-1", "page=x"):
        refused = page(bad)
        assert refused.status_code == 400, (bad, refused.status_code)
        assert "Traceback" not in refused.text

    kk = browser.get(
        f"{tool.base_url}/portfolio/course?ls={token}&sort=nope", headers={"Accept-Language": "kk"}
    )
    assert kk.status_code == 400
