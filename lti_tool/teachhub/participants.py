"""Participant cards: registration and enrolment, hours, tasks, marks, verification, status.

Every status move is checked by status.check_move, logged with who and when, and queued for
the LMS gradebook in the same transaction (scores.post_card).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import Actor
from ..db import utcnow
from ..errors import Forbidden
from ..lists import Page, matches, page_of
from ..lti.models import Membership, ResourceLink, User
from ..lti.roles import ToolRole
from ..versioning import claim
from .access import NotFound, card_for, managed_module, manages, roles_on
from .config import TeachHubConfig
from .errors import Changed, InputError, Refused, parse_date
from .hours import HoursError, parse_hours, parse_mark
from .models import (
    Module,
    ModuleVersion,
    Participant,
    Person,
    StatusChange,
    Stream,
    Task,
    TaskEvidence,
)
from .modules import current_version, stream_for, stream_for_registration, streams_of
from .scores import post_card
from .status import (
    COMPLETED,
    COORDINATOR,
    FACILITATOR,
    LOCKED,
    RECOGNIZED,
    REGISTERED,
    SUBMITTED,
    check_move,
    required_role,
)

NUMBER_LIMIT = 64
NOTE_LIMIT = 2000
# The tool's own notes in the status log, stored by key with their parameters (never as
# rendered text: a Russian note would then show on a Kazakh card). Dates are ISO strings.
NOTES = {
    "first_launch": _l("Registered at the first launch of the module."),
    "roster": _l("Enrolled from the course roster."),
    "commission": _l("Commission record %(number)s of %(date)s."),
}


# -- people -------------------------------------------------------------------------------------


def department_of(db: Session, user_id: int) -> str:
    """A person's department ('' when nobody said)."""
    person = db.get(Person, user_id)
    return person.department if person else ""


def prefill_department(db: Session, user_id: int, custom: dict, params: tuple[str, ...]) -> None:
    """Fill an empty department from the first custom launch parameter present (no commit)."""
    value = next((str(custom[p]).strip() for p in params if str(custom.get(p) or "").strip()), "")
    if not value or value.startswith("$"):  # "$Person..." is an unresolved LMS variable
        return
    person = db.get(Person, user_id)
    if person is None:
        db.add(Person(user_id=user_id, department=value[:255], source="lms"))
    elif not person.department:
        person.department, person.source = value[:255], "lms"


def set_department(db: Session, actor: Actor, card_id: int, department: str) -> None:
    """The participant or a coordinator sets the participant's department."""
    card, _module = card_for(db, actor, card_id)
    if card.user_id != actor.user_id and not actor.is_coordinator:
        raise Forbidden(_l("Only the participant or a TeachHub coordinator changes the "
                           "department."))
    department = (department or "").strip()
    if len(department) > 255:
        raise InputError({"department": _l("At most %(n)d characters.", n=255)})
    person = db.get(Person, card.user_id)
    if person is None:
        person = Person(user_id=card.user_id)
        db.add(person)
    person.department = department
    person.source = "self" if card.user_id == actor.user_id else "coordinator"
    db.commit()


# -- registration and enrolment -----------------------------------------------------------------


def _log(db: Session, card: Participant, from_status: str | None, to_status: str,
         actor_id: int | None, actor_role: str, note: str = "", note_key: str = "",
         note_params: dict | None = None) -> None:
    db.add(StatusChange(participant_id=card.id, from_status=from_status, to_status=to_status,
                        actor_id=actor_id, actor_role=actor_role, at=utcnow(), note=note,
                        note_key=note_key, note_params=note_params or {}))


@dataclass(frozen=True)
class Placement:
    """What opening a module's placement shows: the passport, and the viewer's card if any."""

    module: Module
    version: ModuleVersion | None  # None: the card is not published yet
    card: Participant | None
    reason: str = ""  # "not_published", "no_stream", "staff", "guest"


def latest_card(db: Session, module_id: int, user_id: int) -> Participant | None:
    """A person's most recent card in a module."""
    return db.scalars(select(Participant).where(
        Participant.module_id == module_id, Participant.user_id == user_id)
        .order_by(Participant.id.desc())).first()


def open_placement(db: Session, *, module_id: int, user: User, tool_role: ToolRole,
                   resource_link: ResourceLink | None, today: date,
                   config: TeachHubConfig, launch_custom: dict | None = None) -> Placement:
    """A launch of a module placement; learners are registered on their first launch."""
    module = db.get(Module, module_id)
    if module is None or module.platform_id != user.platform_id:
        raise NotFound()
    card = latest_card(db, module.id, user.id)
    if card is not None:
        if card.resource_link_id is None and resource_link is not None:
            card.resource_link_id = resource_link.id
            db.commit()
        return Placement(module, db.get(ModuleVersion, card.version_id), card)
    version = current_version(db, module)
    if version is None:
        return Placement(module, None, None, "not_published")
    if tool_role != ToolRole.LEARNER:
        staff = tool_role in (ToolRole.INSTRUCTOR, ToolRole.ADMIN)
        return Placement(module, version, None, "staff" if staff else "guest")
    if module.archived_at is not None:
        return Placement(module, version, None, "archived")
    stream = stream_for_registration(streams_of(db, module.id), today)
    if stream is None:
        return Placement(module, version, None, "no_stream")
    card = Participant(module_id=module.id, stream_id=stream.id, version_id=version.id,
                       user_id=user.id, enrolled_via="launch", status=REGISTERED,
                       resource_link_id=resource_link.id if resource_link else None)
    db.add(card)
    # This launch's own custom parameters (from the session), not the placement's latest.
    custom = launch_custom if launch_custom is not None else dict(
        resource_link.custom or {}) if resource_link is not None else {}
    prefill_department(db, user.id, custom, config.department_params)
    try:
        db.flush()
    except IntegrityError:  # the same person's first launch in another tab won the race
        db.rollback()
        card = latest_card(db, module.id, user.id)
        if card is None:  # not that race: the error itself is the one to see
            raise
        return Placement(module, db.get(ModuleVersion, card.version_id), card)
    _log(db, card, None, REGISTERED, user.id, "participant", note_key="first_launch")
    post_card(db, card, config.gradebook, config.mark_maximum)
    db.commit()
    return Placement(module, version, card)


@dataclass(frozen=True)
class Candidate:
    """A course member who may be enrolled into a stream."""

    user: User
    role: str
    enrolled: bool


def roster_candidates(db: Session, actor: Actor, stream_id: int, context_id: int, *,
                      search: str = "", page: int = 1) -> Page[Candidate]:
    """The course's members (launch or roster, not deleted) and whether each is enrolled:
    searched by name or email, one page (two queries for the page, one for who is enrolled)."""
    stream, _module = stream_for(db, actor, stream_id)
    query = (
        select(User, Membership.role).join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.status != "Deleted",
               User.platform_id == actor.platform_id)
        .order_by(User.family_name, User.given_name, User.name, User.id))
    condition = matches(search, (User.name, User.given_name, User.family_name, User.email))
    if condition is not None:
        query = query.where(condition)
    found = page_of(db, query, page, search=search, scalars=False)
    shown = [user.id for user, _role in found.rows]
    enrolled = set(db.scalars(select(Participant.user_id).where(
        Participant.stream_id == stream.id, Participant.user_id.in_(shown)))) if shown else set()
    return Page([Candidate(user, role, user.id in enrolled) for user, role in found.rows],
                found.total, found.page, found.pages, found.search)


def enrol(db: Session, actor: Actor, stream_id: int, *, context_id: int, user_ids: list[int],
          all_learners: bool, resource_link: ResourceLink | None,
          config: TeachHubConfig) -> int:
    """Enrol course members into a stream in bulk; returns how many cards were made."""
    stream, module = stream_for(db, actor, stream_id)
    version = current_version(db, module)
    if version is None:
        raise Refused(_l("Publish the module card before enrolling participants: they keep "
                         "the version they enrolled under."), code="not_published")
    if module.archived_at is not None:
        raise Refused(_l("The module is archived: it takes no new participants."),
                      code="archived")
    members = select(Membership.user_id).where(Membership.context_id == context_id,
                                               Membership.status != "Deleted")
    if all_learners:
        members = members.where(Membership.role == ToolRole.LEARNER.value)
    else:
        members = members.where(Membership.user_id.in_(user_ids or [-1]))
    wanted = set(db.scalars(select(User.id).where(User.id.in_(members),
                                                  User.platform_id == actor.platform_id)))
    if not all_learners and set(user_ids) - wanted:
        raise InputError({"user_ids": _l("Choose people from this course's roster.")})
    already = set(db.scalars(select(Participant.user_id).where(
        Participant.stream_id == stream.id, Participant.user_id.in_(wanted))))
    # The enrolling placement is kept when it shows this very module (its line item).
    link_id = (resource_link.id if resource_link is not None
               and str((resource_link.custom or {}).get("module_card")) == str(module.id)
               else None)
    role = FACILITATOR if FACILITATOR in roles_on(actor, module.id) else COORDINATOR
    cards = [Participant(module_id=module.id, stream_id=stream.id, version_id=version.id,
                         user_id=uid, enrolled_via="roster", status=REGISTERED,
                         resource_link_id=link_id)
             for uid in sorted(wanted - already)]
    db.add_all(cards)
    db.flush()
    for card in cards:
        _log(db, card, None, REGISTERED, actor.user_id, role, note_key="roster")
        post_card(db, card, config.gradebook, config.mark_maximum)
    db.commit()
    return len(cards)


# -- the card -----------------------------------------------------------------------------------


def _take(db: Session, card: Participant, seen: int) -> None:
    """Compare-and-set on the card's revision: of two people acting on the same revision,
    one passes, the other gets Changed (a 409 showing the card as it is now)."""
    if seen != card.revision or not claim(db, card, seen, "revision"):
        raise Changed()


def _unlocked(card: Participant) -> None:
    if card.status in LOCKED:
        raise Refused(_l("The card was submitted for recognition: its hours and tasks no longer "
                         "change."), code="locked")


def set_hours(db: Session, actor: Actor, card_id: int, *, contact: str | None,
              self_study: str | None, config: TeachHubConfig, seen: int) -> Participant:
    """Contact hours (facilitators, coordinators) and self-study hours (also the participant)."""
    card, module = card_for(db, actor, card_id)
    staff = manages(actor, module)
    if contact is not None and not staff:
        raise Forbidden(_l("Contact hours are recorded by the module's facilitators and "
                           "TeachHub coordinators."))
    _unlocked(card)
    errors: dict[str, object] = {}
    values: dict[str, Decimal] = {}
    for name, raw in (("contact_hours", contact), ("self_study_hours", self_study)):
        if raw is None:
            continue
        try:
            values[name] = parse_hours(raw, config.max_hours)
        except HoursError as err:
            errors[name] = err.message
    if errors:
        raise InputError(errors)
    total = sum((values.get(n, getattr(card, n)) for n in ("contact_hours", "self_study_hours")),
                Decimal(0))
    if total > config.max_hours:
        raise InputError({"self_study_hours": _l(
            "Contact and self-study hours together are at most %(maximum)s.",
            maximum=str(config.max_hours))})
    changed = any(getattr(card, n) != v for n, v in values.items())
    _take(db, card, seen)
    for name, value in values.items():
        setattr(card, name, value)
    if changed and card.verified_at is not None:
        # Verification vouched for the old hours: the coordinator checks them again.
        card.verified_at, card.verified_by_id = None, None
    db.commit()
    return card


def set_mark(db: Session, actor: Actor, card_id: int, *, mark: str, comment: str,
             config: TeachHubConfig, seen: int) -> Participant:
    """The facilitator's mark and comment; posted to the LMS gradebook."""
    card, module = card_for(db, actor, card_id)
    if FACILITATOR not in roles_on(actor, module.id):
        raise Forbidden(_l("Marks are given by the module's facilitators."))
    _unlocked(card)
    try:
        value = parse_mark(mark, config.mark_maximum)
    except HoursError as err:
        raise InputError({"mark": err.message}) from None
    comment = (comment or "").strip()
    if len(comment) > NOTE_LIMIT:
        raise InputError({"mark_comment": _l("At most %(n)d characters.", n=NOTE_LIMIT)})
    _take(db, card, seen)
    card.mark, card.mark_comment = value, comment
    card.marked_by_id, card.marked_at = actor.user_id, utcnow()
    post_card(db, card, config.gradebook, config.mark_maximum)
    db.commit()
    return card


def verify(db: Session, actor: Actor, card_id: int, *, note: str, seen: int) -> Participant:
    """Coordinator verification of a completed card's hours and evidence (the staff non-formal
    education rules, 7.1 (4))."""
    card, module = card_for(db, actor, card_id)
    if COORDINATOR not in roles_on(actor, module.id):
        raise Forbidden(_l("Only TeachHub coordinators verify cards."))
    if card.status != COMPLETED:
        raise Refused(_l("A card is verified once it is completed and before it is submitted."),
                      code="not_completed")
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InputError({"verification_note": _l("At most %(n)d characters.", n=NOTE_LIMIT)})
    _take(db, card, seen)
    card.verified_at, card.verified_by_id, card.verification_note = utcnow(), actor.user_id, note
    db.commit()
    return card


def set_record(db: Session, actor: Actor, card_id: int, *, record_date: str,
               record_number: str, today: date, seen: int) -> Participant:
    """The date and number of the record in the individual work plan / information system."""
    card, module = card_for(db, actor, card_id)
    if COORDINATOR not in roles_on(actor, module.id):
        raise Forbidden(_l("Only TeachHub coordinators record this."))
    when = parse_date(record_date, "record_date")
    number = (record_number or "").strip()
    if when and when > today:
        raise InputError({"record_date": _l("The date cannot be in the future.")})
    if len(number) > NUMBER_LIMIT:
        raise InputError({"record_number": _l("At most %(n)d characters.", n=NUMBER_LIMIT)})
    if bool(when) != bool(number):
        raise InputError({"record_number": _l("Give both the date and the number.")})
    _take(db, card, seen)
    card.record_date, card.record_number = when, number
    db.commit()
    return card


def move(db: Session, actor: Actor, card_id: int, target: str, *, today: date,
         config: TeachHubConfig, seen: int, note: str = "", commission_date: str = "",
         commission_number: str = "") -> Participant:
    """Move a card one status forward, if the rules and the actor's role allow; logged."""
    card, module = card_for(db, actor, card_id)
    if seen != card.revision:
        raise Changed()  # before the rules: the move was chosen on a card that is gone
    roles = roles_on(actor, module.id)
    refusal = check_move(card.status, target, roles)
    if refusal is not None:
        raise (Forbidden(refusal.message, code=refusal.code) if refusal.code == "not_your_role"
               else Refused(refusal.message, code=refusal.code))
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InputError({"note": _l("At most %(n)d characters.", n=NOTE_LIMIT)})
    note_key, note_params = "", {}
    if target == SUBMITTED:
        if card.verified_at is None:
            raise Refused(_l("Verify the card's hours and evidence before submitting it for "
                             "recognition."), code="not_verified")
        if card.total_hours <= 0:
            raise Refused(_l("Record the card's hours before submitting it for recognition."),
                          code="no_hours")
        card.submitted_on = today
    if target == RECOGNIZED:
        when = parse_date(commission_date, "commission_date", required=True)
        number = (commission_number or "").strip()
        if not number or len(number) > NUMBER_LIMIT:
            raise InputError({"commission_number": _l(
                "Give the number of the commission's record (at most %(n)d characters).",
                n=NUMBER_LIMIT)})
        if when > today:
            raise InputError({"commission_date": _l("The date cannot be in the future.")})
        if card.submitted_on and when < card.submitted_on:
            raise InputError({"commission_date": _l(
                "The commission's decision cannot be dated before the card was submitted "
                "(%(date)s).", date=card.submitted_on.isoformat())})
        card.commission_date, card.commission_number = when, number
        if not note:
            note_key, note_params = "commission", {"number": number, "date": when.isoformat()}
    # Two coordinators recording recognition at once: one record, one log line.
    _take(db, card, seen)
    if target == COMPLETED:
        card.completed_on = today
    previous, card.status = card.status, target
    _log(db, card, previous, target, actor.user_id, required_role(target) or "", note,
         note_key, note_params)
    post_card(db, card, config.gradebook, config.mark_maximum)
    db.commit()
    return card


# -- tasks and products -------------------------------------------------------------------------


def add_task(db: Session, actor: Actor, card_id: int, *, title: str, description: str,
             completed_on: str, today: date) -> Task:
    """A completed task or product on a card (the participant, facilitators, coordinators)."""
    card, _module = card_for(db, actor, card_id)
    _unlocked(card)
    errors: dict[str, object] = {}
    title = (title or "").strip()
    description = (description or "").strip()
    if not title or len(title) > 255:
        errors["title"] = _l("Name the task or product (at most 255 characters).")
    if len(description) > NOTE_LIMIT:
        errors["description"] = _l("At most %(n)d characters.", n=NOTE_LIMIT)
    try:
        when = parse_date(completed_on, "completed_on")
        if when and when > today:
            errors["completed_on"] = _l("The date cannot be in the future.")
    except InputError as err:
        errors.update(err.errors)
        when = None
    if errors:
        raise InputError(errors)
    task = Task(participant_id=card.id, title=title, description=description,
                completed_on=when, added_by_id=actor.user_id, created_at=utcnow())
    db.add(task)
    db.flush()
    return task


def task_for(db: Session, actor: Actor, task_id: int) -> tuple[Task, Participant, Module]:
    """A task of a card the actor may see."""
    task = db.get(Task, task_id)
    if task is None:
        raise NotFound()
    card, module = card_for(db, actor, task.participant_id)
    return task, card, module


def attach_evidence(db: Session, task: Task, evidence_id: int) -> None:
    """Link a stored evidence file to a task (the caller commits)."""
    db.add(TaskEvidence(task_id=task.id, evidence_id=evidence_id, created_at=utcnow()))


def review_task(db: Session, actor: Actor, task_id: int, *, decision: str, note: str) -> Task:
    """The facilitator accepts a task or returns it with a note."""
    task, card, module = task_for(db, actor, task_id)
    if FACILITATOR not in roles_on(actor, module.id):
        raise Forbidden(_l("Tasks are reviewed by the module's facilitators."))
    _unlocked(card)
    if decision not in ("accepted", "returned"):
        raise InputError({"decision": _l("Choose accept or return.")})
    note = (note or "").strip()
    if decision == "returned" and not note:
        raise InputError({"review_note": _l("Say why the task is returned.")})
    if len(note) > NOTE_LIMIT:
        raise InputError({"review_note": _l("At most %(n)d characters.", n=NOTE_LIMIT)})
    task.review, task.review_note = decision, note
    task.reviewed_by_id, task.reviewed_at = actor.user_id, utcnow()
    db.commit()
    return task


def delete_task(db: Session, actor: Actor, task_id: int) -> tuple[Task, list[int]]:
    """Its author removes a task not yet accepted; returns the evidence ids it held."""
    task, card, _module = task_for(db, actor, task_id)
    if task.added_by_id != actor.user_id:
        raise Forbidden(_l("Only who added a task removes it."))
    _unlocked(card)
    if task.review == "accepted":
        raise Refused(_l("An accepted task stays on the card."), code="accepted")
    evidence_ids = list(db.scalars(select(TaskEvidence.evidence_id)
                                   .where(TaskEvidence.task_id == task.id)))
    db.delete(task)
    db.flush()
    return task, evidence_ids


def evidence_of_card(db: Session, card_id: int) -> dict[int, list[int]]:
    """Evidence ids per task of a card, in one query."""
    rows = db.execute(select(TaskEvidence.task_id, TaskEvidence.evidence_id)
                      .join(Task, Task.id == TaskEvidence.task_id)
                      .where(Task.participant_id == card_id).order_by(TaskEvidence.id))
    result: dict[int, list[int]] = {}
    for task_id, evidence_id in rows:
        result.setdefault(task_id, []).append(evidence_id)
    return result


def task_evidence(db: Session, actor: Actor, task_id: int, evidence_id: int) -> int:
    """The evidence id if it belongs to a task the actor may see."""
    task, _card, _module = task_for(db, actor, task_id)
    found = db.scalars(select(TaskEvidence.evidence_id).where(
        TaskEvidence.task_id == task.id, TaskEvidence.evidence_id == evidence_id)).first()
    if found is None:
        raise NotFound()
    return found


# -- what the card page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    """One logged status move with the actor's name."""

    at: datetime
    from_status: str | None
    to_status: str
    actor_name: str
    actor_role: str
    note: str
    note_key: str = ""
    note_params: dict | None = None


@dataclass(frozen=True)
class CardView:
    """Everything the participant card page shows, read in a fixed number of queries."""

    card: Participant
    module: Module
    version: ModuleVersion
    stream: Stream
    participant: User
    department: str
    department_source: str
    tasks: list[Task]
    evidence: dict[int, list[int]]
    log: list[LogLine]
    names: dict[int, str]  # user id -> name, for markers, verifiers, task authors


def card_view(db: Session, actor: Actor, card_id: int) -> CardView:
    """The participant card with its tasks, evidence and status log."""
    card, module = card_for(db, actor, card_id)
    person = db.get(Person, card.user_id)
    tasks = list(db.scalars(select(Task).where(Task.participant_id == card.id)
                            .order_by(Task.completed_on, Task.id)))
    changes = list(db.scalars(select(StatusChange).where(StatusChange.participant_id == card.id)
                              .order_by(StatusChange.at, StatusChange.id)))
    ids = {c.actor_id for c in changes} | {t.added_by_id for t in tasks} | {
        t.reviewed_by_id for t in tasks} | {card.marked_by_id, card.verified_by_id}
    ids.discard(None)
    names = {u.id: u.display_name for u in db.scalars(select(User).where(User.id.in_(ids)))}
    log = [LogLine(c.at, c.from_status, c.to_status,
                   names.get(c.actor_id, "—") if c.actor_id is not None else "—", c.actor_role,
                   c.note, c.note_key or "", c.note_params or {}) for c in changes]
    return CardView(card=card, module=module, version=db.get_one(ModuleVersion, card.version_id),
                    stream=db.get_one(Stream, card.stream_id),
                    participant=db.get_one(User, card.user_id),
                    department=person.department if person else "",
                    department_source=person.source if person else "", tasks=tasks,
                    evidence=evidence_of_card(db, card.id), log=log, names=names)


@dataclass(frozen=True)
class StreamCard:
    """A participant of a stream in the module page's list."""

    card: Participant
    user: User
    department: str


SHOWN_PER_STREAM = 20  # cards a stream shows on the module page; the rest: module_participants


@dataclass(frozen=True)
class StreamPreview:
    """The first cards of a stream, by name, and how many it has in all."""

    rows: list[StreamCard]
    total: int


def stream_previews(db: Session, actor: Actor, module_id: int,
                    size: int = SHOWN_PER_STREAM) -> dict[int, StreamPreview]:
    """The first `size` cards of each stream of a module the actor manages, and each stream's
    count, per stream id: two queries, and at most `size` rows a stream leave the database,
    however many cards the module has (ROW_NUMBER() per stream; SQLite and PostgreSQL)."""
    managed_module(db, actor, module_id)
    counts = dict(db.execute(
        select(Participant.stream_id, func.count())
        .where(Participant.module_id == module_id).group_by(Participant.stream_id)).all())
    if not counts:
        return {}
    place = func.row_number().over(
        partition_by=Participant.stream_id,
        order_by=(User.family_name, User.given_name, User.name, User.id, Participant.id),
    ).label("place")
    ranked = (select(Participant.id.label("card_id"), place)
              .join(User, User.id == Participant.user_id)
              .where(Participant.module_id == module_id).subquery())
    rows = db.execute(
        select(Participant, User, Person.department)
        .join(ranked, ranked.c.card_id == Participant.id)
        .join(User, User.id == Participant.user_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(ranked.c.place <= size)
        .order_by(Participant.stream_id, ranked.c.place))
    shown: dict[int, list[StreamCard]] = {stream_id: [] for stream_id in counts}
    for card, user, department in rows:
        shown[card.stream_id].append(StreamCard(card, user, department or ""))
    return {stream_id: StreamPreview(shown[stream_id], total)
            for stream_id, total in counts.items()}


def module_participants(db: Session, actor: Actor, module_id: int, *, search: str = "",
                        stream_id: int | None = None, status: str = "",
                        page: int = 1) -> Page[StreamCard]:
    """A module's participant cards, searched by name or email, filtered by stream and status,
    one page (a count and a page of rows, however many cards the module has)."""
    managed_module(db, actor, module_id)
    query = (
        select(Participant, User, Person.department)
        .join(User, User.id == Participant.user_id)
        .outerjoin(Person, Person.user_id == Participant.user_id)
        .where(Participant.module_id == module_id)
        .order_by(User.family_name, User.given_name, User.name, User.id, Participant.id))
    if stream_id is not None:
        query = query.where(Participant.stream_id == stream_id)
    if status:
        query = query.where(Participant.status == status)
    condition = matches(search, (User.name, User.given_name, User.family_name, User.email))
    if condition is not None:
        query = query.where(condition)
    found = page_of(db, query, page, search=search, scalars=False)
    return Page([StreamCard(card, user, department or "") for card, user, department
                 in found.rows], found.total, found.page, found.pages, found.search)
