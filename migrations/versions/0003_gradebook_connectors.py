"""gradebook connectors (encrypted LMS API tokens) and the course totals they read

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:14:51.347103
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gb_connectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('base_url', sa.String(length=1024), nullable=False),
    sa.Column('token_encrypted', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_pull_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id')
    )
    op.create_table('gb_external_course_grades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('lms_course_id', sa.String(length=64), nullable=False),
    sa.Column('course_name', sa.String(length=512), nullable=False),
    sa.Column('course_code', sa.String(length=255), nullable=False),
    sa.Column('academic_year', sa.String(length=9), nullable=False),
    sa.Column('percent', sa.Float(), nullable=True),
    sa.Column('grade_text', sa.String(length=64), nullable=False),
    sa.Column('pulled_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['gb_connectors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'connector_id', 'lms_course_id')
    )
    with op.batch_alter_table('gb_external_course_grades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gb_external_course_grades_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('gb_external_course_grades', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gb_external_course_grades_user_id'))

    op.drop_table('gb_external_course_grades')
    op.drop_table('gb_connectors')
