"""LTI Dynamic Registration: an LMS admin pastes the invite URL, the tool registers and launches."""

import pytest
from lti_platform import TOOL_CONFIGURATION, DriverError, LaunchDriver, Platform
from tool_server import start_tool

from lti_tool.extensions import services
from lti_tool.lti.models import Platform as PlatformRow


def _rows(tool, issuer):
    with services(tool.app).db.new_session() as db:
        return [(p.client_id, p.status, [d.deployment_id for d in p.deployments])
                for p in db.query(PlatformRow).filter_by(issuer=issuer)]


@pytest.mark.parametrize("profile, issuer", [("moodle", None), ("canvas", None),
                                             ("canvas", "{base_url}")])
def test_registration_then_launch(tool, profile, issuer):
    with Platform(profile, issuer=issuer) as platform, LaunchDriver() as browser:
        # Moodle and Canvas append their parameters to the pasted URL's own query string.
        page = browser.get(platform.registration_initiation_url(tool.invite()))
        assert page.status_code == 200, page.text[:500]
        assert "registration_close.js" in page.text  # posts org.imsglobal.lti.close
        (sent,) = platform.registrations
        config = sent[TOOL_CONFIGURATION]
        assert sent["initiate_login_uri"] == tool.login_url
        assert sent["redirect_uris"] == [tool.launch_url]
        assert sent["jwks_uri"] == tool.jwks_url
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"]
        assert ("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
                in sent["scope"])
        assert {m["type"] for m in config["messages"]} == {"LtiResourceLinkRequest",
                                                         "LtiDeepLinkingRequest"}
        assert (platform.client_id, "active", [platform.deployment_id]) in _rows(
            tool, platform.issuer)
        home = browser.launch(platform.plan("teacher"), params={"lti_storage_target": None})
        assert home.status_code == 200, home.text[:500]
        assert 'data-role="instructor"' in home.text


def test_issuer_must_match_the_configuration_address(tool):
    with Platform("moodle", issuer="https://moodle.elsewhere.example") as platform, \
            LaunchDriver() as browser:
        page = browser.get(platform.registration_initiation_url(tool.invite()),
                           headers={"Accept": "application/json"})
        assert page.status_code == 400
        assert page.json()["error"] == "registration_failed"
        assert not platform.registrations
        assert _rows(tool, platform.issuer) == []


def test_refused_registration_token_is_reported(tool):
    with Platform("moodle") as platform, LaunchDriver() as browser:
        url = tool.invite() + \
            f"&openid_configuration={platform.openid_configuration_url}&registration_token=forged"
        page = browser.get(url, headers={"Accept-Language": "en"})
        assert page.status_code == 502
        assert "refused the registration" in page.text
        assert "Traceback" not in page.text


def test_missing_or_unreachable_configuration(tool, browser):
    missing = browser.get(tool.invite(), headers={"Accept": "application/json"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "missing_openid_configuration"
    # A port nobody listens on: the tool answers at once with a clear error, never a 500.
    with Platform("moodle") as gone:
        url = gone.openid_configuration_url
    unreachable = browser.get(tool.invite(),
                              params={"openid_configuration": url, "registration_token": "x"},
                              headers={"Accept": "application/json"})
    assert unreachable.status_code == 502
    assert unreachable.json()["error"] == "registration_failed"


def test_without_auto_activation_the_platform_waits(tmp_path):
    locked = start_tool(str(tmp_path), {"registration": {"auto_activate": False}})
    try:
        with Platform("moodle") as platform, LaunchDriver() as browser:
            page = browser.get(platform.registration_initiation_url(locked.invite()),
                               headers={"Accept-Language": "en"})
            assert page.status_code == 200
            assert "activates this platform" in page.text
            assert _rows(locked, platform.issuer)[0][1] == "pending"
            with pytest.raises(DriverError) as refused:
                browser.start_login(platform.plan("student"))
            assert refused.value.response.status_code == 403
            assert "platform_pending" in refused.value.response.text
    finally:
        locked.stop()
