"""The kinds of credentials and what the public verification page shows of each (no Flask)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .models import Credential


@dataclass(frozen=True)
class Shown:
    """What the verification page shows of one credential: the minimum, by its domain's own
    template (`template`, with `context`), and whether the domain withdrew it."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    revoked: bool = False
    title: str = ""


# A reader turns a credential row into what the verification page shows.
Reader = Callable[[Session, Credential], Shown]


class CredentialKinds:
    """The registry of credential kinds (domains register in their init_app)."""

    def __init__(self) -> None:
        self._readers: dict[str, Reader] = {}

    def register(self, kind: str, reader: Reader) -> None:
        """Say how the verification page shows credentials of `kind`."""
        if kind in self._readers:
            raise RuntimeError(f"credential kind {kind!r} is registered already")
        self._readers[kind] = reader

    def reader(self, kind: str) -> Reader | None:
        """The reader of a kind (None: the domain is not installed)."""
        return self._readers.get(kind)
