"""The rating statement's rules over the database: settings, column map, the statement itself,
weekly mentor scores and the finals posted to the LMS. No Flask: explicit session and actor.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import insert_ignore, utcnow
from ..errors import ToolError
from ..gradebook.course_grading import course_learners
from ..gradebook.models import LineItem, Result, ScoreOutbox
from ..gradebook.outbox import enqueue_line_item_score
from ..gradebook.policy import GradeScale
from ..lti.models import User
from ..versioning import claim
from .models import StatementCourse, StatementMapping, StatementWeek, StatementWeekScore
from .rules import Raw, StudentStatement, student_statement
from .structure import Slot, Structure

CHUNK = 500  # keeps IN (...) lists under every database's parameter limit
DEADLINE = timedelta(hours=24)  # the dual-training rules, 6.5.2: on the portal within 24 hours
SOURCE = "statement"  # outbox rows of this domain: "statement:final", "statement:week:3"


class StaleStatement(ToolError):
    """Someone saved the statement's settings or this week's scores meanwhile."""

    status = 409
    code = "stale_statement"
    message = _l(
        "Someone else saved this after you opened it. Open the page again to see "
        "their change, then repeat yours."
    )


class NotSetUp(ToolError):
    """The statement needs a setting it does not have yet (a structure, a column)."""

    status = 409
    code = "statement_not_set_up"
    message = _l(
        "Set up the course's statement first: its weekly structure and the "
        "gradebook columns of its parts."
    )


@dataclass(frozen=True)
class Settings:
    """What an instructor chose for the course's statement."""

    structure_id: str
    start_date: date | None
    group_name: str
    final_line_item_id: int | None
    mapping: Mapping[str, int | None]  # slot key -> line item id (None: not mapped)


@dataclass(frozen=True)
class StatementRow:
    """One student on the statement."""

    user: User
    result: StudentStatement


@dataclass(frozen=True)
class WeekStatus:
    """Whether a week's mentor scores reached the LMS within 24 hours of the week's end."""

    week: int
    slot: Slot
    ends_at: datetime  # UTC: the midnight after the week's last day, institution time
    deadline: datetime  # ends_at + 24 hours
    entered_at: datetime | None
    scores: int  # scores entered
    sent: int  # of them, accepted by the LMS
    reached_at: datetime | None  # when the last of them was accepted (all sent)
    state: str  # running | due | on_time | late | unknown (no start date)

    @property
    def late(self) -> bool:
        """The flag of 6.5.2: the scores were not on the LMS 24 hours after the week ended."""
        return self.state == "late"


# -- settings -----------------------------------------------------------------------------


def course_settings(db: Session, context_id: int) -> StatementCourse | None:
    """The course's statement settings, if an instructor saved any."""
    return db.scalar(select(StatementCourse).where(StatementCourse.context_id == context_id))


def mapping_of(db: Session, context_id: int) -> dict[str, int]:
    """Slot key -> line item id, as saved."""
    return dict(
        db.execute(
            select(StatementMapping.slot, StatementMapping.line_item_id).where(
                StatementMapping.context_id == context_id
            )
        ).all()
    )


def course_line_items(db: Session, context_id: int) -> list[LineItem]:
    """The course's gradebook columns as last pulled from the LMS, by title."""
    return list(
        db.scalars(
            select(LineItem)
            .where(LineItem.context_id == context_id)
            .order_by(LineItem.label, LineItem.id)
        )
    )


def auto_map(
    items: Iterable[LineItem], structure: Structure, patterns: Mapping[str, str]
) -> dict[str, int]:
    """Slots filled from patterns per part ("test", "practical", "attestation", "sro", "exam"):
    `{n}` stands for the week (the period's number for SRO, 1 or 2), `*` for any text; a pattern
    matches a line item's tag or its title, ignoring case. The first match by title wins."""
    items = sorted(items, key=lambda i: (i.label, i.id))
    found: dict[str, int] = {}
    for slot in structure.slots:
        pattern = (patterns.get(slot.part) or "").strip()
        if not pattern:
            continue
        number = (
            slot.week if slot.week is not None else (int(slot.period[-1]) if slot.period else None)
        )
        wanted = pattern.replace("{n}", str(number) if number is not None else "").lower()
        for item in items:
            if any(
                fnmatch.fnmatchcase(text.strip().lower(), wanted)
                for text in (item.tag, item.label)
                if text
            ):
                found[slot.key] = item.id
                break
    return found


def save_settings(
    db: Session,
    context_id: int,
    *,
    actor_name: str,
    seen_version: int,
    settings: Settings,
    structures: Mapping[str, Structure],
) -> StatementCourse:
    """Store the settings and the column map; StaleStatement when someone saved meanwhile.
    The caller commits."""
    structure = structures.get(settings.structure_id)
    if structure is None:
        raise ToolError(_l("Choose one of the listed weekly structures."))
    own = set(db.scalars(select(LineItem.id).where(LineItem.context_id == context_id)))
    chosen = {k: v for k, v in settings.mapping.items() if v}
    if settings.final_line_item_id:
        chosen["final"] = settings.final_line_item_id
    if not set(chosen.values()) <= own:
        raise ToolError(_l("A chosen gradebook column is not in this course."))
    row = course_settings(db, context_id)
    if row is None:
        insert_ignore(
            db,
            StatementCourse,
            context_id=context_id,
            structure_id=settings.structure_id,
            group_name="",
            version=0,
            updated_at=utcnow(),
            updated_by="",
        )
        row = course_settings(db, context_id)
    assert row is not None
    if not claim(db, row, seen_version):
        raise StaleStatement()
    row.structure_id = settings.structure_id
    row.start_date = settings.start_date
    row.group_name = settings.group_name.strip()[:128]
    row.final_line_item_id = settings.final_line_item_id or None
    row.updated_at, row.updated_by = utcnow(), actor_name[:255]
    db.execute(delete(StatementMapping).where(StatementMapping.context_id == context_id))
    for slot in structure.slots:
        line_item_id = settings.mapping.get(slot.key)
        if line_item_id:
            db.add(
                StatementMapping(context_id=context_id, slot=slot.key, line_item_id=line_item_id)
            )
    return row


# -- the statement ------------------------------------------------------------------------


def build_statement(
    db: Session, context_id: int, structure: Structure, scale: GradeScale
) -> list[StatementRow]:
    """Every student of the course with RK-1, RK-2, admission rating, exam and final, from
    the results last pulled from the LMS. Four queries whatever the course's size."""
    mapped = db.execute(
        select(StatementMapping.slot, LineItem.id, LineItem.score_maximum)
        .join(LineItem, LineItem.id == StatementMapping.line_item_id)
        .where(StatementMapping.context_id == context_id)
    ).all()
    slots_of: dict[int, list[str]] = {}
    item_maximum: dict[int, float | None] = {}
    for slot, item_id, maximum in mapped:
        if structure.slot(slot) is not None:
            slots_of.setdefault(item_id, []).append(slot)
            item_maximum[item_id] = maximum
    students = course_learners(db, context_id)
    raws: dict[int, dict[str, Raw]] = {s.id: {} for s in students}
    ids = list(slots_of)
    for start in range(0, len(ids), CHUNK):
        for item_id, user_id, score, result_max in db.execute(
            select(
                Result.line_item_id, Result.user_id, Result.result_score, Result.result_maximum
            ).where(Result.line_item_id.in_(ids[start : start + CHUNK]))
        ):
            if user_id in raws:
                raw = Raw(score, result_max if result_max else item_maximum[item_id])
                for slot in slots_of[item_id]:
                    raws[user_id][slot] = raw
    return [StatementRow(s, student_statement(structure, scale, raws[s.id])) for s in students]


def post_finals(
    db: Session,
    context_id: int,
    course: StatementCourse,
    rows: list[StatementRow],
) -> tuple[int, int]:
    """Queue every final to the chosen line item through the outbox: (queued, withheld).
    Students without a final (6.7) get nothing posted. The caller commits."""
    if not course.final_line_item_id:
        raise NotSetUp(_l("Choose the gradebook column the final grade is posted to."))
    item = db.get(LineItem, course.final_line_item_id)
    if item is None or item.context_id != context_id:
        raise NotSetUp()
    queued = withheld = 0
    for row in rows:
        final = row.result.final
        if final is None:
            withheld += 1
            continue
        # On the column's own scale: a final of 84.5 on a column out of 100 is 84.5.
        given = float(final * Decimal(str(item.score_maximum)) / 100)
        enqueue_line_item_score(
            db,
            context_id=context_id,
            line_item_url=item.url,
            user=row.user,
            score_given=given,
            score_maximum=item.score_maximum,
            source=f"{SOURCE}:final",
        )
        queued += 1
    return queued, withheld


# -- weekly mentor scores (6.5.2) -----------------------------------------------------------


def week_end(start: date, week: int, zone: tzinfo) -> datetime:
    """When week `week` ends: midnight after its seventh day, institution time (as UTC)."""
    last_midnight = datetime.combine(start + timedelta(days=7 * week), time(0), tzinfo=zone)
    return last_midnight.astimezone(UTC)


def week_of(start: date, day: date) -> int:
    """The week of the course a day falls in (1 for the first seven days; 0 before)."""
    days = (day - start).days
    return days // 7 + 1 if days >= 0 else 0


def week_state(ends_at: datetime, reached_at: datetime | None, now: datetime) -> str:
    """running before the week ends; then on_time when every score was accepted by the LMS
    within 24 hours, late when not (or not yet, once 24 hours have passed), due meanwhile."""
    if now < ends_at:
        return "running"
    deadline = ends_at + DEADLINE
    if reached_at is not None:
        return "on_time" if reached_at <= deadline else "late"
    return "late" if now > deadline else "due"


def week_statuses(
    db: Session,
    context_id: int,
    course: StatementCourse,
    structure: Structure,
    zone: tzinfo,
    now: datetime | None = None,
) -> list[WeekStatus]:
    """Every week that has a mentor part, with whether its scores reached the LMS in time."""
    now = now or utcnow()
    weeks = {
        w.week: w
        for w in db.scalars(select(StatementWeek).where(StatementWeek.context_id == context_id))
    }
    entered: dict[int, int] = {}
    accepted: dict[int, int] = {}
    last_sent: dict[int, datetime] = {}
    for week_id, status, sent_at in db.execute(
        select(StatementWeekScore.week_id, ScoreOutbox.status, ScoreOutbox.sent_at)
        .join(StatementWeek, StatementWeek.id == StatementWeekScore.week_id)
        .outerjoin(ScoreOutbox, ScoreOutbox.id == StatementWeekScore.outbox_id)
        .where(StatementWeek.context_id == context_id, StatementWeekScore.score.is_not(None))
    ):
        entered[week_id] = entered.get(week_id, 0) + 1
        if status == "sent" and sent_at is not None:
            accepted[week_id] = accepted.get(week_id, 0) + 1
            if week_id not in last_sent or sent_at > last_sent[week_id]:
                last_sent[week_id] = sent_at
    result = []
    for number in structure.weeks:
        slot = structure.mentor_slot(number)
        if slot is None:
            continue
        week = weeks.get(number)
        week_id = week.id if week else -1
        scores, sent = entered.get(week_id, 0), accepted.get(week_id, 0)
        last = last_sent.get(week_id)
        reached = last if scores and sent == scores else None
        if course.start_date is None:
            ends = deadline = datetime.max.replace(tzinfo=now.tzinfo)
            state = "unknown"
        else:
            ends = week_end(course.start_date, number, zone)
            deadline = ends + DEADLINE
            state = week_state(ends, reached, now)
        result.append(
            WeekStatus(
                number,
                slot,
                ends,
                deadline,
                week.entered_at if week else None,
                scores,
                sent,
                reached,
                state,
            )
        )
    return result


def week_record(db: Session, context_id: int, week: int) -> StatementWeek | None:
    """The week's entry, if any."""
    return db.scalar(
        select(StatementWeek).where(
            StatementWeek.context_id == context_id, StatementWeek.week == week
        )
    )


def week_scores(db: Session, week: StatementWeek | None) -> dict[int, StatementWeekScore]:
    """The week's scores by student id."""
    if week is None:
        return {}
    return {
        s.user_id: s
        for s in db.scalars(select(StatementWeekScore).where(StatementWeekScore.week_id == week.id))
    }


def enter_week(
    db: Session,
    context_id: int,
    *,
    week: int,
    structure: Structure,
    actor_name: str,
    seen_version: int,
    mentor_name: str,
    scores: Mapping[int, tuple[Decimal | None, str]],
) -> int:
    """Store a week's mentor scores (form F UE 141-03-2022) and queue each to the week's line
    item through the outbox; returns how many were queued. The caller commits.

    StaleStatement when someone saved this week meanwhile; NotSetUp when the week's part has
    no gradebook column yet."""
    slot = structure.mentor_slot(week)
    if slot is None:
        raise ToolError(
            _l("This week has no practical work or attestation scored by the mentor."), status=404
        )
    line_item_id = mapping_of(db, context_id).get(slot.key)
    item = db.get(LineItem, line_item_id) if line_item_id else None
    if item is None or item.context_id != context_id:
        raise NotSetUp(
            _l(
                "Choose the gradebook column of this week's mentor scores in the "
                "statement's settings first."
            )
        )
    students = {s.id: s for s in course_learners(db, context_id)}
    if not set(scores) <= set(students):
        raise ToolError(_l("A score is for someone who is not a student of this course."))
    row = week_record(db, context_id, week)
    if row is None:
        insert_ignore(
            db,
            StatementWeek,
            context_id=context_id,
            week=week,
            version=0,
            mentor_name="",
            entered_by="",
        )
        row = week_record(db, context_id, week)
    assert row is not None
    if not claim(db, row, seen_version):
        raise StaleStatement()
    row.mentor_name = mentor_name.strip()[:255]
    row.entered_at, row.entered_by = utcnow(), actor_name[:255]
    existing = week_scores(db, row)
    queued = 0
    for user_id, (score, note) in scores.items():
        record = existing.get(user_id)
        if record is None:
            record = StatementWeekScore(week_id=row.id, user_id=user_id)
            db.add(record)
        new_score = None if score is None else float(score)
        changed = record.score != new_score or record.outbox_id is None
        record.score, record.note = new_score, note.strip()
        if score is not None and changed:
            # On the column's own scale: 4 of the week's 5 on a column out of 100 is 80.
            given = float(score * Decimal(str(item.score_maximum)) / slot.maximum)
            outbox = enqueue_line_item_score(
                db,
                context_id=context_id,
                line_item_url=item.url,
                user=students[user_id],
                score_given=given,
                score_maximum=item.score_maximum,
                source=f"{SOURCE}:week:{week}",
            )
            db.flush()
            record.outbox_id = outbox.id
            queued += 1
    return queued
