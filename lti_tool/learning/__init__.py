"""Staff learning of every form (the staff non-formal education rules, 4.1-4.4) beside TeachHub
modules (4.5): records, verification and recognition, the consolidated list, certificates and Open
Badges 3.0."""

from __future__ import annotations

from flask import Flask

from ..credentials.kinds import CredentialKinds
from ..credentials.models import ACTIVITY, CARD
from ..extensions import services
from .config import load_config


def init_app(app: Flask) -> None:
    """Load the forms, formats and kinds of evidence (a bad data file stops the start),
    register the pages (the staff member's own, the roles') and say how the public
    verification page shows an activity's or a TeachHub card's credential."""
    from .views import bp, verification_reader

    services(app).provide(load_config(services(app).settings.learning))
    app.register_blueprint(bp)
    kinds = services(app).get(CredentialKinds)
    kinds.register(ACTIVITY, verification_reader)
    kinds.register(CARD, verification_reader)
