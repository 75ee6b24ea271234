"""team members as rows (team_member) instead of a JSON list on team

Each team's JSON ``member_ids`` becomes one ``team_member`` row per person, in the same order; a
member id that no longer names a participant is dropped. Downgrade writes the list back.

Revision ID: d2b7c9e1f350
Revises: c4d1e2f3a5b6
Create Date: 2026-12-02 07:20:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'd2b7c9e1f350'
down_revision = 'c4d1e2f3a5b6'
branch_labels = None
depends_on = None


def _ids(value):
    if isinstance(value, str):
        value = json.loads(value)
    return [int(i) for i in value or []]


def upgrade():
    member = op.create_table('team_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_team_member_participant_id_participant'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_member')),
    sa.UniqueConstraint('team_id', 'participant_id', name=op.f('uq_team_member_team_id_participant_id'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_member_team_id'), ['team_id'], unique=False)
    bind = op.get_bind()
    people = {row[0] for row in bind.execute(sa.text("SELECT id FROM participant"))}
    rows = []
    for team_id, member_ids in bind.execute(sa.text("SELECT id, member_ids FROM team")):
        for position, pid in enumerate(_ids(member_ids)):
            if pid in people:
                rows.append({"team_id": team_id, "participant_id": pid, "position": position})
    if rows:
        op.bulk_insert(member, rows)
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('member_ids')


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_ids', sa.JSON(), nullable=True))
    bind = op.get_bind()
    teams = {}
    for team_id, pid in bind.execute(sa.text("SELECT team_id, participant_id FROM team_member ORDER BY team_id, position")):
        teams.setdefault(team_id, []).append(pid)
    table = sa.table('team', sa.column('id', sa.Integer), sa.column('member_ids', sa.JSON))
    for team_id, ids in teams.items():
        bind.execute(table.update().where(table.c.id == team_id).values(member_ids=ids))
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_team_id'))
        batch_op.drop_index(batch_op.f('ix_team_member_participant_id'))
    op.drop_table('team_member')
