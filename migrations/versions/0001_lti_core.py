"""LTI core: platforms, deployments, login state, users, contexts, sessions

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:47:49.250280
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_key_sets',
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('jwks', sa.JSON(), nullable=False),
    sa.Column('fetched_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('url')
    )
    op.create_table('platforms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1024), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1024), nullable=False),
    sa.Column('key_set_url', sa.String(length=1024), nullable=False),
    sa.Column('auth_audience', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('frame_origins', sa.JSON(), nullable=False),
    sa.Column('product_family', sa.String(length=64), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'client_id')
    )
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'], unique=False)

    op.create_table('contexts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('lineitems_url', sa.String(length=1024), nullable=True),
    sa.Column('memberships_url', sa.String(length=1024), nullable=True),
    sa.Column('ags_scopes', sa.JSON(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id', 'context_id')
    )
    op.create_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id', 'deployment_id')
    )
    op.create_table('login_states',
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('target_link_uri', sa.String(length=1024), nullable=False),
    sa.Column('storage_target', sa.String(length=255), nullable=True),
    sa.Column('login_params', sa.JSON(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state'),
    sa.UniqueConstraint('nonce')
    )
    with op.batch_alter_table('login_states', schema=None) as batch_op:
        batch_op.create_index('ix_login_states_expires_at', ['expires_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('given_name', sa.String(length=255), nullable=False),
    sa.Column('family_name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id', 'sub')
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'context_id')
    )
    op.create_table('resource_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('placement', sa.String(length=64), nullable=False),
    sa.Column('lineitem_url', sa.String(length=1024), nullable=True),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('context_id', 'resource_link_id')
    )


def downgrade() -> None:
    op.drop_table('resource_links')
    op.drop_table('memberships')
    op.drop_table('users')
    with op.batch_alter_table('login_states', schema=None) as batch_op:
        batch_op.drop_index('ix_login_states_expires_at')

    op.drop_table('login_states')
    op.drop_table('deployments')
    op.drop_table('contexts')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))

    op.drop_table('web_sessions')
    op.drop_table('platforms')
    op.drop_table('platform_key_sets')
