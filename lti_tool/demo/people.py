"""Who is in the demo LMS: the courses, the people a visitor can launch as, and the rest.

Data, not rules: the seed and the platform both read it. The names are Kazakh and Russian,
as in a Kazakh university's course.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..lti.constants import RoleUri

PORTFOLIO_COURSE = "demo-pedagogy-2"
TEACHHUB_COURSE = "demo-staff-development"


@dataclass(frozen=True)
class Course:
    """A course of the demo LMS and the one activity (resource link) the tool has in it."""

    context_id: str
    label: str
    title: str
    link_id: str
    link_title: str
    placement: str


COURSES = {
    PORTFOLIO_COURSE: Course(
        PORTFOLIO_COURSE,
        "ПД-21",
        "Педагогика және психология, 2 курс",
        "demo-portfolio",
        "Портфолио",
        "portfolio",
    ),
    TEACHHUB_COURSE: Course(
        TEACHHUB_COURSE,
        "TeachHub",
        "Біліктілікті арттыру / TeachHub",
        "demo-teachhub",
        "TeachHub",
        "teachhub",
    ),
}


@dataclass(frozen=True)
class Person:
    """A person of the demo LMS: their LTI `sub`, names and roles in each course."""

    sub: str
    given_name: str
    family_name: str
    roles: dict[str, tuple[str, ...]]  # context id -> LTI role URIs
    institution_roles: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The full name, as the LMS sends it."""
        return f"{self.given_name} {self.family_name}"

    @property
    def email(self) -> str:
        """A made-up address on a reserved domain."""
        return f"{self.sub}@demo.example.edu"


LEARNER = (RoleUri.LEARNER.value,)
INSTRUCTOR = (RoleUri.INSTRUCTOR.value,)
STUDENT = (RoleUri.INSTITUTION_STUDENT.value,)
FACULTY = (RoleUri.INSTITUTION_FACULTY.value,)
ADMIN = (RoleUri.INSTITUTION_ADMINISTRATOR.value,)

_STUDENT_NAMES = [
    ("Айгерім", "Сейітқали"),
    ("Дмитрий", "Волков"),
    ("Ерлан", "Жақсыбеков"),
    ("Анастасия", "Ким"),
    ("Нұрсұлтан", "Әбілов"),
    ("Мадина", "Төлеуова"),
    ("Сергей", "Петров"),
    ("Дана", "Оспанова"),
    ("Екатерина", "Смирнова"),
    ("Бауыржан", "Қасымов"),
    ("Алина", "Иванова"),
    ("Әсел", "Нұрланқызы"),
]
STUDENTS = [
    Person(f"demo-student-{i:02d}", given, family, {PORTFOLIO_COURSE: LEARNER}, STUDENT)
    for i, (given, family) in enumerate(_STUDENT_NAMES, start=1)
]

TUTOR = Person(
    "demo-tutor",
    "Гүлнар",
    "Ахметова",
    {PORTFOLIO_COURSE: INSTRUCTOR, TEACHHUB_COURSE: LEARNER},
    FACULTY,
)
FACILITATOR = Person(
    "demo-facilitator", "Тимур", "Байжанов", {TEACHHUB_COURSE: INSTRUCTOR}, FACULTY
)
COORDINATOR = Person(
    "demo-coordinator", "Ольга", "Ковалёва", {TEACHHUB_COURSE: INSTRUCTOR}, FACULTY
)
ADMINISTRATOR = Person(
    "demo-admin",
    "Қанат",
    "Мұқанов",
    {PORTFOLIO_COURSE: INSTRUCTOR, TEACHHUB_COURSE: INSTRUCTOR},
    ADMIN,
)
# Teachers taking the TeachHub module: one card in every status.
_STAFF_NAMES = [
    ("Жанар", "Исаева"),
    ("Марат", "Сұлтанов"),
    ("Ирина", "Лебедева"),
    ("Ардақ", "Бекова"),
    ("Виктор", "Морозов"),
    ("Сәуле", "Жұмабаева"),
]
STAFF = [
    Person(f"demo-staff-{i}", given, family, {TEACHHUB_COURSE: LEARNER}, FACULTY)
    for i, (given, family) in enumerate(_STAFF_NAMES, start=1)
]

EVERYONE = [*STUDENTS, TUTOR, FACILITATOR, COORDINATOR, ADMINISTRATOR, *STAFF]
BY_SUB = {person.sub: person for person in EVERYONE}


@dataclass(frozen=True)
class Seat:
    """A choice of the role picker: who, in which course, and what they do there."""

    key: str
    label: object  # a lazy string
    person: Person
    course: str
    hint: object


SEATS = [
    Seat(
        "student",
        _l("Student"),
        STUDENTS[0],
        PORTFOLIO_COURSE,
        _l("Keeps a portfolio: adds an entry with evidence and submits it."),
    ),
    Seat(
        "student2",
        _l("Second student"),
        STUDENTS[1],
        PORTFOLIO_COURSE,
        _l("Another student of the same group: sees only their own portfolio."),
    ),
    Seat(
        "tutor",
        _l("Tutor"),
        TUTOR,
        PORTFOLIO_COURSE,
        _l("Verifies the group's portfolio entries and writes the summaries."),
    ),
    Seat(
        "facilitator",
        _l("TeachHub facilitator"),
        FACILITATOR,
        TEACHHUB_COURSE,
        _l("Runs a staff-development module: moves participant cards."),
    ),
    Seat(
        "coordinator",
        _l("Coordinator"),
        COORDINATOR,
        TEACHHUB_COURSE,
        _l("Oversees every TeachHub module and submits cards for recognition."),
    ),
    Seat(
        "admin",
        _l("Administrator"),
        ADMINISTRATOR,
        PORTFOLIO_COURSE,
        _l("Sees every portfolio and every module of the institution."),
    ),
]
SEAT_BY_KEY = {seat.key: seat for seat in SEATS}


def roles_in(person: Person, context_id: str) -> list[str]:
    """The roles claim of `person` launching from `context_id` (context, then institution)."""
    return [*person.roles.get(context_id, ()), *person.institution_roles]


def members_of(context_id: str) -> list[Person]:
    """Everyone enrolled in a course of the demo LMS."""
    return [person for person in EVERYONE if context_id in person.roles]
