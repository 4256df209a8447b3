"""LTI Names and Role Provisioning Services 2.0: course rosters, with paging and differences."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lti.constants import Scope
from .lms import PlatformClient, ServiceError, next_link

MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SCOPES = [Scope.NRPS_READONLY.value]
MAX_PAGES = 500
# The largest course roster we accept in one pull; more is a broken or hostile answer, and
# storing it would take the database down with it.
MAX_MEMBERS = 20_000


@dataclass(frozen=True)
class Member:
    """One member of a course as NRPS says."""

    user_id: str
    roles: tuple[str, ...]
    status: str
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""


@dataclass
class Roster:
    """A pulled roster and the link that asks for changes since this pull."""

    members: list[Member] = field(default_factory=list)
    differences_url: str | None = None
    pages: int = 0


def _member(raw: object) -> Member | None:
    if not isinstance(raw, dict) or not raw.get("user_id"):
        return None
    roles = raw.get("roles") or []
    status = str(raw.get("status") or "Active")
    if status not in ("Active", "Inactive", "Deleted"):
        status = "Active"
    return Member(
        user_id=str(raw["user_id"]),
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        status=status,
        **{k: str(raw.get(k) or "")[:255] for k in ("name", "given_name", "family_name", "email")},
    )


def fetch_roster(client: PlatformClient, url: str, *, role: str | None = None,
                 limit: int | None = None) -> Roster:
    """All pages of a memberships URL (or of a differences URL from the previous pull)."""
    roster = Roster()
    params = {k: v for k, v in (("role", role), ("limit", limit)) if v} or None
    next_url: str | None = url
    while next_url:
        if roster.pages >= MAX_PAGES:
            raise ServiceError(f"more than {MAX_PAGES} roster pages at {url}", retryable=False)
        body, response = client.get_json(next_url, SCOPES, MEMBERSHIP_CONTAINER, params=params)
        params = None
        roster.pages += 1
        if not isinstance(body, dict) or not isinstance(body.get("members"), list):
            raise ServiceError(f"GET {next_url}: no members list in the answer", retryable=False)
        roster.members.extend(m for m in map(_member, body["members"]) if m)
        if len(roster.members) > MAX_MEMBERS:
            raise ServiceError(f"more than {MAX_MEMBERS} members at {url}", retryable=False)
        roster.differences_url = next_link(response, "differences") or roster.differences_url
        next_url = next_link(response)
    return roster
