"""The `lti-tool` command an administrator uses: platforms, keys, URLs."""

import json
import stat
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from lti_tool.cli import main


@dataclass
class Done:
    """What a command printed and how it ended (as subprocess.run reports it)."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(tmp_path):
    """Run `lti-tool ARGS` in-process (CliRunner) with its own database, keys and data."""
    env = {"DATA_DIR": str(tmp_path / "var"), "KEYS_DIR": str(tmp_path / "keys"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "BASE_URL": "https://tool.example.edu"}
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, list(args), env=env)
        done = Done(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert done.returncode == 0, (done.stderr, result.exception)
        return done

    run.tmp_path = tmp_path
    return run


MOODLE = ["--issuer", "https://moodle.example.edu", "--client-id", "abc123",
          "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
          "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
          "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php"]


def test_platform_add_list_remove(run):
    added = run("platform", "add", *MOODLE, "--deployment-id", "1", "--deployment-id", "2")
    assert "deployments=1,2" in added.stdout
    # Canvas: one issuer, many customers (client ids).
    for client in ("10000000000001", "10000000000002"):
        run("platform", "add", "--issuer", "https://canvas.instructure.com", "--client-id", client,
            "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
            "--key-set-url", "https://sso.canvaslms.com/api/lti/security/jwks",
            "--deployment-id", "7:8865aa05b4b79b64a91a86042e43af5ea8ae79eb")
    listed = run("platform", "list").stdout
    assert listed.count("https://canvas.instructure.com") == 2
    assert "client_id=abc123" in listed and "deployments=1,2" in listed

    run("platform", "remove", "https://canvas.instructure.com", "--client-id", "10000000000001",
        "--yes")
    listed = run("platform", "list").stdout
    assert "10000000000001" not in listed and "10000000000002" in listed
    assert run("platform", "remove", "999", "--yes", ok=False).returncode == 1


def test_platform_unbound_is_an_explicit_per_platform_choice(run):
    run("platform", "add", *MOODLE, "--deployment-id", "1")
    assert "unbound=no" in run("platform", "list").stdout  # the default: binding required
    accepted = run("platform", "unbound", "https://moodle.example.edu").stdout
    assert "accepted" in accepted and "login CSRF" in accepted
    assert "unbound=yes" in run("platform", "list").stdout
    run("platform", "unbound", "https://moodle.example.edu", "--off")
    assert "unbound=no" in run("platform", "list").stdout


def test_platform_add_refuses_a_non_url(run):
    bad = run("platform", "add", *MOODLE[:-2], "--key-set-url", "certs.php",
              "--deployment-id", "1", ok=False)
    assert bad.returncode != 0
    assert "not a URL" in bad.stderr


def test_keys_rotate_keeps_the_old_key_published(run):
    first = run("keys", "ensure").stdout.split()[-1]
    new = run("keys", "rotate").stdout.splitlines()[0].split()[-1]
    assert first != new
    keys_dir = run.tmp_path / "keys"
    manifest = json.loads((keys_dir / "keyring.json").read_text())
    assert [k["kid"] for k in manifest] == [first, new]
    for pem in keys_dir.glob("*.pem"):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    listing = run("keys", "list").stdout
    assert f"{new}" in listing and "signing" in listing and "published" in listing


def test_urls_print_what_an_admin_pastes(run):
    out = run("urls").stdout
    for url in ("https://tool.example.edu/lti/login", "https://tool.example.edu/lti/launch",
                "https://tool.example.edu/.well-known/jwks.json",
                "https://tool.example.edu/lti/register", "https://tool.example.edu/lti/canvas.json"):
        assert url in out


def test_platform_invite_prints_a_single_use_url(run):
    done = run("platform", "invite", "--expires", "2h", "--name", "Moodle of KazNU")
    (url,) = done.stdout.split()
    assert url.startswith("https://tool.example.edu/lti/register?invite=")
    assert "single use, expires" in done.stderr
    assert run("platform", "invite", "--expires", "soon", ok=False).returncode != 0
    run("platform", "add", *MOODLE, "--deployment-id", "1")
    update = run("platform", "invite", "--update", "https://moodle.example.edu")
    assert "may re-register platform 1" in update.stderr
    assert run("platform", "invite", "--update", "999", ok=False).returncode == 1
