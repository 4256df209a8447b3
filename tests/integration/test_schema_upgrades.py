"""Alembic on this run's database (SQLite, or PostgreSQL with --db=postgresql): empty to head,
and an upgrade of a database holding data from the previous schema that loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from servers import database_url_for
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, String, select

from lti_tool.db import Base, load_models, make_engine
from lti_tool.migrate import alembic_config, upgrade

PREVIOUS = "0002"  # the schema every later revision branches from
START = datetime(2026, 1, 1, tzinfo=UTC)


def test_empty_to_head_matches_the_models(tmp_path):
    load_models()
    url = database_url_for(str(tmp_path))
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        heads = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    assert differences == [], "models and migrations disagree on this database"
    assert heads == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def test_the_revisions_have_one_head(tmp_path):
    """Revisions written side by side are joined by a merge revision: `alembic upgrade head`
    works for an operator, and the next revision has one parent."""
    heads = ScriptDirectory.from_config(alembic_config(database_url_for(str(tmp_path)))).get_heads()
    assert len(heads) == 1, f"several heads {heads}: add a merge revision (see 0019)"


def _value(table: str, column, n: int):
    """A distinct value of the column's type (dates in UTC, text within its length)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, Integer):
        return 1000 + n
    if isinstance(kind, Float):
        return n + 0.25
    if isinstance(kind, DateTime):
        return START + timedelta(minutes=n)
    if isinstance(kind, JSON):
        return {"row": n, "list": [table, column.name]}
    text = f"{table}.{column.name}#{n} Ұлбосын Қасымқызы"  # non-ASCII survives too
    length = getattr(kind, "length", None)
    return text[-length:] if isinstance(kind, String) and length else text


def _insert(connection, table, n: int, **given) -> int | None:
    """Insert one row with every column filled (given values win); returns its id."""
    row = {}
    for column in table.columns:
        if column.name in given:
            row[column.name] = given[column.name]
        elif (column.primary_key and isinstance(column.type, Integer)
              and len(table.primary_key) == 1):
            continue  # the database numbers it
        elif column.foreign_keys:
            assert column.nullable, f"give {table.name}.{column.name}"
            row[column.name] = None
        else:
            row[column.name] = _value(table.name, column, n)
    result = connection.execute(table.insert().values(**row))
    key = result.inserted_primary_key
    return key[0] if key else None


def _seed(connection, tables) -> None:
    """Two platforms with users, courses, placements, gradebook rows and queued scores."""
    for p in range(2):
        platform = _insert(connection, tables["platforms"], p)
        _insert(connection, tables["deployments"], p, platform_id=platform)
        _insert(connection, tables["login_states"], p, platform_id=platform)
        context = _insert(connection, tables["contexts"], p, platform_id=platform)
        link = _insert(connection, tables["resource_links"], p, context_id=context)
        item = _insert(connection, tables["gb_line_items"], p, context_id=context)
        _insert(connection, tables["gb_course_grading"], p, context_id=context,
                final_line_item_id=item)
        _insert(connection, tables["gb_sync_state"], p, context_id=context)
        for u in range(5):
            n = p * 10 + u
            user = _insert(connection, tables["users"], n, platform_id=platform)
            _insert(connection, tables["memberships"], n, user_id=user, context_id=context)
            _insert(connection, tables["gb_results"], n, line_item_id=item, user_id=user)
            for status in ("pending", "sent", "parked"):
                _insert(connection, tables["gb_score_outbox"], n, platform_id=platform,
                        context_id=context, resource_link_id=link, user_id=user, status=status)
    _insert(connection, tables["platform_key_sets"], 0)
    _insert(connection, tables["web_sessions"], 0)


def _snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table (but alembic_version), in primary key order."""
    meta = MetaData()
    meta.reflect(engine)
    snapshot = {}
    with engine.connect() as connection:
        for name, table in meta.tables.items():
            if name != "alembic_version":
                snapshot[name] = [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
    return snapshot


def test_an_upgrade_from_the_previous_schema_keeps_every_row(tmp_path):
    url = database_url_for(str(tmp_path))
    upgrade(url, PREVIOUS)
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as connection:
        _seed(connection, meta.tables)
    before = _snapshot(engine)
    assert all(before[name] for name in ("platforms", "users", "gb_score_outbox", "memberships"))
    assert len(before["gb_score_outbox"]) == 30
    upgrade(url)
    after = _snapshot(engine)
    with engine.connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    assert heads == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    assert set(after) > set(before), "the upgrade added no tables"
    for name, rows in before.items():
        width = len(rows[0]) if rows else 0
        # Columns a revision adds come after the old ones; the old values must be unchanged.
        assert [row[:width] for row in after[name]] == rows, f"{name} changed"


def test_observers_and_designers_kept_as_instructors_are_mapped_again(tmp_path):
    """Issue 9: migration 0010 takes course staff rights from stored Mentor and
    ContentDeveloper memberships at once (not at their next launch or roster pull)."""
    lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
    url = database_url_for(str(tmp_path))
    upgrade(url, "0006")
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    tables = meta.tables
    cases = [([lis + "Mentor"], "mentor"), ([lis + "ContentDeveloper"], "designer"),
             ([lis + "Instructor", lis + "Mentor"], "instructor"),
             ([lis + "Learner", lis + "Mentor"], "learner"), ([], "instructor")]
    with engine.begin() as connection:
        platform = _insert(connection, tables["platforms"], 0)
        context = _insert(connection, tables["contexts"], 0, platform_id=platform)
        for n, (roles, _expected) in enumerate(cases):
            user = _insert(connection, tables["users"], n, platform_id=platform)
            _insert(connection, tables["memberships"], n, user_id=user, context_id=context,
                    roles=roles, role="instructor")
    upgrade(url)
    with engine.connect() as connection:
        memberships = tables["memberships"]
        roles = list(connection.scalars(select(memberships.c.role)
                                        .order_by(memberships.c.id)))
    engine.dispose()
    assert roles == [expected for _roles, expected in cases]
