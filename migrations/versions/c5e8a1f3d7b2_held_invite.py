"""held_invite (what each person was delivered of each event) and outbox_message.carries (what a
calendar message gives its recipient once delivered)

Events were marked as sent when their mail was queued; from now on a person holds an event only once
the message carrying it was delivered. Existing sent state is kept as held by every attendee it lists.

Revision ID: c5e8a1f3d7b2
Revises: b7e4c2a9d813
Create Date: 2026-12-02 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c5e8a1f3d7b2'
down_revision = 'b7e4c2a9d813'
branch_labels = None
depends_on = None


def upgrade():
    held = op.create_table('held_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('overrides', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_held_invite_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['event_id'], ['calendar_event.id'], name=op.f('fk_held_invite_event_id_calendar_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_invite')),
    sa.UniqueConstraint('event_id', 'email', name=op.f('uq_held_invite_event_id_email'))
    )
    with op.batch_alter_table('held_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_invite_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_invite_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carries', sa.JSON(), nullable=True))

    bind = op.get_bind()
    events = sa.table('calendar_event', sa.column('id'), sa.column('cohort_id'), sa.column('status'),
                      sa.column('sent_sequence'), sa.column('sent_spec', sa.JSON()))
    overrides = sa.table('follow_up_override', sa.column('id'), sa.column('event_id'), sa.column('sent_sequence'))
    sent_overrides = {}
    for oid, event_id, seq in bind.execute(sa.select(overrides.c.id, overrides.c.event_id, overrides.c.sent_sequence)
                                           .where(overrides.c.sent_sequence.is_not(None))):
        sent_overrides.setdefault(event_id, {})[str(oid)] = seq
    rows = []
    for event_id, cohort_id, status, seq, spec in bind.execute(sa.select(
            events.c.id, events.c.cohort_id, events.c.status, events.c.sent_sequence, events.c.sent_spec)
            .where(events.c.sent_sequence.is_not(None), events.c.sent_spec.is_not(None))):
        emails = {(a.get('email') or '').lower() for a in (spec or {}).get('attendees') or []} - {''}
        cancelled = status == 'CANCELLED'
        rows += [{'cohort_id': cohort_id, 'event_id': event_id, 'email': email, 'sequence': seq,
                  'cancelled': cancelled, 'overrides': {} if cancelled else sent_overrides.get(event_id, {}),
                  'updated_at': sa.func.now()} for email in sorted(emails)]
    for row in rows:
        bind.execute(held.insert().values(**row))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('carries')
    with op.batch_alter_table('held_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_invite_event_id'))
        batch_op.drop_index(batch_op.f('ix_held_invite_cohort_id'))
    op.drop_table('held_invite')
