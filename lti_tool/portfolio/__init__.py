"""The student portfolio (issue 3): sections, entries, evidence, rubric points, verification,
summaries, showcase and analytics."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..credentials.kinds import CredentialKinds
from ..credentials.models import ENTRY
from ..extensions import placements, services
from ..lti.placements import PlacementKind
from . import credentials
from .service import PLACEMENT
from .web import init_rubric, init_scores


def init_app(app: Flask) -> None:
    """Load and check the rubric (a bad file stops the tool with its message), let the score
    worker compute portfolio scores, and register the portfolio's placement with the LTI core:
    its launches land on the role's home, which leads to the portfolio (so does a link with
    no placement at all); and say how the verification page shows an entry's credential."""
    init_rubric(app)
    services(app).get(CredentialKinds).register(ENTRY, credentials.shown)
    init_scores(app)
    placements(app).register(
        PlacementKind(
            key=PLACEMENT,
            title=_l("Student portfolio"),
            description=_l("Each student keeps their achievement portfolio; tutors verify it."),
            tag="portfolio",
        )
    )
