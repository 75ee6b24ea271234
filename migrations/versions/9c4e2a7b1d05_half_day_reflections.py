"""reflections: one per half day; copy the answers written per session into the half-day reflection

Before, a learner answered 5 prompts after each of 11 sessions (``reflection.session_id`` = a session
id). Now there is one short reflection per half day (``session_id`` = d1-morning, d1-afternoon,
d2-morning, d2-afternoon). For each learner and half day that has per-session reflections, this
creates the half-day reflection from them:

- only submitted session reflections feed a submitted half-day reflection (a draft is never shared by
  the copy); when all of them are drafts, the half-day reflection is a draft built from the drafts;
- a text prompt of the half day gets the learner's texts for that prompt, in session order, joined;
- a rating gets the learner's last rating of that half day (their latest judgement, not an average);
- who may read an answer: the most private level any source answer had (me, then facilitator, then
  partner), so copying never shows an answer to more people than the learner chose.

The per-session rows are kept unchanged: learners still read them ("earlier reflections") and they are
in their data export. The mapping is frozen here (the curriculum file may change later).

Revision ID: 9c4e2a7b1d05
Revises: a7c3e9d1f2b8
Create Date: 2026-12-02 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '9c4e2a7b1d05'
down_revision = 'a7c3e9d1f2b8'
branch_labels = None
depends_on = None

# half day -> (its sessions in programme order, its prompts)
HALF_DAYS = {
    "d1-morning": (("d1-welcome", "d1-knowledge-map", "d1-listening"),
                   ("learned_from_partner", "gain_self", "gain_partner")),
    "d1-afternoon": (("d1-learning-stance", "d1-working-together", "d1-close"),
                     ("do_differently", "gain_self", "gain_partner")),
    "d2-morning": (("d2-goals", "d2-resilience"), ("taught_partner", "gain_self", "gain_partner")),
    "d2-afternoon": (("d2-swap-seats", "d2-action-plan", "d2-carry-back"),
                     ("action_steps", "gain_self", "gain_partner")),
}
RATINGS = {"gain_self", "gain_partner"}
PRIVACY = {"me": 0, "facilitator": 1, "partner": 2}  # lower is more private
DEFAULTS = {"learned_from_partner": "partner", "taught_partner": "partner", "do_differently": "me",
            "gain_self": "facilitator", "gain_partner": "facilitator"}

reflection = sa.table(
    "reflection",
    sa.column("id", sa.Integer), sa.column("participant_id", sa.Integer), sa.column("cohort_id", sa.Integer),
    sa.column("session_id", sa.String), sa.column("answers", sa.JSON), sa.column("visibility", sa.JSON),
    sa.column("status", sa.String), sa.column("submitted_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)


def merge(rows: list, prompts: tuple) -> dict | None:
    """The half-day reflection built from one learner's per-session rows of that half (in session order)."""
    submitted = [r for r in rows if r.status == "submitted"]
    sources = submitted or rows
    answers, visibility = {}, {}
    for prompt in prompts:
        values = [(r, (r.answers or {}).get(prompt)) for r in sources]
        if prompt in RATINGS:
            values = [(r, v) for r, v in values if isinstance(v, int) and not isinstance(v, bool)]
            if values:
                answers[prompt] = values[-1][1]
                values = values[-1:]
        else:
            values = [(r, v.strip()) for r, v in values if isinstance(v, str) and v.strip()]
            texts = list(dict.fromkeys(v for _, v in values))
            if texts:
                answers[prompt] = "\n\n".join(texts)[:5000]
        if prompt in answers:
            levels = [((r.visibility or {}).get(prompt) or DEFAULTS.get(prompt, "me")) for r, _ in values]
            visibility[prompt] = min((lv if lv in PRIVACY else "me" for lv in levels), key=PRIVACY.get)
    if not answers:
        return None
    return {
        "answers": answers, "visibility": visibility,
        "status": "submitted" if submitted else "draft",
        "submitted_at": max((r.submitted_at for r in submitted if r.submitted_at), default=None),
        "updated_at": max(r.updated_at for r in sources),
    }


def upgrade():
    bind = op.get_bind()
    session_half = {s: half for half, (sessions, _) in HALF_DAYS.items() for s in sessions}
    rows = bind.execute(sa.select(reflection).where(reflection.c.session_id.in_(list(session_half)))
                        .order_by(reflection.c.participant_id, reflection.c.id)).all()
    existing = {(r.participant_id, r.session_id) for r in bind.execute(
        sa.select(reflection.c.participant_id, reflection.c.session_id)
        .where(reflection.c.session_id.in_(list(HALF_DAYS))))}
    groups: dict = {}
    for r in rows:
        groups.setdefault((r.participant_id, r.cohort_id, session_half[r.session_id]), []).append(r)
    for (participant_id, cohort_id, half), members in groups.items():
        if (participant_id, half) in existing:
            continue
        sessions, prompts = HALF_DAYS[half]
        members.sort(key=lambda r: sessions.index(r.session_id))
        merged = merge(members, prompts)
        if merged is not None:
            bind.execute(sa.insert(reflection).values(participant_id=participant_id, cohort_id=cohort_id,
                                                      session_id=half, **merged))


def downgrade():
    # the half-day reflections (copied or written since) have no place in the per-session lab
    op.get_bind().execute(sa.delete(reflection).where(reflection.c.session_id.in_(list(HALF_DAYS))))
