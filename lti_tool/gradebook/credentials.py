"""Connector tokens encrypted at rest (Fernet), keyed by CREDENTIALS_KEY or derived from SECRET_KEY.

CREDENTIALS_KEY holds one Fernet key, or several separated by commas: the first encrypts, all
decrypt (rotation: put the new key first, run `lti-tool connector rekey`, drop the old one).
Without it the key is derived from SECRET_KEY with HKDF-SHA256; README "Connector credentials"
explains what each choice protects against.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ToolError

# Fixed and public: HKDF's salt and info only separate this key from other uses of SECRET_KEY.
HKDF_SALT = b"lti-tool/connector-credentials"
HKDF_INFO = b"fernet key v1"


class CredentialsError(ToolError):
    """A key is malformed or a stored token cannot be decrypted with the keys we have."""

    status = 500
    code = "credentials_error"


def derived_key(secret_key: str) -> bytes:
    """A Fernet key derived from the app's SECRET_KEY (HKDF-SHA256, 32 bytes)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


def credentials_cipher(secret_key: str, credentials_key: str | None = None) -> MultiFernet:
    """The cipher for connector tokens: CREDENTIALS_KEY's keys if set, else SECRET_KEY's."""
    if credentials_key and credentials_key.strip():
        keys = [k.strip() for k in credentials_key.split(",") if k.strip()]
        try:
            return MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError) as err:
            raise CredentialsError(
                "CREDENTIALS_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one "
                "with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)") from err
    if not secret_key:
        raise CredentialsError("neither CREDENTIALS_KEY nor SECRET_KEY is set")
    return MultiFernet([Fernet(derived_key(secret_key))])


def encrypt_token(cipher: MultiFernet, token: str) -> str:
    """The token encrypted (and authenticated) for storage."""
    return cipher.encrypt(token.encode("utf-8")).decode("ascii")


def decrypt_token(cipher: MultiFernet, stored: str) -> str:
    """The plain token; CredentialsError when the key changed since it was stored."""
    try:
        return cipher.decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as err:
        raise CredentialsError(
            "the connector's token cannot be decrypted: CREDENTIALS_KEY or SECRET_KEY changed "
            "since it was stored; add the connector again (lti-tool connector add)") from err


def reencrypt_token(cipher: MultiFernet, stored: str) -> str:
    """The stored token re-encrypted under the first (newest) key."""
    try:
        return cipher.rotate(stored.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as err:
        raise CredentialsError("the connector's token cannot be decrypted with any key") from err
