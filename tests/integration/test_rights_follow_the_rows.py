"""Rights are read afresh on every request (issue 15 made their reading one plain statement):
naming or removing a coordinator, a facilitator or a staff-learning role shows in the menu and
the pages on the person's very next request, in the same session, never a stale right."""

from __future__ import annotations

import re
from contextlib import ExitStack

from sqlalchemy import delete
from teachhub_helpers import create_module, db, launch, tool_platform_id

from lti_tool.learning.models import NamedRole
from lti_tool.teachhub.models import Coordinator, ModuleFacilitator


def _menu(person) -> str:
    """The page's menu (base.html's nav.menu)."""
    page = person.get("/about").text
    return page.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]


def test_a_named_then_removed_coordinator_gains_then_loses_the_hr_list(tool, moodle):
    with ExitStack() as stack:
        teacher = launch(tool, moodle, stack, "teacher")
        assert "/teachhub/hr" not in _menu(teacher)
        assert teacher.get("/teachhub/hr").status_code == 403
        with db(tool) as session:
            session.add(
                Coordinator(platform_id=tool_platform_id(tool, moodle), user_id=teacher.user_id)
            )
            session.commit()
        assert "/teachhub/hr" in _menu(teacher)
        assert teacher.get("/teachhub/hr").status_code == 200
        with db(tool) as session:
            session.execute(delete(Coordinator).where(Coordinator.user_id == teacher.user_id))
            session.commit()
        assert "/teachhub/hr" not in _menu(teacher)
        assert teacher.get("/teachhub/hr").status_code == 403


def test_a_removed_facilitator_no_longer_sees_the_modules_participants(tool, moodle):
    with ExitStack() as stack:
        admin = launch(tool, moodle, stack, "admin")
        teacher = launch(tool, moodle, stack, "teacher")
        module_id = create_module(admin, [teacher.user_id])
        assert teacher.get(f"/teachhub/modules/{module_id}").status_code == 200
        with db(tool) as session:
            session.execute(
                delete(ModuleFacilitator).where(
                    ModuleFacilitator.module_id == module_id,
                    ModuleFacilitator.user_id == teacher.user_id,
                )
            )
            session.commit()
        assert teacher.get(f"/teachhub/modules/{module_id}").status_code == 403


def test_a_head_named_then_removed_gains_then_loses_the_learning_list(tool, moodle):
    with ExitStack() as stack:
        student = launch(tool, moodle, stack, "student")
        assert "/learning/list" not in _menu(student)
        with db(tool) as session:
            session.add(
                NamedRole(
                    platform_id=tool_platform_id(tool, moodle),
                    user_id=student.user_id,
                    role="head",
                    department="Department of surgery",
                )
            )
            session.commit()
        assert "/learning/list" in _menu(student)
        assert student.get("/learning/list").status_code == 200
        with db(tool) as session:
            session.execute(delete(NamedRole).where(NamedRole.user_id == student.user_id))
            session.commit()
        assert "/learning/list" not in _menu(student)
        assert student.get("/learning/list").status_code == 403


def test_the_menu_drawn_once_carries_each_sessions_own_token_language_and_page(tool, moodle):
    """The menu's markup is drawn once per language, links and page (home/nav.py
    menu_markup) and reused: each person's links still carry their own session only, in the
    page's language, with the page they are on marked."""
    with ExitStack() as stack:
        one, two = (launch(tool, moodle, stack, "student") for _ in range(2))
        assert one.token != two.token
        for person, other in ((one, two), (two, one)):
            for _ in range(2):  # the second is drawn from what the first kept
                menu = _menu(person)
                links = re.findall(r'href="([^"]+)"', menu)
                assert links and all(f"ls={person.token}" in link for link in links), links
                assert other.token not in menu
        english = _menu(one)
        russian = one.get("/about?lang=ru").text.split('<nav class="menu"', 1)[1]
        assert ">About<" in english and ">Об инструменте<" in russian.split("</nav>", 1)[0]
        about = re.search(r'<a href="/about\?[^"]*"([^>]*)>', english)
        assert about and 'aria-current="page"' in about.group(1)
        home = re.search(r'<a href="/\?[^"]*"([^>]*)>', english)
        assert home and "aria-current" not in home.group(1)
        home_page = one.get("/").text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
        assert re.search(r'<a href="/\?[^"]*" aria-current="page">', home_page)
