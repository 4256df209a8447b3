"""Rights are read afresh on every request (issue 15 made their reading one plain statement):
naming or removing a coordinator, a facilitator or a staff-learning role shows in the menu and
the pages on the person's very next request, in the same session, never a stale right."""

from __future__ import annotations

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
