"""Staff learning of every form (the staff non-formal education rules, 4.1-4.4) beside TeachHub
modules (4.5): records, verification and recognition, the consolidated list, certificates and Open
Badges 3.0."""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from .config import load_config


def init_app(app: Flask) -> None:
    """Load the forms, formats and kinds of evidence (a bad data file stops the start) and
    register the pages: the staff member's own, the roles', and the public verification page."""
    from .public import bp as public_bp
    from .views import bp

    services(app).provide(load_config(services(app).settings.learning))
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
