"""Open Badges 3.0 credentials of recognised staff learning records (no Flask).

The achievement carries the criteria, the subject the recognised hours as a result and the
credit units as `creditsEarned`; signing, the status entry and the status list are shared with
every kind of credential (lti_tool/credentials/ob3.py).
"""

from __future__ import annotations

from ..credentials.models import Credential
from ..credentials.ob3 import CONTEXT, Issuer, iso, status_entry, subject_id as person_id
from .credentials import Record


def _day(value) -> str | None:
    return f"{value.isoformat()}T00:00:00Z" if value else None


def subject_id(issuer: Issuer, record: Record) -> str:
    """A pseudonymous, stable id of the person for this issuer (no e-mail or LMS id in it)."""
    return person_id(issuer, record.platform_id, record.user_id)


def credential_json(
    record: Record,
    credential: Credential,
    issuer: Issuer,
    *,
    verify_url: str,
    form_name: str,
    description: str,
) -> dict:
    """The OpenBadgeCredential of one record (unsigned)."""
    result_id = f"{issuer.base_url}/learning/achievements/{record.kind}-{record.record_id}"
    achievement = {
        "id": result_id,
        "type": ["Achievement"],
        "achievementType": "Course" if record.kind == "card" else "Achievement",
        "name": record.title,
        "description": description,
        "criteria": {"narrative": record.criteria or description},
        "creator": issuer.profile(),
        "tag": [record.form],
        "resultDescription": [
            {
                "id": f"{result_id}#hours",
                "type": ["ResultDescription"],
                "name": "Recognised academic hours",
                "resultType": "ext:AcademicHours",
            }
        ],
    }
    subject = {
        "id": subject_id(issuer, record),
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": record.person,
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": achievement,
        "creditsEarned": float(record.units),
        "result": [
            {
                "type": ["Result"],
                "resultDescription": f"{result_id}#hours",
                "value": str(record.hours),
            }
        ],
    }
    if record.starts_on:
        subject["activityStartDate"] = _day(record.starts_on)
    if record.ends_on:
        subject["activityEndDate"] = _day(record.ends_on)
    return {
        "@context": CONTEXT,
        "id": verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.profile(),
        "validFrom": iso(credential.issued_at),
        "name": f"{form_name}: {record.title}",
        "description": description,
        "credentialSubject": subject,
        "credentialStatus": status_entry(issuer, credential),
    }
