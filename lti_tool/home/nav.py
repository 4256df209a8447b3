"""The menu: every page a role may use, in one place, shown the same on every page (issue 11).

A link appears only where following it succeeds: the same rules as the views' own checks
(auth.roles_required, the course staff pages' placement rule, TeachHub's coordinator rule).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from flask import g, render_template, request, session
from flask_babel import get_locale, lazy_gettext as _l
from markupsafe import Markup

from ..lti.roles import COURSE_STAFF, ToolRole
from ..web_session import TOKEN_PARAM

# Observers, designers and roles the tool does not serve hold no TeachHub rights (issue 9).
TEACHHUB_ROLES = (ToolRole.LEARNER, ToolRole.INSTRUCTOR, ToolRole.ADMIN)


# What each tool role is called on pages (never the raw key "instructor" on a Kazakh page).
ROLE_LABELS = {
    ToolRole.LEARNER: _l("Student / participant"),
    ToolRole.INSTRUCTOR: _l("Teacher, tutor or facilitator"),
    ToolRole.ADMIN: _l("Administrator"),
    ToolRole.MENTOR: _l("Observer or mentor (read-only)"),
    ToolRole.DESIGNER: _l("Course designer"),
    ToolRole.GUEST: _l("Guest"),
}


def role_label(role: str) -> str:
    """A tool role's name in the reader's language (the key itself if unknown)."""
    try:
        return str(ROLE_LABELS[ToolRole(role)])
    except ValueError:
        return role


@dataclass(frozen=True)
class NavLink:
    """One menu entry: the view's endpoint and its label."""

    endpoint: str
    label: object  # a lazy string: translated when the page renders


def nav_links(
    role: ToolRole,
    *,
    has_context: bool,
    course_has_portfolio: bool,
    teachhub_coordinator: bool,
    learning_list: bool = False,
) -> list[NavLink]:
    """The menu of a role, in the order people use it."""
    links = [NavLink("home.index", _l("Home"))]
    staff_here = role in COURSE_STAFF and has_context
    if role in (ToolRole.LEARNER, ToolRole.INSTRUCTOR):
        links.append(NavLink("portfolio.mine", _l("My portfolio")))
    if staff_here and course_has_portfolio:
        links += [
            NavLink("portfolio_staff.course_view", _l("Students")),
            NavLink("portfolio_staff.queue", _l("Waiting")),
            NavLink("portfolio_staff.analytics", _l("Analytics")),
        ]
    if role == ToolRole.ADMIN:
        links.append(NavLink("portfolio_staff.all_portfolios", _l("All portfolios")))
    if role in (ToolRole.LEARNER, ToolRole.INSTRUCTOR):
        links.append(NavLink("gradebook.my_grades", _l("My grades")))
    if staff_here:
        links += [
            NavLink("gradebook.course_settings", _l("Course grading")),
            NavLink("gradebook_sync.sync_page", _l("Gradebook sync")),
        ]
    if role == ToolRole.INSTRUCTOR and has_context:
        links.append(NavLink("statements.page", _l("Rating statement")))
    # A coordinator by `teachhub.coordinator_roles` is one whatever the launch role (access.py).
    if role in TEACHHUB_ROLES or teachhub_coordinator:
        links.append(NavLink("teachhub.index", _l("TeachHub")))
        # Every form of staff learning (the staff non-formal education rules, 4.1-4.4), TeachHub
        # modules included.
        links.append(NavLink("learning.index", _l("My learning")))
    if teachhub_coordinator:
        links += [
            NavLink("teachhub.todo_page", _l("To-do")),
            NavLink("teachhub.hr_list", _l("HR list")),
        ]
    # HR, secretaries, experts (and coordinators) see every department; heads their own.
    if learning_list or teachhub_coordinator:
        links.append(NavLink("learning.consolidated", _l("Learning list")))
    if role == ToolRole.ADMIN:
        links.append(NavLink("teachhub.coordinators", _l("Coordinators")))
    if role != ToolRole.GUEST:
        links.append(NavLink("home.about", _l("About")))
    return links


# The menu's markup, drawn once per language, set of links, current page and application root
# (bench/launch.py: ten url_for and translations on every page): the rights behind the links
# are still read on every request (nav_links' arguments), only the drawing is reused. The
# session token is never part of what is kept: the links are drawn with TOKEN_MARK in its place,
# and each request puts its own token there.
TOKEN_MARK = "0menu0token0mark0"
# What secrets.token_urlsafe gives: it goes into a URL and an attribute unchanged.
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class DrawnMenus:
    """The menus drawn so far in one app (home.init_app provides it): markup without tokens."""

    MAX = 512  # languages x link sets x pages: far fewer in practice; a bound all the same

    def __init__(self) -> None:
        self._drawn: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        return self._drawn.get(key)

    def keep(self, key: tuple, markup: str) -> None:
        with self._lock:
            if len(self._drawn) >= self.MAX:
                self._drawn.clear()
            self._drawn[key] = markup


def menu_markup(links: list[NavLink], drawn: DrawnMenus) -> Markup:
    """The <nav> of `links` (templates/home/_menu.html) for this request: its language, its
    page marked current, its session token in every link (none when URLs carry none)."""
    if not links:
        return Markup("")
    token: str = getattr(session, "token", None) or ""
    carried = bool(token) and not g.get("no_session_in_urls")
    if carried and not _PLAIN_TOKEN.fullmatch(token):
        return Markup(render_template("home/_menu.html", links=links, token_values={}))
    key = (
        str(get_locale()),
        tuple(link.endpoint for link in links),
        request.endpoint,
        request.script_root,
        carried,
    )
    markup = drawn.get(key)
    if markup is None:
        markup = render_template(
            "home/_menu.html",
            links=links,
            token_values={TOKEN_PARAM: TOKEN_MARK} if carried else {},
        )
        drawn.keep(key, markup)
    return Markup(markup.replace(TOKEN_MARK, token) if carried else markup)
