"""TeachHub: staff-development module cards, participant cards, recognition of hours, HR reports."""

from __future__ import annotations

from flask import Flask

from ..extensions import placements, services
from .config import load_config
from .placement import PLACEMENT, placement_kind
from .scores import score_now


def init_app(app: Flask) -> None:
    """Load and check TeachHub's configuration (a bad data file stops the tool at start-up),
    let the score worker compute a card's score, and register TeachHub's placement with the
    LTI core."""
    config = services(app).provide(load_config(services(app).settings))
    # The score worker computes a card's score from the card as committed when it sends.
    services(app).gradebook.scorers[PLACEMENT] = lambda db, row: score_now(
        db, row, config.gradebook, config.mark_maximum
    )
    placements(app).register(placement_kind(lambda: config))
