"""Who may do what with staff learning records (service layer).

The staff non-formal education rules' roles (7.1) and how the tool knows them:
- participant: anyone launching as a learner, teacher or administrator records their own
  activities (staff open the tool from a staff-development course as learners);
- head of department or clinical base, methodological expert, commission secretary, HR: named
  on the roles page by a TeachHub coordinator (the LMS has no such roles); a head is named for
  one or more departments and sees only the activities of people of those departments;
- a TeachHub coordinator (a platform administrator, a person an administrator named, or a
  launch with a role of `teachhub.coordinator_roles`) holds the secretary's and HR's rights,
  as for TeachHub modules, and names the others.
Nobody acts in a staff role on their own activity. Nobody sees another platform's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..auth import Actor as TeachHubActor
from ..errors import Forbidden, NotFound
from ..teachhub.access import LIMITED_ROLES
from ..teachhub.models import Person
from .models import Activity, NamedRole
from .rules import EXPERT, HEAD, HR, PARTICIPANT, SECRETARY


@dataclass(frozen=True)
class Actor:
    """The signed-in person as staff learning sees them."""

    user_id: int
    platform_id: int
    teachhub: TeachHubActor
    roles: frozenset[str]  # expert, secretary, hr (platform-wide)
    heads: frozenset[str]  # departments the person heads

    @property
    def may_record(self) -> bool:
        """Records their own activities (observers, designers and guests do not)."""
        return self.teachhub.role not in LIMITED_ROLES

    @property
    def sees_all(self) -> bool:
        """Sees every activity of the platform (expert, secretary, HR)."""
        return bool(self.roles)

    @property
    def sees_list(self) -> bool:
        """May open the consolidated list (HR, secretary, expert: all; heads: theirs)."""
        return self.sees_all or bool(self.heads)

    @property
    def names_roles(self) -> bool:
        """Names heads, experts, secretaries and HR (TeachHub coordinators)."""
        return self.teachhub.is_coordinator

    def roles_on(self, activity: Activity, department: str) -> frozenset[str]:
        """The roles this person holds on one activity (none of the staff roles on their own)."""
        if activity.user_id == self.user_id:
            return frozenset({PARTICIPANT})
        roles = set(self.roles)
        if department and department in self.heads:
            roles.add(HEAD)
        return frozenset(roles)


# Every page's menu asks (the consolidated list's link): a plain statement built and compiled
# once, not through the ORM (bench/launch.py).
_NAMED_ROLES = select(NamedRole.role, NamedRole.department).where(
    NamedRole.platform_id == bindparam("platform"), NamedRole.user_id == bindparam("user")
)


def load_actor(db: Session, teachhub: TeachHubActor) -> Actor:
    """The Actor for a session: one query beyond TeachHub's."""
    rows: list[tuple[str, str]] = []
    if teachhub.role not in LIMITED_ROLES:
        db.flush()  # rows this session added but did not flush yet count (as a query's would)
        rows = [
            (role, department)
            for role, department in db.connection().execute(
                _NAMED_ROLES, {"platform": teachhub.platform_id, "user": teachhub.user_id}
            )
        ]
    roles = {role for role, _dep in rows if role in (EXPERT, SECRETARY, HR)}
    if teachhub.is_coordinator:
        roles |= {SECRETARY, HR}
    heads = frozenset(dep for role, dep in rows if role == HEAD and dep)
    return Actor(teachhub.user_id, teachhub.platform_id, teachhub, frozenset(roles), heads)


def department_of(db: Session, user_id: int) -> str:
    """A person's department as TeachHub knows it ("" when not given)."""
    person = db.get(Person, user_id)
    return person.department if person else ""


def activity_for(db: Session, actor: Actor, activity_id: int) -> tuple[Activity, str]:
    """An activity the actor may see, with its participant's department."""
    activity = db.get(Activity, activity_id)
    if activity is None or activity.platform_id != actor.platform_id:
        raise NotFound()
    department = department_of(db, activity.user_id)
    if activity.user_id != actor.user_id and not actor.sees_all and department not in actor.heads:
        raise Forbidden(
            _l(
                "A learning record is seen only by its participant, the head of "
                "their department and the people who verify and recognise it."
            )
        )
    return activity, department


def require_recorder(actor: Actor) -> None:
    """Forbidden unless the actor may record activities."""
    if not actor.may_record:
        raise Forbidden(_l("Your role in this launch does not record learning activities."))


def require_list(actor: Actor) -> None:
    """Forbidden unless the actor may open the consolidated list."""
    if not actor.sees_list:
        raise Forbidden(
            _l(
                "Only HR, the commission's secretary, methodological experts and "
                "heads of departments open the consolidated list."
            )
        )
