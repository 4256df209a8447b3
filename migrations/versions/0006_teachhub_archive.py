"""teachhub: archived module cards

An archived card takes no new participants and is no longer offered for placement; the
people already on it keep their cards, and recognition goes on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('th_modules') as batch:
        batch.add_column(sa.Column('archived_at', lti_tool.db.UtcDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('th_modules') as batch:
        batch.drop_column('archived_at')
