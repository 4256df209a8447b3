"""Deep linking (LTI Deep Linking 2.0): what an instructor can place, and the signed answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import jwt
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session
from wtforms import BooleanField, IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .keys import Keyring
from .models import Platform
from .registry import DatabaseToolConf, platform_info


@dataclass(frozen=True)
class Placeable:
    """Something the tool can put on a course page."""

    key: str        # becomes the custom parameter `placement`
    title: str
    description: str
    tag: str        # the AGS line item tag when graded
    placement: str = ""  # the custom `placement` when it differs from `key` (TeachHub cards)
    custom: dict = field(default_factory=dict)  # more custom parameters (module_card=<id>)


def placement_choices(db: Session, platform_id: int) -> list[Placeable]:
    """What this platform's instructors can place, TeachHub's published module cards included."""
    from ..teachhub.placement import placeable_cards

    return [
        Placeable("portfolio", str(_l("Student portfolio")),
                  str(_l("Each student keeps their achievement portfolio; tutors verify it.")),
                  "portfolio"),
        Placeable("teachhub", str(_l("TeachHub modules")),
                  str(_l("Staff-development module cards, participant cards and reports.")),
                  "teachhub"),
        *placeable_cards(db, platform_id),
    ]


class PlacementForm(FlaskForm):
    """The instructor's choice: what, under which title, graded or not."""

    kind = RadioField(_l("What to add"), validators=[DataRequired()])
    title = StringField(_l("Title on the course page"), validators=[Optional(), Length(max=200)])
    graded = BooleanField(_l("Create a gradebook column for it"))
    score_maximum = IntegerField(_l("Maximum score"), default=100,
                                 validators=[Optional(), NumberRange(min=1, max=10000)])

    def __init__(self, choices: list[Placeable], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.placeables = {p.key: p for p in choices}
        self.kind.choices = [(p.key, p.title) for p in choices]
        if not self.is_submitted() and choices:
            self.kind.data = choices[0].key  # the common case preselected

    def item(self) -> dict:
        """The chosen placement as plain data."""
        placeable = self.placeables[self.kind.data]
        return {
            "key": placeable.key,
            "title": (self.title.data or "").strip() or placeable.title,
            "tag": placeable.tag,
            "score_maximum": (self.score_maximum.data or 100) if self.graded.data else None,
            "custom": {"placement": placeable.placement or placeable.key, **placeable.custom},
        }


def response_jwt(db: Session, keyring: Keyring, *, platform_id: int, deployment_id: str,
                 settings: dict, item: dict, launch_url: str) -> str:
    """The LtiDeepLinkingResponse JWT, signed with the tool's current key."""
    platform = db.get(Platform, platform_id)
    registration = DatabaseToolConf(db, keyring).registration_for(platform_info(platform))
    resource = (DeepLinkResource().set_url(launch_url).set_title(item["title"])
                .set_custom_params(item.get("custom") or {"placement": item["key"]}))
    if item["score_maximum"]:
        resource.set_lineitem(LineItem().set_score_maximum(item["score_maximum"])
                              .set_label(item["title"]).set_resource_id(item["key"])
                              .set_tag(item["tag"]))
    message = DeepLink(registration, deployment_id, settings).get_message_jwt([resource])
    if settings.get("data") is None:
        # The spec: `data` must be echoed when sent and should be absent otherwise.
        message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
    key = keyring.current()
    return jwt.encode(message, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
