"""roles by the LTI vocabulary: memberships of observers and designers are no longer staff

Until now Mentor (Canvas observers) and ContentDeveloper (course designers) were kept as
"instructor" memberships, which made them staff of the course (issue 9). Data only: each
membership whose stored role is "instructor" is mapped again from the roles the platform sent,
so an upgraded tool does not wait for the next launch or roster pull to take the rights away.
Downgrade leaves the rows as they are (the old code reads "mentor" and "designer" as not
staff, which is the safe side).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

# The mapping at this revision; importing it keeps one definition of the role table.
from lti_tool.lti.roles import tool_role

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

memberships = sa.table('memberships', sa.column('id', sa.Integer), sa.column('role', sa.String),
                       sa.column('roles', sa.JSON))


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(memberships.c.id, memberships.c.roles)
                              .where(memberships.c.role == 'instructor')).all()
    for row_id, roles in rows:
        roles = [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
        if not roles:  # nothing to map again from: keep what was decided then
            continue
        role = tool_role(roles).value
        if role != 'instructor':
            connection.execute(memberships.update().where(memberships.c.id == row_id)
                               .values(role=role))


def downgrade() -> None:
    pass
