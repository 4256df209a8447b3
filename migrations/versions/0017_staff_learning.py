"""staff learning of every form: activities, evidence, log, named roles, credentials

- la_activities: an activity of the forms of the staff non-formal education rules, 4.1-4.4 (self-education, internal
  events, online learning, internships), with its statuses (6.2), the head's endorsement, the
  methodological expert's opinion and the commission's decision with the recognised hours.
- la_activity_evidence, la_activity_log: its evidence files and every step, with who and when.
- la_roles: heads of departments, methodological experts, commission secretaries and HR,
  named by TeachHub coordinators (7.1).
- la_credentials: certificates and Open Badges 3.0 credentials issued for recognised
  activities and TeachHub cards (a random token; the id is the status list index).

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import lti_tool.db
import lti_tool.teachhub.models

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "la_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=48), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("foreign_language", sa.Boolean(), nullable=False),
        sa.Column("title_translation", sa.String(length=255), nullable=False),
        sa.Column("organiser", sa.String(length=255), nullable=False),
        sa.Column("mentor", sa.String(length=255), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("competence_area", sa.String(length=64), nullable=False),
        sa.Column("hours_claimed", lti_tool.teachhub.models.Hundredths(), nullable=False),
        sa.Column("hours_estimated", sa.Boolean(), nullable=False),
        sa.Column("estimate_reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("endorsed_by_id", sa.Integer(), nullable=True),
        sa.Column("endorsed_at", lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("opinion_ready", sa.Boolean(), nullable=True),
        sa.Column("opinion_note", sa.Text(), nullable=False),
        sa.Column("opinion_by_id", sa.Integer(), nullable=True),
        sa.Column("opinion_at", lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("returned_reason", sa.Text(), nullable=False),
        sa.Column("hours_recognized", lti_tool.teachhub.models.Hundredths(), nullable=True),
        sa.Column("hours_note", sa.Text(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("decision_number", sa.String(length=64), nullable=False),
        sa.Column("revoked_reason", sa.Text(), nullable=False),
        sa.Column("created_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endorsed_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["opinion_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_la_activities_platform_status", "la_activities", ["platform_id", "status"], unique=False
    )
    op.create_index("ix_la_activities_user", "la_activities", ["user_id"], unique=False)
    op.create_table(
        "la_roles",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=255), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("platform_id", "user_id", "role", "department"),
    )
    op.create_table(
        "la_activity_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["la_activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence_files.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_la_activity_evidence_activity_id"),
        "la_activity_evidence",
        ["activity_id"],
        unique=False,
    )
    op.create_table(
        "la_activity_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["la_activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_la_activity_log_activity_id"), "la_activity_log", ["activity_id"], unique=False
    )
    op.create_table(
        "la_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["la_activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["th_participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id"),
        sa.UniqueConstraint("participant_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(op.f("ix_la_credentials_user_id"), "la_credentials", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_la_credentials_user_id"), table_name="la_credentials")
    op.drop_table("la_credentials")
    op.drop_index(op.f("ix_la_activity_log_activity_id"), table_name="la_activity_log")
    op.drop_table("la_activity_log")
    op.drop_index(op.f("ix_la_activity_evidence_activity_id"), table_name="la_activity_evidence")
    op.drop_table("la_activity_evidence")
    op.drop_table("la_roles")
    op.drop_index("ix_la_activities_user", table_name="la_activities")
    op.drop_index("ix_la_activities_platform_status", table_name="la_activities")
    op.drop_table("la_activities")
