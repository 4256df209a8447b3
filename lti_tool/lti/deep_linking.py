"""Deep linking (LTI Deep Linking 2.0): the instructor's choice among the registered placements,
and the signed answer."""

from __future__ import annotations

import jwt
from flask_babel import lazy_gettext as _l
from pylti1p3.deep_link import DeepLink, TDeepLinkData
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import HtmlForm
from ..parsing import StrictIntegerField
from .keys import Keyring
from .models import Platform
from .placements import Placeable
from .registry import DatabaseToolConf, platform_info


class PlacementForm(HtmlForm):
    """The instructor's choice: what, under which title, graded or not."""

    kind = RadioField(_l("What to add"), validators=[DataRequired()])
    title = StringField(_l("Title on the course page"), validators=[Optional(), Length(max=200)])
    graded = BooleanField(_l("Create a gradebook column for it"))
    score_maximum = StrictIntegerField(_l("Maximum score"), default=100,
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
            "score_maximum": ((self.score_maximum.data or placeable.score_maximum)
                              if self.graded.data else None),
            "custom": {"placement": placeable.placement or placeable.key, **placeable.custom},
        }


def response_jwt(db: Session, keyring: Keyring, *, platform_id: int, deployment_id: str,
                 settings: TDeepLinkData, item: dict, launch_url: str) -> str:
    """The LtiDeepLinkingResponse JWT, signed with the tool's current key."""
    platform = db.get_one(Platform, platform_id)  # the launch's own platform
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
