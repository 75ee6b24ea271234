"""check_in (answers to "Did you meet?" after follow-up meetings) and participant.withdrawal_reason

Revision ID: b7e4c2a9d813
Revises: 9c4e2a7b1d05
Create Date: 2026-12-02 12:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e4c2a9d813'
down_revision = '9c4e2a7b1d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.DateTime(), nullable=False),
    sa.Column('meeting_start', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_check_in_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_check_in_participant_id_participant')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_check_in_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
    sa.UniqueConstraint('participant_id', 'team_id', 'occurrence',
                        name=op.f('uq_check_in_participant_id_team_id_occurrence'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_team_id'), ['team_id'], unique=False)
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawal_reason', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('withdrawal_reason')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_team_id'))
        batch_op.drop_index(batch_op.f('ix_check_in_participant_id'))
        batch_op.drop_index(batch_op.f('ix_check_in_cohort_id'))
    op.drop_table('check_in')
