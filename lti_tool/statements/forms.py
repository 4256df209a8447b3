"""The statement's forms: settings with the column map, and a week's mentor scores."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..forms import HtmlForm
from ..gradebook.models import LineItem
from ..lti.models import User
from ..parsing import NumberError, parse_decimal
from .structure import Slot, Structure

NONE = 0  # a select's "not mapped" choice

# What each part is called on pages; the structure files give the numbers.
PART_LABELS = {
    "test": _l("Portal test"),
    "practical": _l("Practical / laboratory work (mentor)"),
    "attestation": _l("Enterprise attestation (mentor)"),
    "sro": _l("Independent work (SRO)"),
    "exam": _l("Exam"),
}
PATTERN_PARTS = ("test", "practical", "attestation", "sro", "exam")


def slot_label(slot: Slot) -> str:
    """'Week 4: Enterprise attestation (mentor), 0-13' and the like."""
    part = str(PART_LABELS[slot.part])
    maximum = f"{slot.maximum:g}"
    if slot.week is not None:
        return str(_l("Week %(week)d: %(part)s, 0-%(max)s", week=slot.week, part=part, max=maximum))
    if slot.period is not None:
        return str(
            _l(
                "%(period)s: %(part)s, 0-%(max)s",
                period=slot.period.upper().replace("RK", "RK-"),
                part=part,
                max=maximum,
            )
        )
    return str(_l("%(part)s, 0-%(max)s", part=part, max=maximum))


def field_name(slot: Slot) -> str:
    """The form field of a slot's column ("slot_test_3")."""
    return "slot_" + slot.key.replace(":", "_")


class SettingsBase(HtmlForm):
    """Structure, first day of week 1, group, the final's column; slot fields are added per
    structure (settings_form)."""

    version = HiddenField()
    structure = SelectField(_l("Weekly structure"), validators=[InputRequired()])
    start_date = DateField(_l("First day of week 1"), validators=[Optional()])
    group_name = StringField(_l("Group"), validators=[Optional(), Length(max=128)])
    final_line_item = SelectField(
        _l("Column the final grade is posted to"), coerce=int, default=NONE
    )


def settings_form(
    structures: dict[str, Structure],
    structure: Structure,
    items: list[LineItem],
    locale: str,
    **kwargs,
) -> SettingsBase:
    """The settings form with one column choice per slot of `structure`, and one pattern per
    part for filling them automatically."""
    choices = [(NONE, str(_l("— not mapped —")))] + [
        (
            item.id,
            str(
                _l(
                    "%(label)s (out of %(maximum)s)",
                    label=item.label or item.url,
                    maximum=f"{item.score_maximum:g}",
                )
            ),
        )
        for item in items
    ]
    fields: dict = {
        field_name(slot): SelectField(slot_label(slot), coerce=int, default=NONE)
        for slot in structure.slots
    }
    fields.update(
        {
            f"pattern_{part}": StringField(
                str(PART_LABELS[part]), validators=[Optional(), Length(max=200)]
            )
            for part in PATTERN_PARTS
        }
    )
    form_class = type("StatementSettingsForm", (SettingsBase,), fields)
    form = form_class(**kwargs)
    form.structure.choices = [(key, s.label(locale)) for key, s in structures.items()]
    form.final_line_item.choices = choices
    for slot in structure.slots:
        getattr(form, field_name(slot)).choices = choices
    return form


class WeekBase(HtmlForm):
    """A week's mentor scores for the group: one row per student (form F UE 141-03-2022)."""

    version = HiddenField()
    mentor_name = StringField(_l("Mentor (full name)"), validators=[Optional(), Length(max=255)])


def week_form(students: list[User], slot: Slot, **kwargs) -> WeekBase:
    """The week's form: a score (0 to the week's maximum, blank for none) and a note each."""
    maximum = slot.maximum

    def check(form, field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            field.parsed = None
            return
        try:
            field.parsed = parse_decimal(raw, minimum=Decimal(0), maximum=maximum, places=2)
        except NumberError as err:
            raise ValidationError(str(err.message)) from err

    fields: dict = {}
    for student in students:
        fields[f"score_{student.id}"] = StringField(student.display_name, validators=[check])
        fields[f"note_{student.id}"] = StringField(
            _l("Note"), validators=[Optional(), Length(max=500)]
        )
    form = type("WeekScoresForm", (WeekBase,), fields)(**kwargs)
    return form


def week_values(form: WeekBase, students: list[User]) -> dict[int, tuple[Decimal | None, str]]:
    """The submitted scores and notes by student id (after validation)."""
    return {
        s.id: (getattr(form, f"score_{s.id}").parsed, getattr(form, f"note_{s.id}").data or "")
        for s in students
    }
