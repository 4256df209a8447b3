"""Connector tokens at rest: Fernet, keyed by CREDENTIALS_KEY or derived from SECRET_KEY."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from lti_tool.gradebook.credentials import (
    CredentialsError,
    credentials_cipher,
    decrypt_token,
    derived_key,
    encrypt_token,
    reencrypt_token,
)

TOKEN = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"


def test_a_token_round_trips_and_is_not_stored_in_clear():
    cipher = credentials_cipher("the app's secret key")
    stored = encrypt_token(cipher, TOKEN)
    assert TOKEN not in stored
    assert encrypt_token(cipher, TOKEN) != stored  # random IV: equal tokens do not look equal
    assert decrypt_token(cipher, stored) == TOKEN


def test_the_derived_key_depends_only_on_secret_key():
    assert derived_key("a") == derived_key("a") != derived_key("b")
    Fernet(derived_key("a"))  # a valid Fernet key


def test_a_changed_secret_key_cannot_read_old_tokens():
    stored = encrypt_token(credentials_cipher("old secret"), TOKEN)
    with pytest.raises(CredentialsError, match="CREDENTIALS_KEY or SECRET_KEY changed"):
        decrypt_token(credentials_cipher("new secret"), stored)


def test_credentials_key_wins_over_secret_key():
    key = Fernet.generate_key().decode()
    stored = encrypt_token(credentials_cipher("secret", key), TOKEN)
    assert decrypt_token(credentials_cipher("another secret", key), stored) == TOKEN
    with pytest.raises(CredentialsError):
        decrypt_token(credentials_cipher("secret"), stored)


def test_rotation_with_several_keys():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = encrypt_token(credentials_cipher("s", old), TOKEN)
    both = credentials_cipher("s", f"{new}, {old}")
    assert decrypt_token(both, stored) == TOKEN
    rotated = reencrypt_token(both, stored)
    assert decrypt_token(credentials_cipher("s", new), rotated) == TOKEN


@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ="])
def test_a_malformed_credentials_key_says_how_to_make_one(bad):
    with pytest.raises(CredentialsError, match=r"Fernet\.generate_key"):
        credentials_cipher("secret", bad)


def test_garbage_in_the_database_is_a_clear_error():
    with pytest.raises(CredentialsError, match="cannot be decrypted"):
        decrypt_token(credentials_cipher("s"), "garbage")
