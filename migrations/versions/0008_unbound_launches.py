"""lti: per-platform consent to launches not bound to the browser

A launch whose login state no cookie or platform storage binds to the browser is refused
(login CSRF); a platform with allow_unbound_launch accepts it, at its institution's risk.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite: recreating `platforms` would cascade-delete
    # every row that references it while foreign keys are on).
    op.add_column('platforms', sa.Column('allow_unbound_launch', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('platforms') as batch:
        batch.drop_column('allow_unbound_launch')
