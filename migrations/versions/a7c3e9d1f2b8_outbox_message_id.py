"""outbox_message.message_id: each message's Message-ID, kept so a retried job can tell what was sent

Revision ID: a7c3e9d1f2b8
Revises: f3a9c1d2b4e7
Create Date: 2026-12-02 12:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9d1f2b8'
down_revision = 'f3a9c1d2b4e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('message_id')
