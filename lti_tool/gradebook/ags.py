"""LTI Assignment and Grade Services 2.0: line items, results, scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from ..lti.constants import Scope
from .lms import PlatformClient, ServiceError, check_status, next_link, parse_json

LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
MAX_PAGES = 200  # a course with more line items or results pages than this is broken

LINEITEM_SCOPES = [Scope.AGS_LINEITEM.value, Scope.AGS_LINEITEM_READONLY.value]
RESULT_SCOPES = [Scope.AGS_RESULT_READONLY.value]
SCORE_SCOPES = [Scope.AGS_SCORE.value]


def service_url(lineitem_url: str, service: str) -> str:
    """The scores or results URL of a line item: the path gets /scores, the query stays after.

    Moodle's line item URLs carry a query (`.../lineitem?type_id=1`); appending to the whole
    URL (`...?type_id=1/scores`) is a classic bug (platforms.md).
    """
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + service))


@dataclass(frozen=True)
class LineItemData:
    """A line item as the platform describes it."""

    url: str
    label: str
    score_maximum: float
    resource_id: str = ""
    resource_link_id: str = ""
    tag: str = ""


@dataclass(frozen=True)
class ResultData:
    """A result as the platform describes it."""

    user_id: str
    result_score: float | None
    result_maximum: float | None
    comment: str


def _line_item(raw: object) -> LineItemData:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ServiceError(f"a line item without an id: {str(raw)[:120]}", retryable=False)
    try:
        maximum = float(raw.get("scoreMaximum", 100))
    except (TypeError, ValueError) as err:
        raise ServiceError(f"line item {raw['id']}: bad scoreMaximum", retryable=False) from err
    return LineItemData(url=raw["id"], label=str(raw.get("label") or ""), score_maximum=maximum,
                        resource_id=str(raw.get("resourceId") or ""),
                        resource_link_id=str(raw.get("resourceLinkId") or ""),
                        tag=str(raw.get("tag") or ""))


def _pages(client: PlatformClient, url: str, scopes: list[str], accept: str,
           params: dict | None = None):
    for _ in range(MAX_PAGES):
        body, response = client.get_json(url, scopes, accept, params=params)
        yield body
        next_url = next_link(response)
        if not next_url:
            return
        url, params = next_url, None
    raise ServiceError(f"more than {MAX_PAGES} pages at {url}", retryable=False)


def list_line_items(client: PlatformClient, lineitems_url: str,
                    **filters: str) -> list[LineItemData]:
    """Every line item of a course (all pages); filters: resource_link_id, resource_id, tag."""
    items: list[LineItemData] = []
    params = {k: v for k, v in filters.items() if v} or None
    for page in _pages(client, lineitems_url, LINEITEM_SCOPES, LINEITEM_CONTAINER, params):
        if not isinstance(page, list):
            raise ServiceError(f"GET {lineitems_url}: not a list of line items", retryable=False)
        items.extend(_line_item(raw) for raw in page)
    return items


def create_line_item(client: PlatformClient, lineitems_url: str, *, label: str,
                     score_maximum: float, resource_link_id: str = "", resource_id: str = "",
                     tag: str = "") -> LineItemData:
    """POST a new line item (for a placement that has none yet)."""
    body: dict = {"label": label, "scoreMaximum": score_maximum}
    for key, value in (("resourceLinkId", resource_link_id), ("resourceId", resource_id),
                       ("tag", tag)):
        if value:
            body[key] = value
    response = client.request("POST", lineitems_url, [Scope.AGS_LINEITEM.value], body=body,
                              content_type=LINEITEM, accept=LINEITEM)
    check_status(response, f"POST {lineitems_url}")
    return _line_item(parse_json(response, f"POST {lineitems_url}"))


def list_results(client: PlatformClient, lineitem_url: str) -> list[ResultData]:
    """Every result of a line item (all pages)."""
    results: list[ResultData] = []
    url = service_url(lineitem_url, "results")
    for page in _pages(client, url, RESULT_SCOPES, RESULT_CONTAINER):
        if not isinstance(page, list):
            raise ServiceError(f"GET {url}: not a list of results", retryable=False)
        for raw in page:
            if not isinstance(raw, dict) or not raw.get("userId"):
                continue  # a result without a user is useless to us; skip, don't fail the pull
            results.append(ResultData(
                user_id=str(raw["userId"]), result_score=_number(raw.get("resultScore")),
                result_maximum=_number(raw.get("resultMaximum")),
                comment=str(raw.get("comment") or "")))
    return results


def _number(value: object) -> float | None:
    if not isinstance(value, str | int | float):  # None, or JSON that is no number
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def score_body(*, user_sub: str, score_given: float | None, score_maximum: float,
               activity_progress: str, grading_progress: str, timestamp: datetime,
               comment: str = "") -> dict:
    """An AGS score (§3.4): ISO 8601 timestamp with milliseconds and offset."""
    body: dict = {
        "userId": user_sub,
        "activityProgress": activity_progress,
        "gradingProgress": grading_progress,
        "timestamp": timestamp.isoformat(timespec="milliseconds"),
    }
    if score_given is not None:
        body["scoreGiven"] = score_given
        body["scoreMaximum"] = score_maximum
    if comment:
        body["comment"] = comment
    return body


def post_score(client: PlatformClient, lineitem_url: str, body: dict):
    """POST a score; returns the raw response (the caller decides what each status means)."""
    return client.request("POST", service_url(lineitem_url, "scores"), SCORE_SCOPES, body=body,
                          content_type=SCORE)
