"""Feedback, per-module reports, the HR consolidated list and a person's own record (no Flask).

Each report reads in a fixed number of queries, whatever the number of people or modules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from ..auth import Actor
from ..lists import clean_search, matches
from ..lti.models import User
from ..parsing import NumberError, parse_int
from .access import card_for, managed_module, require_coordinator
from .config import TeachHubConfig
from .errors import InputError, Refused, ordered, parse_date
from .hours import CENT, credit_units
from .models import Feedback, Hundredths, Module, ModuleVersion, Participant, Person, Stream
from .modules import streams_of
from .status import COMPLETED, RECOGNIZED, REPORTED, STATUSES

COMMENT_LIMIT = 2000
NO_DEPARTMENT = "-"  # the HR filter's value for "department not given"
SCALE = (1, 2, 3, 4, 5)


# -- feedback -----------------------------------------------------------------------------------


def _score(value: object, field_name: str) -> int:
    try:
        return parse_int(value, minimum=SCALE[0], maximum=SCALE[-1])
    except NumberError:
        raise InputError({field_name: _l("Choose from 1 to 5.")}) from None


def give_feedback(db: Session, actor: Actor, card_id: int, *, satisfaction: str,
                  applicability: str, comment: str) -> None:
    """The participant's one answer after completion, stored without their name."""
    card, module = card_for(db, actor, card_id)
    if card.user_id != actor.user_id:
        raise Refused(_l("Only the participant answers the feedback form."), code="not_owner",
                      status=403)
    if STATUSES.index(card.status) < STATUSES.index(COMPLETED):
        raise Refused(_l("The feedback form opens when the module is completed."),
                      code="not_completed")
    if card.feedback_given:
        raise Refused(_l("You have already answered the feedback form. Thank you!"),
                      code="already_answered")
    errors: dict[str, object] = {}
    values = {}
    for name, raw in (("satisfaction", satisfaction), ("applicability", applicability)):
        try:
            values[name] = _score(raw, name)
        except InputError as err:
            errors.update(err.errors)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LIMIT:
        errors["comment"] = _l("At most %(n)d characters.", n=COMMENT_LIMIT)
    if errors:
        raise InputError(errors)
    db.add(Feedback(module_id=module.id, stream_id=card.stream_id, comment=comment, **values))
    card.feedback_given = True
    db.commit()


@dataclass(frozen=True)
class FeedbackSummary:
    """Feedback aggregates; `shown` is False below the minimum number of answers."""

    answers: int
    shown: bool
    satisfaction: Decimal | None = None
    applicability: Decimal | None = None
    satisfaction_counts: Mapping[int, int] = field(default_factory=dict)
    applicability_counts: Mapping[int, int] = field(default_factory=dict)
    comments: tuple[str, ...] = ()


def _mean(counts: Mapping[int, int]) -> Decimal | None:
    total = sum(counts.values())
    if not total:
        return None
    return (Decimal(sum(k * n for k, n in counts.items())) / total).quantize(
        CENT, rounding=ROUND_HALF_UP)


def summarise(rows: list[tuple[int, int, int]], minimum: int,
              comments: list[str] | None = None) -> FeedbackSummary:
    """Aggregates from (satisfaction, applicability, count) rows (pure)."""
    satisfaction = {k: 0 for k in SCALE}
    applicability = {k: 0 for k in SCALE}
    for sat, app, n in rows:
        satisfaction[sat] = satisfaction.get(sat, 0) + n
        applicability[app] = applicability.get(app, 0) + n
    answers = sum(n for _s, _a, n in rows)
    if answers < minimum:
        return FeedbackSummary(answers=answers, shown=False)
    # Sorted, not in the order given, so no comment can be matched to a time or a person.
    return FeedbackSummary(answers, True, _mean(satisfaction), _mean(applicability),
                           satisfaction, applicability,
                           tuple(sorted(c for c in (comments or []) if c)))


# -- per module and stream ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    """Participation and progress of one stream (or the whole module when `stream` is None)."""

    stream: Stream | None
    counts: Mapping[str, int]
    participants: int
    contact_hours: Decimal
    self_study_hours: Decimal
    recognized_hours: Decimal
    hours_per_unit: Decimal

    @property
    def total_hours(self) -> Decimal:
        """Contact plus self-study hours of every card."""
        return self.contact_hours + self.self_study_hours

    @property
    def units(self) -> Decimal:
        """Credit units of all recorded hours."""
        return credit_units(self.total_hours, self.hours_per_unit)

    @property
    def recognized_units(self) -> Decimal:
        """Credit units of recognized cards' hours."""
        return credit_units(self.recognized_hours, self.hours_per_unit)


@dataclass(frozen=True)
class ModuleReport:
    """A module's report: per stream and in total, progress and feedback."""

    module: Module
    rows: list[ProgressRow]
    total: ProgressRow
    feedback: Mapping[int | None, FeedbackSummary]  # stream id (None: the module) -> summary
    selected: Stream | None
    # (department, participants, contact + self-study hours) of the shown stream(s), for the
    # report's chart and its table; "" is "not given".
    departments: tuple[tuple[str, int, Decimal], ...] = ()


def _hours_sum(expr):
    return type_coerce(func.coalesce(func.sum(expr), 0), Hundredths())


def module_report(db: Session, actor: Actor, module_id: int, stream_id: int | None,
                  config: TeachHubConfig) -> ModuleReport:
    """Counts by status, hours and units per stream, hours by department, and feedback
    aggregates (5 queries)."""
    module = managed_module(db, actor, module_id)
    streams = streams_of(db, module.id)
    selected = next((s for s in streams if s.id == stream_id), None)
    if stream_id is not None and selected is None:
        raise InputError({"stream": _l("Choose a stream of this module.")})
    grouped = db.execute(
        select(Participant.stream_id, Participant.status, func.count(),
               _hours_sum(Participant.contact_hours), _hours_sum(Participant.self_study_hours))
        .where(Participant.module_id == module.id)
        .group_by(Participant.stream_id, Participant.status)).all()

    def progress(stream: Stream | None) -> ProgressRow:
        counts = {s: 0 for s in STATUSES}
        contact = self_study = recognized = Decimal(0)
        for sid, status, n, c, s in grouped:
            if stream is not None and sid != stream.id:
                continue
            counts[status] = counts.get(status, 0) + n
            contact += c
            self_study += s
            if status == RECOGNIZED:
                recognized += c + s
        return ProgressRow(stream, counts, sum(counts.values()), contact, self_study,
                           recognized, config.hours_per_unit)

    shown_streams = [selected] if selected else streams
    answers = db.execute(
        select(Feedback.stream_id, Feedback.satisfaction, Feedback.applicability, func.count())
        .where(Feedback.module_id == module.id)
        .group_by(Feedback.stream_id, Feedback.satisfaction, Feedback.applicability)).all()
    scope_rows = [(sat, app, n) for sid, sat, app, n in answers
                  if selected is None or sid == selected.id]
    comments: list[str] = []
    if sum(n for _s, _a, n in scope_rows) >= config.feedback_min_answers:
        query = select(Feedback.comment).where(Feedback.module_id == module.id,
                                               Feedback.comment != "")
        if selected is not None:
            query = query.where(Feedback.stream_id == selected.id)
        comments = list(db.scalars(query))
    feedback: dict[int | None, FeedbackSummary] = {
        None if selected is None else selected.id: summarise(
            scope_rows, config.feedback_min_answers, comments)}
    for stream in shown_streams:
        if stream.id not in feedback:
            feedback[stream.id] = summarise(
                [(sat, app, n) for sid, sat, app, n in answers if sid == stream.id],
                config.feedback_min_answers)
    by_department = (
        select(_department(), func.count(),
               _hours_sum(Participant.contact_hours + Participant.self_study_hours))
        .select_from(Participant)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(Participant.module_id == module.id)
        .group_by(_department()).order_by(_department()))
    if selected is not None:
        by_department = by_department.where(Participant.stream_id == selected.id)
    departments = tuple((dep, n, hours) for dep, n, hours in db.execute(by_department))
    return ModuleReport(module=module, rows=[progress(s) for s in shown_streams],
                        total=progress(selected), feedback=feedback, selected=selected,
                        departments=departments)


# -- the HR consolidated list -------------------------------------------------------------------


@dataclass(frozen=True)
class HRFilters:
    """The HR list's filters: completion period and department (None: all; "": not given)."""

    date_from: date | None = None
    date_to: date | None = None
    department: str | None = None
    search: str = ""  # words of the participant's name or email (lists.matches)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links and exports)."""
        args = {"q": self.search} if self.search else {}
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        if self.department is not None:
            args["department"] = self.department or NO_DEPARTMENT
        return args


def parse_period(args: Mapping[str, str],
                 errors: dict[str, object]) -> tuple[date | None, date | None]:
    """A report's period from the query string's `from` and `to` (the problems are added to
    `errors`: the caller raises them with its own, then checks the order with `ordered`)."""
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            dates[name] = parse_date(args.get(name), name)
        except InputError as err:
            errors.update(err.errors)
            dates[name] = None
    return dates["from"], dates["to"]


def parse_department(args: Mapping[str, str]) -> str | None:
    """A report's department filter: None for every department, "" for the people without one
    (NO_DEPARTMENT), else the department's name."""
    department = (args.get("department") or "").strip()
    return None if not department else "" if department == NO_DEPARTMENT else department[:255]


def parse_hr_filters(args: Mapping[str, str]) -> HRFilters:
    """Filters from query-string arguments; dates must be ordered."""
    errors: dict[str, object] = {}
    start, end = parse_period(args, errors)
    if errors:
        raise InputError(errors)
    ordered(start, end, "to")
    return HRFilters(start, end, parse_department(args), clean_search(args.get("q")))


@dataclass(frozen=True)
class HRRow:
    """One activity of the consolidated list."""

    card_id: int
    person: str
    email: str
    department: str
    module: str
    version: int
    module_format: str
    stream: str
    stream_starts: date
    stream_ends: date
    status: str
    completed_on: date | None
    contact_hours: Decimal
    self_study_hours: Decimal
    record_date: date | None
    record_number: str
    commission_date: date | None
    commission_number: str
    hours_per_unit: Decimal

    @property
    def total_hours(self) -> Decimal:
        """Contact plus self-study hours."""
        return self.contact_hours + self.self_study_hours

    @property
    def units(self) -> Decimal:
        """Credit units of this activity."""
        return credit_units(self.total_hours, self.hours_per_unit)


@dataclass(frozen=True)
class DepartmentTotal:
    """Totals of one department (or of everything) in the HR list."""

    department: str
    people: int
    activities: int
    counts: Mapping[str, int]
    hours: Decimal
    recognized_hours: Decimal
    hours_per_unit: Decimal

    @property
    def units(self) -> Decimal:
        """Credit units of all listed hours."""
        return credit_units(self.hours, self.hours_per_unit)

    @property
    def recognized_units(self) -> Decimal:
        """Credit units of recognized hours."""
        return credit_units(self.recognized_hours, self.hours_per_unit)


@dataclass(frozen=True)
class HRPage:
    """One page of the HR list with totals per department and overall."""

    rows: list[HRRow]
    departments: list[DepartmentTotal]
    total: DepartmentTotal
    all_departments: list[str]
    page: int
    pages: int
    filters: HRFilters


def _department():
    # The empty string inline, not as a bound parameter: PostgreSQL must see the SELECT and
    # GROUP BY expressions as the same one.
    return func.coalesce(Person.department, literal_column("''"))


def _hr_where(actor: Actor, filters: HRFilters) -> list:
    where = [Module.platform_id == actor.platform_id, Participant.status.in_(REPORTED)]
    if filters.date_from:
        where.append(Participant.completed_on >= filters.date_from)
    if filters.date_to:
        where.append(Participant.completed_on <= filters.date_to)
    if filters.department is not None:
        where.append(_department() == filters.department)
    found = matches(filters.search, (User.name, User.given_name, User.family_name, User.email))
    if found is not None:
        where.append(Participant.user_id.in_(select(User.id).where(
            User.platform_id == actor.platform_id, found)))
    return where


def _hr_query(actor: Actor, filters: HRFilters):
    return (
        select(Participant.id, User.name, User.given_name, User.family_name, User.sub,
               User.email, _department(), ModuleVersion.title, ModuleVersion.number,
               ModuleVersion.module_format, Stream.name, Stream.starts_on, Stream.ends_on,
               Participant.status, Participant.completed_on, Participant.contact_hours,
               Participant.self_study_hours, Participant.record_date, Participant.record_number,
               Participant.commission_date, Participant.commission_number)
        .select_from(Participant)
        .join(Module, Module.id == Participant.module_id)
        .join(User, User.id == Participant.user_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .join(ModuleVersion, ModuleVersion.id == Participant.version_id)
        .join(Stream, Stream.id == Participant.stream_id)
        .where(*_hr_where(actor, filters))
        .order_by(_department(), User.family_name, User.given_name, User.name, User.id,
                  Participant.completed_on, Participant.id))


def _row(values: tuple, hours_per_unit: Decimal) -> HRRow:
    (card_id, name, given, family, sub, email, department, title, number, module_format,
     stream, starts, ends, status, completed_on, contact, self_study, record_date,
     record_number, commission_date, commission_number) = values
    person = name or " ".join(p for p in (given, family) if p) or sub
    return HRRow(card_id, person, email or "", department, title, number, module_format,
                 stream, starts, ends, status, completed_on, contact, self_study, record_date,
                 record_number, commission_date, commission_number, hours_per_unit)


def hr_rows(db: Session, actor: Actor, filters: HRFilters,
            config: TeachHubConfig) -> Iterator[HRRow]:
    """Every row of the HR list (exports), streamed from one query."""
    require_coordinator(actor)  # now, not at the first row: exports start writing before
    result = db.execute(_hr_query(actor, filters).execution_options(yield_per=1000))
    return (_row(tuple(values), config.hours_per_unit) for values in result)


def hr_page(db: Session, actor: Actor, filters: HRFilters, page: int,
            config: TeachHubConfig) -> HRPage:
    """One page of the HR list with per-department totals: three queries."""
    require_coordinator(actor)
    totals = db.execute(
        select(_department(), func.count(func.distinct(Participant.user_id)), func.count(),
               *(func.sum(case((Participant.status == s, 1), else_=0)) for s in REPORTED),
               _hours_sum(Participant.contact_hours), _hours_sum(Participant.self_study_hours),
               _hours_sum(case((Participant.status == RECOGNIZED, Participant.contact_hours),
                               else_=0)),
               _hours_sum(case((Participant.status == RECOGNIZED, Participant.self_study_hours),
                               else_=0)))
        .select_from(Participant)
        .join(Module, Module.id == Participant.module_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(*_hr_where(actor, filters))
        .group_by(_department()).order_by(_department())).all()
    unit = config.hours_per_unit
    departments = [
        DepartmentTotal(dep, people, n, dict(zip(REPORTED, (done, sub, rec), strict=True)),
                        c + s, rc + rs, unit)
        for dep, people, n, done, sub, rec, c, s, rc, rs in totals]
    total = DepartmentTotal(
        "", sum(d.people for d in departments), sum(d.activities for d in departments),
        {s: sum(d.counts[s] for d in departments) for s in REPORTED},
        sum((d.hours for d in departments), Decimal(0)),
        sum((d.recognized_hours for d in departments), Decimal(0)), unit)
    size = config.hr_page_size
    pages = max(1, -(-total.activities // size))
    page = min(max(1, page), pages)
    rows = [_row(tuple(v), unit) for v in db.execute(
        _hr_query(actor, filters).limit(size).offset((page - 1) * size))]
    all_departments = list(db.scalars(
        select(_department()).select_from(Participant)
        .join(Module, Module.id == Participant.module_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(Module.platform_id == actor.platform_id, Participant.status.in_(REPORTED))
        .distinct().order_by(_department())))
    return HRPage(rows, departments, total, all_departments, page, pages, filters)


# -- a person's own record ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordLine:
    """One of a person's cards."""

    card: Participant
    title: str
    version: int
    stream: Stream


@dataclass(frozen=True)
class OwnRecord:
    """A person's cards across modules with their recognized hours and units."""

    lines: list[RecordLine]
    recognized_hours: Decimal
    recognized_units: Decimal
    hours: Decimal
    units: Decimal


def own_record(db: Session, actor: Actor, config: TeachHubConfig) -> OwnRecord:
    """The signed-in person's TeachHub record (one query)."""
    rows = db.execute(
        select(Participant, ModuleVersion.title, ModuleVersion.number, Stream)
        .join(ModuleVersion, ModuleVersion.id == Participant.version_id)
        .join(Stream, Stream.id == Participant.stream_id)
        .join(Module, and_(Module.id == Participant.module_id,
                           Module.platform_id == actor.platform_id))
        .where(Participant.user_id == actor.user_id)
        .order_by(Stream.starts_on.desc(), Participant.id.desc())).all()
    lines = [RecordLine(card, title, number, stream) for card, title, number, stream in rows]
    recognized = sum((line.card.total_hours for line in lines
                      if line.card.status == RECOGNIZED), Decimal(0))
    listed = sum((line.card.total_hours for line in lines if line.card.status in REPORTED),
                 Decimal(0))
    return OwnRecord(lines, recognized, credit_units(recognized, config.hours_per_unit),
                     listed, credit_units(listed, config.hours_per_unit))

