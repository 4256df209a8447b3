"""row versions: TeachHub participant and module cards, and the version each decision produced

A decision or an edit names the version its author saw and is written as one conditional
UPDATE on it (issue 10). Portfolio entries, Section I pages and tutor summaries had versions
already; the TeachHub cards get theirs here. `pf_decisions.version` is the entry version a
decision produced, so a refused decision can show what was decided since its author looked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("th_participants", "th_modules"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("revision", sa.Integer(), nullable=False, server_default="1")
            )
    with op.batch_alter_table("pf_decisions") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pf_decisions") as batch:
        batch.drop_column("version")
    for table in ("th_modules", "th_participants"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("revision")
