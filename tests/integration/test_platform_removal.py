"""`lti-tool platform remove`: a university leaves, and its people's files leave with it."""

from __future__ import annotations

from click.testing import CliRunner
from lti_platform import Platform
from sqlalchemy import func, select
from test_portfolio_flow import add_entry, launch, png_bytes
from tool_server import start_tool

from lti_tool.cli import main
from lti_tool.evidence.models import EvidenceFile
from lti_tool.extensions import services
from lti_tool.lti.models import User


def upload_a_photo(tool, platform) -> None:
    student = launch(tool, platform, "student")
    entry_id = add_entry(student)
    answer = student.post(f"/portfolio/entries/{entry_id}/evidence",
                          files={"file": ("photo.png", png_bytes(), "image/png")})
    assert "The file was attached." in answer.text


def test_removing_a_platform_deletes_its_users_files_and_no_one_elses(tmp_path):
    data_dir = tmp_path / "var"
    tool = start_tool(str(data_dir))
    evidence = data_dir / "evidence"
    try:
        with Platform("moodle") as moodle, Platform("canvas") as canvas:
            tool.register(moodle)
            tool.register(canvas)
            upload_a_photo(tool, moodle)
            upload_a_photo(tool, canvas)
            on_disk = sorted(p.name for p in evidence.iterdir())
            assert len(on_disk) == 4  # a photo and its thumbnail each

            env = {"DATABASE_URL": services(tool.app).settings.tool.database_url,
                   "DATA_DIR": str(data_dir),
                   "KEYS_DIR": str(data_dir / "keys"), "BASE_URL": tool.base_url}
            done = CliRunner().invoke(main, ["platform", "remove", moodle.issuer, "--client-id",
                                             moodle.client_id, "--yes"], env=env)
            assert done.exit_code == 0, (done.output, done.exception)
            assert "2 stored files" in done.output

            with services(tool.app).db.new_session() as db:
                kept = db.scalars(select(EvidenceFile)).all()
                assert db.scalar(select(func.count()).select_from(User)) == 1
            assert len(kept) == 1
            assert sorted(p.name for p in evidence.iterdir()) == sorted(
                [kept[0].storage_name, kept[0].thumbnail_name])
    finally:
        tool.stop()
