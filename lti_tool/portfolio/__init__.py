"""The student portfolio (issue 3): sections, entries, evidence, rubric points, verification,
summaries, showcase and analytics."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..lti.placements import PlacementKind, placements
from .service import PLACEMENT


def init_app(app: Flask) -> None:
    """Register the portfolio's placement with the LTI core: its launches land on the role's
    home, which leads to the portfolio (so does a link with no placement at all)."""
    placements(app).register(
        PlacementKind(
            key=PLACEMENT,
            title=_l("Student portfolio"),
            description=_l("Each student keeps their achievement portfolio; tutors verify it."),
            tag="portfolio",
        )
    )
