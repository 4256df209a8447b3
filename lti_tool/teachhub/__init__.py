"""TeachHub: staff-development module cards, participant cards, recognition of hours, HR reports."""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from ..lti.placements import placements
from .config import TeachHubConfig
from .placement import placement_kind


def init_app(app: Flask) -> None:
    """Register TeachHub's placement with the LTI core (its settings are read when a launch
    lands, after the blueprint has loaded them)."""
    placements(app).register(placement_kind(lambda: services(app).get(TeachHubConfig)))
