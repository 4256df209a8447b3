"""Compare-and-set on a row's version: how every decision and edit on shared state is written.

A form carries the version its author saw. The write first runs ONE conditional UPDATE,
`UPDATE t SET version = version + 1 WHERE id = :id AND version = :seen`, and checks the row
count: two requests that saw the same version cannot both pass (a check in Python followed by
a write could). The UPDATE also holds the row (PostgreSQL: a row lock; SQLite: the write lock)
until the transaction ends, so the rest of the change, made through the ORM in the same
transaction, cannot interleave with another writer's. Works alike on SQLite and PostgreSQL;
SELECT ... FOR UPDATE would not (SQLite ignores it).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .db import rowcount
from .errors import ToolError
from .parsing import NumberError, parse_int


class BadVersion(ToolError):
    """The version a form names is missing or not a number."""

    status = 400
    code = "bad_version"
    message = _l("The form is incomplete: open the page again and repeat your change.")


def parse_version(raw: object) -> int:
    """The version named by a form, by the shared strict number parser; BadVersion (400) else."""
    try:
        return parse_int(raw, minimum=0)
    except NumberError:
        raise BadVersion() from None


def claim(db: Session, obj, seen: int, column: str = "version") -> bool:
    """Bump `obj`'s version from `seen` to `seen + 1` in the database; False when it moved.

    On True the row is this transaction's until it ends, and `obj` knows its new version.
    """
    table = type(obj).__table__
    col = table.c[column]
    result = db.execute(
        update(table).where(table.c.id == obj.id, col == seen).values({column: col + 1})
    )
    if rowcount(result) != 1:
        return False
    set_committed_value(obj, column, seen + 1)
    return True
