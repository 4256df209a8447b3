"""The rating statement of a dual-training course (the dual-training rules, 6.3-6.7, appendices
2-3).

Per course an instructor maps LMS line items to the statement's parts; the tool computes
RK-1, RK-2, the admission rating and the final, renders the statement (page, PDF, XLSX), posts
the final and the mentors' weekly scores to the LMS through the score outbox, and flags weeks
whose scores missed the 24 hours of 6.5.2.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from .structure import load_structures


def init_app(app: Flask) -> None:
    """Load the weekly structures from config/ (a bad file stops start-up) and register the
    statement pages."""
    from .views import bp

    services(app).provide(load_structures(services(app).settings.statements.structures_dir))
    app.register_blueprint(bp)
