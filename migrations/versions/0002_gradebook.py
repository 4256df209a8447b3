"""gradebook: line items, results, course grading, sync state, score outbox; membership status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:07:38.784018
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gb_line_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('label', sa.String(length=512), nullable=False),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('resource_id', sa.String(length=255), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=False),
    sa.Column('pulled_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('context_id', 'url')
    )
    op.create_table('gb_sync_state',
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('roster_pulled_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('roster_error', sa.Text(), nullable=False),
    sa.Column('roster_differences_url', sa.String(length=1024), nullable=True),
    sa.Column('grades_pulled_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('grades_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('context_id')
    )
    op.create_table('gb_course_grading',
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('final_line_item_id', sa.Integer(), nullable=True),
    sa.Column('credits', sa.Float(), nullable=False),
    sa.Column('academic_year', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['final_line_item_id'], ['gb_line_items.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('context_id')
    )
    op.create_table('gb_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('result_score', sa.Float(), nullable=True),
    sa.Column('result_maximum', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('pulled_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_item_id'], ['gb_line_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('line_item_id', 'user_id')
    )
    with op.batch_alter_table('gb_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gb_results_user_id'), ['user_id'], unique=False)

    op.create_table('gb_score_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('resource_link_id', sa.Integer(), nullable=True),
    sa.Column('line_item_url', sa.String(length=1024), nullable=False),
    sa.Column('line_item_label', sa.String(length=512), nullable=False),
    sa.Column('line_item_tag', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_sub', sa.String(length=255), nullable=False),
    sa.Column('score_given', sa.Float(), nullable=True),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('activity_progress', sa.String(length=32), nullable=False),
    sa.Column('grading_progress', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_id'], ['resource_links.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gb_score_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_gb_score_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_gb_score_outbox_link_user', ['resource_link_id', 'user_id', 'status'], unique=False)
        batch_op.create_index('ix_gb_score_outbox_target', ['line_item_url', 'user_sub'], unique=False)

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='Active', nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='launch', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('status')

    with op.batch_alter_table('gb_score_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_gb_score_outbox_target')
        batch_op.drop_index('ix_gb_score_outbox_link_user')
        batch_op.drop_index('ix_gb_score_outbox_due')

    op.drop_table('gb_score_outbox')
    with op.batch_alter_table('gb_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gb_results_user_id'))

    op.drop_table('gb_results')
    op.drop_table('gb_course_grading')
    op.drop_table('gb_sync_state')
    op.drop_table('gb_line_items')
