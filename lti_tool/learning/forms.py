"""Staff learning forms (WTForms): what a view reads; the rules stay in the services."""

from __future__ import annotations

from wtforms import BooleanField, FileField, HiddenField, SelectField, StringField, TextAreaField

from ..teachhub.forms import TeachHubForm


class ActivityForm(TeachHubForm):
    """An activity of one of the forms 4.1-4.4, as the participant records or corrects it."""

    revision = HiddenField()
    form = SelectField(validate_choice=False)
    format = SelectField(validate_choice=False)
    title = StringField()
    foreign_language = BooleanField()
    title_translation = StringField()
    organiser = StringField()
    mentor = StringField()
    starts_on = StringField()
    ends_on = StringField()
    content = TextAreaField()
    competence_area = SelectField(validate_choice=False)
    workload = StringField()
    workload_unit = SelectField(validate_choice=False)
    estimated = BooleanField()
    estimate_reason = TextAreaField()
    department = StringField()


class EvidenceForm(TeachHubForm):
    """An evidence file and what kind of proof it is."""

    kind = SelectField(validate_choice=False)
    file = FileField()


class ActionForm(TeachHubForm):
    """One step: submit, endorse, opinion, recognize, return or revoke, with what it carries."""

    revision = HiddenField()
    action = HiddenField()
    note = TextAreaField()
    ready = SelectField(validate_choice=False)
    decision_date = StringField()
    decision_number = StringField()
    hours = StringField()
    hours_note = StringField()


class RoleForm(TeachHubForm):
    """Name a person to a role, or take them off it."""

    user_id = SelectField(validate_choice=False)
    role = SelectField(validate_choice=False)
    department = StringField()
    remove = HiddenField()
