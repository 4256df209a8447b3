"""Portfolio rules: Section I versions, entries, the verification state machine, totals, marks,
and posting the verified total to the LMS gradebook. No Flask: explicit arguments only.

State machine (issue 3):
    draft --submit--> submitted --verify--> verified
    returned --submit--> submitted          submitted|verified --return/reject--> returned|rejected
    submitted --withdraw--> draft           verified --(owner edits)--> submitted
    rejected --(owner edits)--> draft
Every change of status is a Decision row (who, when, comment).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from ..db import insert_ignore, rowcount, utcnow
from ..errors import ToolError
from ..evidence.models import EvidenceFile
from ..evidence.storage import delete_evidence, store_upload
from ..gradebook.outbox import enqueue_score
from ..lti.models import Membership, ResourceLink, User
from ..lti.roles import ToolRole
from ..settings import Settings
from ..versioning import claim
from . import credentials as entry_credentials
from .access import (
    ACTIVE,
    Actor,
    NotFound,
    may_review as access_may_review,
    require_owner,
    review_courses,
)
from .entries import EntryInput
from .models import (
    CLAIMED_STATUSES,
    DRAFT,
    REJECTED,
    RETURNED,
    SUBMITTED,
    VERIFIED,
    CourseScore,
    Decision,
    Entry,
    EntryEvidence,
    Portfolio,
    PortraitVersion,
    TutorMark,
    Update,
)
from .rubric import Rubric

PLACEMENT = "portfolio"
MAX_EVIDENCE_PER_ENTRY = 20

PROFILE_FIELDS = ("full_name", "birth_year", "admission_year", "faculty", "course_year",
                  "group_name", "specialty")
PAGE_FIELDS = {"profile": (*PROFILE_FIELDS, "photo_id"), "essay": ("essay",),
               "goals": ("goals", "analysis")}

# Which decisions staff may take from which status.
STAFF_ACTIONS = {
    "verify": ({SUBMITTED}, VERIFIED),
    "return": ({SUBMITTED, VERIFIED}, RETURNED),
    "reject": ({SUBMITTED, VERIFIED}, REJECTED),
}


class StaleEdit(ToolError):
    """Somebody saved a newer version meanwhile; the form shows both texts."""

    status = 409
    code = "stale_edit"
    message = _l("This was changed in another tab or by someone else after you opened it. "
                 "Your text is kept below: compare it with the newer version and save again.")


class NotAllowed(ToolError):
    """The action does not fit the entry's status."""

    status = 409
    code = "not_allowed"
    message = _l("This cannot be done in the entry's current status.")


# ---- Section I -------------------------------------------------------------------------------


def save_page(db: Session, actor: Actor, portfolio: Portfolio, page: str,
              values: Mapping[str, object], base_version: int,
              today: date | None = None) -> PortraitVersion | None:
    """Save a Section I page as a new version (None when nothing changed); caller commits.

    StaleEdit when `base_version` is not the page's latest version. `today` (the
    institution's date) dates a changed course year: it is that academic year's.
    """
    require_owner(actor, portfolio)
    if base_version != portfolio.page_version(page):
        raise StaleEdit()
    names = PAGE_FIELDS[page]
    before = {name: getattr(portfolio, name) for name in names}
    after = dict(before)
    after.update({k: v for k, v in values.items() if k in names})
    if after == before:
        return None
    # Two tabs saving the same page: the second finds the version moved (no duplicate number).
    if not claim(db, portfolio, base_version, f"{page}_version"):
        raise StaleEdit()
    for name, value in after.items():
        setattr(portfolio, name, value)
    if page == "profile" and after.get("course_year") != before.get("course_year"):
        portfolio.course_year_on = today if after.get("course_year") else None
    number = base_version + 1
    portfolio.updated_at = utcnow()
    version = PortraitVersion(portfolio_id=portfolio.id, page=page, number=number, data=after,
                              author_id=actor.user_id)
    db.add(version)
    _log(db, portfolio, f"{page}_saved", {"version": number})
    return version


def set_photo(db: Session, actor: Actor, portfolio: Portfolio, *, settings: Settings, file,
              owner: User, base_version: int) -> EvidenceFile:
    """Store a new photo (images only) as a new profile version; caller commits."""
    require_owner(actor, portfolio)
    if base_version != portfolio.profile_version:
        raise StaleEdit()
    evidence = store_upload(db, settings=settings, file=file, owner=owner, allowed={"image"})
    db.flush()
    save_page(db, actor, portfolio, "profile", {"photo_id": evidence.id}, base_version)
    return evidence


@dataclass(frozen=True)
class Change:
    """One field's change between two versions of a page."""

    field: str
    before: str
    after: str
    diff: tuple[tuple[str, str], ...] = ()  # (op, words): op is "=", "+" or "-"


@dataclass(frozen=True)
class VersionView:
    """A version with what changed since the previous one."""

    version: PortraitVersion
    changes: tuple[Change, ...]


def _word_diff(before: str, after: str) -> tuple[tuple[str, str], ...]:
    a, b = before.split(), after.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(b[j1:j2])))
    return tuple(out)


def page_history(db: Session, portfolio: Portfolio, page: str) -> list[VersionView]:
    """Every version of a page, newest first, each with its changes from the one before."""
    versions = list(db.scalars(
        select(PortraitVersion).where(PortraitVersion.portfolio_id == portfolio.id,
                                      PortraitVersion.page == page)
        .order_by(PortraitVersion.number)))
    views: list[VersionView] = []
    previous: dict = {}  # the version before's data (PortraitVersion.data)
    for version in versions:
        changes = []
        for name in PAGE_FIELDS[page]:
            old, new = previous.get(name), version.data.get(name)
            if (old or "") == (new or ""):
                continue
            old_s, new_s = "" if old is None else str(old), "" if new is None else str(new)
            long_text = name in ("essay", "goals", "analysis")
            diff = _word_diff(old_s, new_s) if long_text else ()
            changes.append(Change(name, old_s, new_s, diff))
        views.append(VersionView(version, tuple(changes)))
        previous = version.data
    return list(reversed(views))


# ---- entries ---------------------------------------------------------------------------------


def _log(db: Session, portfolio: Portfolio, what: str, detail: dict | None = None) -> None:
    db.add(Update(portfolio_id=portfolio.id, what=what, detail=detail or {}))


def _decide(db: Session, entry: Entry, actor: Actor, action: str, to_status: str,
            comment: str = "", points: int | None = None) -> Decision:
    if entry.status == VERIFIED and to_status != VERIFIED:
        # The tutor's verification no longer holds: a credential issued from it is revoked now.
        entry_credentials.revoke_for_entry(db, entry.id, entry_credentials.UNVERIFIED)
    decision = Decision(entry_id=entry.id, action=action, from_status=entry.status,
                        to_status=to_status, comment=comment, points=points,
                        version=entry.version, actor_id=actor.user_id, actor_name=actor.name)
    entry.decisions.append(decision)
    entry.status = to_status
    return decision


def owned_entry(db: Session, actor: Actor, entry_id: int) -> Entry:
    """An entry of the actor's own portfolio (NotFound for anyone else's)."""
    entry = db.get(Entry, entry_id)
    if entry is None or entry.portfolio.user_id != actor.user_id \
            or entry.portfolio.platform_id != actor.platform_id:
        raise NotFound()
    return entry


def create_entry(db: Session, actor: Actor, portfolio: Portfolio, rubric: Rubric,
                 data: EntryInput, *, submit: bool = False) -> Entry:
    """Add an entry (a draft, or submitted at once); caller commits."""
    require_owner(actor, portfolio)
    entry_list = rubric.lists[data.list_key]
    entry = Entry(portfolio_id=portfolio.id, section=entry_list.section, status=DRAFT,
                  version=1, decisions=[], attachments=[])
    _apply(entry, rubric, data)
    db.add(entry)
    db.flush()
    _log(db, portfolio, "entry_created", {"entry": entry.id})
    if submit:
        entry.submitted_at = utcnow()
        _decide(db, entry, actor, "submit", SUBMITTED)
    portfolio.updated_at = utcnow()
    return entry


def _apply(entry: Entry, rubric: Rubric, data: EntryInput) -> None:
    entry.list_key, entry.item_key = data.list_key, data.item_key
    entry.course_year, entry.level, entry.result = data.course_year, data.level, data.result
    entry.count = data.count
    entry.year_note = data.year_note
    entry.title = data.title[:500]
    entry.fields = {k: v for k, v in data.fields.items() if k != "title"}
    entry.claimed_points = rubric.points(data.list_key, data.item_key, data.level, data.result,
                                         data.count)


def _content(entry: Entry) -> tuple:
    return (entry.list_key, entry.item_key, entry.course_year, entry.level, entry.result,
            entry.count, entry.title, dict(entry.fields or {}), entry.year_note)


def update_entry(db: Session, actor: Actor, entry: Entry, rubric: Rubric, data: EntryInput, *,
                 base_version: int, submit: bool = False,
                 settings: Settings | None = None) -> Entry:
    """Save the owner's edit; a verified entry goes back to submitted; caller commits.

    StaleEdit when the entry changed since `base_version` (another tab, a tutor's decision).
    """
    portfolio = entry.portfolio
    require_owner(actor, portfolio)
    if base_version != entry.version:
        raise StaleEdit()
    before_total = verified_total(db, portfolio.id)
    old = _content(entry)
    _apply(entry, rubric, data)
    changed = _content(entry) != old
    if not changed and not (submit and entry.status in (DRAFT, RETURNED)):
        return entry
    # The version check and the bump in one statement: a tutor's decision on the version the
    # student saw and this edit cannot both pass.
    if not claim(db, entry, base_version):
        raise StaleEdit()
    if changed:
        entry.updated_at = utcnow()
        portfolio.updated_at = utcnow()
        _log(db, portfolio, "entry_edited", {"entry": entry.id})
        if entry.status == VERIFIED:
            # The tutor verified other content: the claim must be checked again.
            entry.verified_points = None
            entry.submitted_at = utcnow()
            _decide(db, entry, actor, "edited", SUBMITTED)
        elif entry.status == REJECTED:
            _decide(db, entry, actor, "edited", DRAFT)
    if submit and entry.status in (DRAFT, RETURNED):
        entry.submitted_at = utcnow()
        _decide(db, entry, actor, "submit", SUBMITTED)
    db.flush()
    _after_verified_change(db, portfolio, before_total, settings)
    return entry


def submit_entry(db: Session, actor: Actor, entry: Entry, base_version: int) -> Entry:
    """The owner submits a draft or returned entry for verification; caller commits."""
    require_owner(actor, entry.portfolio)
    if base_version != entry.version:
        raise StaleEdit()
    if entry.status not in (DRAFT, RETURNED):
        raise NotAllowed()
    if not claim(db, entry, base_version):
        raise StaleEdit()
    entry.submitted_at = utcnow()
    _decide(db, entry, actor, "submit", SUBMITTED)
    return entry


def withdraw_entry(db: Session, actor: Actor, entry: Entry, base_version: int) -> Entry:
    """The owner takes a submitted entry back to draft before the tutor decides."""
    require_owner(actor, entry.portfolio)
    if base_version != entry.version:
        raise StaleEdit()
    if entry.status != SUBMITTED:
        raise NotAllowed()
    if not claim(db, entry, base_version):  # the tutor decided meanwhile
        raise StaleEdit()
    _decide(db, entry, actor, "withdraw", DRAFT)
    return entry


def delete_entry(db: Session, actor: Actor, entry: Entry, *, settings: Settings) -> None:
    """Delete an entry with its files (kept nowhere else); leave a trace in the updates log."""
    portfolio = entry.portfolio
    require_owner(actor, portfolio)
    before_total = verified_total(db, portfolio.id)
    files = [a.evidence for a in entry.attachments]
    _log(db, portfolio, "entry_deleted", {"entry": entry.id, "title": entry.title,
                                          "status": entry.status,
                                          "points": entry.claimed_points})
    entry_credentials.revoke_for_entry(db, entry.id, entry_credentials.DELETED)
    db.delete(entry)
    db.flush()
    db.expire(portfolio, ["entries"])
    for evidence in files:
        if _unused(db, evidence):
            delete_evidence(db, evidence, settings=settings)
    portfolio.updated_at = utcnow()
    db.flush()
    _after_verified_change(db, portfolio, before_total, settings)


def _unused(db: Session, evidence: EvidenceFile) -> bool:
    linked = db.scalar(select(func.count()).select_from(EntryEvidence)
                       .where(EntryEvidence.evidence_id == evidence.id))
    photo = db.scalar(select(func.count()).select_from(Portfolio)
                      .where(Portfolio.photo_id == evidence.id))
    return not linked and not photo


def attach_upload(db: Session, actor: Actor, entry: Entry, *, settings: Settings, file,
                  owner: User) -> EvidenceFile:
    """Store a file and attach it to the owner's entry; caller commits."""
    require_owner(actor, entry.portfolio)
    if len(entry.attachments) >= MAX_EVIDENCE_PER_ENTRY:
        raise NotAllowed(_l("An entry can have at most %(n)s files.", n=MAX_EVIDENCE_PER_ENTRY))
    evidence = store_upload(db, settings=settings, file=file, owner=owner)
    db.flush()
    entry.attachments.append(EntryEvidence(entry_id=entry.id, evidence_id=evidence.id,
                                           evidence=evidence))
    _log(db, entry.portfolio, "evidence_added", {"entry": entry.id, "evidence": evidence.id})
    entry.portfolio.updated_at = utcnow()
    return evidence


def detach_evidence(db: Session, actor: Actor, entry: Entry, evidence_id: int, *,
                    settings: Settings) -> None:
    """Remove a file from the owner's entry (and from storage when nothing else uses it)."""
    require_owner(actor, entry.portfolio)
    link = next((a for a in entry.attachments if a.evidence_id == evidence_id), None)
    if link is None:
        raise NotFound()
    evidence = link.evidence
    entry.attachments.remove(link)
    db.flush()
    if _unused(db, evidence):
        delete_evidence(db, evidence, settings=settings)
    _log(db, entry.portfolio, "evidence_removed", {"entry": entry.id})


# ---- staff decisions -------------------------------------------------------------------------


@dataclass
class DecisionReport:
    """What a (bulk) decision did: entries changed, and those skipped with the reason."""

    done: list[Entry] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def decide(db: Session, actor: Actor, targets: Sequence[tuple[int, int]], action: str,
           comment: str = "", *, settings: Settings | None = None,
           may_review=access_may_review) -> DecisionReport:
    """Verify, return or reject entries given as (id, version seen); caller commits.

    Each entry is checked on its own: not visible or not reviewable -> skipped "not_found";
    changed since the tutor saw it -> "stale"; wrong status -> "status". Returning needs a
    comment (the student must know what to fix).
    """
    if action not in STAFF_ACTIONS:
        raise ValueError(action)
    allowed_from, to_status = STAFF_ACTIONS[action]
    comment = comment.strip()
    if action == "return" and not comment:
        raise ToolError(_l("Write a comment: the student needs to know what to change."),
                        code="comment_required")
    report = DecisionReport()
    ids = [entry_id for entry_id, _ in targets]
    entries = {e.id: e for e in db.scalars(
        select(Entry).where(Entry.id.in_(ids)).options(
            selectinload(Entry.portfolio), selectinload(Entry.decisions)))}
    reviewable: dict[int, bool] = {}
    touched: dict[int, tuple[Portfolio, int, set[int] | None]] = {}
    # In id order: two bulk decisions on overlapping entries take their rows in the same order
    # (PostgreSQL would otherwise find a deadlock and fail one of them).
    for entry_id, seen_version in sorted(targets):
        entry = entries.get(entry_id)
        if entry is None or entry.status == DRAFT:
            report.skipped.append((entry_id, "not_found"))
            continue
        portfolio = entry.portfolio
        if portfolio.id not in reviewable:
            reviewable[portfolio.id] = bool(may_review(db, actor, portfolio))
        if not reviewable[portfolio.id]:
            report.skipped.append((entry_id, "not_found"))
            continue
        if seen_version != entry.version:
            report.skipped.append((entry_id, "stale"))
            continue
        if entry.status not in allowed_from:
            report.skipped.append((entry_id, "status"))
            continue
        # One conditional UPDATE decides who wins: of two tutors on the same version, or a
        # tutor and the student editing, exactly one passes; the other is told "stale".
        if not claim(db, entry, seen_version):
            report.skipped.append((entry_id, "stale"))
            continue
        if portfolio.id not in touched:
            touched[portfolio.id] = (portfolio, verified_total(db, portfolio.id),
                                     review_courses(db, actor, portfolio))
        points = entry.claimed_points if to_status == VERIFIED else None
        _decide(db, entry, actor, action, to_status, comment, points)
        entry.verified_points = points
        entry.decided_at = utcnow()
        report.done.append(entry)
    db.flush()
    for portfolio, before, courses in touched.values():
        _after_verified_change(db, portfolio, before, settings, courses=courses)
    return report


@dataclass
class Conflict:
    """A decision refused because the entry moved: what the tutor saw, and what happened since."""

    entry_id: int
    seen_version: int
    entry: Entry | None  # None: the student deleted it, or took it back to draft (withdrawn)
    since: list[Decision] = field(default_factory=list)  # decisions after the version seen
    content_changed: bool = False  # an edit without a decision (the student changed content)
    withdrawn: bool = False  # back to draft: the student's own again, not shown to staff


def conflicts(db: Session, targets: Sequence[tuple[int, int]]) -> list[Conflict]:
    """For refused (id, version seen) pairs: the entries as they are now, and what changed."""
    db.expire_all()  # read what is committed now, not what this session loaded before
    out = []
    for entry_id, seen in targets:
        entry = db.get(Entry, entry_id)
        if entry is None or entry.status == DRAFT:
            out.append(Conflict(entry_id, seen, None, withdrawn=entry is not None))
            continue
        since = [d for d in entry.decisions if d.version is not None and d.version > seen]
        decided = {d.version for d in since}
        edited = any(v not in decided for v in range(seen + 1, entry.version + 1))
        out.append(Conflict(entry_id, seen, entry, since, edited))
    return out


def add_comment(db: Session, actor: Actor, entry: Entry, text: str) -> Decision:
    """A tutor's comment on an entry without changing its status; caller commits."""
    text = text.strip()
    if not text:
        raise ToolError(_l("Write a comment first."), code="comment_required")
    if entry.status == DRAFT:
        raise NotFound()
    return _decide(db, entry, actor, "comment", entry.status, text[:4000])


def set_tutor_mark(db: Session, actor: Actor, portfolio: Portfolio, rubric: Rubric,
                   mark_key: str, course_year: int, points: int | None, *,
                   settings: Settings | None = None) -> TutorMark | None:
    """Set (or clear with None) the tutor's mark for a course year; caller commits."""
    spec = rubric.tutor_marks.get(mark_key)
    if spec is None or not 1 <= course_year <= rubric.course_years:
        raise NotFound()
    if points is not None and not spec.min <= points <= spec.max:
        raise ToolError(_l("The mark must be from %(low)s to %(high)s.", low=spec.min,
                           high=spec.max), code="mark_out_of_range")
    before = verified_total(db, portfolio.id)
    # A mark is a value, not a step of a state machine: the latest tutor's word stands. Written
    # with statements keyed on (portfolio, mark, year), not an object loaded earlier, so two
    # tutors setting and clearing it at the same moment cannot fail each other (issue 10).
    key = (TutorMark.portfolio_id == portfolio.id, TutorMark.mark_key == mark_key,
           TutorMark.course_year == course_year)
    if points is None:
        db.execute(delete(TutorMark).where(*key))
    else:
        values = {"points": points, "tutor_id": actor.user_id, "tutor_name": actor.name,
                  "updated_at": utcnow()}
        for _attempt in range(2):  # a clear committed between the two statements: once more
            insert_ignore(db, TutorMark, portfolio_id=portfolio.id, mark_key=mark_key,
                          course_year=course_year, **values)
            if rowcount(db.execute(update(TutorMark).where(*key).values(**values))):
                break
    mark = db.scalar(select(TutorMark).where(*key)
                     .execution_options(populate_existing=True))  # as written just now
    db.flush()
    _after_verified_change(db, portfolio, before, settings,
                           courses=review_courses(db, actor, portfolio))
    return mark


# ---- totals ----------------------------------------------------------------------------------


@dataclass
class Totals:
    """Claimed and verified points by (section, course year), tutor marks by course year."""

    claimed: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    verified: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    drafts: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    marks: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    waiting: int = 0

    def claimed_for(self, section: str | None = None, year: int | None = None) -> int:
        """Claimed points of a section and/or year (tutor marks count in a year's total)."""
        total = sum(v for (s, y), v in self.claimed.items()
                    if (section is None or s == section) and (year is None or y == year))
        return total + (self._marks(year) if section is None else 0)

    def verified_for(self, section: str | None = None, year: int | None = None) -> int:
        """Verified points of a section and/or year (tutor marks included in year totals)."""
        total = sum(v for (s, y), v in self.verified.items()
                    if (section is None or s == section) and (year is None or y == year))
        return total + (self._marks(year) if section is None else 0)

    def _marks(self, year: int | None) -> int:
        return sum(v for y, v in self.marks.items() if year is None or y == year)

    @property
    def claimed_total(self) -> int:
        """Everything claimed, all years."""
        return self.claimed_for()

    @property
    def verified_total(self) -> int:
        """Everything verified, all years."""
        return self.verified_for()


def totals_for(db: Session, portfolio_ids: Iterable[int]) -> dict[int, Totals]:
    """Totals of many portfolios in two queries."""
    ids = list(portfolio_ids)
    result: dict[int, Totals] = {pid: Totals() for pid in ids}
    if not ids:
        return result
    rows = db.execute(
        select(Entry.portfolio_id, Entry.section, Entry.course_year, Entry.status,
               func.sum(Entry.claimed_points), func.sum(Entry.verified_points), func.count())
        .where(Entry.portfolio_id.in_(ids))
        .group_by(Entry.portfolio_id, Entry.section, Entry.course_year, Entry.status))
    for pid, section, year, status, claimed, verified, count in rows:
        totals = result[pid]
        if status in CLAIMED_STATUSES:
            totals.claimed[(section, year)] += claimed or 0
        if status == VERIFIED:
            totals.verified[(section, year)] += verified or 0
        if status == DRAFT:
            totals.drafts[(section, year)] += claimed or 0
        if status == SUBMITTED:
            totals.waiting += count
    for pid, year, points in db.execute(
            select(TutorMark.portfolio_id, TutorMark.course_year, func.sum(TutorMark.points))
            .where(TutorMark.portfolio_id.in_(ids))
            .group_by(TutorMark.portfolio_id, TutorMark.course_year)):
        result[pid].marks[year] += points or 0
    return result


def totals_from_entries(entries: Iterable[Entry], marks: Iterable[TutorMark]) -> Totals:
    """Totals of one portfolio from entries already loaded (no query)."""
    totals = Totals()
    for entry in entries:
        key = (entry.section, entry.course_year)
        if entry.status in CLAIMED_STATUSES:
            totals.claimed[key] += entry.claimed_points
        if entry.status == VERIFIED:
            totals.verified[key] += entry.verified_points or 0
        if entry.status == DRAFT:
            totals.drafts[key] += entry.claimed_points
        if entry.status == SUBMITTED:
            totals.waiting += 1
    for mark in marks:
        totals.marks[mark.course_year] += mark.points
    return totals


def verified_total(db: Session, portfolio_id: int) -> int:
    """The verified points of a portfolio, all years, tutor marks included."""
    return totals_for(db, [portfolio_id])[portfolio_id].verified_total


# ---- the LMS gradebook -----------------------------------------------------------------------


def grade_settings(settings: Settings) -> dict:
    """[portfolio.grade]: enabled, mode (points | normalised), points_maximum, score_maximum."""
    return settings.portfolio.grade.model_dump()


SCORE_MODES = ("points", "normalised")


def course_grade(db: Session, context_id: int | None, settings: Settings) -> dict:
    """[portfolio.grade] for one course: the configuration, with the mode and maximum its
    staff chose on the course page (pf_course_scores), if they did."""
    grade = grade_settings(settings)
    chosen = db.get(CourseScore, context_id) if context_id is not None else None
    if chosen is not None:
        grade.update(mode=chosen.mode, points_maximum=chosen.points_maximum)
    return grade


@dataclass(frozen=True)
class ScoreExplained:
    """How a verified total reaches the gradebook, for the student's page."""

    mode: str
    points: int
    given: float
    maximum: float
    points_maximum: int
    percent: float


def explain_score(total: int, grade: Mapping) -> ScoreExplained:
    """The numbers behind "155 points = 15.5 % in the gradebook" under a course's grade."""
    given, maximum = score_for(total, grade)
    return ScoreExplained(mode=grade["mode"], points=total, given=given, maximum=maximum,
                          points_maximum=int(grade["points_maximum"]),
                          percent=round(given / maximum * 100, 1) if maximum else 0.0)


def save_course_grade(db: Session, *, context_id: int, actor_id: int, mode: str,
                      points_maximum: int, settings: Settings) -> int:
    """Store a course's choice and queue every learner's current total under it (their
    gradebook column changes at once, not at their next verified entry); caller commits.
    Returns how many scores were queued."""
    if mode not in SCORE_MODES or points_maximum < 1:
        raise ToolError(_l("Choose how the points reach the gradebook, and a maximum of at "
                           "least 1 point."))
    row = db.get(CourseScore, context_id)
    if row is None:
        row = CourseScore(context_id=context_id)
        db.add(row)
    row.mode, row.points_maximum = mode, points_maximum
    row.changed_by_id, row.changed_at = actor_id, utcnow()
    db.flush()
    grade = course_grade(db, context_id, settings)
    if not grade["enabled"]:
        return 0
    portfolios = list(db.scalars(
        select(Portfolio).join(Membership, Membership.user_id == Portfolio.user_id)
        .where(Membership.context_id == context_id, Membership.role == ToolRole.LEARNER.value,
               Membership.status == ACTIVE)))
    totals = totals_for(db, [p.id for p in portfolios])
    queued = 0
    for portfolio in portfolios:
        total = totals[portfolio.id].verified_total
        given, maximum = score_for(total, grade)
        for link in portfolio_placements(db, portfolio.user_id, {context_id}):
            enqueue_score(db, resource_link=link, user=portfolio.user, score_given=given,
                          score_maximum=maximum, activity_progress="Submitted",
                          grading_progress="FullyGraded", source=PLACEMENT, comment=f"{total}")
            queued += 1
    return queued


def score_for(total: int, grade: Mapping) -> tuple[float, float]:
    """(scoreGiven, scoreMaximum) for a verified total under the configured mode."""
    maximum = float(grade["points_maximum"])
    if grade["mode"] == "normalised":
        # Capped at the maximum: a grade above 100 % would read as an error in most gradebooks.
        top = float(grade["score_maximum"])
        return round(min(total, maximum) / maximum * top, 2), top
    return float(total), maximum


def portfolio_placements(db: Session, user_id: int,
                         courses: set[int] | None = None) -> list[ResourceLink]:
    """Graded portfolio placements in the courses where the user is an Active learner (only
    those of `courses` when given)."""
    query = (select(ResourceLink)
             .join(Membership, Membership.context_id == ResourceLink.context_id)
             .where(Membership.user_id == user_id, Membership.role == ToolRole.LEARNER.value,
                    Membership.status == ACTIVE, ResourceLink.placement == PLACEMENT,
                    ResourceLink.lineitem_url.is_not(None)))
    if courses is not None:
        query = query.where(ResourceLink.context_id.in_(courses or [-1]))
    return list(db.scalars(query.order_by(ResourceLink.id)))


def _after_verified_change(db: Session, portfolio: Portfolio, before: int,
                           settings: Settings | None, *, courses: set[int] | None = None) -> None:
    """Queue the new verified total for the graded placements when it changed.

    A tutor's decision changes only the gradebooks of the courses where they teach the student
    (`courses`): no grade of one course is changed from another (issue 9). The owner's own
    changes and an administrator's (`courses` None) go to every graded placement.
    """
    if settings is None:
        return
    grade = grade_settings(settings)
    if not grade["enabled"]:
        return
    after = verified_total(db, portfolio.id)
    if after == before:
        return
    user = portfolio.user
    for link in portfolio_placements(db, user.id, courses):
        # Each course's own normalisation (course_grade): its staff may have chosen one.
        given, maximum = score_for(after, course_grade(db, link.context_id, settings))
        enqueue_score(db, resource_link=link, user=user, score_given=given, score_maximum=maximum,
                      activity_progress="Submitted", grading_progress="FullyGraded",
                      source=PLACEMENT, comment=f"{after}")


def score_now(db: Session, row, settings: Settings) -> dict | None:
    """The score of an outbox row, from the verified total committed now (the worker asks),
    under the normalisation the row's course chose (as when it was queued)."""
    portfolio_id = db.scalar(select(Portfolio.id).where(Portfolio.user_id == row.user_id))
    if portfolio_id is None:
        return None
    total = verified_total(db, portfolio_id)
    given, maximum = score_for(total, course_grade(db, row.context_id, settings))
    return {"score_given": given, "score_maximum": maximum, "comment": f"{total}"}


def last_activity(db: Session, portfolio_ids: Iterable[int]) -> dict[int, datetime]:
    """When each portfolio was last changed by its owner."""
    ids = list(portfolio_ids)
    if not ids:
        return {}
    return dict(db.execute(select(Update.portfolio_id, func.max(Update.at))
                           .where(Update.portfolio_id.in_(ids)).group_by(Update.portfolio_id)).all())
