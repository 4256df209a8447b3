"""The tool's keyring: private keys stay private, rotation keeps the old key for a while."""

import os
import stat
from datetime import timedelta

import jwt

from lti_tool.db import utcnow
from lti_tool.lti.keys import Keyring


def test_first_key_is_generated_private_and_published(tmp_path):
    keyring = Keyring(tmp_path, timedelta(hours=1))
    key = keyring.ensure()
    pem_files = list(tmp_path.glob("*.pem"))
    assert len(pem_files) == 1
    assert stat.S_IMODE(os.stat(pem_files[0]).st_mode) == 0o600
    jwks = keyring.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [key.kid]
    assert jwks["keys"][0]["alg"] == "RS256" and jwks["keys"][0]["use"] == "sig"
    assert "d" not in jwks["keys"][0]  # never the private part
    assert keyring.ensure().kid == key.kid  # idempotent


def test_rotation_keeps_previous_key_during_grace(tmp_path):
    keyring = Keyring(tmp_path, timedelta(hours=1))
    old = keyring.ensure()
    token = jwt.encode({"x": 1}, old.private_pem, algorithm="RS256", headers={"kid": old.kid})
    new = keyring.rotate()
    assert keyring.current().kid == new.kid != old.kid
    published = {k["kid"]: k for k in keyring.jwks()["keys"]}
    assert set(published) == {old.kid, new.kid}
    # A platform that cached the old kid can still verify what we signed before rotating.
    assert jwt.decode(token, jwt.PyJWK(published[old.kid]).key, algorithms=["RS256"]) == {"x": 1}
    # After the grace period the old key leaves the JWKS and can be pruned.
    later = utcnow() + timedelta(hours=2)
    assert [k.kid for k in keyring.published(now=later)] == [new.kid]
    assert keyring.prune(now=later) == [old.kid]
    assert len(list(tmp_path.glob("*.pem"))) == 1


def test_a_second_process_sees_a_rotation(tmp_path):
    server_view = Keyring(tmp_path, timedelta(hours=1))
    server_view.ensure()
    cli_view = Keyring(tmp_path, timedelta(hours=1))
    os.utime(tmp_path / "keyring.json", (0, 0))  # make the mtime change observable
    rotated = cli_view.rotate()
    assert server_view.current().kid == rotated.kid


def test_the_signing_key_is_parsed_once_per_kid_and_a_rotation_brings_the_new_one(tmp_path):
    server_view = Keyring(tmp_path, timedelta(hours=1))
    first = server_view.current() if server_view.published() else server_view.ensure()
    parsed = server_view.current().signing_key
    # Asked again (another credential), the same parsed key: no PEM parsing per signature.
    assert server_view.current().signing_key is parsed
    token = jwt.encode({"x": 1}, parsed, algorithm="RS256", headers={"kid": first.kid})
    assert jwt.decode(token, first.public_pem, algorithms=["RS256"]) == {"x": 1}
    # A rotation by another process: the running server signs with the new kid's key.
    os.utime(tmp_path / "keyring.json", (0, 0))
    rotated = Keyring(tmp_path, timedelta(hours=1)).rotate()
    now_key = server_view.current()
    assert now_key.kid == rotated.kid != first.kid
    token = jwt.encode({"x": 2}, now_key.signing_key, algorithm="RS256")
    assert jwt.decode(token, rotated.public_pem, algorithms=["RS256"]) == {"x": 2}
    assert now_key.signing_key is not parsed
