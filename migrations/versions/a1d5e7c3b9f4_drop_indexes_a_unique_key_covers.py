"""drop the single-column indexes whose column leads a two-column unique key (that key's index serves it)

Each of these tables has a unique key on (x, y) and also an index on x alone. The unique key's index
answers lookups by x as well, so the second index only cost a write on every insert (a first launch
inserts a user, a membership and a participant) and, on a young database, led PostgreSQL to read every
user of a platform for a launch's user lookup instead of one row.

Revision ID: a1d5e7c3b9f4
Revises: e8d4b1c6a2f9
Create Date: 2026-12-03 08:00:00

"""
from alembic import op

revision = 'a1d5e7c3b9f4'
down_revision = "e8d4b1c6a2f9"
branch_labels = None
depends_on = None

# (table, column): the index is ix_<table>_<column>; the unique key that covers it leads with the column.
COVERED = [
    ("deployment", "platform_id"), ("lti_user", "platform_id"), ("course", "deployment_id"),
    ("cohort", "course_id"), ("membership", "course_id"), ("participant", "cohort_id"),
    ("resource_link", "course_id"), ("attendance", "participant_id"), ("follow_up_override", "event_id"),
    ("grade_sync", "participant_id"), ("held_invite", "event_id"),
    ("partner_preference", "from_participant_id"), ("reflection", "participant_id"),
    ("check_in", "participant_id"), ("team_member", "team_id"),
]


def upgrade():
    for table, column in COVERED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade():
    for table, column in COVERED:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
