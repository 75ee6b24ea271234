"""insight_tally (submitted reflections per participant and month, anonymous ratings per cohort and month)
and deployment.insights_version, so the L&D insights read tens of thousands of rows, not every reflection

The table is filled here from the existing rows, with the same definition the app keeps it to
(``services/insights_store.tally_select``): submitted reflections other than the per-session ones of the
curriculum (those were copied into the half-day reflections), counted with the sums and counts of their
two gain ratings, per cohort, participant and month submitted; and the anonymous ratings per cohort and
month. The session list is frozen here (the curriculum file may change later).

Revision ID: e8d4b1c6a2f9
Revises: c5e8a1f3d7b2
Create Date: 2026-12-02 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e8d4b1c6a2f9'
down_revision = "c5e8a1f3d7b2"
branch_labels = None
depends_on = None

PER_SESSION = ('d1-welcome', 'd1-knowledge-map', 'd1-break-morning', 'd1-listening', 'd1-lunch',
               'd1-learning-stance', 'd1-break-afternoon', 'd1-working-together', 'd1-close', 'd2-goals',
               'd2-break-morning', 'd2-resilience', 'd2-lunch', 'd2-swap-seats', 'd2-break-afternoon',
               'd2-action-plan', 'd2-carry-back')
COLUMNS = ["cohort_id", "participant_id", "month", "reflections", "gs_sum", "gs_n", "gp_sum", "gp_n"]


def upgrade():
    op.create_table('insight_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('reflections', sa.Integer(), nullable=False),
    sa.Column('gs_sum', sa.Integer(), nullable=False),
    sa.Column('gs_n', sa.Integer(), nullable=False),
    sa.Column('gp_sum', sa.Integer(), nullable=False),
    sa.Column('gp_n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_tally'))
    )
    with op.batch_alter_table('insight_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_tally_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insight_tally_participant_id'), ['participant_id'], unique=False)
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insights_version', sa.BigInteger(), server_default='0', nullable=False))

    postgres = op.get_bind().dialect.name == "postgresql"

    def month(column):
        return sa.func.to_char(column, "YYYY-MM") if postgres else sa.func.strftime("%Y-%m", column)

    reflection = sa.table("reflection", sa.column("participant_id", sa.Integer), sa.column("cohort_id", sa.Integer),
                          sa.column("session_id", sa.String), sa.column("status", sa.String),
                          sa.column("answers", sa.JSON), sa.column("submitted_at", sa.DateTime))
    anonymous = sa.table("anonymous_rating", sa.column("cohort_id", sa.Integer), sa.column("gain_self", sa.Integer),
                         sa.column("gain_partner", sa.Integer), sa.column("submitted_on", sa.Date))
    tally = sa.table("insight_tally", *(sa.column(c) for c in COLUMNS))
    r = sa.select(reflection.c.cohort_id.label("cid"), reflection.c.participant_id.label("pid"),
                  month(reflection.c.submitted_at).label("month"),
                  reflection.c.answers["gain_self"].as_integer().label("gs"),
                  reflection.c.answers["gain_partner"].as_integer().label("gp")).where(
        reflection.c.status == "submitted", reflection.c.session_id.not_in(PER_SESSION)).cte("r")
    fill = sa.select(r.c.cid, r.c.pid, r.c.month, sa.func.count(), sa.func.coalesce(sa.func.sum(r.c.gs), 0),
                     sa.func.count(r.c.gs), sa.func.coalesce(sa.func.sum(r.c.gp), 0), sa.func.count(r.c.gp)
                     ).group_by(r.c.cid, r.c.pid, r.c.month)
    op.execute(tally.insert().from_select(COLUMNS, fill))
    m = month(anonymous.c.submitted_on)
    fill = sa.select(anonymous.c.cohort_id, sa.null(), m, sa.func.count(),
                     sa.func.coalesce(sa.func.sum(anonymous.c.gain_self), 0), sa.func.count(anonymous.c.gain_self),
                     sa.func.coalesce(sa.func.sum(anonymous.c.gain_partner), 0), sa.func.count(anonymous.c.gain_partner)
                     ).group_by(anonymous.c.cohort_id, m)
    op.execute(tally.insert().from_select(COLUMNS, fill))


def downgrade():
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_column('insights_version')
    with op.batch_alter_table('insight_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insight_tally_participant_id'))
        batch_op.drop_index(batch_op.f('ix_insight_tally_cohort_id'))
    op.drop_table('insight_tally')
