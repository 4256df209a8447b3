"""A tutor-verified portfolio achievement as an Open Badges 3.0 credential, at the student's
choice, for the showcase (issue 14), over real HTTP. The credential is checked by
implementations the tool did not write: openbadgeslib's OB3 verifier (structure, registered
claims, signature, Bitstring Status List) and jwcrypto (the signature, by the JWKS's `kid`)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from jwcrypto import jwk, jws
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier
from sqlalchemy import select
from test_portfolio_access import ROLE_SCOPE_MENTOR, _observer, _sub, launch_as
from test_portfolio_flow import OTHER_STUDENT, add_entry, db_session, entry_version, launch

from lti_tool.credentials.models import Credential
from lti_tool.portfolio.models import Entry, Showcase

ISSUE = re.compile(r'action="(/portfolio/entries/(\d+)/credential)[^"]*"')
VERIFY = re.compile(r'(http://[^"<\s]+/verify/[A-Za-z0-9_-]{32})')


def _key_for(tool, token: str) -> bytes:
    """The PEM of the key the token's header names, fetched from the tool's JWKS."""
    kid = json.loads(jws.base64url_decode(token.split(".", maxsplit=1)[0]))["kid"]
    keys = requests.get(f"{tool.base_url}/.well-known/jwks.json", timeout=10).json()["keys"]
    (found,) = [k for k in keys if k["kid"] == kid]
    return jwk.JWK(**found).export_to_pem()


def _fetch(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.content


def _verified(tool, platform, **fields):
    """A student with an entry their tutor verified; (student, tutor, entry id)."""
    student = launch(tool, platform)
    entry_id = add_entry(student, **fields)
    tutor = launch(tool, platform, "teacher")
    done = tutor.post(
        f"/portfolio/entries/{entry_id}/decide",
        {"action": "verify", "version": str(entry_version(tool, entry_id))},
    )
    assert done.status_code == 200, done.text[:500]
    return student, tutor, entry_id


def _issue(student, entry_id: int):
    answer = student.post(f"/portfolio/entries/{entry_id}/credential", follow=False)
    assert answer.status_code == 303, answer.text[:500]
    return int(answer.headers["Location"].rsplit("#credential-", 1)[1])


def _credential(tool, credential_id: int) -> Credential:
    with db_session(tool) as db:
        return db.get(Credential, credential_id)


def test_student_issues_a_verified_entry_and_an_independent_verifier_accepts_it(tool, moodle):
    student, _tutor, entry_id = _verified(tool, moodle)
    # The owner's portfolio offers the button on the verified entry (and only there).
    draft = add_entry(student, submit=False, f_title="Unsent olympiad")
    mine = student.get("/portfolio/", params={"lang": "en"}).text
    assert [int(m.group(2)) for m in ISSUE.finditer(mine)] == [entry_id]
    assert "Issue as a credential" in mine
    assert "Issue as a credential" in student.get(f"/portfolio/entries/{entry_id}").text
    assert ISSUE.search(student.get(f"/portfolio/entries/{draft}").text) is None

    credential_id = _issue(student, entry_id)
    # Twice is the same credential, not a second one.
    assert _issue(student, entry_id) == credential_id
    page = student.get("/portfolio/showcase")
    assert f'id="credential-{credential_id}"' in page.text and "Anatomy olympiad" in page.text
    verify_url = VERIFY.search(page.text).group(1)

    token = student.get(f"/portfolio/credentials/{credential_id}.jwt").text
    verifier = OB3Verifier(pubkey_pem=_key_for(tool, token))
    badge = verifier.verify(token, check_status=True, download=_fetch)
    assert badge.name == "Anatomy olympiad"
    assert badge.issuer.id == f"{tool.base_url}/learning/issuer"
    payload = json.loads(jws.base64url_decode(token.split(".")[1]))
    assert "OpenBadgeCredential" in payload["type"] and payload["id"] == verify_url
    subject = payload["credentialSubject"]
    assert subject["achievement"]["name"] == "Anatomy olympiad"
    assert "tutor" in subject["achievement"]["criteria"]["narrative"]
    assert "KazNMU student portfolio" in subject["achievement"]["criteria"]["narrative"]
    assert subject["achievement"]["tag"] == ["achievements", "olympiads"]
    assert subject["result"][0]["value"] == "100"  # the verified rubric points
    assert subject["identifier"][0]["identityHash"] == "Sam Student"
    checked = jws.JWS()
    checked.deserialize(token)
    checked.verify(jwk.JWK.from_pem(_key_for(tool, token)))

    # The JSON and the baked SVG carry the same signed credential.
    as_json = student.get(f"/portfolio/credentials/{credential_id}.json")
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert verifier.verify(as_json.json()["proof"]["jwt"]).name == "Anatomy olympiad"
    svg = student.get(f"/portfolio/credentials/{credential_id}.svg")
    assert svg.headers["Content-Type"].startswith("image/svg+xml")
    assert verifier.verify(OB3Verifier.extract_token_from_svg(svg.content)).name

    # The verification page: valid, the achievement, issuer, date and the name as carried.
    public = requests.get(verify_url, timeout=10)
    assert public.status_code == 200 and 'data-state="valid"' in public.text
    assert "Anatomy olympiad" in public.text and "Sam Student" in public.text
    assert "@" not in public.text

    # The showcase shows it beside the entry, with its downloads and verification link.
    student.post("/portfolio/showcase", {"sections": ["achievements"], "entries": [str(entry_id)]})
    with db_session(tool) as db:
        link = db.scalars(select(Showcase).order_by(Showcase.id.desc())).first().token
    shown = requests.get(f"{tool.base_url}/s/{link}", timeout=10).text
    assert verify_url in shown
    json_url = re.search(r'href="(/s/[^"]+/credentials/\d+\.json)"', shown).group(1)
    employer = requests.get(tool.base_url + json_url, timeout=10).json()
    assert verifier.verify(employer["proof"]["jwt"], check_status=True, download=_fetch).name

    # The student withdraws it: the status list and the page say revoked at once.
    withdrawn = student.post(f"/portfolio/credentials/{credential_id}/withdraw", follow=False)
    assert withdrawn.status_code == 303
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        verifier.verify(token, check_status=True, download=_fetch)
    assert 'data-state="revoked"' in requests.get(verify_url, timeout=10).text
    assert student.get(f"/portfolio/credentials/{credential_id}.json").status_code == 409
    assert json_url not in requests.get(f"{tool.base_url}/s/{link}", timeout=10).text
    # ... and may issue it again: a new credential, the old one stays revoked.
    again = _issue(student, entry_id)
    assert again != credential_id and _credential(tool, credential_id).revoked_at is not None


@pytest.mark.parametrize("how", ["return", "reject", "edited", "deleted"])
def test_the_entry_no_longer_verified_revokes_its_credential_at_once(tool, moodle, how):
    student, tutor, entry_id = _verified(tool, moodle, f_title=f"Olympiad {how}")
    credential_id = _issue(student, entry_id)
    token = student.get(f"/portfolio/credentials/{credential_id}.jwt").text
    verifier = OB3Verifier(pubkey_pem=_key_for(tool, token))
    assert verifier.verify(token, check_status=True, download=_fetch).name
    verify_url = json.loads(jws.base64url_decode(token.split(".")[1]))["id"]
    version = str(entry_version(tool, entry_id))
    if how in ("return", "reject"):
        answer = tutor.post(
            f"/portfolio/entries/{entry_id}/decide",
            {"action": how, "version": version, "comment": "Wrong diploma"},
        )
    elif how == "edited":
        answer = student.post(
            f"/portfolio/entries/{entry_id}/edit",
            {
                "version": version,
                "list": "olympiads",
                "course_year": "2",
                "action": "submit",
                "item": "olympiad",
                "level": "international",
                "result": "first",
                "f_title": "Olympiad edited",
                "f_when": "2026-03-14",
                "f_note": "Diploma",
            },
        )
    else:
        answer = student.post(f"/portfolio/entries/{entry_id}/delete")
    assert answer.status_code == 200, answer.text[:500]
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        verifier.verify(token, check_status=True, download=_fetch)
    page = requests.get(verify_url, timeout=10)
    assert 'data-state="revoked"' in page.text
    # The page still names what the credential carried (the name and title as issued).
    assert f"Olympiad {how}" in page.text and "Sam Student" in page.text
    if how != "deleted":
        with db_session(tool) as db:
            assert db.get(Entry, entry_id).status != "verified"
        refused = student.post(f"/portfolio/entries/{entry_id}/credential", follow=False)
        assert refused.status_code == 409
        assert "verified by the tutor" in refused.text


def test_only_the_owner_issues_downloads_or_withdraws(tool, platform):
    student, tutor, entry_id = _verified(tool, platform)
    other = launch(tool, platform, OTHER_STUDENT)
    observer = launch_as(
        tool,
        platform,
        _observer(platform, "90"),
        extra_claims={ROLE_SCOPE_MENTOR: [_sub(platform)]},
    )
    for someone in (tutor, other, observer):
        refused = someone.post(f"/portfolio/entries/{entry_id}/credential", follow=False)
        assert refused.status_code == 403, refused.text[:300]
        assert "Only the student themselves" in refused.text
    # No issue button on the tutor's or observer's view of the entry.
    assert ISSUE.search(tutor.get(f"/portfolio/entries/{entry_id}").text) is None
    credential_id = _issue(student, entry_id)
    for someone in (tutor, other, observer):
        assert someone.get(f"/portfolio/credentials/{credential_id}.json").status_code == 403
        refused = someone.post(f"/portfolio/credentials/{credential_id}/withdraw", follow=False)
        assert refused.status_code == 403
    assert _credential(tool, credential_id).revoked_at is None


def test_unverified_entries_are_refused_with_a_clear_page(tool, moodle):
    student = launch(tool, moodle)
    submitted = add_entry(student, f_title="Waiting olympiad")
    draft = add_entry(student, submit=False, f_title="Draft olympiad")
    for entry_id in (submitted, draft):
        refused = student.post(f"/portfolio/entries/{entry_id}/credential", follow=False)
        assert refused.status_code == 409
        assert "Only an entry verified by the tutor" in refused.text
    assert student.post("/portfolio/entries/999999/credential", follow=False).status_code == 404
    with db_session(tool) as db:
        assert (
            db.scalars(
                select(Credential).where(Credential.entry_id.in_([submitted, draft]))
            ).first()
            is None
        )
