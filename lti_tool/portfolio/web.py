"""What the portfolio's views share: the actor, the rubric, settings, page data loading."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..auth import Viewer
from ..lti.roles import ToolRole
from .access import Actor
from .models import Entry, Portfolio, Summary, TutorMark
from .rubric import Rubric, load_rubric
from .service import Totals, totals_from_entries
from .summary import YearGpa, gpa_by_course_year

EXTENSION = "portfolio_rubric"


def init_rubric(app) -> None:
    """Load and check the rubric at start-up (a bad file stops the tool with its message)."""
    settings = app.config["SETTINGS"]
    app.extensions[EXTENSION] = load_rubric(settings.get("portfolio", {}).get(
        "rubric_file", "config/rubrics/kaznmu.yaml"))


def rubric() -> Rubric:
    """The rubric loaded at start-up."""
    return current_app.extensions[EXTENSION]


def settings() -> dict:
    """The tool's settings tree."""
    return current_app.config["SETTINGS"]


def locale() -> str:
    """The current language code (kk, ru, en)."""
    return str(get_locale() or "en")


def actor_of(viewer: Viewer) -> Actor:
    """The services' view of the signed-in person."""
    return Actor(user_id=viewer.user.id, platform_id=viewer.platform.id,
                 name=viewer.user.display_name, is_admin=viewer.role == ToolRole.ADMIN,
                 context_id=viewer.context.id if viewer.context else None,
                 is_staff=viewer.is_staff)


def grading_policy():
    """The gradebook's grading policy when the gradebook is installed (for GPA rows)."""
    return current_app.extensions.get("grading_policy")


@dataclass
class PortfolioPage:
    """Everything the portfolio page shows, loaded in a fixed number of queries."""

    portfolio: Portfolio
    entries: list[Entry]
    marks: list[TutorMark]
    summaries: list[Summary]
    totals: Totals
    gpa: dict[int, YearGpa] | None

    def entries_of(self, section: str, year: int | None = None,
                   list_key: str | None = None) -> list[Entry]:
        """Entries of a section (and year, list), in the page's order."""
        return [e for e in self.entries if e.section == section
                and (year is None or e.course_year == year)
                and (list_key is None or e.list_key == list_key)]

    def mark(self, key: str, year: int) -> TutorMark | None:
        """The tutor's mark for a course year."""
        return next((m for m in self.marks if m.mark_key == key and m.course_year == year), None)


def load_page(db: Session, portfolio: Portfolio, *, include_drafts: bool,
              with_gpa: bool = True) -> PortfolioPage:
    """Entries (with files and decisions), marks, summaries, totals and GPA of a portfolio."""
    query = (select(Entry).where(Entry.portfolio_id == portfolio.id)
             .options(selectinload(Entry.attachments), selectinload(Entry.decisions))
             .order_by(Entry.course_year, Entry.list_key, Entry.id))
    if not include_drafts:
        # Drafts are the student's own until submitted (seed 000: nothing without consent).
        query = query.where(Entry.status != "draft")
    entries = list(db.scalars(query))
    marks = list(db.scalars(select(TutorMark).where(TutorMark.portfolio_id == portfolio.id)))
    summaries = list(db.scalars(select(Summary).where(Summary.portfolio_id == portfolio.id)
                                .order_by(Summary.academic_year.desc())))
    totals = totals_from_entries(entries, marks)
    gpa = gpa_by_course_year(db, portfolio, grading_policy()) if with_gpa else None
    return PortfolioPage(portfolio, entries, marks, summaries, totals, gpa)
