"""teachhub: module cards and versions, streams, participant cards, status log, tasks, feedback, coordinators

Hours and marks are stored as whole hundredths (Integer): exact sums on every database
(lti_tool.teachhub.models.Hundredths).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('th_coordinators',
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', 'user_id')
    )
    op.create_table('th_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('published_number', sa.Integer(), nullable=True),
    sa.Column('has_unpublished_changes', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('curator_department', sa.String(length=255), nullable=False),
    sa.Column('target_audience', sa.Text(), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('structure', sa.Text(), nullable=False),
    sa.Column('delivery_formats', sa.JSON(), nullable=False),
    sa.Column('mandatory_tasks', sa.Text(), nullable=False),
    sa.Column('completion_criteria', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('workload_hours', sa.Integer(), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=True),
    sa.Column('integration', sa.JSON(), nullable=False),
    sa.Column('module_format', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_modules_platform_id'), ['platform_id'], unique=False)

    op.create_table('th_people',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('th_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_people_department'), ['department'], unique=False)

    op.create_table('th_module_facilitators',
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['th_modules.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('module_id', 'user_id')
    )
    with op.batch_alter_table('th_module_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_module_facilitators_user_id'), ['user_id'], unique=False)

    op.create_table('th_module_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('facilitator_names', sa.JSON(), nullable=False),
    sa.Column('published_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('curator_department', sa.String(length=255), nullable=False),
    sa.Column('target_audience', sa.Text(), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('structure', sa.Text(), nullable=False),
    sa.Column('delivery_formats', sa.JSON(), nullable=False),
    sa.Column('mandatory_tasks', sa.Text(), nullable=False),
    sa.Column('completion_criteria', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('workload_hours', sa.Integer(), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=True),
    sa.Column('integration', sa.JSON(), nullable=False),
    sa.Column('module_format', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['th_modules.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('module_id', 'number')
    )
    op.create_table('th_streams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['th_modules.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_streams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_streams_module_id'), ['module_id'], unique=False)

    op.create_table('th_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('applicability', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['th_modules.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stream_id'], ['th_streams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_th_feedback_module_stream', ['module_id', 'stream_id'], unique=False)

    op.create_table('th_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.Integer(), nullable=True),
    sa.Column('enrolled_via', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contact_hours', sa.Integer(), nullable=False),
    sa.Column('self_study_hours', sa.Integer(), nullable=False),
    sa.Column('mark', sa.Integer(), nullable=True),
    sa.Column('mark_comment', sa.Text(), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('verification_note', sa.Text(), nullable=False),
    sa.Column('record_date', sa.Date(), nullable=True),
    sa.Column('record_number', sa.String(length=64), nullable=False),
    sa.Column('commission_date', sa.Date(), nullable=True),
    sa.Column('commission_number', sa.String(length=64), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('feedback_given', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['module_id'], ['th_modules.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_id'], ['resource_links.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stream_id'], ['th_streams.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['th_module_versions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream_id', 'user_id')
    )
    with op.batch_alter_table('th_participants', schema=None) as batch_op:
        batch_op.create_index('ix_th_participants_module_status', ['module_id', 'status'], unique=False)
        batch_op.create_index('ix_th_participants_status_completed', ['status', 'completed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_th_participants_user_id'), ['user_id'], unique=False)

    op.create_table('th_status_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['th_participants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_status_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_status_log_participant_id'), ['participant_id'], unique=False)

    op.create_table('th_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('review', sa.String(length=16), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', lti_tool.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['th_participants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_tasks_participant_id'), ['participant_id'], unique=False)

    op.create_table('th_task_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lti_tool.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['th_tasks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('th_task_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_th_task_evidence_evidence_id'), ['evidence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_th_task_evidence_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('th_task_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_task_evidence_task_id'))
        batch_op.drop_index(batch_op.f('ix_th_task_evidence_evidence_id'))

    op.drop_table('th_task_evidence')
    with op.batch_alter_table('th_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_tasks_participant_id'))

    op.drop_table('th_tasks')
    with op.batch_alter_table('th_status_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_status_log_participant_id'))

    op.drop_table('th_status_log')
    with op.batch_alter_table('th_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_participants_user_id'))
        batch_op.drop_index('ix_th_participants_status_completed')
        batch_op.drop_index('ix_th_participants_module_status')

    op.drop_table('th_participants')
    with op.batch_alter_table('th_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_th_feedback_module_stream')

    op.drop_table('th_feedback')
    with op.batch_alter_table('th_streams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_streams_module_id'))

    op.drop_table('th_streams')
    op.drop_table('th_module_versions')
    with op.batch_alter_table('th_module_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_module_facilitators_user_id'))

    op.drop_table('th_module_facilitators')
    with op.batch_alter_table('th_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_people_department'))

    op.drop_table('th_people')
    with op.batch_alter_table('th_modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_th_modules_platform_id'))

    op.drop_table('th_modules')
    op.drop_table('th_coordinators')
