"""The role's home pages after a launch, the about and sign-out pages, the health check."""

from __future__ import annotations

from flask import Flask

from ..extensions import placements, services
from .nav import DrawnMenus


def init_app(app: Flask) -> None:
    """Be the landing page of launches whose placement names no page of its own; keep the
    menu's markup as it is drawn (home/nav.py)."""
    placements(app).home = "home.index"
    services(app).provide(DrawnMenus())
