"""AGS URL and score shapes that real platforms depend on."""

import threading
import time
from datetime import UTC, datetime

import pytest

from lti_tool.gradebook.ags import score_body, service_url
from lti_tool.gradebook.lms import TokenCache


@pytest.mark.parametrize("lineitem, expected", [
    # Moodle: the query string stays after the path (appending to the whole URL is the bug).
    ("https://m.example.edu/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1",
     "https://m.example.edu/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=1"),
    ("https://canvas.example.edu/api/lti/courses/1/line_items/5",
     "https://canvas.example.edu/api/lti/courses/1/line_items/5/scores"),
    ("https://lms.example.edu/lineitems/5/", "https://lms.example.edu/lineitems/5/scores"),
])
def test_scores_url_keeps_the_query_after_the_path(lineitem, expected):
    assert service_url(lineitem, "scores") == expected


def test_score_body_carries_every_required_field():
    stamp = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    body = score_body(user_sub="42", score_given=7.5, score_maximum=10,
                      activity_progress="Completed", grading_progress="FullyGraded",
                      timestamp=stamp, comment="Verified portfolio")
    assert body == {"userId": "42", "scoreGiven": 7.5, "scoreMaximum": 10,
                    "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                    "timestamp": "2026-11-23T10:00:00.123+00:00", "comment": "Verified portfolio"}
    pending = score_body(user_sub="42", score_given=None, score_maximum=10,
                         activity_progress="Started", grading_progress="Pending", timestamp=stamp)
    assert "scoreGiven" not in pending and "scoreMaximum" not in pending


def test_token_cache_fetches_once_for_many_threads():
    cache, calls = TokenCache(), []

    def fetch():
        calls.append(1)
        time.sleep(0.05)
        return "token-1", 3600

    threads = [threading.Thread(target=cache.get, args=(("p", ("s",)), fetch)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    cache.drop(("p", ("s",)), "stale-token")  # another token: kept
    assert cache.get(("p", ("s",)), fetch) == "token-1" and len(calls) == 1
    cache.drop(("p", ("s",)), "token-1")
    cache.get(("p", ("s",)), fetch)
    assert len(calls) == 2


@pytest.mark.parametrize("header, expected", [
    ('<https://c.example/api/lti/courses/1/names_and_roles?page=2&per_page=50>; rel="next", '
     '<https://c.example/api/lti/courses/1/names_and_roles?page=1>; rel="first"',
     "https://c.example/api/lti/courses/1/names_and_roles?page=2&per_page=50"),
    # Moodle: typographic quotes and &amp; in the URL.
    ("<https://m.example/mod/lti/services.php/2/lineitems?type_id=1&amp;from=10&amp;limit=10>; "
     "rel=\u201cnext\u201d", "https://m.example/mod/lti/services.php/2/lineitems?type_id=1&from=10&limit=10"),
    ('<https://x.example/a>; rel="prev"', None),
    ("", None),
])
def test_next_link_is_found_even_in_moodle_link_headers(header, expected):
    import requests

    from lti_tool.gradebook.lms import next_link

    response = requests.Response()
    response.headers["Link"] = header
    assert next_link(response) == expected
