"""Recording, evidence and every move of a staff learning activity (no Flask).

Each change names the revision its author saw (lti_tool.versioning.claim: one conditional
UPDATE), so two people acting on the same activity at once cannot both pass; every move is
logged with who and when; a refused move says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..credentials.models import Credential
from ..db import utcnow
from ..errors import Forbidden
from ..lti.models import User
from ..settings import Settings
from ..teachhub import evidence as evidence_files
from ..teachhub.config import TeachHubConfig
from ..teachhub.errors import Changed, InputError, Refused, parse_date
from ..teachhub.hours import CENT, HoursError, parse_hours
from ..teachhub.models import Person
from ..versioning import claim
from . import rules
from .access import Actor, activity_for, require_recorder
from .config import LearningConfig
from .models import Activity, ActivityEvidence, ActivityLog

TEXT_LIMIT = 255
LONG_LIMIT = 5000
NUMBER_LIMIT = 64
OLDEST_YEARS = 10  # an activity older than this is not recorded here (sane bounds)
HOURS, UNITS = "hours", "credit_units"


@dataclass(frozen=True)
class ActivityInput:
    """What a participant types for an activity (all text, parsed by the service)."""

    form: str
    format: str
    title: str
    organiser: str
    starts_on: str
    ends_on: str
    content: str
    competence_area: str
    workload: str
    workload_unit: str = HOURS
    estimated: bool = False
    estimate_reason: str = ""
    foreign_language: bool = False
    title_translation: str = ""
    mentor: str = ""
    department: str = ""


def _text(errors: dict, name: str, value: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = _l("Fill in this field.")
    elif len(value) > limit:
        errors[name] = _l("At most %(n)d characters.", n=limit)
    return value


def parse_input(
    data: ActivityInput, *, today: date, th: TeachHubConfig, config: LearningConfig
) -> dict:
    """The activity's columns from typed input; InputError naming every bad field."""
    errors: dict[str, object] = {}
    values: dict = {}
    if data.form not in rules.FORMS:
        errors["form"] = _l("Choose the form of the activity.")
    elif data.format and config.format_form.get(data.format) != data.form:
        errors["format"] = _l("Choose a format of this form.")
    values["form"], values["format"] = data.form, data.format or ""
    values["title"] = _text(errors, "title", data.title, TEXT_LIMIT, required=True)
    values["organiser"] = _text(errors, "organiser", data.organiser, TEXT_LIMIT, required=True)
    values["content"] = _text(errors, "content", data.content, LONG_LIMIT, required=True)
    values["mentor"] = _text(
        errors, "mentor", data.mentor, TEXT_LIMIT, required=data.form == rules.INTERNSHIP
    )
    values["foreign_language"] = bool(data.foreign_language)
    values["title_translation"] = _text(
        errors,
        "title_translation",
        data.title_translation,
        TEXT_LIMIT,
        required=bool(data.foreign_language),
    )
    if data.competence_area not in {c.key for c in th.choices("competence_areas")}:
        errors["competence_area"] = _l("Choose a competence area.")
    values["competence_area"] = data.competence_area
    dates = {}
    for name, raw in (("starts_on", data.starts_on), ("ends_on", data.ends_on)):
        try:
            dates[name] = parse_date(raw, name, required=True)
        except InputError as err:
            errors.update(err.errors)
    start, end = dates.get("starts_on"), dates.get("ends_on")
    if start and end:
        if end < start:
            errors["ends_on"] = _l("The end date cannot be before the start date.")
        elif end > today:
            errors["ends_on"] = _l(
                "Record an activity once it has taken place: the end date cannot be in the future."
            )
        elif start < today - timedelta(days=365 * OLDEST_YEARS):
            errors["starts_on"] = _l("The start date is more than %(n)d years ago.", n=OLDEST_YEARS)
    values["starts_on"], values["ends_on"] = start, end
    unit = data.workload_unit if data.workload_unit in (HOURS, UNITS) else HOURS
    try:
        maximum = (
            th.max_hours if unit == HOURS else (th.max_hours / th.hours_per_unit).quantize(CENT)
        )
        amount = parse_hours(data.workload, maximum, blank_is_zero=False)
        hours = amount if unit == HOURS else (amount * th.hours_per_unit).quantize(CENT)
        if hours <= 0:
            errors["workload"] = _l("The workload must be more than zero.")
        values["hours_claimed"] = hours
    except HoursError as err:
        errors["workload"] = err.message
    values["hours_estimated"] = bool(data.estimated)
    values["estimate_reason"] = _text(
        errors, "estimate_reason", data.estimate_reason, LONG_LIMIT, required=bool(data.estimated)
    )
    department = _text(errors, "department", data.department, TEXT_LIMIT)
    if errors:
        raise InputError(errors)
    values["department"] = department
    return values


def _set_department(db: Session, user_id: int, department: str) -> None:
    if not department:
        return
    person = db.get(Person, user_id)
    if person is None:
        db.add(Person(user_id=user_id, department=department, source="self"))
    elif person.department != department:
        person.department, person.source = department, "self"


def _log(
    db: Session,
    activity: Activity,
    action: str,
    actor: Actor,
    role: str,
    from_status: str | None,
    note: str = "",
) -> None:
    db.add(
        ActivityLog(
            activity_id=activity.id,
            action=action,
            from_status=from_status,
            to_status=activity.status,
            actor_id=actor.user_id,
            actor_role=role,
            at=utcnow(),
            note=note,
        )
    )


def record(
    db: Session,
    actor: Actor,
    data: ActivityInput,
    *,
    today: date,
    th: TeachHubConfig,
    config: LearningConfig,
) -> Activity:
    """A participant records an activity that took place (status: implemented)."""
    require_recorder(actor)
    values = parse_input(data, today=today, th=th, config=config)
    _set_department(db, actor.user_id, values.pop("department"))
    activity = Activity(platform_id=actor.platform_id, user_id=actor.user_id, **values)
    db.add(activity)
    db.flush()
    _log(db, activity, "record", actor, rules.PARTICIPANT, None)
    db.commit()
    return activity


def _claimed(db: Session, activity: Activity, seen: int) -> None:
    if seen != activity.revision or not claim(db, activity, seen, "revision"):
        db.rollback()
        raise Changed(
            _l(
                "Someone changed this activity after you opened it, so nothing was "
                "saved. The activity as it is now is shown."
            )
        )


def edit(
    db: Session,
    actor: Actor,
    activity_id: int,
    data: ActivityInput,
    *,
    seen: int,
    today: date,
    th: TeachHubConfig,
    config: LearningConfig,
) -> Activity:
    """The participant corrects their activity while it is theirs (implemented or returned).

    An edit after the head's endorsement clears it: the head endorsed what was there then.
    """
    activity = _own_while_editable(db, actor, activity_id)
    values = parse_input(data, today=today, th=th, config=config)
    _claimed(db, activity, seen)
    _set_department(db, actor.user_id, values.pop("department"))
    for name, value in values.items():
        setattr(activity, name, value)
    note = ""
    if activity.endorsed_at is not None:
        activity.endorsed_at = activity.endorsed_by_id = None
        note = "endorsement cleared"
    _log(db, activity, "edit", actor, rules.PARTICIPANT, activity.status, note)
    db.commit()
    return activity


def _own_while_editable(db: Session, actor: Actor, activity_id: int) -> Activity:
    """The participant's own activity while it is still theirs to change (implemented or
    returned): Forbidden for anyone else, Refused once it is with the commission."""
    activity, _department = activity_for(db, actor, activity_id)
    if activity.user_id != actor.user_id:
        raise Forbidden(rules.ROLE_REFUSALS[rules.PARTICIPANT])
    if activity.status not in rules.EDITABLE:
        raise Refused(
            _l("The activity is with the commission or decided: it no longer changes."),
            code="locked",
        )
    return activity


def evidence_count(db: Session, activity_id: int) -> int:
    """How many evidence files an activity has."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(ActivityEvidence)
            .where(ActivityEvidence.activity_id == activity_id)
        )
        or 0
    )


def add_evidence(
    db: Session, actor: Actor, activity_id: int, *, kind: str, file, settings: Settings, owner: User
) -> ActivityEvidence:
    """The participant attaches an evidence file of a kind accepted for the activity's form
    (content-checked and counted against their quota by lti_tool.evidence)."""
    activity = _own_while_editable(db, actor, activity_id)
    if kind not in rules.ACCEPTED_EVIDENCE[activity.form]:
        raise InputError({"kind": _l("Choose a kind of evidence accepted for this form.")})
    evidence_id = evidence_files.store(db, settings=settings, file=file, owner=owner)
    row = ActivityEvidence(activity_id=activity.id, evidence_id=evidence_id, kind=kind)
    db.add(row)
    _log(db, activity, "evidence", actor, rules.PARTICIPANT, activity.status, kind)
    db.commit()
    return row


def evidence_of(db: Session, activity_id: int) -> list[tuple[ActivityEvidence, object]]:
    """An activity's evidence rows with their files (two queries)."""
    rows = list(
        db.scalars(
            select(ActivityEvidence)
            .where(ActivityEvidence.activity_id == activity_id)
            .order_by(ActivityEvidence.id)
        )
    )
    files = evidence_files.files(db, [r.evidence_id for r in rows])
    return [(r, files.get(r.evidence_id)) for r in rows]


@dataclass(frozen=True)
class Decision:
    """What a move may carry: a note or reason, the commission's record, recognised hours."""

    note: str = ""
    ready: str = ""  # opinion: "yes" | "no"
    decision_date: str = ""
    decision_number: str = ""
    hours: str = ""
    hours_note: str = ""


def facts(db: Session, activity: Activity) -> rules.Facts:
    """What the rules need besides the status."""
    return rules.Facts(
        activity.form, activity.endorsed_at is not None, evidence_count(db, activity.id)
    )


def act(
    db: Session,
    actor: Actor,
    activity_id: int,
    action: str,
    decision: Decision,
    *,
    seen: int,
    today: date,
    th: TeachHubConfig,
) -> Activity:
    """Take one step on an activity (submit, endorse, opinion, recognize, return, revoke)."""
    activity, department = activity_for(db, actor, activity_id)
    if seen != activity.revision:
        raise Changed(
            _l(
                "Someone changed this activity after you opened it, so nothing was "
                "saved. The activity as it is now is shown."
            )
        )
    roles = actor.roles_on(activity, department)
    refusal = rules.check(action, activity.status, roles, facts(db, activity))
    if refusal is not None:
        if refusal.code == "not_your_role":
            raise Forbidden(refusal.message, code=refusal.code)
        raise Refused(refusal.message, code=refusal.code)
    note = (decision.note or "").strip()
    if len(note) > LONG_LIMIT:
        raise InputError({"note": _l("At most %(n)d characters.", n=LONG_LIMIT)})
    changes: dict = {}
    if action in (rules.RETURN, rules.REVOKE) and not note:
        raise InputError({"note": _l("Give the reason.")})
    if action == rules.OPINION:
        if decision.ready not in ("yes", "no"):
            raise InputError({"ready": _l("Say whether the materials are ready.")})
        changes = {
            "opinion_ready": decision.ready == "yes",
            "opinion_note": note,
            "opinion_by_id": actor.user_id,
            "opinion_at": utcnow(),
        }
    elif action == rules.ENDORSE:
        changes = {"endorsed_by_id": actor.user_id, "endorsed_at": utcnow()}
    elif action == rules.SUBMIT:
        changes = {"submitted_on": today, "returned_reason": ""}
    elif action == rules.RETURN:
        changes = {"returned_reason": note}
    elif action == rules.REVOKE:
        changes = {"revoked_reason": note}
    elif action == rules.RECOGNIZE:
        changes = _recognition(activity, decision, today=today, th=th, note=note)
    _claimed(db, activity, seen)
    from_status = activity.status
    target = rules.MOVES[action][2]
    if target is not None:
        activity.status = target
    for name, value in changes.items():
        setattr(activity, name, value)
    if action == rules.REVOKE:
        # Immediate: the verification page and the credential's status read this row.
        credential = db.scalars(
            select(Credential).where(Credential.activity_id == activity.id)
        ).first()
        if credential is not None and credential.revoked_at is None:
            credential.revoked_at = utcnow()
    role = rules.MOVES[action][1]
    _log(db, activity, action, actor, role, from_status, note)
    db.commit()
    return activity


def _recognition(
    activity: Activity, decision: Decision, *, today: date, th: TeachHubConfig, note: str
) -> dict:
    errors: dict[str, object] = {}
    when = None
    try:
        when = parse_date(decision.decision_date, "decision_date", required=True)
    except InputError as err:
        errors.update(err.errors)
    if when and when > today:
        errors["decision_date"] = _l("The date cannot be in the future.")
    elif when and activity.submitted_on and when < activity.submitted_on:
        errors["decision_date"] = _l(
            "The commission's decision cannot be dated before the activity was submitted "
            "(%(date)s).",
            date=activity.submitted_on.isoformat(),
        )
    number = (decision.decision_number or "").strip()
    if not number or len(number) > NUMBER_LIMIT:
        errors["decision_number"] = _l(
            "Give the number of the commission's decision (at most %(n)d characters).",
            n=NUMBER_LIMIT,
        )
    hours: Decimal | None = activity.hours_claimed
    if (decision.hours or "").strip():
        try:
            hours = parse_hours(decision.hours, th.max_hours)
        except HoursError as err:
            errors["hours"] = err.message
    hours_note = (decision.hours_note or "").strip()
    if hours is not None and hours != activity.hours_claimed and not hours_note:
        errors["hours_note"] = _l(
            "Say why the recognised hours differ from those claimed"
            " (the staff non-formal education rules, 7.2 item 4)."
        )
    if len(hours_note) > LONG_LIMIT:
        errors["hours_note"] = _l("At most %(n)d characters.", n=LONG_LIMIT)
    if errors:
        raise InputError(errors)
    return {
        "decision_date": when,
        "decision_number": number,
        "hours_recognized": hours,
        "hours_note": hours_note,
    }


def log_of(db: Session, activity_id: int) -> list[tuple[ActivityLog, User | None]]:
    """An activity's log, oldest first, with who acted (one query)."""
    return [
        (line, user)
        for line, user in db.execute(
            select(ActivityLog, User)
            .outerjoin(User, User.id == ActivityLog.actor_id)
            .where(ActivityLog.activity_id == activity_id)
            .order_by(ActivityLog.id)
        ).all()
    ]


def queue(db: Session, actor: Actor) -> list[tuple[Activity, User, str]]:
    """What waits for the actor: endorsements of their departments, submitted activities."""
    from ..teachhub.reports import _department

    query = (
        select(Activity, User, _department())
        .join(User, User.id == Activity.user_id)
        .outerjoin(Person, Person.user_id == Activity.user_id)
        .where(Activity.platform_id == actor.platform_id, Activity.user_id != actor.user_id)
    )
    wanted = []
    if actor.heads:
        wanted.append(
            Activity.status.in_(rules.EDITABLE)
            & Activity.endorsed_at.is_(None)
            & Activity.form.in_(rules.NEEDS_ENDORSEMENT)
            & _department().in_(actor.heads)
        )
    if actor.roles & {rules.EXPERT, rules.SECRETARY}:
        wanted.append(Activity.status == rules.SUBMITTED)
    if not wanted:
        return []
    from sqlalchemy import or_

    return [
        (activity, person, department)
        for activity, person, department in db.execute(
            query.where(or_(*wanted)).order_by(Activity.submitted_on, Activity.id).limit(500)
        )
    ]


def user(db: Session, user_id: int) -> User | None:
    """A user row."""
    return db.get(User, user_id)


def department_of_user(db: Session, user_id: int) -> str:
    """A person's department ("" when not given)."""
    person = db.get(Person, user_id)
    return person.department if person else ""


def credential_of(
    db: Session, *, activity_id: int | None = None, participant_id: int | None = None
) -> Credential | None:
    """The credential issued for a record, if any."""
    column = Credential.activity_id if activity_id is not None else Credential.participant_id
    return db.scalars(
        select(Credential).where(
            column == (activity_id if activity_id is not None else participant_id)
        )
    ).first()


def upload_limit(settings: Settings) -> int | None:
    """The largest evidence file in bytes."""
    return evidence_files.upload_limit(settings)
