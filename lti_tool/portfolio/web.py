"""What the portfolio's views share: the actor, the rubric, settings, page data loading."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from flask import Flask, url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..calendar import AcademicCalendar
from ..evidence.models import EvidenceFile, kind_of
from ..extensions import services
from ..gradebook.policy import GradingPolicy
from ..settings import Settings
from .leaders import by_academic_year, confirmations
from .models import Decision, Entry, EntryEvidence, Portfolio, Summary, TutorMark
from .rubric import Rubric, load_rubric
from .service import PLACEMENT, Totals, score_now, totals_from_entries
from .summary import YearGpa, gpa_by_course_year
from .years import academic_year_of, current_course_year


def init_rubric(app: Flask) -> None:
    """Load and check the rubric at start-up (a bad file stops the tool with its message)."""
    services(app).provide(load_rubric(services(app).settings.portfolio.rubric_file))


def init_scores(app: Flask) -> None:
    """Let the score worker compute the portfolio's score from committed state when sending."""
    tool = services(app)
    tool.gradebook.scorers[PLACEMENT] = lambda db, row: score_now(db, row, tool.settings)


def rubric() -> Rubric:
    """The rubric loaded at start-up."""
    return services().get(Rubric)


def settings() -> Settings:
    """The tool's settings, read at start-up."""
    return services().settings


def locale() -> str:
    """The current language code (kk, ru, en)."""
    return str(get_locale() or "en")


def academic_calendar() -> AcademicCalendar:
    """The one academic calendar rule (lti_tool/calendar.py), built at start-up."""
    return services().academic_calendar


def grading_policy() -> GradingPolicy | None:
    """The gradebook's grading policy when the gradebook is installed (for GPA rows)."""
    return services().find(GradingPolicy)


@dataclass
class PortfolioPage:
    """Everything the portfolio page shows, loaded in a fixed number of queries."""

    portfolio: Portfolio
    entries: list[Entry]
    marks: list[TutorMark]
    summaries: list[Summary]
    totals: Totals
    gpa: dict[int, YearGpa] | None
    course_year: int | None = None  # today's, by the academic calendar
    year_labels: dict[int, str] = field(default_factory=dict)  # course year -> "2025-2026"
    confirmed: dict = field(default_factory=dict)  # course year -> the leader's Confirmed
    comments: dict[int, str] = field(default_factory=dict)  # returned entry -> tutor's word
    files: dict[int, list] = field(default_factory=dict)  # entry -> its files (FileRef)
    _groups: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Grouped once: the page asks for every (section, year, list) of the rubric.
        groups: dict = defaultdict(list)
        for e in self.entries:
            for key in ((e.section, None, None), (e.section, e.course_year, None),
                        (e.section, None, e.list_key), (e.section, e.course_year, e.list_key)):
                groups[key].append(e)
        self._groups = groups

    def entries_of(self, section: str, year: int | None = None,
                   list_key: str | None = None) -> list[Entry]:
        """Entries of a section (and year, list), in the page's order."""
        return self._groups.get((section, year, list_key), [])

    def mark(self, key: str, year: int) -> TutorMark | None:
        """The tutor's mark for a course year."""
        return next((m for m in self.marks if m.mark_key == key and m.course_year == year), None)


def load_page(db: Session, portfolio: Portfolio, *, include_drafts: bool,
              with_gpa: bool = True, with_decisions: bool = False) -> PortfolioPage:
    """Entries (with files; decisions for exports), marks, summaries, totals and GPA."""
    options = []
    if with_decisions:  # exports: every file's metadata and every decision
        options += [selectinload(Entry.attachments), selectinload(Entry.decisions)]
    query = (select(Entry).where(Entry.portfolio_id == portfolio.id).options(*options)
             .order_by(Entry.course_year, Entry.list_key, Entry.id))
    if not include_drafts:
        # Drafts are the student's own until submitted (the portfolio regulations: nothing without
        # consent).
        query = query.where(Entry.status != "draft")
    entries = list(db.scalars(query))
    marks = list(db.scalars(select(TutorMark).where(TutorMark.portfolio_id == portfolio.id)))
    summaries = list(db.scalars(select(Summary).where(Summary.portfolio_id == portfolio.id)
                                .order_by(Summary.academic_year.desc())))
    totals = totals_from_entries(entries, marks)
    gpa = gpa_by_course_year(db, portfolio, grading_policy()) if with_gpa else None
    # The page shows only the tutor's latest comment on returned entries: one query for those
    # instead of every decision of every entry.
    returned = [e.id for e in entries if e.status == "returned"]
    comments: dict[int, str] = {}
    if returned:
        for entry_id, comment in db.execute(
                select(Decision.entry_id, Decision.comment)
                .where(Decision.entry_id.in_(returned), Decision.comment != "")
                .order_by(Decision.id)):
            comments[entry_id] = comment
    files = files_of(db, [e.id for e in entries]) if not with_decisions else {
        e.id: e.evidence for e in entries}
    calendar = academic_calendar()
    labels = {}
    for number in range(1, calendar.max_years + 1):
        label = academic_year_of(calendar, portfolio, number)
        if label:
            labels[number] = label
    confirmed: dict = {}
    if gpa:
        by_year = confirmations(db, [portfolio.id], {portfolio.id: by_academic_year(gpa)})
        confirmed = {g.course_year: by_year[portfolio.id][g.academic_year]
                     for g in gpa.values() if g.academic_year in by_year[portfolio.id]}
    return PortfolioPage(portfolio, entries, marks, summaries, totals, gpa,
                         current_course_year(calendar, portfolio), labels, confirmed, comments,
                         files)


class FileRef(NamedTuple):
    """What a page needs of an attached file (read as plain rows: pages list hundreds)."""

    id: int
    original_name: str
    content_type: str
    thumbnail_name: str | None

    @property
    def kind(self) -> str:
        """pdf, image, audio or video."""
        return kind_of(self.content_type)


def files_of(db: Session, entry_ids: list[int]) -> dict[int, list[FileRef]]:
    """The files of many entries in one query, in upload order."""
    found: dict[int, list[FileRef]] = defaultdict(list)
    if not entry_ids:
        return found
    for row in db.execute(
            select(EntryEvidence.entry_id, EvidenceFile.id, EvidenceFile.original_name,
                   EvidenceFile.content_type, EvidenceFile.thumbnail_name)
            .join(EvidenceFile, EvidenceFile.id == EntryEvidence.evidence_id)
            .where(EntryEvidence.entry_id.in_(entry_ids)).order_by(EntryEvidence.id)):
        found[row[0]].append(FileRef(*row[1:]))
    return found


class UrlPattern:
    """A URL built once by url_for and filled in per id (pages link hundreds of entries)."""

    MARK = "987654321"

    def __init__(self, endpoint: str, arg: str, **values):
        self._template = url_for(endpoint, **{arg: int(self.MARK), **values})

    def __call__(self, value: int) -> str:
        """The URL for `value`."""
        return self._template.replace(self.MARK, str(value), 1)


class Links:
    """The links a page repeats per entry and file (in the tool, or under a showcase token)."""

    def __init__(self, token: str | None = None):
        if token:
            self.file = UrlPattern("showcase.public_file", "evidence_id", token=token)
            self.thumb = UrlPattern("showcase.public_file", "evidence_id", token=token, thumb=1)
        else:
            self.file = UrlPattern("portfolio.file", "evidence_id")
            self.thumb = UrlPattern("portfolio.file", "evidence_id", thumb=1)
        self.entry = UrlPattern("portfolio.entry", "entry_id")
        self.portfolio = UrlPattern("portfolio.view", "portfolio_id")


def grade_labeller(rubric_: Rubric, locale_: str):
    """A function: entry -> "item · level · result · n × per", cached per combination."""

    @lru_cache(maxsize=512)
    def label(list_key, item_key, level, result, count) -> str:
        entry_list = rubric_.lists.get(list_key)
        item = entry_list.item(item_key) if entry_list else None
        if entry_list is None or item is None:
            return ""
        parts = []
        if len(entry_list.items) > 1:
            parts.append(item.names.get(locale_))
        names = rubric_.levels(item).get(level) if level else None
        if names:
            parts.append(names.get(locale_))
        chosen = item.result(result) if result else None
        if chosen:
            parts.append(chosen.names.get(locale_))
        if item.per is not None:  # a counted item
            parts.append(f"{count} × {item.per.get(locale_)}")
        return " · ".join(parts)

    return lambda e: label(e.list_key, e.item_key, e.level, e.result, e.count)


class EntryView(NamedTuple):
    """An entry's display strings, worked out once in Python (hundreds per page)."""

    url: str
    grade: str
    details: tuple[tuple[str, str], ...]  # (column name, value) of the short columns
    files: tuple[tuple[str, str | None, str, str], ...]  # (url, thumbnail url, name, kind)
    list_name: str = ""


def entry_views(entries, rubric_: Rubric, locale_: str, links: Links,
                files: dict[int, list] | None = None,
                long_columns: bool = False) -> dict[int, EntryView]:
    """Display strings for every entry of a page (and its files' links).

    `long_columns`: include the long text columns too, cut to 200 characters (the queue).
    """
    files = files or {}
    grade = grade_labeller(rubric_, locale_)
    columns = {key: [(c.key, c.names.get(locale_)) for c in lst.columns
                     if c.key != "title" and (long_columns or c.type != "textarea")]
               for key, lst in rubric_.lists.items()}
    list_names = {key: lst.names.get(locale_) for key, lst in rubric_.lists.items()}
    views = {}
    for e in entries:
        fields = e.fields or {}
        views[e.id] = EntryView(
            links.entry(e.id), grade(e),
            tuple((name, fields[key][:200]) for key, name in columns.get(e.list_key, ())
                  if fields.get(key)),
            tuple((links.file(f.id), links.thumb(f.id) if f.thumbnail_name else None,
                   f.original_name, f.kind) for f in files.get(e.id, ())),
            list_names.get(e.list_key, e.list_key))
    return views
