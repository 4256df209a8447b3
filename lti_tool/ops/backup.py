"""Backups of everything an installation holds, and their restore on an empty installation.

An archive (.tar.gz, mode 0600: it holds private keys) has:
  manifest.json              format, when, the database kind and schema revisions, row counts
  database/lti_tool.db       SQLite, copied with the online backup API (consistent while serving)
  database/postgres.dump     PostgreSQL, `pg_dump --format=custom` when pg_dump is installed
  database/tables/*.jsonl    otherwise (or --logical): every row, read in one snapshot
  evidence/...               uploaded files (the [evidence] directory)
  keys/...                   the tool's key pairs and keyring.json
  secret_key                 the generated SECRET_KEY, when the installation uses one
The database is dumped before the files are read: every file a dumped row names exists already
(files are written before their row is committed and never changed afterwards).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Date, DateTime, LargeBinary, MetaData, Numeric, func, select, text
from sqlalchemy.engine import make_url

from ..db import make_engine, utcnow
from ..migrate import upgrade
from ..settings import Settings

FORMAT = 1
BATCH = 1000


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Installation:
    """Where one installation keeps its data."""

    database_url: str
    data_dir: Path
    keys_dir: Path
    evidence_dir: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Installation:
        """The paths of the settings (the evidence directory as the evidence package has it)."""
        configured = settings.evidence.dir
        data_dir = settings.tool.data_dir
        return cls(database_url=settings.tool.database_url, data_dir=data_dir,
                   keys_dir=settings.keys.dir,
                   evidence_dir=Path(configured) if configured else data_dir / "evidence")

    @property
    def dialect(self) -> str:
        """sqlite or postgresql."""
        return make_url(self.database_url).get_backend_name()

    @property
    def sqlite_path(self) -> Path:
        """The database file of a SQLite installation."""
        database = make_url(self.database_url).database
        if database is None:  # "sqlite://" is in memory: nothing to back up or restore into
            raise BackupError("the SQLite database is in memory, not in a file")
        return Path(database)


@dataclass
class Summary:
    """What a backup or restore did."""

    database: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    keys: int = 0
    notes: list[str] = field(default_factory=list)


# -- backup ---------------------------------------------------------------------------------

def backup(installation: Installation, archive: Path, *, logical: bool = False) -> Summary:
    """Write the archive (atomically: a partial file never has the final name)."""
    summary = Summary()
    archive = archive.resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lti-tool-backup-", dir=archive.parent) as tmp:
        staging = Path(tmp)
        database = _dump_database(installation, staging, logical, summary)
        manifest = {
            "format": FORMAT, "created_at": utcnow().isoformat(),
            "database": {"kind": summary.database, "dialect": installation.dialect,
                         "revisions": _revisions(installation.database_url)},
            "rows": summary.rows,
        }
        partial = archive.with_name(archive.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for path in sorted(database.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=f"database/{path.relative_to(database)}")
            summary.files = _add_tree(tar, installation.evidence_dir, "evidence",
                                      skip=lambda p: p.name.endswith(".part"))
            summary.keys = _add_tree(tar, installation.keys_dir, "keys")
            secret = installation.data_dir / "secret_key"
            if secret.is_file():
                tar.add(secret, arcname="secret_key")
            manifest["files"] = {"evidence": summary.files, "keys": summary.keys}
            manifest["missing_evidence"] = _missing_evidence(installation, database, summary)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
        os.replace(partial, archive)
    return summary


def _add_tree(tar: tarfile.TarFile, root: Path, prefix: str, skip=lambda _p: False) -> int:
    count = 0
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not skip(path):
                tar.add(path, arcname=f"{prefix}/{path.relative_to(root)}")
                count += 1
    return count


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


def _revisions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(text("SELECT version_num FROM alembic_version"))
                          .scalars())
    finally:
        engine.dispose()


def _dump_database(installation: Installation, staging: Path, logical: bool,
                   summary: Summary) -> Path:
    database = staging / "database"
    database.mkdir()
    summary.rows = _row_counts(installation.database_url)
    if logical:
        _logical_dump(installation.database_url, database / "tables")
        summary.database = "logical"
    elif installation.dialect == "sqlite":
        source = sqlite3.connect(installation.sqlite_path)
        target = sqlite3.connect(database / "lti_tool.db")
        try:
            source.backup(target)  # a consistent copy, even while the tool writes
        finally:
            target.close()
            source.close()
        summary.database = "sqlite"
    elif installation.dialect == "postgresql" and _postgres_tool("pg_dump"):
        try:
            _run_postgres_tool("pg_dump", installation.database_url, "--format=custom",
                               "--no-owner", "--no-privileges",
                               f"--file={database / 'postgres.dump'}")
            summary.database = "pg_dump"
        except BackupError as err:  # e.g. a pg_dump older than the server
            summary.notes.append(f"pg_dump failed, wrote a logical dump instead: {err}")
            (database / "postgres.dump").unlink(missing_ok=True)
            _logical_dump(installation.database_url, database / "tables")
            summary.database = "logical"
    else:
        _logical_dump(installation.database_url, database / "tables")
        summary.database = "logical"
    return database


def _row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as connection:
            return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                    for name, table in sorted(meta.tables.items())}
    finally:
        engine.dispose()


def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _logical_dump(url: str, directory: Path) -> None:
    """Every table as JSON lines, all read in one snapshot (REPEATABLE READ on PostgreSQL)."""
    directory.mkdir()
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        options = ({"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql"
                   else {})
        with engine.connect().execution_options(**options) as connection, connection.begin():
            for table in meta.sorted_tables:
                with (directory / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                    result = connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                        .execution_options(yield_per=BATCH))
                    for row in result.mappings():
                        out.write(json.dumps({k: _encode(v) for k, v in row.items()},
                                             ensure_ascii=False) + "\n")
    finally:
        engine.dispose()


def _missing_evidence(installation: Installation, database: Path, summary: Summary) -> int:
    """Evidence rows whose file is not in the evidence directory (should be 0)."""
    names = _evidence_names(installation.database_url)
    missing = [name for name in names if not (installation.evidence_dir / name).is_file()]
    if missing:
        summary.notes.append(f"{len(missing)} evidence files named in the database are missing "
                             f"from {installation.evidence_dir}")
    return len(missing)


def _evidence_names(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine, only=lambda name, _meta: name == "evidence_files")
        table = meta.tables.get("evidence_files")
        if table is None:
            return []
        with engine.connect() as connection:
            rows = connection.execute(select(table.c.storage_name, table.c.thumbnail_name))
            return [name for row in rows for name in row if name]
    finally:
        engine.dispose()


# -- PostgreSQL client tools ----------------------------------------------------------------

def _postgres_tool(name: str) -> str | None:
    """The newest pg_dump / pg_restore installed (Debian keeps them per server version)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return str(found[-1]) if found else shutil.which(name)


def _run_postgres_tool(name: str, url: str, *args: str) -> None:
    parsed = make_url(url)
    # The password travels in the environment, never on the command line (ps shows that).
    env = dict(os.environ, PGHOST=parsed.host or "", PGPORT=str(parsed.port or 5432),
               PGUSER=parsed.username or "", PGDATABASE=parsed.database or "")
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    for key, value in parsed.query.items():  # host=/run/postgresql for a unix socket
        if key == "host":
            env["PGHOST"] = str(value)
    tool = _postgres_tool(name)
    if tool is None:  # callers check that it is installed; this names it if not
        raise BackupError(f"{name} is not installed")
    done = subprocess.run([tool, *args], env=env, capture_output=True,
                          text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"{name}: {done.stderr.strip()[-500:]}")


# -- restore --------------------------------------------------------------------------------

def what_is_there(installation: Installation) -> list[str]:
    """What makes an installation non-empty: tables with rows, evidence files."""
    found = []
    counts = _row_counts(installation.database_url)
    found += [f"{n} rows in {name}" for name, n in counts.items()
              if n and name != "alembic_version"]
    if installation.evidence_dir.is_dir():
        files = sum(1 for p in installation.evidence_dir.rglob("*") if p.is_file())
        if files:
            found.append(f"{files} files in {installation.evidence_dir}")
    return found


def restore(installation: Installation, archive: Path, *, force: bool = False) -> Summary:
    """Bring an archive back; refuses a non-empty installation unless `force`."""
    summary = Summary()
    if installation.dialect == "sqlite":
        installation.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    present = what_is_there(installation)
    if present and not force:
        raise BackupError("the installation is not empty (" + "; ".join(present[:5]) +
                          "): restore into an empty one, or pass --force to replace everything")
    with tempfile.TemporaryDirectory(prefix="lti-tool-restore-") as tmp:
        staging = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")  # no absolute paths, no links out, no ..
        manifest = json.loads((staging / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown archive format {manifest.get('format')!r}")
        _clear_database(installation.database_url)
        _restore_database(installation, staging / "database", manifest, summary)
        upgrade(installation.database_url)  # an older backup on newer code
        summary.rows = _row_counts(installation.database_url)
        summary.files = _replace_tree(staging / "evidence", installation.evidence_dir)
        if (staging / "keys").is_dir():
            if installation.keys_dir.is_dir() and any(installation.keys_dir.iterdir()):
                aside = installation.keys_dir.with_name(
                    f"{installation.keys_dir.name}.before-restore-{utcnow():%Y%m%d%H%M%S}")
                installation.keys_dir.rename(aside)
                summary.notes.append(f"the keys that were there are kept in {aside}")
            summary.keys = _replace_tree(staging / "keys", installation.keys_dir)
        if (staging / "secret_key").is_file():
            installation.data_dir.mkdir(parents=True, exist_ok=True)
            target = installation.data_dir / "secret_key"
            shutil.copyfile(staging / "secret_key", target)
            target.chmod(0o600)
    return summary


def _replace_tree(source: Path, target: Path) -> int:
    if target.is_dir():
        shutil.rmtree(target)
    if not source.is_dir():
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        return 0
    shutil.copytree(source, target)
    target.chmod(0o700)
    return sum(1 for p in target.rglob("*") if p.is_file())


def _clear_database(url: str) -> None:
    """Drop every table (a forced restore; a no-op on an empty database)."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()


def _restore_database(installation: Installation, database: Path, manifest: dict,
                      summary: Summary) -> None:
    kind = manifest["database"]["kind"]
    revisions = manifest["database"]["revisions"]
    if kind == "sqlite" and installation.dialect == "sqlite":
        source = sqlite3.connect(database / "lti_tool.db")
        target = sqlite3.connect(installation.sqlite_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif kind == "pg_dump":
        if installation.dialect != "postgresql" or not _postgres_tool("pg_restore"):
            raise BackupError("this archive holds a pg_dump: restore it into PostgreSQL with "
                              "pg_restore installed, or make the backup with --logical")
        _run_postgres_tool("pg_restore", installation.database_url, "--no-owner",
                           "--no-privileges", "--exit-on-error",
                           f"--dbname={make_url(installation.database_url).database}",
                           str(database / "postgres.dump"))
    elif kind == "sqlite":  # a SQLite backup into PostgreSQL: row by row
        source_engine = make_engine(f"sqlite:///{database / 'lti_tool.db'}")
        try:
            _load_rows(installation.database_url, revisions, _rows_from_database(source_engine))
        finally:
            source_engine.dispose()
    else:
        _load_rows(installation.database_url, revisions, _rows_from_files(database / "tables"))
    summary.database = kind


def _rows_from_files(directory: Path):
    def rows(table: str):
        path = directory / f"{table}.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    yield json.loads(line)
    return rows


def _rows_from_database(engine):
    meta = MetaData()
    meta.reflect(engine)

    def rows(table: str):
        if table in meta.tables:
            with engine.connect() as connection:
                for row in connection.execute(select(meta.tables[table])).mappings():
                    yield {k: _encode(v) for k, v in row.items()}
    return rows


def _decode(column, value):
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        moment = datetime.fromisoformat(value)
        # SQLite keeps UTC times without their zone (lti_tool.db.UtcDateTime).
        return moment.replace(tzinfo=UTC) if kind.timezone and moment.tzinfo is None else moment
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, Numeric) and kind.asdecimal:
        return Decimal(value)
    return value


def _load_rows(url: str, revisions: list[str], rows) -> None:
    """The archived schema, then every row in foreign-key order, then sequences past them."""
    for revision in revisions:
        upgrade(url, revision)
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.begin() as connection:
            for table in meta.sorted_tables:
                if table.name == "alembic_version":
                    continue
                batch = []
                for row in rows(table.name):
                    batch.append({name: _decode(table.c[name], value)
                                  for name, value in row.items() if name in table.c})
                    if len(batch) >= BATCH:
                        connection.execute(table.insert(), batch)
                        batch = []
                if batch:
                    connection.execute(table.insert(), batch)
            if engine.dialect.name == "postgresql":
                _advance_sequences(connection, meta)
    finally:
        engine.dispose()


def _advance_sequences(connection, meta: MetaData) -> None:
    # Rows came with their ids: the next id the database hands out must come after them.
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                         {"t": table.name, "c": column.name})
            if sequence:
                connection.execute(text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                    f'"{table.name}"), 0) + 1, false)'), {"s": sequence})
