"""`lti-tool connector ...`: add from a token file, list without secrets, pull, remove."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from fakes import FakeMoodle

from lti_tool.cli import main

TOKEN = "fedcba9876543210fedcba9876543210"
MOODLE = ["--issuer", "https://moodle.example.edu", "--client-id", "abc123",
          "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
          "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
          "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php",
          "--deployment-id", "1"]


@pytest.fixture
def run(tmp_path):
    """Run `lti-tool ARGS` in-process (CliRunner) with its own database and data directory."""
    env = {"DATA_DIR": str(tmp_path / "var"), "KEYS_DIR": str(tmp_path / "keys"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "BASE_URL": "https://tool.example.edu",
           # The fake Moodle stands for an LMS on the university's intranet (loopback here).
           "HTTP_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
           "CREDENTIALS_KEY": None, "SECRET_KEY": None}
    runner = CliRunner()

    def run(*args, ok=True, stdin=None, **extra_env):
        done = runner.invoke(main, list(args), env={**env, **extra_env}, input=stdin)
        if ok:
            assert done.exit_code == 0, (done.output, done.exception)
        # The token never shows, whatever the command printed.
        assert TOKEN not in done.output
        return done

    run.db = tmp_path / "cli.db"
    run.token_file = tmp_path / "token.txt"
    run.token_file.write_text(TOKEN + "\n", encoding="utf-8")
    return run


def add_student(db_path, sub: str) -> None:
    """A learner of platform 1, as a launch would have recorded them."""
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO users (platform_id, sub, name, given_name, family_name, email, "
                   "locale, updated_at) VALUES (1, ?, 'Sam Student', 'Sam', 'Student', '', '', "
                   "'2026-01-01 00:00:00')", (sub,))
        db.execute("INSERT INTO contexts (platform_id, context_id, label, title, ags_scopes, "
                   "updated_at) VALUES (1, '2', 'C2', 'Course 2', '[]', '2026-01-01 00:00:00')")
        db.execute("INSERT INTO memberships (user_id, context_id, roles, role, status, source, "
                   "updated_at) VALUES (1, 1, '[]', 'learner', 'Active', 'launch', "
                   "'2026-01-01 00:00:00')")


def test_add_list_pull_remove(run):
    run("platform", "add", *MOODLE)
    with FakeMoodle(token=TOKEN) as moodle:
        moodle.add_course("4", course_id=7, fullname="Physiology", start=date(2025, 9, 1),
                          grade="92.50 %", rawgrade=92.5)
        added = run("connector", "add", "--platform", "1", "--kind", "moodle",
                    "--base-url", moodle.base_url + "/", "--token-file", str(run.token_file))
        assert "token stored encrypted" in added.stdout
        assert "http:// sends the token unencrypted" in added.stderr
        with sqlite3.connect(run.db) as db:
            (stored,) = db.execute("SELECT token_encrypted FROM gb_connectors").fetchone()
        assert TOKEN not in stored

        listed = run("connector", "list").stdout
        assert "moodle" in listed and moodle.base_url in listed and "enabled" in listed

        nobody = run("connector", "pull", "--platform", "1", "--user", "4", ok=False)
        assert nobody.exit_code == 1 and "no user '4'" in nobody.stderr
        add_student(run.db, "4")
        pulled = run("connector", "pull", "--platform", "1")
        assert "1 of 1 users read, 1 course totals stored, 0 failed" in pulled.stdout
        with sqlite3.connect(run.db) as db:
            assert db.execute("SELECT course_name, percent FROM gb_external_course_grades"
                              ).fetchall() == [("Physiology", 92.5)]

        moodle.token = "rotated-on-the-moodle-side"
        refused = run("connector", "pull", "--platform", "1", "--user", "4", ok=False)
        assert refused.exit_code == 1 and "invalidtoken" in refused.stderr
        assert "invalidtoken" in run("connector", "list").stdout

    run("connector", "enable", "--platform", "1", "--off")
    assert "disabled" in run("connector", "list").stdout
    assert run("connector", "pull", "--platform", "1", ok=False).exit_code == 1
    run("connector", "remove", "--platform", "1", "--yes")
    assert "no connectors" in run("connector", "list").stdout
    with sqlite3.connect(run.db) as db:  # its course totals went with it
        assert db.execute("SELECT count(*) FROM gb_external_course_grades").fetchone() == (0,)


def test_the_token_comes_from_a_file_or_stdin_never_the_command_line(run):
    run("platform", "add", *MOODLE)
    no_option = run("connector", "add", "--platform", "1", "--kind", "moodle", "--base-url",
                    "https://moodle.example.edu", "--token", TOKEN, ok=False)
    assert no_option.exit_code == 2
    from_stdin = run("connector", "add", "--platform", "1", "--kind", "moodle", "--base-url",
                     "https://moodle.example.edu", "--token-file", "-", stdin=TOKEN + "\n")
    assert "token stored encrypted" in from_stdin.stdout
    for bad in ("", "two tokens\n"):
        refused = run("connector", "add", "--platform", "1", "--kind", "canvas", "--base-url",
                      "https://school.instructure.com", "--token-file", "-", stdin=bad, ok=False)
        assert refused.exit_code == 2 and "exactly one token" in refused.stderr
    bad_url = run("connector", "add", "--platform", "1", "--kind", "canvas", "--base-url",
                  "school.instructure.com", "--token-file", str(run.token_file), ok=False)
    assert bad_url.exit_code == 2 and "not a URL" in bad_url.stderr
    unknown = run("connector", "add", "--platform", "9", "--kind", "canvas", "--base-url",
                  "https://school.instructure.com", "--token-file", str(run.token_file), ok=False)
    assert unknown.exit_code == 1 and "no such platform" in unknown.stderr


def test_credentials_key_and_rotation(run):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    run("platform", "add", *MOODLE)
    run("connector", "add", "--platform", "1", "--kind", "moodle", "--base-url",
        "https://moodle.example.edu", "--token-file", str(run.token_file), CREDENTIALS_KEY=old)
    add_student(run.db, "4")
    # Another key cannot read the token: a clear error, not a traceback.
    wrong = run("connector", "pull", "--platform", "1", ok=False, CREDENTIALS_KEY=new)
    assert wrong.exit_code == 1 and "cannot be decrypted" in wrong.stderr
    assert isinstance(wrong.exception, SystemExit)  # an exit with a message, not a crash
    malformed = run("connector", "list", CREDENTIALS_KEY="nonsense")  # list needs no key
    assert malformed.exit_code == 0
    bad_key = run("connector", "rekey", ok=False, CREDENTIALS_KEY="nonsense")
    assert bad_key.exit_code == 1 and "not a Fernet key" in bad_key.stderr
    # Rotation: new key first, rekey, then the old key can go.
    run("connector", "rekey", CREDENTIALS_KEY=f"{new},{old}")
    with sqlite3.connect(run.db) as db:
        (stored,) = db.execute("SELECT token_encrypted FROM gb_connectors").fetchone()
    from lti_tool.gradebook.credentials import credentials_cipher, decrypt_token

    assert decrypt_token(credentials_cipher("", new), stored) == TOKEN
