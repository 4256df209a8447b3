"""Searching and paging long lists of people on the server (issue 12), for every domain.

A search is split into words; each word must appear, in any case, in one of the given columns
("серік әлия" finds "Серікова Әлия"). Case folding uses the database's lower(), which on
SQLite is Python's str.lower (db.make_engine), so Kazakh and Russian letters fold on both
databases. A page is one count and one LIMIT/OFFSET query, however long the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

T = TypeVar("T")
SEARCH_LIMIT = 100  # characters of a search kept
PAGE_SIZE = 25


def clean_search(value: str | None) -> str:
    """The search as typed, trimmed and cut to a sane length."""
    return " ".join((value or "").split())[:SEARCH_LIMIT]


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches(search: str, columns: Sequence[Any]):
    """A SQL condition: every word of `search` is in one of `columns` (None for no search)."""
    words = clean_search(search).split()
    if not words:
        return None
    return and_(
        *(
            or_(*(func.lower(func.coalesce(c, "")).like(_like(w), escape="\\") for c in columns))
            for w in words
        )
    )


@dataclass
class Page(Generic[T]):
    """One page of a list: its rows, how many match in all, the page number and count."""

    rows: list[T]
    total: int
    page: int
    pages: int
    search: str = ""

    @property
    def has_previous(self) -> bool:
        """There is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """There is a page after this one."""
        return self.page < self.pages


def page_of(
    db: Session,
    query: Select,
    page: int,
    *,
    size: int = PAGE_SIZE,
    search: str = "",
    scalars: bool = True,
) -> Page:
    """`query` (already searched and ordered) as page `page`; a page past the end is the last."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    paged = query.limit(size).offset((page - 1) * size)
    rows = list(db.scalars(paged)) if scalars else list(db.execute(paged).all())
    return Page(rows, total, page, pages, clean_search(search))
