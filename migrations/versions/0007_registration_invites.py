"""lti: registration invites (dynamic registration only through an admin-issued URL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registration_invites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('used_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('platform_id', sa.Integer(), nullable=True),
        sa.Column('update_platform_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['update_platform_id'], ['platforms.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )


def downgrade() -> None:
    op.drop_table('registration_invites')
