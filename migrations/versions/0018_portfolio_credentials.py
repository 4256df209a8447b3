"""credentials of every kind: tutor-verified portfolio entries beside staff learning

- la_credentials.kind: which domain's record a credential is of (activity, card, entry);
  the rows staff learning issued get theirs from the column that is set.
- la_credentials.entry_id: the portfolio entry (SET NULL when it is deleted: the credential
  stays, revoked, so its verification page and status bit still say so); at most one live
  (unrevoked) credential per entry.
- la_credentials.snapshot: what a portfolio credential said when issued.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("la_credentials") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(
            sa.Column(
                "entry_id",
                sa.Integer(),
                sa.ForeignKey(
                    "pf_entries.id", name="fk_la_credentials_entry_id", ondelete="SET NULL"
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=True))
    op.execute("UPDATE la_credentials SET kind = 'activity' WHERE activity_id IS NOT NULL")
    op.execute("UPDATE la_credentials SET kind = 'card' WHERE participant_id IS NOT NULL")
    op.create_index(
        "ix_la_credentials_live_entry",
        "la_credentials",
        ["entry_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_la_credentials_live_entry", table_name="la_credentials")
    op.execute("DELETE FROM la_credentials WHERE kind = 'entry'")
    with op.batch_alter_table("la_credentials") as batch:
        batch.drop_column("snapshot")
        batch.drop_column("entry_id")
        batch.drop_column("kind")
