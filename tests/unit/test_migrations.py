"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from lti_tool.db import Base, load_models
from lti_tool.migrate import upgrade


def test_upgrade_from_empty_matches_the_models(tmp_path):
    load_models()
    url = f"sqlite:///{tmp_path}/schema.db"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == [], "models and migrations disagree: write a migration"
    assert {"platforms", "deployments", "login_states", "users", "web_sessions",
            "gb_score_outbox"} <= tables
