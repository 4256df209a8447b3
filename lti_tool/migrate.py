"""Run Alembic migrations from code (make run, CLI, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from .settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """Alembic's config pointing at migrations/ and the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database to `revision` (creates it when empty)."""
    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        path = database_url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
