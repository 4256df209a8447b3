"""Forms with fixed fields (Section I pages, the summary, showcase links); messages translated.

Entry forms follow the rubric's columns and are checked in entries.py.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..forms import HtmlForm
from ..parsing import StrictIntegerField, parse_int
from .summary import ACADEMIC_LEVELS, ACHIEVEMENT_LEVELS

LONG = 20_000


def _length(n: int):
    return Length(max=n, message=_l("At most %(n)s characters.", n=n))


def _year_range(low: int, high: int):
    return NumberRange(min=low, max=high,
                       message=_l("Enter a year from %(low)s to %(high)s.", low=low, high=high))


class VersionedForm(HtmlForm):
    """A form that carries the version it was based on (two tabs must not overwrite)."""

    version = HiddenField(validators=[InputRequired()])

    def base_version(self) -> int:
        """The version the form was opened at (-1 when it was tampered with)."""
        try:
            return parse_int(self.version.data, minimum=0)
        except ValueError:
            return -1


class ProfileForm(VersionedForm):
    """Section I, page 1: the owner's details."""

    full_name = StringField(_l("Full name"), validators=[
        DataRequired(message=_l("Enter your full name.")), _length(255)])
    birth_year = StrictIntegerField(_l("Year of birth"),
                                    validators=[Optional(), _year_range(1940, 2015)])
    admission_year = StrictIntegerField(_l("Year of admission"),
                                  validators=[Optional(), _year_range(1990, 2100)])
    faculty = StringField(_l("Faculty"), validators=[Optional(), _length(255)])
    course_year = StrictIntegerField(_l("Course year"), validators=[Optional(), NumberRange(
        min=1, max=8, message=_l("Enter a course year from 1 to 8."))])
    group_name = StringField(_l("Group"), validators=[Optional(), _length(64)])
    specialty = StringField(_l("Specialty"), validators=[Optional(), _length(255)])

    def validate_admission_year(self, field):
        """Admission cannot come before birth."""
        if field.data and self.birth_year.data and field.data < self.birth_year.data + 14:
            raise ValidationError(_l("The year of admission must be at least 14 years after "
                                     "the year of birth."))

    def values(self) -> dict:
        """The page's values as the service stores them."""
        return {"full_name": self.full_name.data.strip(), "birth_year": self.birth_year.data,
                "admission_year": self.admission_year.data,
                "faculty": (self.faculty.data or "").strip(),
                "course_year": self.course_year.data,
                "group_name": (self.group_name.data or "").strip(),
                "specialty": (self.specialty.data or "").strip()}


class EssayForm(VersionedForm):
    """Section I, page 2: the essay."""

    essay = TextAreaField(_l("Why did I choose medicine? Who do I want to become?"),
                          validators=[Optional(), _length(LONG)])

    def values(self) -> dict:
        """The page's values as the service stores them."""
        return {"essay": (self.essay.data or "").strip()}


class GoalsForm(VersionedForm):
    """Section I, page 3: goals for a period and the analysis of what was achieved."""

    goals = TextAreaField(_l("My goals for this period"), validators=[Optional(), _length(LONG)])
    analysis = TextAreaField(_l("Analysis of what I achieved"),
                             validators=[Optional(), _length(LONG)])

    def values(self) -> dict:
        """The page's values as the service stores them."""
        return {"goals": (self.goals.data or "").strip(),
                "analysis": (self.analysis.data or "").strip()}


PAGE_FORMS = {"profile": ProfileForm, "essay": EssayForm, "goals": GoalsForm}


class SummaryForm(VersionedForm):
    """The tutor summary of one academic year (the portfolio regulations)."""

    academic_year = StringField(_l("Academic year"), validators=[
        DataRequired(message=_l("Enter the academic year, e.g. 2025-2026."))])
    course_year = StrictIntegerField(_l("Course year"), validators=[
        InputRequired(message=_l("Enter a course year from 1 to 8.")),
        NumberRange(min=1, max=8, message=_l("Enter a course year from 1 to 8."))])
    group_name = StringField(_l("Group"), validators=[Optional(), _length(64)])
    gpa = StringField(_l("GPA"), validators=[Optional(), _length(8)])
    academic_level = SelectField(_l("Academic achievement"), choices=[
        SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in ACADEMIC_LEVELS.items()])
    # The points are the verified ones, counted when the summary is saved; "" takes the level
    # they give, another choice is the tutor's override (shown as such).
    achievement_level = SelectField(
        _l("Level of personal achievements"),
        choices=[SelectChoice("", _l("As the verified points give"))]
        + [SelectChoice(k, v) for k, v in ACHIEVEMENT_LEVELS.items()])
    activity = TextAreaField(_l("Activity in research, creative and sports work"),
                             validators=[Optional(), _length(4000)])
    self_development = TextAreaField(_l("Striving for self-development"),
                                     validators=[Optional(), _length(4000)])
    competences = TextAreaField(_l("Areas of competence"), validators=[Optional(), _length(4000)])
    remarks = TextAreaField(_l("Tutor's remarks"), validators=[Optional(), _length(4000)])
    tutor_name = StringField(_l("Tutor"), validators=[
        DataRequired(message=_l("Enter the tutor's name.")), _length(255)])
    head_name = StringField(_l("Head of department"), validators=[Optional(), _length(255)])
    department = StringField(_l("Department"), validators=[Optional(), _length(255)])
    summary_date = DateField(_l("Date"), validators=[
        InputRequired(message=_l("Enter a date as YYYY-MM-DD."))])

    def validate_academic_year(self, field):
        """YYYY-YYYY with consecutive years."""
        from ..calendar import AcademicYear

        if AcademicYear.parse(field.data) is None:
            raise ValidationError(_l("Enter the academic year as two consecutive years, e.g. "
                                     "2025-2026."))

    def values(self) -> dict:
        """The summary's values as the service stores them."""
        names = ("academic_year", "course_year", "group_name", "gpa", "academic_level",
                 "achievement_level", "activity", "self_development", "competences", "remarks",
                 "tutor_name", "head_name", "department", "summary_date")
        values = {name: getattr(self, name).data for name in names}
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = value.strip()
            elif value is None and name not in ("course_year", "summary_date"):
                values[name] = ""  # a text field left out of the post
        return values


    def validate_gpa(self, field):
        """A GPA from 0 to 4 (as printed, e.g. 3.42)."""
        from decimal import Decimal, InvalidOperation

        text = (field.data or "").strip()
        if not text:
            return
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= 4:
            raise ValidationError(_l("Enter a GPA from 0 to 4, e.g. 3.42."))
        field.data = text.replace(",", ".")


class ShowcaseForm(HtmlForm):
    """A new showcase link: what it shows and for how long."""

    title = StringField(_l("Name of the link (for you)"), validators=[Optional(), _length(200)])
    sections = SelectMultipleField(_l("Sections"), choices=[
        SelectChoice("portrait", _l("Section I. My portrait")),
        SelectChoice("achievements", _l("Section II. Achievements")),
        SelectChoice("chest", _l("Section III. The chest"))],
        validators=[DataRequired(message=_l("Choose at least one section."))])
    entries = SelectMultipleField(_l("Entries"), coerce=parse_int, validate_choice=False)
    hide_personal = BooleanField(_l("Hide my personal details (photo, year of birth, group)"),
                                 default=True)
    days = StrictIntegerField(_l("Link works for (days; empty: until you revoke it)"), validators=[
        Optional(), NumberRange(min=1, max=366, message=_l("From 1 to 366 days."))])


class CourseScoreForm(HtmlForm):
    """How the course's gradebook gets the verified portfolio points (issue 11)."""

    mode = RadioField(_l("What the gradebook gets"), choices=[
        SelectChoice("normalised",
                     _l("A score out of 100: the maximum below counts as 100, more is capped")),
        SelectChoice("points", _l("The verified points themselves, out of the maximum below")),
    ], validators=[InputRequired(_l("Choose what the gradebook gets."))])
    points_maximum = StrictIntegerField(_l("Maximum points (the full score)"), validators=[
        InputRequired(_l("Enter a number of points.")),
        NumberRange(min=1, max=100_000, message=_l("From 1 to 100000 points."))])


class QueueForm(HtmlForm):
    """The tutor's bulk decision in the queue: the ticked entries, the action, a comment.

    The service decides what is allowed; after a refusal the queue is shown again with this
    form, so that the ticks and the comment stay and the message sits beside the buttons.
    """

    entry = SelectMultipleField(validate_choice=False)  # "id:version" of each ticked entry
    action = HiddenField()  # the pressed button's value
    comment = TextAreaField()

    def ticked(self) -> set[str]:
        """The ticked entries' values, to tick them again."""
        return set(self.entry.data or [])
