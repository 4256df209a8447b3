"""the built-in demo LMS: its activities' custom parameters and its gradebook (AGS line items
and scores served by /demo)

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demo_line_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("context_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("resource_link_id", sa.String(255), nullable=True),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("created_at", lti_tool.db.UtcDateTime(), nullable=False),
    )
    op.create_table(
        "demo_scores",
        sa.Column(
            "line_item_id",
            sa.Integer(),
            sa.ForeignKey("demo_line_items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_sub", sa.String(255), primary_key=True),
        sa.Column("score_given", sa.Float(), nullable=True),
        sa.Column("score_maximum", sa.Float(), nullable=True),
        sa.Column("activity_progress", sa.String(32), nullable=False),
        sa.Column("grading_progress", sa.String(32), nullable=False),
        sa.Column("comment", sa.String(1024), nullable=False),
        sa.Column("timestamp", lti_tool.db.UtcDateTime(), nullable=False),
    )

    op.create_table(
        "demo_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("context_id", sa.String(64), nullable=False),
        sa.Column("link_id", sa.String(255), nullable=False, unique=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("demo_links")
    op.drop_table("demo_scores")
    op.drop_table("demo_line_items")
