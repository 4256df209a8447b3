"""The outbound guard's settings: the allowlist, and when the guard is on."""

import pytest

from lti_tool.http import AddressPolicy, is_loopback_url
from lti_tool.settings import SettingsError, load


def test_the_allowlist_comes_from_the_environment_as_a_list():
    settings = load(environ={"HTTP_ALLOWED_PRIVATE_HOSTS": "moodle.kaznu.local, 10.20.0.0/16"})
    assert settings.http.allowed_private_hosts == ("moodle.kaznu.local", "10.20.0.0/16")
    assert load(environ={}).http.allowed_private_hosts == ()


def test_a_malformed_allowlist_stops_the_start():
    with pytest.raises(SettingsError, match="allowed_private_hosts"):
        load({"http": {"allowed_private_hosts": "10.0.0.0/8"}}, environ={})


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:5000", True), ("http://localhost:8000", True), ("http://[::1]:5000", True),
    ("https://tool.example.edu", False), ("https://10.0.0.5", False), ("", False)])
def test_the_guard_is_off_only_for_a_tool_on_loopback(url, loopback):
    assert is_loopback_url(url) is loopback


@pytest.mark.parametrize("address, refused", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("fd00:ec2::254", True), ("100.64.0.1", True), ("224.0.0.1", True),
    ("0.0.0.0", True), ("::", True), ("::1", True), ("fe80::1", True), ("::ffff:10.0.0.1", True),
    ("240.0.0.1", True), ("93.184.216.34", False), ("2606:2800:220:1::1", False)])
def test_which_addresses_are_refused(address, refused):
    assert (AddressPolicy(enabled=True).refusal("lms.example", address) is not None) is refused


def test_allowlisted_names_and_networks_but_never_metadata():
    policy = AddressPolicy(enabled=True, allowed=["moodle.kaznu.local", "10.20.0.0/16",
                                                  "169.254.0.0/16"])
    assert policy.refusal("moodle.kaznu.local", "10.99.0.1") is None
    assert policy.refusal("other.local", "10.20.3.4") is None
    assert policy.refusal("other.local", "10.21.3.4") is not None
    assert policy.refusal("x", "169.254.169.254") == "a cloud metadata address"
    assert AddressPolicy(enabled=False).refusal("x", "169.254.169.254") is not None
