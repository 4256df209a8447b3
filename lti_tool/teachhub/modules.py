"""Module cards: drafts, publishing into versions, facilitators and streams (no Flask)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from ..auth import Actor
from ..db import utcnow
from ..lists import Page, matches, page_of
from ..lti.models import Membership, User
from ..lti.roles import ToolRole
from ..parsing import NumberError, parse_int
from ..versioning import claim
from .access import NotFound, managed_module, module_for, require_coordinator
from .config import TeachHubConfig
from .errors import Changed, InputError, Refused, ordered, parse_date
from .hours import HoursError, parse_hours
from .models import (
    Coordinator,
    Module,
    ModuleFacilitator,
    ModuleVersion,
    Participant,
    PassportColumns,
    Stream,
)
from .passport import PassportData, missing_fields, missing_labels

TEXT_LIMIT = 10_000
PASSPORT_COLUMNS = tuple(name for name in PassportColumns.__annotations__)


@dataclass(frozen=True)
class PassportInput:
    """The passport form as submitted (strings and lists of keys)."""

    title: str = ""
    curator_department: str = ""
    target_audience: str = ""
    goal: str = ""
    competences: list[str] = field(default_factory=list)
    structure: str = ""
    delivery_formats: list[str] = field(default_factory=list)
    mandatory_tasks: str = ""
    completion_criteria: str = ""
    assessment: str = ""
    workload_hours: str = ""
    duration_days: str = ""
    integration: list[str] = field(default_factory=list)
    module_format: str = ""
    facilitator_ids: list[int] | None = None  # None: leave facilitators as they are


@dataclass(frozen=True)
class ModuleRow:
    """A module in a list: its card and counts."""

    module: Module
    streams: int
    participants: int


def facilitator_names(db: Session, module_ids: list[int]) -> dict[int, list[str]]:
    """Facilitators' names per module, in one query."""
    names: dict[int, list[str]] = {i: [] for i in module_ids}
    if not module_ids:
        return names
    rows = db.execute(select(ModuleFacilitator.module_id, User)
                      .join(User, User.id == ModuleFacilitator.user_id)
                      .where(ModuleFacilitator.module_id.in_(module_ids))
                      .order_by(User.family_name, User.given_name, User.name, User.id))
    for module_id, user in rows:
        names[module_id].append(user.display_name)
    return names


def passport_of(card: Module | ModuleVersion, names: list[str]) -> PassportData:
    """The passport of a working copy or a version as plain data."""
    return PassportData(
        title=card.title, curator_department=card.curator_department,
        facilitator_names=tuple(names), target_audience=card.target_audience, goal=card.goal,
        competences=tuple(card.competences or ()), structure=card.structure,
        delivery_formats=tuple(card.delivery_formats or ()),
        mandatory_tasks=card.mandatory_tasks, completion_criteria=card.completion_criteria,
        assessment=card.assessment, workload_hours=card.workload_hours or Decimal(0),
        duration_days=card.duration_days, integration=tuple(card.integration or ()),
        module_format=card.module_format)


def working_passport(db: Session, module: Module) -> PassportData:
    """The working copy's passport with its current facilitators."""
    return passport_of(module, facilitator_names(db, [module.id])[module.id])


def eligible_query(platform_id: int):
    """A select of the people who may be named facilitators or coordinators, by name: staff of
    any course on the platform, and people already named coordinators."""
    staff = select(Membership.user_id).where(
        Membership.role.in_((ToolRole.INSTRUCTOR.value, ToolRole.ADMIN.value)))
    named = select(Coordinator.user_id).where(Coordinator.platform_id == platform_id)
    return (select(User).where(User.platform_id == platform_id,
                               User.id.in_(staff.union(named)))
            .order_by(User.family_name, User.given_name, User.name, User.id))


def eligible_among(db: Session, platform_id: int, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` may be named facilitators (one query, however long the staff list)."""
    if not user_ids:
        return set()
    return set(db.scalars(eligible_query(platform_id).with_only_columns(User.id)
                          .where(User.id.in_(set(user_ids)))))


def listed_facilitators(db: Session, actor: Actor, module_id: int | None,
                        user_ids: list[int]) -> list[User]:
    """The people a card form lists with a tick box, by name: the module's facilitators (who
    stay listed, to be unticked, even if no longer staff) and the eligible of `user_ids`."""
    allowed = eligible_among(db, actor.platform_id, user_ids)
    if module_id is not None:
        allowed |= set(current_facilitator_ids(db, module_id))
    if not allowed:
        return []
    return list(db.scalars(select(User).where(User.id.in_(allowed),
                                              User.platform_id == actor.platform_id)
                           .order_by(User.family_name, User.given_name, User.name, User.id)))


def facilitator_candidates(db: Session, actor: Actor, module_id: int, *, search: str = "",
                           page: int = 1) -> Page[User]:
    """The facilitator picker: staff of the platform who could be named on the module card and
    are not yet, searched by name or email, one page (coordinators only)."""
    require_coordinator(actor)
    module_for(db, actor, module_id)
    named = select(ModuleFacilitator.user_id).where(ModuleFacilitator.module_id == module_id)
    query = eligible_query(actor.platform_id).where(User.id.not_in(named))
    condition = matches(search, (User.name, User.given_name, User.family_name, User.email))
    if condition is not None:
        query = query.where(condition)
    return page_of(db, query, page, search=search)


def add_facilitator(db: Session, actor: Actor, module_id: int, user_id: int,
                    seen: int) -> Module:
    """Name one more facilitator on a module card (the picker's choice; coordinators only).

    Only staff of the actor's own platform can be named (InputError otherwise); the card's
    revision moves, so a form opened before the choice cannot silently drop it (Changed).
    """
    require_coordinator(actor)
    module = module_for(db, actor, module_id)
    if user_id not in eligible_among(db, actor.platform_id, [user_id]):
        raise InputError({"user_id": _l(
            "Only staff of this platform's courses and TeachHub coordinators can be "
            "facilitators: choose a person from the list.")})
    if seen != module.revision or not claim(db, module, seen, "revision"):
        raise Changed()
    if db.get(ModuleFacilitator, (module.id, user_id)) is None:
        db.add(ModuleFacilitator(module_id=module.id, user_id=user_id))
        if module.published_number:
            module.has_unpublished_changes = True
    db.commit()
    return module


def _clean(data: PassportInput, config: TeachHubConfig, eligible: set[int]) -> dict:
    errors: dict[str, object] = {}
    values: dict = {}
    for name, limit in (("title", 255), ("curator_department", 255)):
        values[name] = getattr(data, name).strip()
        if len(values[name]) > limit:
            errors[name] = _l("At most %(n)d characters.", n=limit)
    for name in ("target_audience", "goal", "structure", "mandatory_tasks",
                 "completion_criteria", "assessment"):
        values[name] = getattr(data, name).strip().replace("\r\n", "\n")
        if len(values[name]) > TEXT_LIMIT:
            errors[name] = _l("At most %(n)d characters.", n=TEXT_LIMIT)
    for name, list_name in (("competences", "competence_areas"),
                            ("delivery_formats", "delivery_formats"),
                            ("integration", "integration_targets")):
        known = config.keys(list_name)
        chosen = list(dict.fromkeys(getattr(data, name)))
        if any(key not in known for key in chosen):
            errors[name] = _l("Choose from the list.")
        values[name] = [key for key in known if key in chosen]  # the list's order
    values["module_format"] = data.module_format.strip()
    if values["module_format"] and values["module_format"] not in config.keys("module_formats"):
        errors["module_format"] = _l("Choose from the list.")
    try:
        values["workload_hours"] = parse_hours(data.workload_hours, config.max_hours)
    except HoursError as err:
        errors["workload_hours"] = err.message
    days = data.duration_days.strip()
    values["duration_days"] = None
    if days:
        try:
            values["duration_days"] = parse_int(days, maximum=config.max_duration_days)
        except NumberError:
            errors["duration_days"] = _l("A whole number of days from 1 to %(n)d.",
                                         n=config.max_duration_days)
    if data.facilitator_ids is not None and not set(data.facilitator_ids) <= eligible:
        errors["facilitator_ids"] = _l("Choose facilitators from the list.")
    if errors:
        raise InputError(errors)
    return values


def save_passport(db: Session, actor: Actor, module_id: int | None, data: PassportInput,
                  config: TeachHubConfig, seen: int | None = None) -> Module:
    """Create a draft (coordinators) or change a working copy (coordinators, facilitators).

    A change names the revision its author saw (`seen`); Changed when it moved meanwhile.
    """
    if module_id is None:
        require_coordinator(actor)
        module = Module(platform_id=actor.platform_id, created_by_id=actor.user_id)
        db.add(module)
    else:
        module = managed_module(db, actor, module_id)
    facilitator_ids = data.facilitator_ids if actor.is_coordinator else None
    eligible = eligible_among(db, actor.platform_id, facilitator_ids or []) | (
        set(current_facilitator_ids(db, module.id)) if module.id else set())
    values = _clean(replace(data, facilitator_ids=facilitator_ids), config, eligible)
    before = working_passport(db, module) if module.id else None
    if module_id is not None and (seen != module.revision
                                  or not claim(db, module, seen, "revision")):
        raise Changed()
    for name, value in values.items():
        setattr(module, name, value)
    db.flush()
    if facilitator_ids is not None:
        db.execute(delete(ModuleFacilitator).where(ModuleFacilitator.module_id == module.id))
        db.add_all(ModuleFacilitator(module_id=module.id, user_id=uid)
                   for uid in sorted(set(facilitator_ids)))
        db.flush()
    if module.published_number and working_passport(db, module) != before:
        module.has_unpublished_changes = True
    db.commit()
    return module


def current_facilitator_ids(db: Session, module_id: int) -> list[int]:
    """The user ids of a module's facilitators."""
    return list(db.scalars(select(ModuleFacilitator.user_id)
                           .where(ModuleFacilitator.module_id == module_id)))


def publish(db: Session, actor: Actor, module_id: int, seen: int) -> ModuleVersion:
    """Freeze the working copy as the next version; refused with what is missing.

    `seen` is the revision the coordinator read: nobody publishes a passport they did not see.
    """
    module = module_for(db, actor, module_id)
    require_coordinator(actor)
    if seen != module.revision:
        raise Changed()
    if module.archived_at is not None:
        raise Refused(_l("The module is archived. Bring it back from the archive before "
                         "publishing it."), code="archived")
    passport = working_passport(db, module)
    missing = missing_fields(passport)
    if missing:
        raise Refused(_l("The card cannot be published until every mandatory field is filled. "
                         "Missing: %(fields)s.", fields=", ".join(missing_labels(passport))),
                      code="incomplete", detail=",".join(missing))
    if module.published_number and not module.has_unpublished_changes:
        raise Refused(_l("Nothing changed since version %(n)d.", n=module.published_number),
                      code="unchanged")
    if not claim(db, module, seen, "revision"):  # two publishes at once: one version
        raise Changed()
    number = (module.published_number or 0) + 1
    version = ModuleVersion(module_id=module.id, number=number,
                            facilitator_names=list(passport.facilitator_names),
                            published_by_id=actor.user_id, published_at=utcnow())
    for name in PASSPORT_COLUMNS:
        setattr(version, name, getattr(module, name))
    db.add(version)
    module.published_number = number
    module.has_unpublished_changes = False
    db.commit()
    return version


def set_archived(db: Session, actor: Actor, module_id: int, archived: bool) -> Module:
    """Archive a module card, or bring it back (coordinators). An archived card takes no new
    participants and is not offered for placement; the people on it keep their cards."""
    module = module_for(db, actor, module_id)
    require_coordinator(actor)
    if archived == (module.archived_at is not None):
        raise Refused(_l("The module is already archived.") if archived
                      else _l("The module is not archived."), code="unchanged")
    module.archived_at = utcnow() if archived else None
    db.commit()
    return module


def current_version(db: Session, module: Module) -> ModuleVersion | None:
    """The latest published version of a module, None for a draft."""
    if not module.published_number:
        return None
    return db.scalars(select(ModuleVersion).where(
        ModuleVersion.module_id == module.id,
        ModuleVersion.number == module.published_number)).one()


def version_for(db: Session, actor: Actor, module_id: int,
                number: int) -> tuple[Module, ModuleVersion]:
    """A published version: published passports are open to everyone on the platform."""
    module = module_for(db, actor, module_id)
    version = db.scalars(select(ModuleVersion).where(
        ModuleVersion.module_id == module.id, ModuleVersion.number == number)).first()
    if version is None:
        raise NotFound()
    return module, version


def versions(db: Session, module_id: int) -> list[ModuleVersion]:
    """A module's published versions, newest first."""
    return list(db.scalars(select(ModuleVersion).where(ModuleVersion.module_id == module_id)
                           .order_by(ModuleVersion.number.desc())))


def list_modules(db: Session, actor: Actor) -> list[ModuleRow]:
    """Modules the actor manages (coordinator: all of the platform), with counts, 3 queries."""
    query = select(Module).where(Module.platform_id == actor.platform_id)
    if not actor.is_coordinator:
        if not actor.facilitates:
            return []
        query = query.where(Module.id.in_(actor.facilitates))
    # Archived modules last: the list is for the modules that run now.
    modules = list(db.scalars(query.order_by(Module.archived_at.is_not(None), Module.title,
                                             Module.id)))
    ids = [m.id for m in modules]
    streams = dict(db.execute(select(Stream.module_id, func.count()).where(
        Stream.module_id.in_(ids)).group_by(Stream.module_id)).all()) if ids else {}
    people = dict(db.execute(select(Participant.module_id, func.count()).where(
        Participant.module_id.in_(ids)).group_by(Participant.module_id)).all()) if ids else {}
    return [ModuleRow(m, streams.get(m.id, 0), people.get(m.id, 0)) for m in modules]


def published_modules(db: Session, platform_id: int) -> list[tuple[Module, ModuleVersion]]:
    """Every published module of a platform with its latest version, archived ones left out
    (what deep linking offers), 1 query."""
    rows = db.execute(
        select(Module, ModuleVersion)
        .join(ModuleVersion, and_(ModuleVersion.module_id == Module.id,
                                  ModuleVersion.number == Module.published_number))
        .where(Module.platform_id == platform_id, Module.archived_at.is_(None))
        .order_by(ModuleVersion.title, Module.id))
    return [(module, version) for module, version in rows]


# -- streams ------------------------------------------------------------------------------------


def streams_of(db: Session, module_id: int) -> list[Stream]:
    """A module's streams, earliest first."""
    return list(db.scalars(select(Stream).where(Stream.module_id == module_id)
                           .order_by(Stream.starts_on, Stream.id)))


def save_stream(db: Session, actor: Actor, module_id: int, stream_id: int | None, *,
                name: str, starts_on: str, ends_on: str) -> Stream:
    """Add or change a stream: a name and ordered dates."""
    module = managed_module(db, actor, module_id)
    errors: dict[str, object] = {}
    name = (name or "").strip()
    if not name or len(name) > 255:
        errors["name"] = _l("Give the stream a name (at most 255 characters).")
    start = end = None
    try:
        start = parse_date(starts_on, "starts_on", required=True)
    except InputError as err:
        errors.update(err.errors)
    try:
        end = parse_date(ends_on, "ends_on", required=True)
    except InputError as err:
        errors.update(err.errors)
    if errors or start is None or end is None:  # both dates are set when nothing failed
        raise InputError(errors)
    ordered(start, end, "ends_on")
    stream: Stream | None
    if stream_id is None:
        stream = Stream(module_id=module.id)
        db.add(stream)
    else:
        stream = db.get(Stream, stream_id)
        if stream is None or stream.module_id != module.id:
            raise NotFound()
    stream.name, stream.starts_on, stream.ends_on = name, start, end
    db.commit()
    return stream


def delete_stream(db: Session, actor: Actor, module_id: int, stream_id: int) -> None:
    """Delete a stream made by mistake; one with participants is refused (their cards and
    recognition hang on it: change its dates instead)."""
    module = managed_module(db, actor, module_id)
    stream = db.get(Stream, stream_id)
    if stream is None or stream.module_id != module.id:
        raise NotFound()
    people = db.scalar(select(func.count()).select_from(Participant)
                       .where(Participant.stream_id == stream.id))
    if people:
        raise Refused(_l("People in this stream: %(n)d. It cannot be deleted; change its name "
                         "or dates instead.", n=people), code="stream_in_use")
    db.delete(stream)
    db.commit()


def stream_for(db: Session, actor: Actor, stream_id: int) -> tuple[Stream, Module]:
    """A stream of a module the actor manages."""
    stream = db.get(Stream, stream_id)
    if stream is None:
        raise NotFound()
    return stream, managed_module(db, actor, stream.module_id)


def stream_for_registration(streams: list[Stream], today: date) -> Stream | None:
    """The stream a first launch registers into: the open one that started last, else the
    next to start; None when every stream has ended (or there is none)."""
    open_now = [s for s in streams if s.starts_on <= today <= s.ends_on]
    if open_now:
        return max(open_now, key=lambda s: (s.starts_on, s.id))
    upcoming = [s for s in streams if s.starts_on > today]
    return min(upcoming, key=lambda s: (s.starts_on, s.id)) if upcoming else None
