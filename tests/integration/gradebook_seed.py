"""Seed gradebook rows (line items, results, course grading) for users made by real launches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count

import requests
from sqlalchemy import select

from lti_tool.extensions import services
from lti_tool.gradebook.models import CourseGrading, LineItem, Result
from lti_tool.lti.models import Context, Membership, Platform, User

_serial = count(1)


def session_token(launched: requests.Response) -> str:
    """The `ls` session token of the page a launch landed on."""
    return re.search(r"[?&]ls=([^&#]+)", launched.url).group(1)


def open_page(browser, tool, launched: requests.Response, path: str, **kwargs) -> requests.Response:
    """GET a tool page in the session of `launched` (as the tool's own links do)."""
    separator = "&" if "?" in path else "?"
    return browser.get(f"{tool.base_url}{path}{separator}ls={session_token(launched)}", **kwargs)


@dataclass
class Seeder:
    """Writes gradebook rows straight into the tool's database for one test platform."""

    tool: object
    platform: object

    def _db(self):
        return services(self.tool.app).db.new_session()

    def platform_id(self) -> int:
        with self._db() as db:
            return db.scalars(select(Platform.id).where(
                Platform.issuer == self.platform.issuer,
                Platform.client_id == self.platform.client_id)).one()

    def user_id(self, sub: str) -> int:
        """The tool's id of the user with this `sub` (after their launch)."""
        with self._db() as db:
            return db.scalars(select(User.id).where(User.platform_id == self.platform_id(),
                                                    User.sub == sub)).one()

    def context_id(self, lti_context_id: str) -> int:
        """The tool's id of the course with this LTI context id (after a launch there)."""
        with self._db() as db:
            return db.scalars(select(Context.id).where(
                Context.platform_id == self.platform_id(),
                Context.context_id == lti_context_id)).one()

    def line_item(self, lti_context_id: str, label: str, maximum: float = 100.0) -> int:
        """A gradebook column of the course, as a grade pull would store it."""
        with self._db() as db:
            item = LineItem(context_id=self.context_id(lti_context_id), label=label,
                            score_maximum=maximum,
                            url=f"{self.platform.base_url}/lineitems/{next(_serial)}")
            db.add(item)
            db.commit()
            return item.id

    def grading(self, lti_context_id: str, line_item_id: int | None, *, credits: float,
                year: str) -> None:
        """The instructor's choice for the course (final column, credits, academic year)."""
        with self._db() as db:
            context_id = self.context_id(lti_context_id)
            row = db.get(CourseGrading, context_id) or CourseGrading(context_id=context_id)
            row.final_line_item_id, row.credits, row.academic_year = line_item_id, credits, year
            db.add(row)
            db.commit()

    def result(self, line_item_id: int, sub: str, score: float | None,
               maximum: float | None = None) -> None:
        """A student's result on a column, as a grade pull would store it."""
        with self._db() as db:
            db.add(Result(line_item_id=line_item_id, user_id=self.user_id(sub),
                          result_score=score, result_maximum=maximum))
            db.commit()

    def course(self, lti_context_id: str, *, credits: float, year: str, sub: str,
               score: float | None, maximum: float = 100.0) -> int:
        """A course whose final column holds the student's score; returns the column id."""
        item = self.line_item(lti_context_id, "Final grade", maximum)
        self.grading(lti_context_id, item, credits=credits, year=year)
        self.result(item, sub, score)
        return item

    def set_membership_status(self, sub: str, lti_context_id: str, status: str) -> None:
        """Mark a membership as a roster pull would (Active, Inactive, Deleted)."""
        with self._db() as db:
            row = db.scalars(select(Membership).where(
                Membership.user_id == self.user_id(sub),
                Membership.context_id == self.context_id(lti_context_id))).one()
            row.status = status
            db.commit()

    def course_grading(self, lti_context_id: str) -> CourseGrading | None:
        """The stored CourseGrading row of a course."""
        with self._db() as db:
            return db.get(CourseGrading, self.context_id(lti_context_id))
