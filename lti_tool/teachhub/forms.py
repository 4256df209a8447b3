"""The participant card's forms as WTForms classes: what a view reads and a refusal re-renders.

The rules (hours through the strict number parser, dates, lengths, status moves) stay in the
services, which JSON clients reach too; a form reads what the browser posted, and after a
refusal it carries the typed values and each service message on the field it names, so the
card page shows both beside the field instead of a banner above a reset form.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import request
from werkzeug.datastructures import CombinedMultiDict
from wtforms import FileField, HiddenField, SelectMultipleField, StringField, TextAreaField

from .. import parsing
from ..forms import HtmlForm
from .modules import PassportInput


class TeachHubForm(HtmlForm):
    """A TeachHub form; `refuse` puts a service's messages on the fields they name."""

    class Meta(HtmlForm.Meta):
        def wrap_formdata(self, form, formdata):
            """A posted HTML form's fields, even when it came empty.

            Flask-WTF reads nothing from an empty POST; reading the (empty) request.form keeps
            each field's "sent or not" the same as request.form.get did, and lets the hostile
            input test see every field a view reads.
            """
            wrapped = super().wrap_formdata(form, formdata)
            if (
                wrapped is None
                and formdata is not None
                and request
                and request.method == "POST"
                and not request.is_json
            ):
                return CombinedMultiDict((request.files, request.form))
            return wrapped

    # A service's error key -> this form's field, where the two names differ.
    error_fields: ClassVar[dict[str, str]] = {}

    def refuse(self, errors: dict[str, str]) -> dict[str, str]:
        """Attach each message to its field; the messages no field of this form takes."""
        left = {}
        for key, message in errors.items():
            field = self._fields.get(self.error_fields.get(key, key))
            if field is None or field.name in ("csrf_token", "revision"):
                left[key] = message
            else:
                # Lists, so that a message set by a failed validate() is replaced, not doubled.
                field.errors = [message]
        return left

    def text(self, name: str) -> str:
        """A field's posted text ("" when absent)."""
        return self._fields[name].data or ""


class RevisedForm(TeachHubForm):
    """A card form that carries the card's revision it was opened at (compare-and-set)."""

    revision = HiddenField()


class HoursForm(RevisedForm):
    """Contact hours (facilitators, coordinators) and self-study hours."""

    contact_hours = StringField()
    self_study_hours = StringField()


class DepartmentForm(TeachHubForm):
    """The participant's department."""

    department = StringField()


class MarkForm(RevisedForm):
    """The facilitator's mark and comment."""

    mark = StringField()
    mark_comment = StringField()


class VerifyForm(RevisedForm):
    """The coordinator's verification note."""

    error_fields: ClassVar[dict[str, str]] = {"verification_note": "note"}
    note = StringField()


class RecordForm(RevisedForm):
    """The work plan / information system record."""

    record_date = StringField()
    record_number = StringField()


class StatusForm(RevisedForm):
    """One status move: the target, a note, and the commission record for recognition."""

    status = HiddenField()
    note = StringField()
    commission_date = StringField()
    commission_number = StringField()


class TaskForm(TeachHubForm):
    """A completed task or product, with an optional evidence file."""

    title = StringField()
    description = TextAreaField()
    completed_on = StringField()
    file = FileField()


class ReviewForm(TeachHubForm):
    """The facilitator accepts or returns a task."""

    decision = HiddenField()
    review_note = StringField()


class StreamForm(TeachHubForm):
    """A stream's name and dates (a new stream, or a change to one)."""

    name = StringField()
    starts_on = StringField()
    ends_on = StringField()


class EnrolForm(TeachHubForm):
    """Course members to enrol in a stream (ids; the strict parser reads them), or everyone."""

    user_ids = SelectMultipleField(validate_choice=False)
    all_learners = HiddenField()  # the "every learner" button's value

    def ticked(self) -> set[str]:
        """The ticked ids as posted, to tick them again."""
        return set(self.user_ids.data or [])


class FeedbackForm(TeachHubForm):
    """The module's anonymous feedback: two 1-5 scales and a comment."""

    satisfaction = StringField()
    applicability = StringField()
    comment = TextAreaField()


class PublishForm(RevisedForm):
    """Publish a module's working copy at the revision the page showed."""


class ArchiveForm(TeachHubForm):
    """Archive a module ("1") or bring it back ("0")."""

    archived = HiddenField()


class CoordinatorForm(TeachHubForm):
    """Name a coordinator, or remove one ("remove" = "1"); the person by user id."""

    user_id = StringField()
    remove = HiddenField()


class FacilitatorForm(TeachHubForm):
    """The facilitator picker's choice: one person by user id, at the card's revision."""

    revision = HiddenField()
    user_id = StringField()


class ModuleCardForm(TeachHubForm):
    """The module card's passport editor (a new card, or a working copy at its revision).

    Every field is read as typed; the passport's rules (lengths, the configured choice lists,
    hours, days, eligible facilitators) are the service's, `modules.save_passport`.
    """

    revision = HiddenField()
    title = StringField()
    curator_department = StringField()
    target_audience = TextAreaField()
    goal = TextAreaField()
    competences = SelectMultipleField(validate_choice=False)
    structure = TextAreaField()
    delivery_formats = SelectMultipleField(validate_choice=False)
    mandatory_tasks = TextAreaField()
    completion_criteria = TextAreaField()
    assessment = TextAreaField()
    workload_hours = StringField()
    duration_days = StringField()
    integration = SelectMultipleField(validate_choice=False)
    module_format = StringField()
    facilitator_ids = SelectMultipleField(validate_choice=False)
    # Sent only by a coordinator's form, which shows the facilitators' ticks: without it the
    # card keeps its facilitators (a facilitator's save does not clear them).
    facilitators_shown = HiddenField()
    # The "Choose a facilitator" button: save the draft as typed, then open the picker.
    pick = HiddenField()

    LISTS = ("competences", "delivery_formats", "integration")
    TEXTS = (
        "title",
        "curator_department",
        "target_audience",
        "goal",
        "structure",
        "mandatory_tasks",
        "completion_criteria",
        "assessment",
        "workload_hours",
        "duration_days",
        "module_format",
    )

    def passport(self) -> PassportInput:
        """The passport as posted (ids through the strict parser: a bad one is a 400)."""
        values: dict[str, Any] = {name: self.text(name) for name in self.TEXTS}
        values.update({name: list(self._fields[name].data or []) for name in self.LISTS})
        if self.facilitators_shown.raw_data:
            values["facilitator_ids"] = parsing.ids(
                self.facilitator_ids.data or [], "facilitator_ids"
            )
        return PassportInput(**values)


# The card and module pages' forms by the endpoint they post to (others: messages only).
PAGE_FORMS: dict[str, type[TeachHubForm]] = {
    "card_hours": HoursForm,
    "card_department": DepartmentForm,
    "card_mark": MarkForm,
    "card_verify": VerifyForm,
    "card_record": RecordForm,
    "card_status": StatusForm,
    "add_task": TaskForm,
    "review_task": ReviewForm,
    "save_stream": StreamForm,
}
