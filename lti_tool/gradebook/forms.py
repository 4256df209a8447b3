"""The instructor's course grading form: final-grade column, credits, academic year."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from ..forms import HtmlForm
from ..parsing import StrictIntegerField
from .course_grading import CourseGradingChoice
from .gpa import is_academic_year
from .models import LineItem

NO_LINE_ITEM = 0  # the select's "none" choice: the course does not count towards GPA yet


class CourseGradingForm(HtmlForm):
    """Which line item is the course's final grade, its credits and its academic year."""

    final_line_item = SelectField(_l("Final grade column"), coerce=int,
                                  validators=[InputRequired()])
    # The academic policy: a course carries a whole number of academic credits.
    credits = StrictIntegerField(_l("Credits"), validators=[
        InputRequired(_l("Enter the course's credits.")),
        NumberRange(min=1, max=60, message=_l("Credits must be a whole number from 1 to 60."))])
    academic_year = StringField(_l("Academic year"), validators=[InputRequired()])

    def __init__(self, items: list[LineItem], *args, **kwargs):
        super().__init__(*args, **kwargs)
        none = str(_l("None: the course does not count yet"))
        self.final_line_item.choices = [(NO_LINE_ITEM, none)] + [
            (item.id, str(_l("%(label)s (out of %(maximum)s)", label=item.label or item.url,
                             maximum=f"{item.score_maximum:g}")))
            for item in items]

    def validate_academic_year(self, field) -> None:
        """Two consecutive years, as on transcripts."""
        field.data = (field.data or "").strip()
        if not is_academic_year(field.data):
            raise ValidationError(_l("Write the academic year as two consecutive years, "
                                     "e.g. 2025-2026."))

    def choice(self) -> CourseGradingChoice:
        """The submitted values as plain data."""
        return CourseGradingChoice(
            final_line_item_id=self.final_line_item.data or None,
            credits=int(self.credits.data), academic_year=self.academic_year.data)
