"""Which relaunches may skip writing their records: RecordCache's digest of a launch."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from lti_platform import Platform

from lti_tool.lti.constants import Claim
from lti_tool.lti.launch import Launch
from lti_tool.lti.records import LaunchRecord, RecordCache
from lti_tool.lti.roles import ToolRole


@pytest.fixture(scope="module")
def moodle_claims():
    """Two real Moodle-shaped launches of one student from one activity."""
    with Platform("moodle") as platform:
        tool = "https://tool.example.edu"
        platform.set_tool(tool + "/lti/login", tool + "/lti/launch",
                          tool + "/.well-known/jwks.json")
        return [platform.plan("student").claims(nonce) for nonce in ("nonce-1", "nonce-2")]


def launch_of(claims: dict) -> Launch:
    return Launch(platform=SimpleNamespace(id=1), deployment_id="1",
                  message_type="LtiResourceLinkRequest", claims=claims, role=ToolRole.LEARNER,
                  state_binding="cookie", message_launch=None)


def return_url(claims: dict) -> str:
    return claims[Claim.LAUNCH_PRESENTATION]["return_url"]


def test_moodle_relaunch_counts_as_the_same_launch_despite_its_new_sesskey(moodle_claims):
    first, second = moodle_claims
    assert return_url(first) != return_url(second)  # Moodle: a new sesskey every launch
    assert RecordCache.digest(launch_of(first)) == RecordCache.digest(launch_of(second))


@pytest.mark.parametrize("change", ["name", "locale", "frame_origin", "role", "course_title"])
def test_a_relaunch_that_changes_what_is_kept_is_written_again(moodle_claims, change):
    before = moodle_claims[0]
    after = copy.deepcopy(before)
    presentation = after[Claim.LAUNCH_PRESENTATION]
    if change == "name":
        after["name"] = "Aigerim Nurlanovna Seitkali"
    elif change == "locale":
        presentation["locale"] = "kk"
    elif change == "frame_origin":
        presentation["return_url"] = "https://moodle.other-university.kz/mod/lti/return.php"
    elif change == "role":
        after[Claim.ROLES] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
    else:
        after[Claim.CONTEXT] = {**after[Claim.CONTEXT], "title": "Renamed course"}
    assert RecordCache.digest(launch_of(before)) != RecordCache.digest(launch_of(after))


def test_the_cache_returns_what_was_put_while_fresh(moodle_claims):
    key = RecordCache.digest(launch_of(moodle_claims[0]))
    record = LaunchRecord(user_id=1, context_id=2, resource_link_id=3, placement="", digest=key)
    cache = RecordCache(ttl=60)
    assert cache.get(key) is None
    cache.put(record)
    assert (cache.get(key).user_id, cache.get(key).from_cache) == (1, True)
    cache.put(LaunchRecord(user_id=9, context_id=2, resource_link_id=3, placement=""))
    assert cache.get(key).user_id == 1  # a record without a digest is never cached

    stale = RecordCache(ttl=0)
    stale.put(record)
    assert stale.get(key) is None
