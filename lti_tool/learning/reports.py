"""The consolidated list of every form of staff learning (the staff non-formal education rules, 7.3
form 7), for HR, heads of departments and each person's own record: TeachHub module cards and
recorded activities in one UNION ALL, filtered, totalled and paged in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from ..lti.models import User
from ..teachhub.errors import InputError, ordered
from ..teachhub.hours import credit_units
from ..teachhub.models import Hundredths, Module, ModuleVersion, Participant, Person, Stream
from ..teachhub.reports import (
    NO_DEPARTMENT,
    DepartmentTotal,
    _department,
    parse_department,
    parse_period,
)
from ..teachhub.status import (
    COMPLETED,
    RECOGNIZED as TH_RECOGNIZED,
    REPORTED as TH_REPORTED,
    SUBMITTED as TH_SUBMITTED,
)
from . import rules
from .access import Actor, require_list
from .models import Activity

PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """Form, status, period (by the end date), department, competence area; None: all."""

    form: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    department: str | None = None
    area: str | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links and exports)."""
        args = {
            "form": self.form,
            "status": self.status,
            "area": self.area,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "department": None if self.department is None else self.department or NO_DEPARTMENT,
        }
        return {k: v for k, v in args.items() if v}


def parse_filters(args: Mapping[str, str], areas: tuple[str, ...]) -> Filters:
    """Filters from query-string arguments; unknown values are refused, dates ordered."""
    errors: dict[str, object] = {}
    form = (args.get("form") or "").strip() or None
    if form and form not in (*rules.FORMS, rules.TEACHHUB):
        errors["form"] = _l("Choose a form from the list.")
    status = (args.get("status") or "").strip() or None
    if status and status not in rules.STATUSES:
        errors["status"] = _l("Choose a status from the list.")
    area = (args.get("area") or "").strip() or None
    if area and area not in areas:
        errors["area"] = _l("Choose a competence area from the list.")
    start, end = parse_period(args, errors)
    if errors:
        raise InputError(errors)
    ordered(start, end, "to")
    return Filters(form, status, start, end, parse_department(args), area)


@dataclass(frozen=True)
class Row:
    """One line of the consolidated list."""

    kind: str  # "activity" | "card"
    record_id: int
    user_id: int
    person: str
    email: str
    department: str
    form: str
    format: str
    title: str
    organiser: str
    starts_on: date | None
    ends_on: date | None
    status: str
    area: str
    hours: Decimal
    hours_recognized: Decimal
    decision_date: date | None
    decision_number: str
    hours_per_unit: Decimal

    @property
    def units_recognized(self) -> Decimal:
        """Credit units of the recognised hours."""
        return credit_units(self.hours_recognized, self.hours_per_unit)


def _hours(expr):
    return type_coerce(expr, Hundredths())


def _cards(actor: Actor, f: Filters):
    """TeachHub cards as list rows: completed reads "implemented" (6.2's words)."""
    status = case(
        (Participant.status == COMPLETED, literal(rules.IMPLEMENTED)),
        (Participant.status == TH_SUBMITTED, literal(rules.SUBMITTED)),
        else_=literal(rules.RECOGNIZED),
    )
    hours = Participant.__table__.c.contact_hours + Participant.__table__.c.self_study_hours
    where = [Module.platform_id == actor.platform_id, Participant.status.in_(TH_REPORTED)]
    if f.form and f.form != rules.TEACHHUB:
        where.append(literal(False))
    if f.status:
        where.append(status == f.status)
    if f.date_from:
        where.append(Participant.completed_on >= f.date_from)
    if f.date_to:
        where.append(Participant.completed_on <= f.date_to)
    if f.area:
        where.append(cast(ModuleVersion.competences, String).like(f'%"{f.area}"%'))
    return (
        select(
            literal("card").label("kind"),
            Participant.id.label("record_id"),
            Participant.user_id.label("user_id"),
            literal(rules.TEACHHUB).label("form"),
            ModuleVersion.module_format.label("format"),
            ModuleVersion.title.label("title"),
            ModuleVersion.curator_department.label("organiser"),
            Stream.starts_on.label("starts_on"),
            Participant.completed_on.label("ends_on"),
            status.label("status"),
            literal("").label("area"),
            hours.label("hours"),
            case((Participant.status == TH_RECOGNIZED, hours), else_=0).label("recognized"),
            Participant.commission_date.label("decision_date"),
            Participant.commission_number.label("decision_number"),
        )
        .select_from(Participant)
        .join(Module, Module.id == Participant.module_id)
        .join(ModuleVersion, ModuleVersion.id == Participant.version_id)
        .join(Stream, Stream.id == Participant.stream_id)
        .where(*where)
    )


def _activities(actor: Actor, f: Filters):
    table = Activity.__table__.c
    where = [Activity.platform_id == actor.platform_id]
    if f.form:
        where.append(Activity.form == f.form)
    if f.status:
        where.append(Activity.status == f.status)
    if f.date_from:
        where.append(Activity.ends_on >= f.date_from)
    if f.date_to:
        where.append(Activity.ends_on <= f.date_to)
    if f.area:
        where.append(Activity.competence_area == f.area)
    return select(
        literal("activity").label("kind"),
        Activity.id.label("record_id"),
        Activity.user_id.label("user_id"),
        Activity.form.label("form"),
        Activity.format.label("format"),
        Activity.title.label("title"),
        Activity.organiser.label("organiser"),
        Activity.starts_on.label("starts_on"),
        Activity.ends_on.label("ends_on"),
        Activity.status.label("status"),
        Activity.competence_area.label("area"),
        table.hours_claimed.label("hours"),
        case(
            (Activity.status == rules.RECOGNIZED, func.coalesce(table.hours_recognized, 0)), else_=0
        ).label("recognized"),
        Activity.decision_date.label("decision_date"),
        Activity.decision_number.label("decision_number"),
    ).where(*where)


def _scope(actor: Actor, f: Filters, *, own: bool):
    """The union of both sources with the person and department filters; a subquery."""
    records = union_all(_cards(actor, f), _activities(actor, f)).subquery("records")
    where = []
    if own:
        where.append(records.c.user_id == actor.user_id)
    elif not actor.sees_all:  # a head: their departments only
        where.append(_department().in_(sorted(actor.heads)))
    if f.department is not None:
        where.append(_department() == f.department)
    return records, where


def _select_rows(records, where):
    return (
        select(
            records.c.kind,
            records.c.record_id,
            records.c.user_id,
            User.name,
            User.given_name,
            User.family_name,
            User.sub,
            User.email,
            _department(),
            records.c.form,
            records.c.format,
            records.c.title,
            records.c.organiser,
            records.c.starts_on,
            records.c.ends_on,
            records.c.status,
            records.c.area,
            _hours(records.c.hours),
            _hours(records.c.recognized),
            records.c.decision_date,
            records.c.decision_number,
        )
        .select_from(records)
        .join(User, User.id == records.c.user_id)
        .outerjoin(Person, Person.user_id == records.c.user_id)
        .where(*where)
        .order_by(
            _department(),
            User.family_name,
            User.given_name,
            User.name,
            User.id,
            records.c.ends_on,
            records.c.kind,
            records.c.record_id,
        )
    )


def _row(values, unit: Decimal) -> Row:
    (
        kind,
        record_id,
        user_id,
        name,
        given,
        family,
        sub,
        email,
        department,
        form,
        fmt,
        title,
        organiser,
        starts,
        ends,
        status,
        area,
        hours,
        recognized,
        decision_date,
        decision_number,
    ) = values
    person = name or " ".join(p for p in (given, family) if p) or sub
    return Row(
        kind,
        record_id,
        user_id,
        person,
        email or "",
        department or "",
        form,
        fmt or "",
        title,
        organiser or "",
        _day(starts),
        _day(ends),
        status,
        area or "",
        hours or Decimal(0),
        recognized or Decimal(0),
        _day(decision_date),
        decision_number or "",
        unit,
    )


def _day(value) -> date | None:
    # A UNION over SQLite hands dates back as text (the column type is lost).
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Page:
    """One page of the list with totals per department and overall."""

    rows: list[Row]
    departments: list[DepartmentTotal]
    total: DepartmentTotal
    page: int
    pages: int
    filters: Filters


def page_of(
    db: Session,
    actor: Actor,
    f: Filters,
    page: int,
    unit: Decimal,
    *,
    own: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the consolidated list (or of the actor's own record): two queries."""
    if not own:
        require_list(actor)
    records, where = _scope(actor, f, own=own)
    grouped = db.execute(
        select(
            _department(),
            func.count(func.distinct(records.c.user_id)),
            func.count(),
            *(func.sum(case((records.c.status == s, 1), else_=0)) for s in rules.STATUSES),
            _hours(func.coalesce(func.sum(records.c.hours), 0)),
            _hours(func.coalesce(func.sum(records.c.recognized), 0)),
        )
        .select_from(records)
        .outerjoin(Person, Person.user_id == records.c.user_id)
        .where(*where)
        .group_by(_department())
        .order_by(_department())
    ).all()
    departments = [
        DepartmentTotal(
            dep or "",
            people,
            n,
            dict(zip(rules.STATUSES, counts, strict=True)),
            hours,
            recognized,
            unit,
        )
        for dep, people, n, *counts, hours, recognized in grouped
    ]
    total = DepartmentTotal(
        "",
        sum(d.people for d in departments),
        sum(d.activities for d in departments),
        {s: sum(d.counts[s] for d in departments) for s in rules.STATUSES},
        sum((d.hours for d in departments), Decimal(0)),
        sum((d.recognized_hours for d in departments), Decimal(0)),
        unit,
    )
    pages = max(1, -(-total.activities // size))
    page = min(max(1, page), pages)
    rows = [
        _row(v, unit)
        for v in db.execute(_select_rows(records, where).limit(size).offset((page - 1) * size))
    ]
    return Page(rows, departments, total, page, pages, f)


def all_rows(
    db: Session, actor: Actor, f: Filters, unit: Decimal, *, own: bool = False
) -> Iterator[Row]:
    """Every row (exports), streamed from one query."""
    if not own:
        require_list(actor)  # now, not at the first row: exports start writing before
    records, where = _scope(actor, f, own=own)
    result = db.execute(_select_rows(records, where).execution_options(yield_per=1000))
    return (_row(v, unit) for v in result)


def departments(db: Session, actor: Actor) -> list[str]:
    """The departments the list may be filtered by (a head: theirs)."""
    if not actor.sees_all:
        return sorted(actor.heads)
    return list(
        db.scalars(
            select(func.distinct(Person.department))
            .join(User, User.id == Person.user_id)
            .where(User.platform_id == actor.platform_id, Person.department != "")
            .order_by(Person.department)
        )
    )
