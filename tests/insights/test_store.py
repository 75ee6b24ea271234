"""The insights' summary rows and version (services/insights_store.py) stay true on every write path, and
the block-wise audit solver answers as the dense one it replaced."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import numpy as np

from lti_tool.extensions import db
from tests.reflections.helpers import launch

MARCH = datetime(2026, 3, 10)


def _tally(app) -> list[tuple]:
    """The kept tally, after checking it equals a recomputation from every reflection and anonymous rating."""
    from lti_tool.models import InsightTally
    from lti_tool.services import insights_store

    with app.app_context():
        kept = sorted((tuple(r) for r in db.session.execute(db.select(
            InsightTally.cohort_id, InsightTally.participant_id, InsightTally.month, InsightTally.reflections,
            InsightTally.gs_sum, InsightTally.gs_n, InsightTally.gp_sum, InsightTally.gp_n)).all()), key=repr)
        fresh = sorted((tuple(r) for query in (insights_store.tally_select(everything=True),
                                               insights_store.anonymous_select())
                        for r in db.session.execute(query).all()), key=repr)
    assert kept == fresh
    return kept


def _version(app) -> int:
    from lti_tool.models import Course
    from lti_tool.services import insights_store

    with app.app_context():
        deployment_id = db.session.execute(db.select(Course.deployment_id).order_by(Course.id)).scalars().first()
        return insights_store.version(deployment_id)


def _people(app) -> int:
    """The overview's head count (through the kept page), as L&D read it."""
    from lti_tool.models import Course
    from lti_tool.services import insights

    with app.test_request_context():
        deployment_id = db.session.execute(db.select(Course.deployment_id).order_by(Course.id)).scalars().first()
        overview = dict(insights.compute(deployment_id, insights.Filters())["tables"]["overview"].rows)
    return overview["People"]


def test_tally_and_version_follow_every_write_path(app, platform, runner, monkeypatch):
    from lti_tool.models import AnonymousRating, Cohort, Participant
    from lti_tool.services.withdrawal import withdraw
    from tests.privacy.helpers import OTHERS, delete_as, seed_lab
    from tests.reflections.helpers import reflect

    monkeypatch.setitem(app.config, "MIN_GROUP_SIZE", 2)  # a head count of four people is shown
    lab = seed_lab(app, platform)  # intake, publication, attendance and two reflections submitted through the pages
    rows = _tally(app)
    assert {r[1] for r in rows} == {lab.zoe_pid, lab.pid(app, "ben")}
    seen = [_version(app)]
    assert _people(app) == 4

    # submit a reflection: one more row of ratings
    assert reflect(lab.clients["cleo"], lab.cohort_id, learned_from_partner="x", gain_self="2",
                   gain_partner="3").status_code in (302, 303)
    assert lab.pid(app, "cleo") in {r[1] for r in _tally(app)}
    seen.append(_version(app))

    # withdraw: the tally keeps the reflections (insights drop the person), the page is rebuilt
    with app.app_context():
        withdraw(db.session.get(Participant, lab.pid(app, "dan")))
        db.session.commit()
    _tally(app)
    seen.append(_version(app))
    assert _people(app) == 3

    # delete my data: the person's rows go, their ratings come back anonymous
    delete_as(lab.clients["zoe"])
    rows = _tally(app)
    assert lab.zoe_pid not in {r[1] for r in rows} and any(r[1] is None for r in rows)
    seen.append(_version(app))

    # retention purge of the ended cohort: only anonymous rows are left
    with app.app_context():
        cohort = db.session.get(Cohort, lab.cohort_id)
        cohort.day_one = date.today() - timedelta(days=2 * 365)
        cohort.day_two = cohort.day_one + timedelta(days=1)
        db.session.commit()
    seen.append(_version(app))
    assert runner.invoke(args=["data", "purge", "--older-than", "18m"]).exit_code == 0
    rows = _tally(app)
    assert rows and all(r[1] is None for r in rows)
    seen.append(_version(app))
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AnonymousRating.id))).scalar() >= 2

    # the bench seed (bulk inserts, then one rebuild)
    from lti_tool.bench_seed import seed

    with app.app_context():
        seed(learners=30, cohorts=3, reflections=600, context_id="bench-small")  # 20 each: follow-ups too
    rows = _tally(app)
    assert sum(r[3] for r in rows if r[1] is not None) > 0
    seen.append(_version(app))
    assert len(set(seen)) == len(seen), seen  # every path gave the page a new version
    assert len(OTHERS) == 3


def test_a_bulk_statement_nobody_noted_rebuilds_the_tally(app, lti):
    from lti_tool.models import Reflection
    from tests.insights.helpers import add_cohort, person

    launch(lti, "lnd", role="lnd", cohort=None)
    _, ids = add_cohort(app, "Spring", date(2026, 3, 2), [person(ratings=[(4, 3, MARCH)]) for _ in range(3)])
    before = _version(app)
    assert set(ids) <= {r[1] for r in _tally(app)}
    with app.app_context():
        db.session.execute(db.delete(Reflection).where(Reflection.participant_id == ids[0]))
        db.session.commit()
    assert ids[0] not in {r[1] for r in _tally(app)}
    assert _version(app) != before


def test_a_page_read_inside_uncommitted_changes_is_not_kept(app, lti):
    from lti_tool.models import Course, Participant
    from lti_tool.services import insights
    from tests.insights.helpers import add_cohort, person

    launch(lti, "lnd", role="lnd", cohort=None)
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(6)])
    assert _people(app) == 6
    with app.test_request_context():
        p = db.session.execute(db.select(Participant)).scalars().first()
        p.status = "withdrawn"
        db.session.flush()
        deployment_id = db.session.execute(db.select(Course.deployment_id)).scalars().first()
        assert dict(insights.compute(deployment_id, insights.Filters())["tables"]["overview"].rows)["People"] == 5
        db.session.rollback()
    assert _people(app) == 6


def _dense_solvable(figures, n, targets) -> list[bool]:
    """The reference: a target is solvable when adding it to the figures does not raise the rank."""
    m = np.zeros((len(figures), n))
    for k, f in enumerate(figures):
        m[k, f] = 1.0
    rank = np.linalg.matrix_rank(m) if len(figures) else 0
    out = []
    for t in targets:
        v = np.zeros(n)
        v[t] = 1.0
        out.append(np.linalg.matrix_rank(np.vstack([m, v])) == rank)
    return out


def test_block_solver_agrees_with_the_dense_rank_test():
    """Random people's groups (cohort, department, gender, month) with the kinds of figures insights show:
    global rows (overview, department, gender, month), cohort rows and cohort shares, some held back."""
    from lti_tool.services.insights import _solvable

    solved_some = 0
    for seed in range(60):
        rng = random.Random(seed)
        sigs = sorted({(rng.randrange(rng.randint(1, 6)), rng.randrange(3), rng.randrange(2), rng.randrange(3))
                       for _ in range(rng.randint(3, 40))})
        n = len(sigs)

        def where(test, sigs=sigs):
            return [i for i, s in enumerate(sigs) if test(s)]

        figures, local = [], []
        if rng.random() < 0.7:
            figures.append(list(range(n)))
            local.append(False)
        for at in (1, 2, 3):
            for value in range(3):
                if rng.random() < 0.6:
                    figures.append(where(lambda s, at=at, value=value: s[at] == value))
                    local.append(False)
        for c in {s[0] for s in sigs}:
            if rng.random() < 0.8:
                figures.append(where(lambda s, c=c: s[0] == c))
                local.append(True)
            for at in (1, 2, 3):
                if rng.random() < 0.3:
                    for value in range(3):
                        figures.append(where(lambda s, c=c, at=at, value=value: s[0] == c and s[at] == value))
                        local.append(True)
        keep = [k for k, f in enumerate(figures) if f]
        figures, local = [figures[k] for k in keep], [local[k] for k in keep]
        targets = [[i] for i in range(n)] + [rng.sample(range(n), min(n, rng.randint(2, 4))) for _ in range(5)]
        expected = _dense_solvable(figures, n, targets)
        assert _solvable(figures, local, n, targets) == expected, f"seed {seed}"
        solved_some += sum(expected)
    assert solved_some  # the cases include solvable targets, not only unsolvable ones


def test_the_rendered_page_is_kept_until_the_data_changes(app, client, lti):
    from sqlalchemy import event

    from lti_tool.models import Participant
    from tests.insights.helpers import add_cohort, page_tables, person

    launch(lti, "lnd", role="lnd", cohort=None)
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(7)])
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        first = client.get("/insights/").get_data(as_text=True)
        n_first = len(statements)
        again = client.get("/insights/").get_data(as_text=True)
        n_again = len(statements) - n_first
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert again == first and n_again < n_first
    assert page_tables(first)["overview"]["People"]["Value"] == 7.0
    with app.app_context():
        db.session.execute(db.select(Participant)).scalars().first().status = "withdrawn"
        db.session.commit()
    assert page_tables(client.get("/insights/").get_data(as_text=True))["overview"]["People"]["Value"] == 6.0
