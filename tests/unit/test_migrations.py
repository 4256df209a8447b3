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


def test_0012_turns_the_tools_old_notes_into_keys_and_keeps_peoples_notes():
    """The notes the tool wrote before 0012, in any of the three languages, become keys (so
    they show in each reader's language); a person's own words stay as typed."""
    import importlib.util
    from pathlib import Path

    path = (Path(__file__).resolve().parents[2] / "migrations" / "versions"
            / "0012_course_scores_and_log_note_keys.py")
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    key_of = migration._key_of
    assert key_of("Зачислен из списка курса.") == ("roster", {})
    assert key_of("Модуль алғаш ашылғанда тіркелді.") == ("first_launch", {})
    assert key_of("Протокол комиссии № 17/2026 от 2026-12-01.") == (
        "commission", {"number": "17/2026", "date": "2026-12-01"})
    assert key_of("Комиссияның 2026-12-01 күнгі №ИПР-2026/114 хаттамасы.") == (
        "commission", {"number": "ИПР-2026/114", "date": "2026-12-01"})
    assert key_of("Commission record 7 of 2026-12-01.") == (
        "commission", {"number": "7", "date": "2026-12-01"})
    assert key_of("Принесла справку, часы проверены") == ("", {})
