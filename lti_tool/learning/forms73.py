"""The standard forms of the staff non-formal education rules, 7.3 that the tool fills from its data
(no Flask): the participant's internal report form (item 4), the mentor's review form (item 5) and
the participant list of an event (item 3). Each is a `Document` a page and a PDF render alike; what
the tool cannot know (the application of results, the mentor's judgement, signatures) stays blank
for the people who sign it."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..lti.models import User
from ..settings import Settings
from ..teachhub.errors import Refused
from ..teachhub.models import Person
from ..teachhub.reports import _department
from . import rules
from .access import Actor, activity_for
from .models import Activity

REPORT, REVIEW, PARTICIPANTS = "report", "review", "participants"
KINDS = (REPORT, REVIEW, PARTICIPANTS)
# 7.3 item 4: self-education, online courses without a certificate, internships.
REPORT_FORMS = (rules.SELF_EDUCATION, rules.ONLINE, rules.INTERNSHIP)


@dataclass(frozen=True)
class Document:
    """A standard form: its title, filled fields, blank fields, a table, signature lines."""

    title: object
    basis: object
    fields: list[tuple[object, str]]
    blanks: list[object] = field(default_factory=list)
    columns: list[object] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    signatures: list[object] = field(default_factory=list)


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.name or " ".join(p for p in (user.given_name, user.family_name) if p) or user.sub


def document(db: Session, actor: Actor, activity_id: int, kind: str, label, day) -> Document:
    """One standard form for an activity (`label` names keys, `day` writes dates)."""
    activity, department = activity_for(db, actor, activity_id)
    person = _name(db.get(User, activity.user_id))
    dates = f"{day(activity.starts_on)} – {day(activity.ends_on)}"
    common = [
        (_l("Participant"), person),
        (_l("Department"), department),
        (
            _l("Form"),
            label("forms", activity.form)
            + (f": {label('formats', activity.format)}" if activity.format else ""),
        ),
        (_l("Title"), activity.title),
        (_l("Organiser or platform"), activity.organiser),
        (_l("Dates"), dates),
    ]
    if kind == REPORT:
        if activity.form not in REPORT_FORMS:
            raise Refused(
                _l(
                    "The internal report form is for self-education, online courses "
                    "and internships (the staff non-formal education rules, 7.3 item 4)."
                ),
                code="no_such_form",
            )
        return Document(
            _l("Participant's internal report"),
            _l("The staff non-formal education rules, 7.3 item 4"),
            [
                *common,
                (_l("Competence area"), label("competence_areas", activity.competence_area)),
                (_l("Workload claimed"), str(activity.hours_claimed)),
                (_l("Content: topics, goals, results"), activity.content),
            ],
            blanks=[
                _l("Goals and tasks"),
                _l("Results obtained"),
                _l("How the results are applied in work and teaching"),
            ],
            signatures=[_l("Participant"), _l("Head of department or clinical base")],
        )
    if kind == REVIEW:
        if activity.form != rules.INTERNSHIP:
            raise Refused(
                _l(
                    "The mentor's review form is for internships and job shadowing "
                    "(the staff non-formal education rules, 7.3 item 5)."
                ),
                code="no_such_form",
            )
        return Document(
            _l("Mentor's review"),
            _l("The staff non-formal education rules, 7.3 item 5"),
            [*common, (_l("Mentor"), activity.mentor)],
            blanks=[
                _l("Tasks the intern completed"),
                _l("Competences shown"),
                _l("Remarks and recommendations"),
            ],
            signatures=[_l("Mentor"), _l("Head of department or clinical base")],
        )
    if kind == PARTICIPANTS:
        if not actor.sees_list:
            raise Forbidden(
                _l(
                    "Only HR, the commission's secretary, methodological experts "
                    "and heads of departments open the consolidated list."
                )
            )
        query = (
            select(User, _department(), Activity.status)
            .join(Activity, Activity.user_id == User.id)
            .outerjoin(Person, Person.user_id == User.id)
            .where(
                Activity.platform_id == actor.platform_id,
                Activity.form == activity.form,
                Activity.title == activity.title,
                Activity.starts_on == activity.starts_on,
                Activity.ends_on == activity.ends_on,
            )
            .order_by(User.family_name, User.given_name, User.id)
        )
        if not actor.sees_all:
            query = query.where(_department().in_(sorted(actor.heads)))
        rows = [
            [str(n), _name(user), dep or "", label("statuses", status), ""]
            for n, (user, dep, status) in enumerate(db.execute(query).all(), 1)
        ]
        return Document(
            _l("Participant list"),
            _l("The staff non-formal education rules, 7.3 item 3"),
            [
                (_l("Title"), activity.title),
                (_l("Organiser or platform"), activity.organiser),
                (_l("Dates"), dates),
            ],
            columns=["№", _l("Participant"), _l("Department"), _l("Status"), _l("Signature")],
            rows=rows,
            signatures=[_l("Organiser")],
        )
    raise Refused(_l("Unknown form."), code="no_such_form")


def document_pdf(doc: Document, *, settings: Settings) -> bytes:
    """The form as an A4 PDF (reportlab platypus), with the same content as the page."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from ..exports import printable
    from ..portfolio.pdf import _fonts

    regular, bold = _fonts(settings)
    text = ParagraphStyle("t", fontName=regular, fontSize=10, leading=13)
    head = ParagraphStyle("h", fontName=bold, fontSize=15, leading=19, spaceAfter=4)

    def p(value: object, style=text) -> Paragraph:
        escaped = printable(str(value)).replace("&", "&amp;").replace("<", "&lt;")
        return Paragraph(escaped.replace("\n", "<br/>"), style)

    story = [p(doc.title, head), p(doc.basis), Spacer(1, 6 * mm)]
    story.append(
        Table(
            [[p(k), p(v)] for k, v in doc.fields],
            colWidths=[55 * mm, 115 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        )
    )
    for blank in doc.blanks:
        story += [Spacer(1, 5 * mm), p(blank), Spacer(1, 22 * mm)]
    if doc.columns:
        story += [
            Spacer(1, 5 * mm),
            Table(
                [[p(c) for c in doc.columns], *[[p(c) for c in row] for row in doc.rows]],
                colWidths=[10 * mm, 55 * mm, 45 * mm, 30 * mm, 30 * mm],
                repeatRows=1,
                style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#888888")]),
            ),
        ]
    for signature in doc.signatures:
        story += [
            Spacer(1, 10 * mm),
            p(f"{signature}: ______________________    ____ . ____ . 20____"),
        ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=str(doc.title)).build(story)
    return out.getvalue()
