"""cohort.attendance_undo: the marks the last attendance change replaced (one step of undo)

Revision ID: f3a9c1d2b4e7
Revises: e5f1a3c7d920
Create Date: 2026-12-02 07:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f3a9c1d2b4e7'
down_revision = 'e5f1a3c7d920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_undo', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_column('attendance_undo')
