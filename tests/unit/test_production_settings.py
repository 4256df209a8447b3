"""Production mode: secrets only from the environment or files outside the repo, named at once."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from lti_tool.settings import PROJECT_ROOT, SettingsError, load, secret_key

GOOD = {
    "LTI_TOOL_ENV": "production",
    "SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://tool:pw@db.internal/lti",
    "BASE_URL": "https://tool.example.edu",
    "CREDENTIALS_KEY": Fernet.generate_key().decode(),
}


def test_the_embedded_default_needs_nothing():
    settings = load(environ={})
    assert settings.tool.env == "development"
    assert settings.tool.database_url.startswith("sqlite:///")
    assert settings.tool.base_url == "http://127.0.0.1:5000"


def test_production_names_every_missing_setting_at_once():
    with pytest.raises(SettingsError) as raised:
        load(environ={"LTI_TOOL_ENV": "production"})
    message = str(raised.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "CREDENTIALS_KEY"):
        assert f"{name} is not set" in message
    assert message.count("\n  - ") == 4


def test_production_with_everything_from_the_environment():
    settings = load(environ=GOOD)
    assert settings.tool.env == "production"
    assert settings.tool.database_url == GOOD["DATABASE_URL"]
    assert settings.tool.base_url == GOOD["BASE_URL"]
    assert secret_key(settings, environ=GOOD) == GOOD["SECRET_KEY"]


@pytest.mark.parametrize("change, expected", [
    ({"DATABASE_URL": "sqlite:////srv/tool.db"}, "DATABASE_URL is SQLite"),
    ({"BASE_URL": "http://tool.example.edu"}, "BASE_URL must be https://"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32"),
    ({"CREDENTIALS_KEY": "not-a-fernet-key"}, "CREDENTIALS_KEY is not a Fernet key"),
    ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
])
def test_production_refuses_unsafe_values(change, expected):
    with pytest.raises(SettingsError, match=expected):
        load(environ={**GOOD, **change})


def test_sqlite_in_production_only_when_explicitly_allowed():
    environ = {**GOOD, "DATABASE_URL": "sqlite:////srv/tool.db"}
    settings = load({"production": {"allow_sqlite": True}}, environ=environ)
    assert settings.tool.database_url == "sqlite:////srv/tool.db"


def test_secrets_from_files_outside_the_repository(tmp_path):
    environ = {k: v for k, v in GOOD.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    (tmp_path / "secret_key").write_text("k" * 40 + "\n")
    (tmp_path / "database_url").write_text("postgresql+psycopg://tool:p%40ss@db/lti\n")
    environ.update(SECRET_KEY_FILE=str(tmp_path / "secret_key"),
                   DATABASE_URL_FILE=str(tmp_path / "database_url"))
    settings = load(environ=environ)
    assert settings.tool.database_url == "postgresql+psycopg://tool:p%40ss@db/lti"
    assert secret_key(settings, environ=environ) == "k" * 40


def test_secret_files_inside_the_repository_or_missing_are_refused(tmp_path):
    environ = {k: v for k, v in GOOD.items() if k not in ("SECRET_KEY", "CREDENTIALS_KEY")}
    environ.update(SECRET_KEY_FILE=str(PROJECT_ROOT / "config" / "default.toml"),
                   CREDENTIALS_KEY_FILE=str(tmp_path / "nowhere"))
    with pytest.raises(SettingsError) as raised:
        load(environ=environ)
    message = str(raised.value)
    assert "SECRET_KEY_FILE names a file inside the repository" in message
    assert "CREDENTIALS_KEY_FILE names a missing file" in message


def test_the_cli_prints_the_problems_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in GOOD and not k.endswith("_FILE")}
    env.update(LTI_TOOL_ENV="production", BASE_URL="http://tool.example.edu",
               DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "lti_tool.cli", "urls"], env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for text in ("SECRET_KEY is not set", "DATABASE_URL is not set", "CREDENTIALS_KEY is not set",
                 "BASE_URL must be https://"):
        assert text in done.stderr
