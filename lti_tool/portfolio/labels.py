"""Translated names of statuses, actions and fields, for templates and exports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_NAMES = {
    "draft": _l("draft"), "submitted": _l("waiting for the tutor"), "verified": _l("verified"),
    "returned": _l("returned for changes"), "rejected": _l("rejected"),
}
ACTION_NAMES = {
    "submit": _l("submitted"), "withdraw": _l("taken back to draft"), "verify": _l("verified"),
    "return": _l("returned for changes"), "reject": _l("rejected"), "comment": _l("commented"),
    "edited": _l("changed by the student"),
}
PAGE_NAMES = {"profile": _l("About me"), "essay": _l("Essay"), "goals": _l("Goals and analysis")}
FIELD_NAMES = {
    "full_name": _l("Full name"), "birth_year": _l("Year of birth"),
    "admission_year": _l("Year of admission"), "faculty": _l("Faculty"),
    "course_year": _l("Course year"), "group_name": _l("Group"), "specialty": _l("Specialty"),
    "photo_id": _l("Photo"), "essay": _l("Essay"), "goals": _l("Goals"),
    "analysis": _l("Analysis of what I achieved"),
}
SECTION_NAMES = {"portrait": _l("Section I. My portrait"),
                 "achievements": _l("Section II. Achievements"),
                 "chest": _l("Section III. The chest")}
SKIP_REASONS = {
    "not_found": _l("not found or not one of your students"),
    "stale": _l("the student changed it after you opened the list"),
    "status": _l("its status does not allow this"),
}
SHOWCASE_STATES = {"live": _l("active"), "expired": _l("expired"), "revoked": _l("revoked")}
