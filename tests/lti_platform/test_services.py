"""Self-tests of the platform's AGS 2.0 and NRPS 2.0 endpoints and their faults, over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests

from . import (
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_NRPS,
    EXT_SUBMISSION,
    EXT_SUBMISSION_TYPE,
    MEDIA_LINEITEM,
    MEDIA_LINEITEM_CONTAINER,
    MEDIA_MEMBERSHIP_CONTAINER,
    MEDIA_RESULT_CONTAINER,
    MEDIA_SCORE,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    IssuedToken,
    Platform,
    public_key_pem,
)
from .claims import Profile
from .test_selftest import client_assertion, serve_tool, token_request

PROFILES = ["moodle", "canvas"]
ALL_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE,
              SCOPE_NRPS]
T0 = "2030-01-01T00:00:00"  # scores carry fixed timestamps: no dependence on the wall clock


def at(second: int) -> str:
    """A timestamp `second` seconds after T0, with milliseconds and an offset."""
    return f"2030-01-01T00:{second // 60:02d}:{second % 60:02d}.000+00:00"


def scores_url(line_item: str) -> str:
    """The scores URL of a line item: /scores on the path, the query kept after it."""
    parts = urlsplit(line_item)
    return urlunsplit(parts._replace(path=parts.path + "/scores"))


def results_url(line_item: str) -> str:
    """The results URL of a line item."""
    parts = urlsplit(line_item)
    return urlunsplit(parts._replace(path=parts.path + "/results"))


class Client:
    """A tool's calls to the platform's services with one bearer token."""

    def __init__(self, platform: Platform, scopes: list[str] | None = None) -> None:
        self.platform = platform
        form = {"scope": " ".join(scopes or ALL_SCOPES)}
        resp = token_request(platform, client_assertion(platform), **form)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    def headers(self, **extra: str) -> dict[str, str]:
        """Authorization plus `extra`."""
        return {"Authorization": f"Bearer {self.token}", **extra}

    def get(self, url: str, accept: str, **kw: Any) -> requests.Response:
        """GET with an Accept media type."""
        kw.setdefault("timeout", 5)
        return requests.get(url, headers=self.headers(Accept=accept), **kw)

    def send(self, method: str, url: str, body: Any, media: str, **kw: Any) -> requests.Response:
        """POST or PUT a JSON body with a Content-Type media type."""
        kw.setdefault("timeout", 5)
        return requests.request(method, url, data=json.dumps(body),
                                headers=self.headers(**{"Content-Type": media}), **kw)

    def score(self, line_item: str, user_id: str, given: float | None = None,
              maximum: float | None = None, stamp: str = T0 + ".000+00:00",
              progress: str = "FullyGraded", **extra: Any) -> requests.Response:
        """POST a score (timestamps are fixed so the tests do not depend on the clock)."""
        body: dict[str, Any] = {"userId": user_id, "activityProgress": "Completed",
                                "gradingProgress": progress, "timestamp": stamp, **extra}
        if given is not None:
            body["scoreGiven"] = given
        if maximum is not None:
            body["scoreMaximum"] = maximum
        return self.send("POST", scores_url(line_item), body, MEDIA_SCORE,
                         timeout=extra.pop("timeout", 5))

    def new_item(self, course: int, label: str = "Essay", maximum: float = 100,
                 **fields: Any) -> str:
        """Create a line item through the service; its URL."""
        resp = self.send("POST", self.platform.lineitems_url(course),
                         {"label": label, "scoreMaximum": maximum, **fields}, MEDIA_LINEITEM)
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])


@contextmanager
def serving(profile: Profile, scopes: list[str] | None = None) -> Iterator[Client]:
    """A started platform with a registered tool, and a client holding a token."""
    with Platform(profile) as platform, serve_tool(platform):
        yield Client(platform, scopes)


def course_of(platform: Platform) -> int:
    """The course plans use by default."""
    return 2 if platform.profile == "moodle" else 1


def students(platform: Platform, n: int) -> list[str]:
    """Enrol `n` students in the default course; their AGS/NRPS user ids."""
    return [u.sub for u in platform.add_members(course_of(platform), n)]


# -- claims, tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_launch_claims_point_at_live_services(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        plan = p.plan("student")
        claims = p.claims_for(plan, "n")
        ags, nrps = claims[CLAIM_AGS], claims[CLAIM_NRPS]
        assert ags["lineitems"] == p.lineitems_url(plan.course)
        items = c.get(ags["lineitems"], MEDIA_LINEITEM_CONTAINER)
        assert items.status_code == 200, items.text
        assert items.headers["Content-Type"].startswith(MEDIA_LINEITEM_CONTAINER)
        if profile == "moodle":
            # The activity's own grade item, with the query string at the end.
            assert ags["lineitem"].endswith("/lineitem?type_id=1")
            assert [i["id"] for i in items.json()] == [ags["lineitem"]]
            item = c.get(ags["lineitem"], MEDIA_LINEITEM).json()
            assert item["label"] == "Portfolio" and item["resourceLinkId"] == "1"
        else:
            assert "lineitem" not in ags and items.json() == []  # course navigation launch
        members = c.get(nrps["context_memberships_url"], MEDIA_MEMBERSHIP_CONTAINER)
        assert members.status_code == 200, members.text
        assert members.headers["Content-Type"].startswith(MEDIA_MEMBERSHIP_CONTAINER)
        body = members.json()
        assert body["context"]["id"] == claims[CLAIM_CONTEXT]["id"]
        assert [(m["user_id"], m["status"]) for m in body["members"]] == [(plan.user.sub,
                                                                           "Active")]
        assert ROLE_LEARNER in body["members"][0]["roles"]
        assert p.counts["lineitems"] == 1 and p.counts["memberships"] == 1


@pytest.mark.parametrize("profile", PROFILES)
def test_bearer_token_required(profile: Profile) -> None:
    with serving(profile, [SCOPE_SCORE]) as c:
        p = c.platform
        url = p.memberships_url(course_of(p))
        p.plan("student")
        accept = {"Accept": MEDIA_MEMBERSHIP_CONTAINER}
        missing = requests.get(url, headers=accept, timeout=5)
        unknown = requests.get(url, headers={**accept, "Authorization": "Bearer nope"}, timeout=5)
        now = int(time.time())
        expired = p.sign({"iss": p.issuer, "sub": p.client_id, "iat": now - 7200,
                          "exp": now - 3600, "scopes": SCOPE_NRPS})
        p.issued_tokens[expired] = IssuedToken(expired, p.client_id, frozenset([SCOPE_NRPS]),
                                               now - 3600, public_key_pem(p.private_key_pem))
        old = requests.get(url, headers={**accept, "Authorization": f"Bearer {expired}"},
                           timeout=5)
        # Both LMSs answer a token without the scope with 401, not 403.
        scope = c.get(url, MEDIA_MEMBERSHIP_CONTAINER)
        for resp in (missing, unknown, old, scope):
            assert resp.status_code == 401, resp.text
            assert resp.headers["Content-Type"].startswith("application/json")
        if profile == "moodle":
            assert scope.json()["status"] == 401 and scope.json()["reason"] == "Unauthorized"
        else:
            assert scope.json() == {"errors": {"type": "unauthorized",
                                               "message": "Insufficient permissions"}}
            assert missing.json()["errors"]["message"] == "Missing access token"
            assert old.json()["errors"]["message"] == "Access token expired"


def test_moodle_type_id_must_be_the_tokens_tool() -> None:
    with serving("moodle") as c:
        url = c.platform.lineitems_url(2)
        c.platform.plan("student")
        assert c.get(url, MEDIA_LINEITEM_CONTAINER).status_code == 200
        assert c.get(url.replace("type_id=1", "type_id=9"),
                     MEDIA_LINEITEM_CONTAINER).status_code == 401
        members = c.platform.memberships_url(2)
        assert c.get(members, MEDIA_MEMBERSHIP_CONTAINER).status_code == 200
        other_tool = members.replace("/bindings/1/", "/bindings/9/")
        assert c.get(other_tool, MEDIA_MEMBERSHIP_CONTAINER).status_code == 401


# -- line items ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_line_item_create_read_update_delete(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        course = course_of(p)
        rl_id = p.claims_for(p.plan("student"), "n")[
            "https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"]
        body: dict[str, Any] = {"label": "Essay", "scoreMaximum": 50, "resourceId": "essay-1",
                                "tag": "final", "resourceLinkId": rl_id}
        if profile == "canvas":
            body[EXT_SUBMISSION_TYPE] = {"type": "external_tool",
                                         "external_tool_url": "https://tool.example/launch"}
        created = c.send("POST", p.lineitems_url(course), body, MEDIA_LINEITEM)
        assert created.status_code == 201, created.text
        assert created.headers["Content-Type"].startswith(MEDIA_LINEITEM)
        url = created.json()["id"]
        if profile == "moodle":
            assert url.startswith(f"{p.base_url}/mod/lti/services.php/2/lineitems/")
            assert url.endswith("/lineitem?type_id=1")
        else:
            assert url.startswith(f"{p.base_url}/api/lti/courses/1/line_items/")
            assert created.json()[EXT_SUBMISSION_TYPE]["type"] == "external_tool"
        shown = c.get(url, MEDIA_LINEITEM).json()
        assert (shown["id"], shown["label"], shown["scoreMaximum"], shown["resourceId"],
                shown["tag"], shown["resourceLinkId"]) == (url, "Essay", 50, "essay-1", "final",
                                                           rl_id)
        for query, expected in [({"tag": "final"}, [url]), ({"tag": "other"}, []),
                                ({"resource_id": "essay-1"}, [url]),
                                ({"resource_link_id": rl_id}, [url])]:
            listed = c.get(p.lineitems_url(course), MEDIA_LINEITEM_CONTAINER, params=query)
            assert [i["id"] for i in listed.json() if i["id"] == url] == expected, query
        changed = c.send("PUT", url, {**shown, "label": "Essay 2", "scoreMaximum": 60},
                         MEDIA_LINEITEM)
        assert changed.status_code == 200 and changed.json()["label"] == "Essay 2"
        assert c.get(url, MEDIA_LINEITEM).json()["scoreMaximum"] == 60
        deleted = requests.delete(url, headers=c.headers(), timeout=5)
        assert deleted.status_code == 204
        gone = c.get(url, MEDIA_LINEITEM)
        assert gone.status_code == 404 and gone.headers["Content-Type"].startswith(
            "application/json")
        assert p.counts["lineitem"] == 5 and p.counts["lineitems"] == 5


@pytest.mark.parametrize("profile", PROFILES)
def test_line_item_create_refusals(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        p.plan("student")
        url = p.lineitems_url(course_of(p))
        assert c.send("POST", url, {"scoreMaximum": 10}, MEDIA_LINEITEM).status_code == 400
        assert c.send("POST", url, {"label": "x"}, MEDIA_LINEITEM).status_code == 400
        unknown_link = c.send("POST", url, {"label": "x", "scoreMaximum": 1,
                                            "resourceLinkId": "999"}, MEDIA_LINEITEM)
        assert unknown_link.status_code == (403 if profile == "moodle" else 404)
        assert c.get(url.replace(f"/{course_of(p)}/", "/77/"),
                     MEDIA_LINEITEM_CONTAINER).status_code == 404


def test_canvas_line_items_page_with_link_headers() -> None:
    with serving("canvas") as c:
        p = c.platform
        p.plan("student")
        made = [p.add_line_item(1, f"Item {i}", 10, tag="t") for i in range(5)]
        resp = c.get(p.lineitems_url(1), MEDIA_LINEITEM_CONTAINER, params={"limit": 2})
        seen = []
        while True:
            assert resp.status_code == 200 and len(resp.json()) <= 2
            seen += [i["id"] for i in resp.json()]
            if "next" not in resp.links:
                break
            assert {"current", "first", "last"} <= set(resp.links)
            resp = c.get(resp.links["next"]["url"], MEDIA_LINEITEM_CONTAINER)
        assert seen == made
        # Without limit Canvas pages by 10.
        many = [p.add_line_item(1, f"More {i}", 10) for i in range(8)]
        first = c.get(p.lineitems_url(1), MEDIA_LINEITEM_CONTAINER)
        assert len(first.json()) == 10 and "next" in first.links and len(many) == 8


def test_moodle_line_items_paging_and_its_link_header_bugs() -> None:
    with serving("moodle") as c:
        p = c.platform
        p.plan("student")
        made = [p.add_line_item(2, f"Item {i}", 10) for i in range(4)]
        url = p.lineitems_url(2)
        every = [i["id"] for i in c.get(url, MEDIA_LINEITEM_CONTAINER).json()]
        assert every[1:] == made and len(every) == 5  # the activity's item comes first
        page = c.get(url, MEDIA_LINEITEM_CONTAINER, params={"limit": 2})
        assert len(page.json()) == 2
        # Real Moodle: rel=“next” with typographic quotes and &amp; separators.
        link = page.headers["Link"].encode("latin-1").decode("utf-8")
        assert "rel=\u201cnext\u201d" in link and "&amp;limit=2" in link
        assert "next" not in page.links
        p.quirks.discard("link_header_bugs")
        resp = c.get(url, MEDIA_LINEITEM_CONTAINER, params={"limit": 2})
        seen = []
        while True:
            seen += [i["id"] for i in resp.json()]
            nxt = resp.links.get("next")
            if not nxt:
                break
            assert parse_qs(urlsplit(nxt["url"]).query)["type_id"] == ["1"]
            resp = c.get(nxt["url"], MEDIA_LINEITEM_CONTAINER)
        assert seen == every


def test_moodle_media_types_and_routes_are_strict() -> None:
    with serving("moodle") as c:
        p = c.platform
        item = p.claims_for(p.plan("student"), "n")[CLAIM_AGS]["lineitem"]
        sam = p.plan("student").user.sub
        # requests' default Accept */* is refused for the container; only its media type works.
        assert requests.get(p.lineitems_url(2), headers=c.headers(), timeout=5).status_code == 400
        wrong_type = c.send("POST", scores_url(item),
                            {"userId": sam, "activityProgress": "Completed",
                             "gradingProgress": "FullyGraded", "timestamp": at(0)},
                            "application/json")
        assert wrong_type.status_code == 400
        # The classic bug: /scores after the query string. No resource matches: 400.
        appended = c.send("POST", item + "/scores",
                          {"userId": sam, "activityProgress": "Completed",
                           "gradingProgress": "FullyGraded", "timestamp": at(0)}, MEDIA_SCORE)
        assert appended.status_code == 400 and appended.json()["status"] == 400
        # Unanchored templates: results asked for with Accept */* are answered by the line item.
        lookalike = requests.get(results_url(item), headers=c.headers(), timeout=5)
        assert lookalike.status_code == 200 and lookalike.json()["id"] == item
        assert p.counts["services_unmatched"] == 2 and p.score_log == []
        p.quirks.clear()
        assert requests.get(p.lineitems_url(2), headers=c.headers(), timeout=5).status_code == 200
        assert requests.get(results_url(item), headers=c.headers(), timeout=5).json() == []


# -- scores --------------------------------------------------------------------------------------


def test_moodle_scores_normalise_and_refuse_the_same_second() -> None:
    with serving("moodle") as c:
        p = c.platform
        item = p.claims_for(p.plan("student"), "n")[CLAIM_AGS]["lineitem"]
        sam = p.plan("student").user.sub
        ok = c.score(item, sam, 7.5, 10, T0 + ".100+00:00", comment="Good")
        assert ok.status_code == 200 and ok.content == b""
        assert ok.headers["Content-Type"].startswith(MEDIA_SCORE)
        assert p.scores(item) == {sam: {
            "scoreGiven": 75.0, "scoreMaximum": 100.0, "timestamp": T0 + ".100+00:00",
            "activityProgress": "Completed", "gradingProgress": "FullyGraded", "comment": "Good"}}
        # 500 ms later, same second: refused. The stored grade stays 75.
        same = c.score(item, sam, 9, 10, T0 + ".600+00:00")
        assert same.status_code == 409 and same.content == b"[]"
        older = c.score(item, sam, 9, 10, "2029-12-31T23:59:59.900+00:00")
        assert older.status_code == 409 and p.scores(item)[sam]["scoreGiven"] == 75.0
        later = c.score(item, sam, 9, 10, "2030-01-01T00:00:01.000+00:00")
        assert later.status_code == 200 and p.scores(item)[sam]["scoreGiven"] == 90.0
        assert [e.status for e in p.score_log] == [200, 409, 409, 200]
        assert [e.applied for e in p.score_log] == [True, False, False, True]
        assert p.score_log[0].line_item == item and p.score_log[0].user_id == sam


def test_moodle_score_refusals() -> None:
    with serving("moodle") as c:
        p = c.platform
        item = p.claims_for(p.plan("student"), "n")[CLAIM_AGS]["lineitem"]
        sam = p.plan("student").user.sub
        teacher = p.plan("teacher").user.sub
        stamp = T0 + ".000+00:00"
        assert c.score(item, "424242", 1, 1, stamp).status_code == 400  # not in the course
        assert c.score(item, teacher, 1, 1, stamp).status_code == 400  # not a student
        assert c.score(item, sam, 1, None, stamp).status_code == 400  # scoreGiven, no maximum
        assert c.score(item, sam, 1, 1, "yesterday").status_code == 400
        no_progress = c.send("POST", scores_url(item), {"userId": sam, "timestamp": stamp},
                             MEDIA_SCORE)
        assert no_progress.status_code == 400
        # Suspended students stay gradable in Moodle; unenrolled ones are not.
        p.set_member_status(2, sam, "Inactive")
        assert c.score(item, sam, 1, 2, stamp).status_code == 200
        p.set_member_status(2, sam, "Deleted")
        assert c.score(item, sam, 1, 2, at(5)).status_code == 400
        p.set_member_status(2, sam, "Active")
        # Any grading progress but FullyGraded clears the grade.
        assert c.score(item, sam, 1, 2, at(9), progress="Pending").status_code == 200
        assert p.scores(item)[sam]["scoreGiven"] is None
        p.delete_line_item(item)
        assert c.score(item, sam, 1, 2, at(10)).status_code == 404


def test_canvas_scores() -> None:
    with serving("canvas") as c:
        p = c.platform
        sam = p.plan("student").user
        teacher = p.plan("teacher").user.sub
        item = c.new_item(1, "Quiz", 100)
        ok = c.score(item, sam.sub, 7.5, 10, T0 + ".500+00:00", comment="Nice",
                     **{EXT_SUBMISSION: {"new_submission": True, "submission_type": "online_url",
                                         "submission_data": "https://work.example/1"}})
        assert ok.status_code == 200 and ok.headers["Content-Type"].startswith(MEDIA_SCORE)
        result = c.get(ok.json()["resultUrl"], MEDIA_RESULT_CONTAINER).json()
        assert (result["userId"], result["resultScore"], result["resultMaximum"],
                result["comment"]) == (sam.sub, 7.5, 10, "Nice")
        assert result[EXT_SUBMISSION]["submission_type"] == "online_url"
        assert p.scores(item)[sam.sub]["scoreGiven"] == 75.0
        # The same timestamp again is accepted; an older one is refused with 400.
        assert c.score(item, sam.sub, 8, 10, T0 + ".500+00:00").status_code == 200
        older = c.score(item, sam.sub, 9, 10, T0 + ".499+00:00")
        assert older.status_code == 400 and "before last updated" in older.json()["errors"][
            "message"]
        assert p.scores(item)[sam.sub]["scoreGiven"] == 80.0
        for user in (teacher, "no-such-user"):
            refused = c.score(item, user, 1, 1, at(1))
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"]["message"] == (
                "User not found in course or is not a student")
        assert c.score(item, sam.sub, 1, None, at(1)).status_code == 422
        assert c.score(item, sam.sub, 1, 1, "not a time").status_code == 400
        # The Canvas numeric user id works too (as a string).
        assert c.score(item, sam.id, 5, 10, at(2)).status_code == 200
        assert c.score(item, sam.sub, 5, 10, at(3), progress="Pending").status_code == 200
        assert p.scores(item)[sam.sub]["scoreGiven"] is None  # Pending: scoreGiven ignored
        p.set_member_status(1, sam.sub, "Inactive")
        assert c.score(item, sam.sub, 5, 10, at(4)).status_code == 422
        p.delete_line_item(item)
        assert c.score(item, sam.sub, 5, 10, at(5)).status_code == 404


@pytest.mark.parametrize("profile", PROFILES)
def test_parallel_scores_are_all_kept(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        users = students(p, 40)
        items = [c.new_item(course_of(p), f"Unit {i}", 10) for i in range(5)]
        jobs = [(item, user, (n % 10) + 0.5) for item in items for n, user in enumerate(users)]
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda job: c.score(job[0], job[1], job[2], 10).status_code,
                                     jobs))
        assert statuses == [200] * 200
        for item in items:
            stored = p.scores(item)
            assert len(stored) == 40
            assert stored[users[3]]["scoreGiven"] == 3.5
        assert len(p.score_log) == 200 and p.counts["scores"] == 200


# -- results -------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_results(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        users = students(p, 3)
        item = c.new_item(course_of(p), "Lab", 20)
        for n, user in enumerate(users):
            p.set_result(item, user, 2.0 * (n + 1), 20, comment=f"c{n}",
                         timestamp=T0 + ".000+00:00")
        resp = c.get(results_url(item), MEDIA_RESULT_CONTAINER)
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith(MEDIA_RESULT_CONTAINER)
        rows = resp.json()
        assert [(r["userId"], r["resultScore"], r["resultMaximum"], r["comment"])
                for r in rows] == [(u, 2.0 * (n + 1), 20, f"c{n}") for n, u in enumerate(users)]
        assert all(r["scoreOf"] == item for r in rows)
        assert all(r["id"].startswith(item.split("?")[0] + "/results") for r in rows)
        one = c.get(results_url(item), MEDIA_RESULT_CONTAINER, params={"user_id": users[1]})
        assert [r["userId"] for r in one.json()] == [users[1]]
        if profile == "canvas":
            paged = c.get(results_url(item), MEDIA_RESULT_CONTAINER, params={"limit": 2})
            assert len(paged.json()) == 2
            rest = c.get(paged.links["next"]["url"], MEDIA_RESULT_CONTAINER).json()
            assert [r["userId"] for r in paged.json() + rest] == users
        assert p.counts["results"] == (2 if profile == "moodle" else 4)


def test_moodle_results_quirks() -> None:
    with serving("moodle") as c:
        p = c.platform
        users = students(p, 3)
        item = c.new_item(2, "Lab", 20)
        for user in users:
            p.set_result(item, user, 0 if user == users[0] else 5, 20)
        rows = c.get(results_url(item), MEDIA_RESULT_CONTAINER).json()
        assert "resultScore" not in rows[0] and rows[1]["resultScore"] == 5.0  # PHP empty(0)
        # Paging results with limit and type_id dies in results.php ($lastpage is null).
        assert c.get(results_url(item), MEDIA_RESULT_CONTAINER,
                     params={"limit": 2}).status_code == 500
        p.quirks -= {"results_paging_500", "link_header_bugs", "zero_result_no_score"}
        page = c.get(results_url(item), MEDIA_RESULT_CONTAINER, params={"limit": 2})
        assert len(page.json()) == 2 and "next" in page.links
        assert page.json()[0]["resultScore"] == 0.0


# -- memberships ---------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_memberships_shape_and_roles(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        course = course_of(p)
        sam, terry = p.plan("student").user, p.plan("teacher").user
        url = p.memberships_url(course)
        body = c.get(url, MEDIA_MEMBERSHIP_CONTAINER).json()
        assert body["context"]["label"] == f"C{course}"
        assert body["context"]["title"] == f"Course {course}"
        member = next(m for m in body["members"] if m["user_id"] == sam.sub)
        assert (member["status"], member["name"], member["given_name"], member["family_name"],
                member["email"]) == ("Active", sam.name, sam.given_name, sam.family_name,
                                     sam.email)
        if profile == "moodle":
            assert body["id"] == url and member["lis_person_sourcedid"] == ""
        else:
            assert member["lti11_legacy_user_id"] == sam.opaque_id
        full = {"role": ROLE_INSTRUCTOR}
        teachers = c.get(url, MEDIA_MEMBERSHIP_CONTAINER, params=full).json()["members"]
        assert [m["user_id"] for m in teachers] == [terry.sub]
        short = c.get(url, MEDIA_MEMBERSHIP_CONTAINER, params={"role": "Learner"}).json()
        if profile == "moodle":
            assert [m["user_id"] for m in short["members"]] == [sam.sub]
        else:
            assert short["members"] == []  # Canvas knows full role URIs only
            p.quirks.discard("role_filter_full_uri")
            again = c.get(url, MEDIA_MEMBERSHIP_CONTAINER, params={"role": "Learner"}).json()
            assert [m["user_id"] for m in again["members"]] == [sam.sub]


def test_canvas_memberships_page_by_fifty() -> None:
    with serving("canvas") as c:
        p = c.platform
        made = students(p, 120)
        resp = c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER)
        seen, pages = [], 0
        while True:
            pages += 1
            seen += [m["user_id"] for m in resp.json()["members"]]
            if "next" not in resp.links:
                assert "differences" not in resp.links  # Canvas sends none
                break
            resp = c.get(resp.links["next"]["url"], MEDIA_MEMBERSHIP_CONTAINER)
        assert pages == 3 and seen == made
        rlid = p.claims_for(p.plan("student"), "n")[
            "https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"]
        small = c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER,
                      params={"limit": 5, "rlid": rlid})
        assert len(small.json()["members"]) == 5 and "message" in small.json()["members"][0]
        assert "rlid=" in small.links["next"]["url"] and "per_page=5" in small.links["next"]["url"]
        bad = c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER, params={"rlid": "nope"})
        assert bad.status_code == 400


def test_moodle_memberships_paging_loses_the_role_filter() -> None:
    with serving("moodle") as c:
        p = c.platform
        made = students(p, 5)
        teachers = p.add_members(2, 2, "Instructor")
        url = p.memberships_url(2)
        assert len(c.get(url, MEDIA_MEMBERSHIP_CONTAINER).json()["members"]) == 7
        page = c.get(url, MEDIA_MEMBERSHIP_CONTAINER, params={"role": "Learner", "limit": 3})
        assert [m["user_id"] for m in page.json()["members"]] == made[:3]
        nxt = page.links["next"]["url"]
        assert nxt == f"{url}?limit=3&from=3"  # Moodle drops the role from the next link
        rest = c.get(nxt, MEDIA_MEMBERSHIP_CONTAINER).json()["members"]
        assert [m["user_id"] for m in rest] == made[3:] + [t.sub for t in teachers][:1]
        p.quirks.discard("nrps_next_drops_role")
        page = c.get(url, MEDIA_MEMBERSHIP_CONTAINER, params={"role": "Learner", "limit": 3})
        rest = c.get(page.links["next"]["url"], MEDIA_MEMBERSHIP_CONTAINER).json()["members"]
        assert [m["user_id"] for m in rest] == made[3:]


@pytest.mark.parametrize("profile", PROFILES)
def test_nrps_differences_opt_in(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        course = course_of(p)
        made = students(p, 4)
        url = p.memberships_url(course)
        assert "differences" not in c.get(url, MEDIA_MEMBERSHIP_CONTAINER).links
        p.nrps_differences = True
        first = c.get(url, MEDIA_MEMBERSHIP_CONTAINER)
        diff_url = first.links["differences"]["url"]
        p.set_member_status(course, made[0], "Inactive")
        p.set_member_status(course, made[1], "Deleted")
        newcomer = students(p, 1)[0]
        changes = c.get(diff_url, MEDIA_MEMBERSHIP_CONTAINER)
        assert {m["user_id"]: m["status"] for m in changes.json()["members"]} == {
            made[0]: "Inactive", made[1]: "Deleted", newcomer: "Active"}
        assert "differences" in changes.links
        now = [m["user_id"] for m in c.get(url, MEDIA_MEMBERSHIP_CONTAINER).json()["members"]]
        assert now == [*made[2:], newcomer]
        nothing = c.get(changes.links["differences"]["url"], MEDIA_MEMBERSHIP_CONTAINER)
        assert nothing.json()["members"] == []


# -- faults --------------------------------------------------------------------------------------


def test_delay_applies_to_every_service_answer() -> None:
    with serving("canvas") as c:
        p = c.platform
        p.faults.delay = 0.05
        started = time.monotonic()
        assert c.get(p.lineitems_url(1), MEDIA_LINEITEM_CONTAINER).status_code == 404  # no course
        assert c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER).status_code == 404
        assert time.monotonic() - started >= 0.1


def _statuses_with_seed(seed: int) -> list[int]:
    with serving("moodle") as c:
        p = c.platform
        users = students(p, 20)
        item = c.new_item(2)
        p.faults.seed = seed
        p.faults.fail_ratio = 0.5
        statuses = [c.score(item, u, 1, 1).status_code for u in users]
        # Only scores fail by default.
        assert c.get(p.lineitems_url(2), MEDIA_LINEITEM_CONTAINER).status_code == 200
        assert p.faults.injected["scores:500"] == statuses.count(500)
        assert [e.status for e in p.score_log] == statuses
        return statuses


def test_fail_ratio_is_deterministic_given_the_seed() -> None:
    first, second, other = _statuses_with_seed(7), _statuses_with_seed(7), _statuses_with_seed(8)
    assert first == second and first != other
    assert set(first) == {200, 500}


@pytest.mark.parametrize("profile", PROFILES)
def test_fail_first_n_429_then_503(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        sam = students(p, 1)[0]
        item = c.new_item(course_of(p))
        p.faults.fail_with = "429"
        p.faults.retry_after = 3
        p.faults.fail_first_n = 2
        throttled = [c.score(item, sam, 1, 1, at(i)) for i in range(3)]
        assert [r.status_code for r in throttled] == [429, 429, 200]
        assert throttled[0].headers["Retry-After"] == "3" and p.faults.fail_first_n == 0
        p.faults.fail_with = "503"
        p.faults.fail_endpoints = {"memberships"}
        p.faults.fail_first_n = 1
        down = c.get(p.memberships_url(course_of(p)), MEDIA_MEMBERSHIP_CONTAINER)
        assert down.status_code == 503 and down.headers["Content-Type"].startswith("text/html")
        assert c.get(p.memberships_url(course_of(p)),
                     MEDIA_MEMBERSHIP_CONTAINER).status_code == 200
        with pytest.raises(ValueError):
            p.faults.fail_with = "418"


@pytest.mark.parametrize("profile", PROFILES)
def test_timeout_applies_the_score_but_loses_the_answer(profile: Profile) -> None:
    with serving(profile) as c:
        p = c.platform
        sam = students(p, 1)[0]
        item = c.new_item(course_of(p), maximum=10)
        p.faults.fail_with = "timeout"
        p.faults.hang_seconds = 1.0
        p.faults.fail_first_n = 1
        with pytest.raises(requests.Timeout):
            c.score(item, sam, 4, 10, timeout=0.3)
        assert p.scores(item)[sam]["scoreGiven"] == 4.0
        # The retry of the same score: Moodle refuses the same second, Canvas accepts it.
        retry = c.score(item, sam, 4, 10)
        assert retry.status_code == (409 if profile == "moodle" else 200)


def test_down_closes_connections_until_up() -> None:
    with serving("moodle") as c:
        p = c.platform
        sam = students(p, 1)[0]
        item = c.new_item(2)
        p.faults.down()
        with pytest.raises(requests.ConnectionError):
            c.get(p.lineitems_url(2), MEDIA_LINEITEM_CONTAINER)
        with pytest.raises(requests.ConnectionError):
            c.score(item, sam, 1, 1)
        assert token_request(p, client_assertion(p)).status_code == 200  # tokens still work
        p.faults.down(token=True)
        with pytest.raises(requests.ConnectionError):
            token_request(p, client_assertion(p))
        p.faults.up()
        assert c.score(item, sam, 1, 1).status_code == 200
        assert [(e.status, e.fault) for e in p.score_log] == [(None, "down"), (200, None)]
        assert p.counts["scores"] == 2


@pytest.mark.parametrize("kind", ["html", "truncated_json", "wrong_content_type",
                                  "missing_field"])
def test_bad_answers(kind: str) -> None:
    with serving("canvas") as c:
        p = c.platform
        students(p, 2)
        p.faults.set_bad_answer("memberships", kind)
        resp = c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER)
        assert resp.status_code == 200
        if kind in ("html", "wrong_content_type"):
            assert resp.headers["Content-Type"].startswith("text/html")
        if kind == "truncated_json":
            with pytest.raises(ValueError):
                resp.json()
        if kind == "missing_field":
            assert "members" not in resp.json() and "context" in resp.json()
        p.faults.set_bad_answer("memberships", None)
        assert len(c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER).json()["members"]) == 2
        with pytest.raises(ValueError):
            p.faults.set_bad_answer("memberships", "garbage")


def test_huge_pages() -> None:
    with serving("moodle") as c:
        p = c.platform
        students(p, 1)
        item = c.new_item(2)
        p.faults.set_bad_answer("memberships", "huge_page")
        p.faults.set_bad_answer("lineitem", "huge_page")
        members = c.get(p.memberships_url(2), MEDIA_MEMBERSHIP_CONTAINER).json()["members"]
        assert len(members) == 50_000
        big = c.get(item, MEDIA_LINEITEM)
        assert len(big.content) > 20 << 20 and big.json()["id"] == item


def test_hang_closes_without_answer_and_stop_does_not_wait() -> None:
    with serving("canvas") as c:
        p = c.platform
        sam = students(p, 1)[0]
        item = c.new_item(1)
        p.faults.set_bad_answer("scores", "hang")
        p.faults.hang_seconds = 0.2
        with pytest.raises(requests.ConnectionError):
            c.score(item, sam, 1, 1)
        assert p.scores(item) == {} and p.score_log[0].fault == "hang"
        p.faults.hang_seconds = 30
        errors: list[BaseException] = []

        def post() -> None:
            try:
                c.score(item, sam, 1, 1, timeout=10)
            except requests.RequestException as err:
                errors.append(err)

        worker = threading.Thread(target=post)
        worker.start()
        time.sleep(0.2)
        started = time.monotonic()
        p.stop()
        worker.join(5)
        assert time.monotonic() - started < 2 and not worker.is_alive() and len(errors) == 1


def test_counts_name_every_endpoint() -> None:
    with serving("canvas") as c:
        p = c.platform
        sam = students(p, 1)[0]
        item = c.new_item(1)
        c.score(item, sam, 1, 1)
        c.get(results_url(item), MEDIA_RESULT_CONTAINER)
        c.get(item, MEDIA_LINEITEM)
        c.get(p.memberships_url(1), MEDIA_MEMBERSHIP_CONTAINER)
        assert {k: p.counts[k] for k in ("lineitems", "lineitem", "scores", "results",
                                         "memberships")} == dict.fromkeys(
            ("lineitems", "lineitem", "scores", "results", "memberships"), 1)
