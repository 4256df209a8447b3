"""per-course gradebook normalisation of portfolio points; status-log notes by message key

- pf_course_scores: a course's staff choose how verified portfolio points reach its gradebook
  (raw points out of a maximum, or scaled to 100 with a maximum that counts as 100 %).
- th_status_log.note_key / note_params: the tool's own notes are stored as a message key and
  its parameters, rendered in the reader's language (a Russian note showed on Kazakh cards).
  The notes the tool wrote so far, in English, Kazakh or Russian, are turned into keys; a
  person's own notes stay as typed.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 10:30:00
"""

import re

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

# The notes the tool wrote at revision 0006, in the three catalogues' words.
FIRST_LAUNCH_NOTES = {
    "Registered at the first launch of the module.",
    "Модуль алғаш ашылғанда тіркелді.",
    "Зарегистрирован при первом открытии модуля.",
}
ROSTER_NOTES = {
    "Enrolled from the course roster.",
    "Курс тізімінен жазылды.",
    "Зачислен из списка курса.",
}
# "Commission record X of DATE." as the three catalogues rendered it at revision 0006.
COMMISSION_NOTES = [
    re.compile(r"^Commission record (?P<number>.+) of (?P<date>\d{4}-\d{2}-\d{2})\.$"),
    re.compile(r"^Комиссияның (?P<date>\d{4}-\d{2}-\d{2}) күнгі №(?P<number>.+) хаттамасы\.$"),
    re.compile(r"^Протокол комиссии № (?P<number>.+) от (?P<date>\d{4}-\d{2}-\d{2})\.$"),
]

log = sa.table(
    "th_status_log",
    sa.column("id", sa.Integer),
    sa.column("note", sa.Text),
    sa.column("note_key", sa.String),
    sa.column("note_params", sa.JSON),
)


def upgrade() -> None:
    op.create_table(
        "pf_course_scores",
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("contexts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("points_maximum", sa.Integer(), nullable=False),
        sa.Column(
            "changed_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("changed_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("th_status_log") as batch:
        batch.add_column(
            sa.Column("note_key", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("note_params", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(log.c.id, log.c.note).where(log.c.note != "")).all()
    for row_id, note in rows:
        key, params = _key_of(note.strip())
        if key:
            connection.execute(
                log.update()
                .where(log.c.id == row_id)
                .values(note="", note_key=key, note_params=params)
            )


def _key_of(note: str) -> tuple[str, dict]:
    if note in FIRST_LAUNCH_NOTES:
        return "first_launch", {}
    if note in ROSTER_NOTES:
        return "roster", {}
    for pattern in COMMISSION_NOTES:
        match = pattern.match(note)
        if match:
            return "commission", {"number": match["number"], "date": match["date"]}
    return "", {}


def downgrade() -> None:
    with op.batch_alter_table("th_status_log") as batch:
        batch.drop_column("note_params")
        batch.drop_column("note_key")
    op.drop_table("pf_course_scores")
