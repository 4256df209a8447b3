"""The demo course as it stands a few weeks into the term: what the LMS holds and what the tool
already knows of it (as after a roster pull and some weeks of work), made through the domains'
own services where a person would have acted (entries, submissions, decisions, uploads)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ..auth import Actor as PortfolioActor
from ..db import utcnow
from ..gradebook.models import CourseGrading, LineItem, Result
from ..lti.models import Context, Membership, ResourceLink, User
from ..lti.roles import ToolRole, tool_role
from ..portfolio import service as portfolio_service
from ..portfolio.access import own_portfolio
from ..portfolio.entries import EntryInput
from ..portfolio.rubric import Rubric
from ..settings import Settings
from ..teachhub.models import (
    Coordinator,
    Module,
    ModuleFacilitator,
    ModuleVersion,
    Participant,
    Person as StaffRecord,
    StatusChange,
    Stream,
)
from ..teachhub.placement import CARD_PARAM
from ..teachhub.status import STATUSES
from . import files
from .models import DemoLineItem, DemoLink
from .people import (
    COORDINATOR,
    COURSES,
    EVERYONE,
    FACILITATOR,
    PORTFOLIO_COURSE,
    STAFF,
    STUDENTS,
    TEACHHUB_COURSE,
    TUTOR,
    Course,
    Person,
)
from .platform import Urls

PORTFOLIO_LINE_ITEM = "Портфолио / Portfolio"
GROUP = "ПД-21"
# Last year's courses, their credits and each student's final percent (for GPA).
PAST_COURSES = [
    ("Анатомия", 5),
    ("Гистология", 4),
    ("Латын тілі / Латинский язык", 3),
    ("Философия", 3),
    ("Қазақ тілі / Казахский язык", 2),
]
DEPARTMENTS = ["Педагогика кафедрасы", "Кафедра клинической медицины", "Симуляциялық орталық"]


def portfolio_line_item(db: Session, course: Course) -> DemoLineItem:
    """The gradebook column the LMS made when the portfolio was placed (AGS `lineitem`)."""
    item = db.scalars(
        select(DemoLineItem).where(
            DemoLineItem.context_id == course.context_id,
            DemoLineItem.resource_link_id == course.link_id,
        )
    ).first()
    if item is None:
        item = DemoLineItem(
            context_id=course.context_id,
            label=PORTFOLIO_LINE_ITEM,
            score_maximum=100.0,
            resource_link_id=course.link_id,
            resource_id="",
            tag="portfolio",
        )
        db.add(item)
        db.flush()
    return item


def _user(db: Session, platform_id: int, person: Person) -> User:
    user = User(
        platform_id=platform_id,
        sub=person.sub,
        name=person.name,
        given_name=person.given_name,
        family_name=person.family_name,
        email=person.email,
        locale="kk",
    )
    db.add(user)
    return user


def seed(
    db: Session, *, platform_id: int, settings: Settings, rubric: Rubric, urls: Urls, today: date
) -> dict[str, User]:
    """Everyone and everything of the demo course; flushed, committed by the caller."""
    users = {person.sub: _user(db, platform_id, person) for person in EVERYONE}
    contexts: dict[str, Context] = {}
    for course in COURSES.values():
        context = Context(
            platform_id=platform_id,
            context_id=course.context_id,
            label=course.label,
            title=course.title,
            lineitems_url=urls.lineitems(course.context_id),
            memberships_url=urls.memberships(course.context_id),
            ags_scopes=[],
        )
        db.add(context)
        contexts[course.context_id] = context
    db.flush()
    links: dict[str, ResourceLink] = {}
    for course in COURSES.values():
        context = contexts[course.context_id]
        item = portfolio_line_item(db, course) if course.placement == "portfolio" else None
        link = ResourceLink(
            context_id=context.id,
            resource_link_id=course.link_id,
            title=course.link_title,
            placement=course.placement,
            custom={},
            lineitem_url=(urls.lineitem(course.context_id, item.id) if item is not None else None),
        )
        db.add(link)
        links[course.context_id] = link
        for person in EVERYONE:
            roles = person.roles.get(course.context_id)
            if roles:
                db.add(
                    Membership(
                        user_id=users[person.sub].id,
                        context_id=context.id,
                        roles=list(roles),
                        role=tool_role(roles).value,
                        status="Active",
                        source="roster",
                    )
                )
    db.flush()
    _portfolios(
        db,
        users,
        contexts[PORTFOLIO_COURSE],
        settings=settings,
        rubric=rubric,
        platform_id=platform_id,
    )
    _grades(db, users, platform_id=platform_id, today=today)
    _teachhub(db, users, links[TEACHHUB_COURSE], platform_id=platform_id, today=today)
    db.flush()
    return users


# -- portfolios ---------------------------------------------------------------------------------

# (list, item, level, result, count, title, evidence kind or None, stage)
ENTRIES = [
    (
        "olympiads",
        "olympiad",
        "republic",
        "second",
        1,
        "Республикалық биология олимпиадасы",
        "png",
        "verified",
    ),
    (
        "conferences",
        "conference",
        "university",
        "talk",
        1,
        "«Жас ғалым» студенттік конференциясы",
        "pdf",
        "submitted",
    ),
    ("electives", "elective", None, None, 2, "Медициналық статистика негіздері", None, "draft"),
    (
        "olympiads",
        "olympiad",
        "university",
        "participation",
        1,
        "Университетская олимпиада по анатомии",
        "png",
        "returned",
    ),
    (
        "conferences",
        "conference",
        "republic",
        "publication",
        1,
        "Тезисы: «Стресс у студентов-медиков»",
        "pdf",
        "verified",
    ),
]
# Which entries each student has, by index into ENTRIES; [] never opened the tool.
PLAN = [[0, 1, 2], [4, 3, 1], [0, 1], [2], [], [0, 4], [1], [], [0, 1, 2], [3], [4], [2]]


def _upload(
    db: Session,
    actor: PortfolioActor,
    entry,
    owner: User,
    *,
    kind: str,
    title: str,
    settings: Settings,
) -> None:
    data, name, mime = (
        (files.png(), "certificate.png", "image/png")
        if kind == "png"
        else (files.pdf(f"Certificate: {owner.sub}"), "certificate.pdf", "application/pdf")
    )
    upload = FileStorage(stream=io.BytesIO(data), filename=name, content_type=mime)
    portfolio_service.attach_upload(db, actor, entry, settings=settings, file=upload, owner=owner)


def _portfolios(
    db: Session,
    users: dict[str, User],
    context: Context,
    *,
    settings: Settings,
    rubric: Rubric,
    platform_id: int,
) -> None:
    tutor = PortfolioActor(
        user_id=users[TUTOR.sub].id,
        platform_id=platform_id,
        name=TUTOR.name,
        context_id=context.id,
        role=ToolRole.INSTRUCTOR,
    )
    for index, (person, plan) in enumerate(zip(STUDENTS, PLAN, strict=True)):
        if not plan:
            continue  # enrolled, never opened the tool: the tutor's list still shows them
        owner = users[person.sub]
        actor = PortfolioActor(
            user_id=owner.id, platform_id=platform_id, name=person.name, role=ToolRole.LEARNER
        )
        portfolio = own_portfolio(db, owner)
        portfolio.group_name, portfolio.course_year = GROUP, 2
        portfolio.admission_year, portfolio.birth_year = 2025, 2006 + index % 2
        portfolio.faculty = "Педагогика және психология факультеті"
        portfolio.specialty = "6B01101 Педагогика және психология"
        for number in plan:
            list_key, item_key, level, result, count, title, kind, stage = ENTRIES[number]
            data = EntryInput(
                list_key=list_key,
                item_key=item_key,
                course_year=1 + number % 2,
                level=level,
                result=result,
                count=count,
                fields={"title": title},
            )
            entry = portfolio_service.create_entry(
                db, actor, portfolio, rubric, data, submit=stage != "draft"
            )
            if kind:
                _upload(db, actor, entry, owner, kind=kind, title=title, settings=settings)
            db.flush()
            if stage in ("verified", "returned"):
                comment = (
                    ""
                    if stage == "verified"
                    else "Сертификаттың көшірмесін қосыңыз / Приложите копию сертификата."
                )
                portfolio_service.decide(
                    db,
                    tutor,
                    [(entry.id, entry.version)],
                    "verify" if stage == "verified" else "return",
                    comment,
                    settings=settings,
                )
                db.flush()


# -- grades for GPA (last year's courses, as pulled from the LMS gradebook) ---------------------


def _grades(db: Session, users: dict[str, User], *, platform_id: int, today: date) -> None:
    start = today.year - 1 if today.month >= 9 else today.year - 2
    year = f"{start}-{start + 1}"
    for number, (title, credits) in enumerate(PAST_COURSES, start=1):
        context = Context(
            platform_id=platform_id,
            context_id=f"demo-past-{number}",
            label=f"{GROUP}-{number}",
            title=title,
            ags_scopes=[],
        )
        db.add(context)
        db.flush()
        item = LineItem(
            context_id=context.id,
            url=f"demo:past-{number}/final",
            label="Қорытынды баға / Итоговая оценка",
            score_maximum=100.0,
        )
        db.add(item)
        db.flush()
        db.add(
            CourseGrading(
                context_id=context.id,
                final_line_item_id=item.id,
                credits=float(credits),
                academic_year=year,
            )
        )
        for index, person in enumerate(STUDENTS):
            user = users[person.sub]
            db.add(
                Membership(
                    user_id=user.id,
                    context_id=context.id,
                    roles=list(person.roles[PORTFOLIO_COURSE]),
                    role="learner",
                    status="Active",
                    source="roster",
                )
            )
            percent = 58 + (index * 11 + number * 7) % 41  # 58..98: every letter band
            db.add(
                Result(
                    line_item_id=item.id,
                    user_id=user.id,
                    result_score=float(percent),
                    result_maximum=100.0,
                )
            )


# -- TeachHub -----------------------------------------------------------------------------------

PASSPORT = {
    "title": "Клиникалық оқытудағы бағалау / Оценивание в клиническом обучении",
    "curator_department": "Педагогика кафедрасы",
    "target_audience": "Оқытушылар мен клиникалық тәлімгерлер / Преподаватели и наставники",
    "goal": "Клиникалық дағдыларды бағалаудың сенімді құралдарын құрастыру",
    "competences": ["pedagogy", "assessment_simulation_mentoring"],
    "structure": "Кіріспе\nБағалау құралдары\nOSCE практикумы\nӨзара рецензиялау\nРефлексия",
    "delivery_formats": ["online_session", "practicum", "peer_review"],
    "mandatory_tasks": "Мини-жоба (аудит)\nКері байланыс құралы\nРефлексия",
    "completion_criteria": "Барлық сессияларға қатысу; жоба тапсырмасы; талдамалық жазба",
    "assessment": "Сапалық есеп, талқылау, өзара бағалау",
    "workload_hours": Decimal(36),
    "duration_days": 28,
    "integration": ["participant_card", "work_plan", "lms"],
    "module_format": "integrative",
}


def _teachhub(
    db: Session, users: dict[str, User], link: ResourceLink, *, platform_id: int, today: date
) -> None:
    coordinator, facilitator = users[COORDINATOR.sub], users[FACILITATOR.sub]
    db.add(Coordinator(platform_id=platform_id, user_id=coordinator.id, added_by_id=coordinator.id))
    module = Module(
        platform_id=platform_id, published_number=1, created_by_id=coordinator.id, **PASSPORT
    )
    db.add(module)
    db.flush()
    db.add(ModuleFacilitator(module_id=module.id, user_id=facilitator.id))
    version = ModuleVersion(
        module_id=module.id,
        number=1,
        published_by_id=coordinator.id,
        facilitator_names=[FACILITATOR.name],
        **PASSPORT,
    )
    stream = Stream(
        module_id=module.id,
        name="2026 күз / осень 2026",
        starts_on=today - timedelta(days=14),
        ends_on=today + timedelta(days=14),
    )
    db.add_all([version, stream])
    db.flush()
    # The module card placed in the staff-development course (as deep linking would place it).
    link.custom = {CARD_PARAM: str(module.id)}
    db.add(
        DemoLink(
            context_id=TEACHHUB_COURSE,
            link_id=link.resource_link_id,
            title=version.title,
            custom={CARD_PARAM: str(module.id)},
        )
    )
    # One card in every status (the last status twice), as weeks of work would leave them.
    statuses = [*STATUSES, STATUSES[1]]
    for index, (person, status) in enumerate(zip(STAFF, statuses, strict=True)):
        user = users[person.sub]
        db.add(
            StaffRecord(
                user_id=user.id,
                department=DEPARTMENTS[index % len(DEPARTMENTS)],
                source="coordinator",
            )
        )
        step = STATUSES.index(status)
        card = Participant(
            module_id=module.id,
            stream_id=stream.id,
            version_id=version.id,
            user_id=user.id,
            resource_link_id=link.id,
            enrolled_via="roster",
            status=status,
        )
        if step >= 2:  # completed and beyond: hours, a mark, the record
            card.contact_hours, card.self_study_hours = Decimal(24), Decimal(12)
            card.mark, card.marked_by_id, card.marked_at = (
                Decimal(85 + index),
                facilitator.id,
                utcnow(),
            )
            card.completed_on = today - timedelta(days=3)
        if step >= 3:
            card.verified_by_id, card.verified_at = coordinator.id, utcnow()
            card.submitted_on = today - timedelta(days=2)
            card.record_date, card.record_number = today - timedelta(days=2), f"ИПР-{index}"
        if step >= 4:
            card.commission_date, card.commission_number = today - timedelta(days=1), "К-12"
        db.add(card)
        db.flush()
        # The card's history, as the moves would have logged it (who, in which role, when).
        db.add(
            StatusChange(
                participant_id=card.id,
                from_status=None,
                to_status=STATUSES[0],
                actor_id=coordinator.id,
                actor_role="coordinator",
                at=utcnow() - timedelta(days=14),
                note_key="roster",
            )
        )
        for number in range(1, step + 1):
            mover = facilitator if number <= 2 else coordinator
            db.add(
                StatusChange(
                    participant_id=card.id,
                    from_status=STATUSES[number - 1],
                    to_status=STATUSES[number],
                    actor_id=mover.id,
                    actor_role="facilitator" if number <= 2 else "coordinator",
                    at=utcnow() - timedelta(days=14 - 3 * number),
                )
            )
