"""An instructor places the portfolio in a course through deep linking; the platform accepts it."""

import jwt
from lti_platform import parse_forms

from lti_tool.extensions import services
from lti_tool.lti.models import ResourceLink


def _choose(browser, page, **fields):
    form = next(f for f in parse_forms(page.text, page.url) if "csrf_token" in f.fields)
    data = {"csrf_token": form.fields["csrf_token"], **fields}
    return browser.post(form.action, data=data)


def _return_to_platform(browser, page):
    form = parse_forms(page.text, page.url)[0]
    assert "JWT" in form.fields
    return form, browser.post(form.action, data=form.fields)


def test_instructor_places_graded_portfolio(tool, platform, browser):
    plan = platform.plan("teacher", message_type="LtiDeepLinkingRequest")
    page = browser.launch(plan, params={"lti_storage_target": None})
    assert page.status_code == 200, page.text[:400]
    assert "/lti/deep-link" in page.url
    assert "Student portfolio" in page.text and "TeachHub modules" in page.text

    answer = _choose(browser, page, kind="portfolio", title="Мой портфолио", graded="y",
                     score_maximum="50")
    assert answer.status_code == 200
    form, accepted = _return_to_platform(browser, answer)
    assert form.action == plan.deep_link_return_url
    assert accepted.status_code == 200, accepted.text[:400]

    # The platform validated the signed response (signature via the tool's JWKS, aud, data).
    (item,) = platform.deep_link_results
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == tool.launch_url
    assert item["title"] == "Мой портфолио"
    assert item["custom"] == {"placement": "portfolio"}
    assert item["lineItem"]["scoreMaximum"] == 50
    assert item["lineItem"]["tag"] == "portfolio"
    body = jwt.decode(form.fields["JWT"], options={"verify_signature": False})
    assert body["aud"] == [platform.issuer]
    assert body["iss"] == platform.client_id
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == plan.dl_data


def test_ungraded_placement_has_no_line_item(platform, browser):
    page = browser.launch(platform.plan("teacher", message_type="LtiDeepLinkingRequest"),
                          params={"lti_storage_target": None})
    answer = _choose(browser, page, kind="teachhub")
    form, accepted = _return_to_platform(browser, answer)
    assert accepted.status_code == 200
    body = jwt.decode(form.fields["JWT"], options={"verify_signature": False})
    (item,) = body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert "lineItem" not in item
    assert item["title"] == "TeachHub modules"


def test_choice_is_required_and_form_keeps_input(moodle, browser):
    page = browser.launch(moodle.plan("teacher", message_type="LtiDeepLinkingRequest"))
    again = _choose(browser, page, title="Keep this title", score_maximum="0", graded="y")
    assert again.status_code == 200
    assert "Keep this title" in again.text
    assert "field-error" in again.text
    assert not moodle.deep_link_results


def test_selection_without_csrf_token_is_refused(moodle, browser):
    page = browser.launch(moodle.plan("teacher", message_type="LtiDeepLinkingRequest"))
    form = next(f for f in parse_forms(page.text, page.url) if "csrf_token" in f.fields)
    refused = browser.post(form.action, data={"kind": "portfolio"},
                           headers={"Accept": "application/json"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "csrf_failed"


def test_student_cannot_use_deep_linking(moodle, browser):
    page = browser.launch(moodle.plan("student", message_type="LtiDeepLinkingRequest"))
    assert page.status_code == 403


def test_deep_link_response_is_single_use(moodle, browser):
    page = browser.launch(moodle.plan("teacher", message_type="LtiDeepLinkingRequest"))
    _choose(browser, page, kind="portfolio")
    again = _choose(browser, page, kind="portfolio")
    assert again.status_code == 401


def test_placed_link_launch_is_recorded_with_its_placement(tool, moodle, browser):
    plan = moodle.plan("student", custom={"placement": "portfolio"},
                       resource_link={"id": "rl-portfolio-1", "title": "Portfolio"})
    assert browser.launch(plan).status_code == 200
    with services(tool.app).db.new_session() as db:
        link = db.query(ResourceLink).filter_by(resource_link_id="rl-portfolio-1").one()
        assert link.placement == "portfolio"
        assert link.lineitem_url  # the Moodle AGS claim's line item was kept for grade sync
