"""Certificates and Open Badges 3.0 credentials of recognised learning (issue 14), over real
HTTP, checked by implementations the tool did not write: openbadgeslib's OB3 verifier (the
credential's structure, registered claims, signature and Bitstring Status List) and jwcrypto
(the signature, with the key the JWKS names by `kid`)."""

from __future__ import annotations

import io
import json
import re
from contextlib import ExitStack

import pytest
import requests
from jwcrypto import jwk, jws
from learning_helpers import act, attach, member, record, staff
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier
from pypdf import PdfReader
from teachhub_helpers import today
from tool_server import start_tool


def _recognised(tool, moodle, stack, form="online"):
    people = staff(tool, moodle, stack)
    person = member(tool, moodle, stack)
    activity_id = record(person, form)
    attach(person, activity_id, "certificate")
    assert act(person, tool, activity_id, "submit").status_code == 303
    assert (
        act(
            people.coordinator,
            tool,
            activity_id,
            "recognize",
            decision_date=today().isoformat(),
            decision_number="12/3",
        ).status_code
        == 303
    )
    return people, person, activity_id


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


def test_certificate_names_the_record_and_its_qr_code_opens_the_verification_page(tool, moodle):
    with ExitStack() as stack:
        people, person, activity_id = _recognised(tool, moodle, stack)
        texts = {}
        for lang in ("kk", "ru", "en"):
            pdf = person.get(
                f"/learning/activities/{activity_id}/certificate.pdf", params={"language": lang}
            )
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            texts[lang] = " ".join(
                p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages
            )
        assert "Certificate" in texts["en"] and "Сертификат" in texts["ru"]
        assert "Aliya" in texts["kk"] and "36" in texts["en"] and "12/3" in texts["en"]
        url = re.search(r"(http\S+/verify/[A-Za-z0-9_-]{32})", texts["en"]).group(1)
        # The page needs no session, and says valid with the minimum of personal data.
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and 'data-state="valid"' in page.text
        assert "Aliya" in page.text and "Department of surgery" not in page.text
        assert "@" not in page.text  # no e-mail
        # Someone else cannot download the person's certificate.
        other = member(tool, moodle, stack, "61", "Bolat")
        assert other.get(f"/learning/activities/{activity_id}/certificate.pdf").status_code == 403
        # An activity not yet recognised has no certificate.
        draft = record(person, "online")
        assert person.get(f"/learning/activities/{draft}/certificate.pdf").status_code == 409
        # Revocation is immediate: the same page reads revoked.
        assert (
            act(
                people.coordinator, tool, activity_id, "revoke", note="Certificate found invalid"
            ).status_code
            == 303
        )
        page = requests.get(url, timeout=10)
        assert 'data-state="revoked"' in page.text
        assert person.get(f"/learning/activities/{activity_id}/certificate.pdf").status_code == 409


def test_verification_page_does_not_enumerate(tool):
    for token in ("1", "A" * 32, "A" * 31 + "!", "x" * 400):
        page = requests.get(f"{tool.base_url}/verify/{token}", timeout=10)
        assert page.status_code == 404 and 'data-state="unknown"' in page.text


@pytest.mark.parametrize("fmt", ["jwt", "svg"])
def test_open_badge_is_verified_by_an_independent_verifier_and_revocation_shows(tool, moodle, fmt):
    with ExitStack() as stack:
        people, person, activity_id = _recognised(tool, moodle, stack, "internal_event")
        download = person.get(f"/learning/activities/{activity_id}/credential.{fmt}")
        assert download.status_code == 200
        token = (
            download.text if fmt == "jwt" else OB3Verifier.extract_token_from_svg(download.content)
        )
        verifier = OB3Verifier(pubkey_pem=_key_for(tool, token))
        badge = verifier.verify(token, check_status=True, download=_fetch)
        payload = json.loads(jws.base64url_decode(token.split(".")[1]))
        assert "OpenBadgeCredential" in payload["type"]
        assert payload["credentialSubject"]["achievement"]["criteria"]["narrative"]
        assert payload["credentialSubject"]["result"][0]["value"] == "36.00"
        assert payload["credentialSubject"]["creditsEarned"] == 1.2
        assert payload["credentialStatus"]["type"] == "BitstringStatusListEntry"
        assert badge.issuer.id == f"{tool.base_url}/learning/issuer"
        # jwcrypto, a second implementation, checks the same signature.
        checked = jws.JWS()
        checked.deserialize(token)
        checked.verify(jwk.JWK.from_pem(_key_for(tool, token)))
        # The credential's id is its verification page.
        assert requests.get(payload["id"], timeout=10).status_code == 200
        # Tampering breaks it.
        head, body, signature = token.split(".")
        forged = json.loads(jws.base64url_decode(body))
        forged["credentialSubject"]["result"][0]["value"] = "360.00"
        forged_body = jws.base64url_encode(json.dumps(forged).encode())
        with pytest.raises(OB3VerificationError):
            verifier.verify(f"{head}.{forged_body}.{signature}")
        # The commission withdraws the recognition: the status list says revoked at once.
        assert (
            act(people.coordinator, tool, activity_id, "revoke", note="Withdrawn").status_code
            == 303
        )
        with pytest.raises(OB3VerificationError, match="'revocation' is set"):
            verifier.verify(token, check_status=True, download=_fetch)
        assert verifier.verify(token).name  # the signature itself stays valid
        # No new credential for a revoked recognition.
        assert person.get(f"/learning/activities/{activity_id}/credential.json").status_code == 409


def test_teachhub_module_gets_certificate_and_credential(tool, moodle):
    from teachhub_helpers import move, participant, published_module

    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        learner = participant(tool, moodle, stack, setup)
        card_id = int(learner.page.url.split("/teachhub/cards/")[1].split("?")[0])
        setup.facilitator.post(
            f"/teachhub/cards/{card_id}/hours", {"contact_hours": "40", "self_study_hours": "5"}
        )
        assert learner.get(f"/learning/cards/{card_id}/certificate.pdf").status_code == 409
        move(setup.facilitator, card_id, "in_progress")
        move(setup.facilitator, card_id, "completed")
        setup.coordinator.post(f"/teachhub/cards/{card_id}/verify")
        move(setup.coordinator, card_id, "submitted")
        move(
            setup.coordinator,
            card_id,
            "recognized",
            commission_number="7",
            commission_date=today().isoformat(),
        )
        own = learner.get("/learning/").text
        assert f"/learning/cards/{card_id}/certificate.pdf" in own
        pdf = learner.get(f"/learning/cards/{card_id}/certificate.pdf")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Assessment literacy" in text and "45" in text and "1.50" in text
        token = learner.get(f"/learning/cards/{card_id}/credential.jwt").text
        verifier = OB3Verifier(pubkey_pem=_key_for(tool, token))
        badge = verifier.verify(token, check_status=True, download=_fetch)
        assert badge.name.endswith("Assessment literacy for clinical teachers")
        url = json.loads(jws.base64url_decode(token.split(".")[1]))["id"]
        # The coordinator, as the commission's secretary, withdraws the module's recognition.
        learner_csrf = learner._csrf  # noqa: F841 (the learner's forms keep working)
        revoked = setup.coordinator.post(
            f"/learning/cards/{card_id}/revoke", {"note": "Recorded in error"}
        )
        assert revoked.status_code == 200
        assert 'data-state="revoked"' in requests.get(url, timeout=10).text
        with pytest.raises(OB3VerificationError, match="'revocation' is set"):
            verifier.verify(token, check_status=True, download=_fetch)


def test_verification_page_is_rate_limited_per_client(tmp_path):
    served = start_tool(str(tmp_path), overrides={"rate_limits": {"verify": "3 per minute"}})
    try:
        answers = [
            requests.get(f"{served.base_url}/verify/{'A' * 32}", timeout=10).status_code
            for _ in range(4)
        ]
    finally:
        served.stop()
    assert answers == [404, 404, 404, 429]


def test_a_batch_issue_keeps_the_issued_ones_and_the_status_list_is_one_query(tool, moodle):
    from decimal import Decimal

    from sqlalchemy import event, select
    from teachhub_helpers import db

    from lti_tool.credentials import ob3 as shared_ob3
    from lti_tool.credentials.models import Credential
    from lti_tool.db import utcnow
    from lti_tool.extensions import services
    from lti_tool.learning import credentials
    from lti_tool.learning.models import Activity

    with ExitStack() as stack:
        people, person, first = _recognised(tool, moodle, stack)
        second = record(person, "online", title="Second online course")
        attach(person, second, "certificate")
        act(person, tool, second, "submit")
        recognised = act(
            people.coordinator,
            tool,
            second,
            "recognize",
            decision_date=today().isoformat(),
            decision_number="12/4",
        )
        assert recognised.status_code == 303
        token = person.get(f"/learning/activities/{first}/credential.jwt").text
        url = json.loads(jws.base64url_decode(token.split(".")[1]))["id"]
        with db(tool) as session:
            records = [
                credentials._activity_record(session, session.get(Activity, i), "", Decimal(30))
                for i in (first, second)
            ]
            issued = credentials.issue_all(session, records)
            assert [c.activity_id for c in issued] == [first, second]
            assert url.endswith(issued[0].token)  # the one issued before is kept
            assert credentials.issue_all(session, records) == issued  # and again: no new rows
            assert (
                len(
                    session.scalars(
                        select(Credential).where(Credential.activity_id.in_([first, second]))
                    ).all()
                )
                == 2
            )
            statements = []
            engine = services(tool.app).db.engine
            listen = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listen)
            try:
                shared_ob3.status_list(
                    session,
                    shared_ob3.Issuer(tool.base_url, "KazNMU"),
                    services(tool.app).keyring.current(),
                    utcnow(),
                )
            finally:
                event.remove(engine, "before_cursor_execute", listen)
            assert len(statements) == 1
        # The batch's credential verifies like any other.
        second_token = person.get(f"/learning/activities/{second}/credential.jwt").text
        assert (
            OB3Verifier(pubkey_pem=_key_for(tool, second_token))
            .verify(second_token, check_status=True, download=_fetch)
            .name
        )
