"""The tool's RSA keys: generated into keys/, rotated with a grace period, served as JWKS."""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from ..db import utcnow

MANIFEST = "keyring.json"


@functools.lru_cache(maxsize=8)
def parsed_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """A tool key's PEM parsed once (a rotation brings a new PEM, so a new entry; the keyring
    holds a few keys at most).

    Parsing a PEM checks the RSA key (tens of ms); signing with the parsed key is well under a
    millisecond, so whoever signs many tokens signs with this (bench/learning.py): the
    credentials, and the service token assertions pylti1p3 would otherwise sign from the PEM.
    """
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the tool key is not an RSA key")
    return key


@dataclass(frozen=True)
class ToolKey:
    """One key pair; `retired_at` is set once a newer key took over signing."""

    kid: str
    private_pem: str
    public_pem: str
    created_at: datetime
    retired_at: datetime | None

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        """The private key, parsed once (parsed_private_key)."""
        return parsed_private_key(self.private_pem)

    def public_jwk(self) -> dict:
        """The public key as a JWK with kid, alg and use (Canvas needs alg and use)."""
        jwk = json.loads(JWK.from_pem(self.public_pem.encode()).export_public())
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return jwk


class Keyring:
    """The keys in one directory: a manifest and one 0600 PEM file per key."""

    def __init__(self, directory: str | Path, grace: timedelta):
        self.directory = Path(directory)
        self.grace = grace
        self._lock = threading.Lock()
        self._loaded_mtime: float | None = None
        self._keys: list[ToolKey] = []

    # -- reading -------------------------------------------------------------------------
    def _manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def _load(self) -> list[ToolKey]:
        # Re-read only when the manifest changed, so `lti-tool keys rotate` reaches a
        # running server without a restart and a launch costs one stat() call.
        path = self._manifest_path()
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return []
        with self._lock:
            if mtime != self._loaded_mtime:
                entries = json.loads(path.read_text())
                self._keys = [self._read_key(entry) for entry in entries]
                self._loaded_mtime = mtime
            return self._keys

    def _read_key(self, entry: dict) -> ToolKey:
        private_pem = (self.directory / entry["file"]).read_text()
        private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        retired = entry.get("retired_at")
        return ToolKey(
            kid=entry["kid"], private_pem=private_pem, public_pem=public_pem,
            created_at=datetime.fromisoformat(entry["created_at"]),
            retired_at=datetime.fromisoformat(retired) if retired else None,
        )

    def current(self) -> ToolKey:
        """The key that signs now."""
        keys = [k for k in self._load() if k.retired_at is None]
        if not keys:
            raise RuntimeError(f"no tool key in {self.directory}: run `lti-tool keys ensure`")
        return keys[-1]

    def published(self, now: datetime | None = None) -> list[ToolKey]:
        """Keys in the JWKS: the current one and those retired less than `grace` ago."""
        now = now or utcnow()
        return [k for k in self._load() if k.retired_at is None or now - k.retired_at < self.grace]

    def jwks(self) -> dict:
        """The JSON Web Key Set served at /.well-known/jwks.json."""
        return {"keys": [key.public_jwk() for key in self.published()]}

    # -- writing -------------------------------------------------------------------------
    def ensure(self) -> ToolKey:
        """Generate the first key if there is none."""
        if not self._load():
            return self.rotate()
        return self.current()

    def rotate(self) -> ToolKey:
        """Make a new signing key; the previous one stays published for the grace period."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        kid = JWK.from_pem(public_pem.encode()).thumbprint()  # RFC 7638: stable, derived
        now = utcnow()
        filename = f"tool-{now:%Y%m%d%H%M%S}-{kid[:12]}.pem"
        _write_private(self.directory / filename, private_pem)

        path = self._manifest_path()
        entries = json.loads(path.read_text()) if path.exists() else []
        for entry in entries:
            entry.setdefault("retired_at", None)
            if entry["retired_at"] is None:
                entry["retired_at"] = now.isoformat()
        entries.append({"kid": kid, "file": filename, "created_at": now.isoformat(),
                        "retired_at": None})
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2))
        os.replace(tmp, path)
        with self._lock:
            self._loaded_mtime = None
        return self.current()

    def prune(self, now: datetime | None = None) -> list[str]:
        """Delete the files of keys past their grace period; returns their kids."""
        now = now or utcnow()
        path = self._manifest_path()
        if not path.exists():
            return []
        entries = json.loads(path.read_text())
        keep, gone = [], []
        for entry in entries:
            retired = entry.get("retired_at")
            if retired and now - datetime.fromisoformat(retired) >= self.grace:
                (self.directory / entry["file"]).unlink(missing_ok=True)
                gone.append(entry["kid"])
            else:
                keep.append(entry)
        path.write_text(json.dumps(keep, indent=2))
        with self._lock:
            self._loaded_mtime = None
        return gone


def _write_private(path: Path, pem: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(pem)


__all__ = ["Keyring", "ToolKey"]
