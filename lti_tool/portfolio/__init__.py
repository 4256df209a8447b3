"""The student portfolio (issue 3): sections, entries, evidence, rubric points, verification,
summaries, showcase and analytics."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..extensions import placements
from ..lti.placements import PlacementKind
from .service import PLACEMENT
from .web import init_rubric, init_scores


def init_app(app: Flask) -> None:
    """Load and check the rubric (a bad file stops the tool with its message), let the score
    worker compute portfolio scores, and register the portfolio's placement with the LTI core:
    its launches land on the role's home, which leads to the portfolio (so does a link with
    no placement at all)."""
    init_rubric(app)
    init_scores(app)
    placements(app).register(
        PlacementKind(
            key=PLACEMENT,
            title=_l("Student portfolio"),
            description=_l("Each student keeps their achievement portfolio; tutors verify it."),
            tag="portfolio",
        )
    )
