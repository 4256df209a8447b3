"""one academic calendar; the tutor summary's points and level override; group leaders

- pf_portfolios.course_year_on: the day Section I's course year was stated (it counts on from
  that academic year when no year of admission is given).
- pf_entries.year_note: why an entry's course year differs from its date's.
- pf_summaries.points_total, level_overridden: the verified points of all years beside the
  year's, and whether the tutor chose a level the points do not give.
- pf_group_leaders, pf_gpa_confirmations: the group leader confirms the GPA-by-year rows
  (the portfolio regulations, Section II).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03 13:10:00
"""

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pf_portfolios") as batch:
        batch.add_column(sa.Column("course_year_on", sa.Date(), nullable=True))
    with op.batch_alter_table("pf_entries") as batch:
        batch.add_column(sa.Column("year_note", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("pf_summaries") as batch:
        batch.add_column(
            sa.Column("points_total", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("level_overridden", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "pf_group_leaders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "platform_id",
            sa.Integer(),
            sa.ForeignKey("platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("group_name", sa.String(64), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "set_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("set_at", lti_tool.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("platform_id", "group_name"),
    )
    op.create_index("ix_pf_group_leaders_user_id", "pf_group_leaders", ["user_id"])
    op.create_table(
        "pf_gpa_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "portfolio_id",
            sa.Integer(),
            sa.ForeignKey("pf_portfolios.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("gpa", sa.String(8), nullable=False),
        sa.Column(
            "confirmed_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("confirmed_by_name", sa.String(255), nullable=False),
        sa.Column("confirmed_at", lti_tool.db.UtcDateTime(), nullable=False),
        sa.UniqueConstraint("portfolio_id", "academic_year"),
    )


def downgrade() -> None:
    op.drop_table("pf_gpa_confirmations")
    op.drop_index("ix_pf_group_leaders_user_id", table_name="pf_group_leaders")
    op.drop_table("pf_group_leaders")
    with op.batch_alter_table("pf_summaries") as batch:
        batch.drop_column("level_overridden")
        batch.drop_column("points_total")
    with op.batch_alter_table("pf_entries") as batch:
        batch.drop_column("year_note")
    with op.batch_alter_table("pf_portfolios") as batch:
        batch.drop_column("course_year_on")
