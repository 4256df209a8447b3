"""RSA keys made once per process, JWKs, and a JWT encoder that can also forge bad tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from lti1p3platform.registration import Registration

_KEYS: dict[str, str] = {}
_KEYS_LOCK = threading.Lock()


def rsa_private_key_pem(name: str) -> str:
    """Return the PEM of a 2048-bit RSA key named `name`, generated once per process."""
    # Generating a key costs ~50-200 ms: tests and platforms share them by name.
    with _KEYS_LOCK:
        pem = _KEYS.get(name)
        if pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            _KEYS[name] = pem
        return pem


@cache
def private_key(private_pem: str) -> RSAPrivateKey:
    """Return the loaded key object for a PEM, loaded once per process.

    Loading a PEM checks the RSA key (~20 ms); PyJWT accepts key objects, so signing with the
    loaded key instead of the PEM keeps a token endpoint round trip in the low milliseconds.
    """
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@cache
def public_key_pem(private_pem: str) -> str:
    """Return the public half of a private key, as PEM."""
    return (
        private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@cache
def _public_jwk_json(private_pem: str) -> str:
    # lti1p3platform's helper sets kid to the RFC 7638 thumbprint and adds alg/use,
    # which Canvas requires of a pasted JWK.
    return json.dumps(Registration.get_jwk(public_key_pem(private_pem)))


def public_jwk(private_pem: str) -> dict[str, Any]:
    """Return the public JWK (with `kid`, `alg: RS256`, `use: sig`) of a private key."""
    return dict(json.loads(_public_jwk_json(private_pem)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_jwt(
    claims: dict[str, Any],
    *,
    alg: str = "RS256",
    key_pem: str | None = None,
    secret: str | bytes | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """Encode a JWT with RS256, HS256 (any secret) or `none`; header values of None are dropped."""
    header: dict[str, Any] = {"typ": "JWT", "alg": alg}
    header.update(headers or {})
    header = {k: v for k, v in header.items() if v is not None}
    if alg == "RS256":
        if key_pem is None:
            raise ValueError("RS256 needs key_pem")
        extra = {k: v for k, v in header.items() if k != "alg"}
        # PyJWT adds `typ: JWT` unless typ is given empty: that is how a caller drops it.
        extra.setdefault("typ", "")
        return jwt.encode(claims, private_key(key_pem), algorithm="RS256", headers=extra)
    # PyJWT refuses a PEM as an HMAC secret (the key-confusion attack we want to forge) and
    # warns on short HMAC keys, so HS256 and `none` are encoded by hand.
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    if alg == "none":
        return signing_input + "."
    if alg == "HS256":
        if secret is None:
            raise ValueError("HS256 needs a secret")
        raw = secret.encode() if isinstance(secret, str) else secret
        sig = hmac.new(raw, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(sig)
    raise ValueError(f"unsupported alg {alg!r}")


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (header, claims) of a JWT without checking anything."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return header, claims
