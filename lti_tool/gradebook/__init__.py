"""The gradebook: AGS line items and scores, NRPS rosters, the score outbox and its worker,
grades and GPA."""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from .policy import load_policy


def init_app(app: Flask) -> None:
    """Load and check the grading policy (scale, progression, levels): a bad file stops the
    tool at start-up with its message."""
    services(app).provide(load_policy(services(app).settings.gradebook))
