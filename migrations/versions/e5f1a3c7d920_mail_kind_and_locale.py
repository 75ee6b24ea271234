"""outbox_message.kind (which email template) and lti_user.locale (the language to write in)

Revision ID: e5f1a3c7d920
Revises: d2b7c9e1f350
Create Date: 2026-12-02 07:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e5f1a3c7d920'
down_revision = 'd2b7c9e1f350'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_kind'), ['kind'], unique=False)
    with op.batch_alter_table('lti_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=35), nullable=True))
    # Reminders written before kinds existed keep counting towards "at most once a day".
    op.execute("UPDATE outbox_message SET kind = 'intake_reminder' "
               "WHERE subject = 'Reminder: your reciprocal mentoring profile'")


def downgrade():
    with op.batch_alter_table('lti_user', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_kind'))
        batch_op.drop_column('kind')
