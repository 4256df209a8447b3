"""`lti-tool backup` and `lti-tool restore`: a round trip with real data, on this run's database."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lti_platform import LaunchDriver, Platform
from servers import TOOL_VARIABLES, database_url_for, suite_database
from sqlalchemy import MetaData, select
from tool_server import start_tool
from werkzeug.datastructures import FileStorage

from lti_tool.cli import main
from lti_tool.db import make_engine
from lti_tool.evidence.storage import store_upload
from lti_tool.extensions import services
from lti_tool.gradebook.outbox import enqueue_score
from lti_tool.lti.models import Context, Platform as PlatformRow, ResourceLink, User

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ROUNDS = ["native", "logical"] + (["sqlite-to-postgresql"] if suite_database() == "postgresql"
                                  else [])


@dataclass
class Done:
    """What a command printed and how it ended (as subprocess.run reports it)."""

    returncode: int
    stdout: str
    stderr: str


def _cli(installation: dict, *args: str, ok: bool = True) -> Done:
    """`lti-tool ARGS` on `installation`, in-process (CliRunner), none of the shell's settings."""
    env: dict[str, str | None] = {name: None for name in os.environ
                                  if name in TOOL_VARIABLES or name.endswith("_FILE")}
    env.update(DATABASE_URL=installation["database_url"], DATA_DIR=installation["data_dir"],
               KEYS_DIR=installation["keys_dir"], BASE_URL="https://tool.example.edu")
    result = CliRunner().invoke(main, list(args), env=env)
    done = Done(result.exit_code, result.stdout, result.stderr)
    if ok:
        assert done.returncode == 0, (done.stderr, result.exception)
    return done


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, datetimes as UTC (SQLite keeps them without a zone)."""
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)

    def same(value):
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        return value

    with engine.connect() as connection:
        snapshot = {name: [tuple(same(v) for v in row) for row in connection.execute(
            select(table).order_by(*table.primary_key.columns))]
            for name, table in meta.tables.items()}
    engine.dispose()
    return snapshot


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def source(tmp_path, request):
    """A tool with a platform, users, courses, queued scores and an evidence file."""
    data_dir = tmp_path / "source"
    overrides = {}
    if getattr(request, "param", "") == "sqlite-to-postgresql":
        overrides = {"tool": {"database_url": f"sqlite:///{data_dir}/tool.db"}}
    tool = start_tool(str(data_dir), overrides)
    with Platform("moodle") as lms, LaunchDriver() as browser:
        tool.register(lms)
        plan = lms.plan("student", resource_link={"id": "backup-link", "title": "Backed up"})
        assert browser.launch(plan).status_code == 200
        assert browser.launch(lms.plan("teacher")).status_code == 200
        settings = services(tool.app).settings
        with services(tool.app).db.new_session() as db:
            platform_id = db.scalars(select(PlatformRow.id).where(
                PlatformRow.issuer == lms.issuer)).one()
            user = db.scalars(select(User).where(User.platform_id == platform_id,
                                                 User.sub == plan.user.sub)).one()
            link = db.scalars(select(ResourceLink).join(Context).where(
                Context.platform_id == platform_id,
                ResourceLink.resource_link_id == "backup-link")).one()
            for score in (10, 20, 30):
                enqueue_score(db, resource_link=link, user=user, score_given=score,
                              score_maximum=100, activity_progress="Completed",
                              grading_progress="FullyGraded", source="backup-test")
            upload = FileStorage(stream=io.BytesIO(PDF), filename="диплом.pdf")
            store_upload(db, settings=settings, file=upload, owner=user)
            db.commit()
        yield tool, lms, {"database_url": settings.tool.database_url,
                          "data_dir": str(settings.tool.data_dir),
                          "keys_dir": str(settings.keys.dir)}
    tool.stop()


@pytest.mark.parametrize("source", ROUNDS, indirect=True)
def test_a_backup_restores_on_an_empty_installation(source, tmp_path, request):
    _tool, lms, origin = source
    kind = request.node.callspec.params["source"]
    archive = tmp_path / "backups" / "tool.tar.gz"
    _cli(origin, "backup", str(archive), *(["--logical"] if kind == "logical" else []))
    assert archive.stat().st_mode & 0o777 == 0o600
    target_dir = tmp_path / "target"
    target = {"database_url": database_url_for(str(target_dir)), "data_dir": str(target_dir),
              "keys_dir": str(target_dir / "keys")}
    # A fresh installation, as `make setup` leaves it: a key of its own, an empty schema.
    _cli(target, "keys", "ensure")
    _cli(target, "db", "upgrade")
    restored = _cli(target, "restore", str(archive))
    assert "restored" in restored.stdout

    before, after = _snapshot(origin["database_url"]), _snapshot(target["database_url"])
    assert after == before
    assert len(after["gb_score_outbox"]) == 3 and len(after["evidence_files"]) == 1
    evidence = Path(origin["data_dir"]) / "evidence"
    assert _files(Path(target["data_dir"]) / "evidence") == _files(evidence) != {}
    assert _files(Path(target["keys_dir"])) == _files(Path(origin["keys_dir"]))
    assert {p.stat().st_mode & 0o777 for p in Path(target["keys_dir"]).glob("*.pem")} == {0o600}
    assert (Path(target["data_dir"]) / "secret_key").read_text() == \
        (Path(origin["data_dir"]) / "secret_key").read_text()

    # The restored installation works: the platform's next launch lands as before.
    served = start_tool(str(target_dir), {"tool": {"database_url": target["database_url"]},
                                          "keys": {"dir": target["keys_dir"]}})
    try:
        lms.set_tool(served.login_url, served.launch_url, served.jwks_url)
        with LaunchDriver() as browser:
            home = browser.launch(lms.plan("student"))
        assert home.status_code == 200
        assert lms.plan("student").user.name in home.text
    finally:
        served.stop()

    again = _cli(target, "restore", str(archive), ok=False)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    _cli(target, "restore", "--force", str(archive))
    assert _snapshot(target["database_url"]) == before
