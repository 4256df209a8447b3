"""the rating statement of a dual-training course (the dual-training rules, 6.3-6.7, appendices 2-3)

- st_courses: per course, the weekly structure (appendix 2 or 3), the first day of week 1,
  the group, the line item the final is posted to, and a version for simultaneous edits.
- st_mappings: which LMS line item holds each part of the statement.
- st_weeks / st_week_scores: a week's mentor scores entered by the university teacher, each
  with the outbox row that carries it to the LMS (6.5.2: within 24 hours).

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "st_courses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("contexts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("structure_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("group_name", sa.String(length=128), nullable=False),
        sa.Column(
            "final_line_item_id",
            sa.Integer(),
            sa.ForeignKey("gb_line_items.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", lti_tool.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.UniqueConstraint("context_id"),
    )
    op.create_table(
        "st_mappings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("contexts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column(
            "line_item_id",
            sa.Integer(),
            sa.ForeignKey("gb_line_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint("context_id", "slot"),
    )
    op.create_index("ix_st_mappings_context_id", "st_mappings", ["context_id"])
    op.create_table(
        "st_weeks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("contexts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mentor_name", sa.String(length=255), nullable=False),
        sa.Column("entered_at", lti_tool.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=255), nullable=False),
        sa.UniqueConstraint("context_id", "week"),
    )
    op.create_table(
        "st_week_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "week_id",
            sa.Integer(),
            sa.ForeignKey("st_weeks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "outbox_id",
            sa.Integer(),
            sa.ForeignKey("gb_score_outbox.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint("week_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("st_week_scores")
    op.drop_table("st_weeks")
    op.drop_index("ix_st_mappings_context_id", table_name="st_mappings")
    op.drop_table("st_mappings")
    op.drop_table("st_courses")
