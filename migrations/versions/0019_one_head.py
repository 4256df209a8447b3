"""one head again: the calendar (0014), the statement (0015), the demo LMS (0016) and staff
learning with the portfolio's credentials (0017, 0018) were written side by side from 0012;
this revision joins them, so `alembic upgrade head` and the next revision have one parent

Revision ID: 0019
Revises: 0014, 0015, 0016, 0018
Create Date: 2026-12-03 17:10:00
"""

revision = "0019"
down_revision = ("0014", "0015", "0016", "0018")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # no schema change: a merge point


def downgrade() -> None:
    pass
