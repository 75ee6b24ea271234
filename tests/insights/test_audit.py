"""An auditor: every figure L&D can get, under many filter settings, as linear equations; no person solvable.

For random small deployments, collect every own-gain mean and intake share shown (overview and every
breakdown, unfiltered, for every single cohort, pair and run of cohorts, for every offered department
and for every department with every cohort). Each shown figure is one equation over the people (or
reflections) it covers, assuming the attacker knows how many answers each group holds. A person's
rating (the sum of their own-gain ratings, or one reflection's) or intake status is revealed exactly when
its unit vector lies in the span of those equations: the test asserts that never happens.
"""
from __future__ import annotations

import random
from datetime import date, datetime

import numpy as np
import pytest

from tests.insights.helpers import add_cohort, person

OWN, INTAKE = "Own gain reported (mean 1-5)", "Intake completed (%)"
MONTHS = {"2026-03": datetime(2026, 3, 10), "2026-04": datetime(2026, 4, 10), "2026-05": datetime(2026, 5, 10)}


def _deployment(app, rng):
    people = []  # (participant id, cohort name, department, gender, [(month, gain)])
    for c in range(rng.randint(2, 4)):
        name, specs = f"Cohort {c + 1}", []
        for _ in range(rng.randint(3, 12)):
            dept = rng.choice(["Finance", "Finance", "Legal", "Sales", None])
            gender = rng.choice(["woman", "man", "man", "non-binary"])
            months = rng.sample(sorted(MONTHS), rng.choice([0, 1, 1, 1, 2]))
            ratings = [(rng.randint(1, 5), 3, MONTHS[m]) for m in months]
            specs.append((person(dept=dept, gender=gender, ratings=ratings), [(m, g) for m, (g, _, _) in
                                                                             zip(months, ratings)]))
        _, ids = add_cohort(app, name, date(2026, 3, 2 + 7 * c), [s for s, _ in specs])
        people += [(pid, name, s["dept"], s["gender"], r) for pid, (s, r) in zip(ids, specs)]
    return people


def _views(app, data):
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    with app.app_context():
        cohorts = db.session.execute(db.select(Cohort.id, Cohort.name).order_by(Cohort.id)).all()
    ids = [c for c, _ in cohorts]
    selections = [[]] + [[c] for c in ids] + [[a, b] for i, a in enumerate(ids) for b in ids[i + 1:]] + \
        [ids[i:j] for i in range(len(ids)) for j in range(i + 2, len(ids) + 1)]
    names = dict(cohorts)
    for sel in selections:
        yield {"cohorts": {names[c] for c in sel} or set(names.values()), "dept": None}, sel, None
    for dept in data["departments"]:
        for sel in [[]] + [[c] for c in ids]:
            yield {"cohorts": {names[c] for c in sel} or set(names.values()), "dept": dept}, sel, dept


def _members(view, people, table, label, named):
    """The people a row covers: the view's people, narrowed to the row's group (Other = the rest)."""
    inside = [p for p in people if p[1] in view["cohorts"] and (view["dept"] is None or p[2] == view["dept"])]
    field = {"by_cohort": 1, "by_department": 2, "by_gender": 3}.get(table)
    if table == "overview":
        return inside
    if label.startswith("Other"):
        return [p for p in inside if p[field] not in named]
    return [p for p in inside if p[field] == label]


def _equations(app, deployment_id, people):
    from lti_tool.services import insights

    with app.app_context():
        base = insights.compute(deployment_id, insights.Filters())
        rating_rows, intake_rows = [], []
        units = [(p[0], m) for p in people for m, _ in p[4]]
        for view, sel, dept in _views(app, base):
            data = insights.compute(deployment_id, insights.Filters(cohort_ids=sel, department=dept))
            if dept and data["department"] != dept:
                continue
            for key in ("overview", "by_cohort", "by_department", "by_gender", "trend"):
                table = data["tables"][key]
                rows = table.rows
                if key == "overview":
                    rows = [["all", dict(rows)[INTAKE], dict(rows)[OWN]]]
                    columns = ["Group", INTAKE, OWN]
                else:
                    columns = table.columns
                named = {r[0] for r in rows}
                for row in rows:
                    values = dict(zip(columns, row))
                    if key == "trend":
                        inside = _members(view, people, "overview", "", named)
                        month = row[0]
                        cover = {(p[0], m) for p in inside for m, _ in p[4] if m == month}
                        if isinstance(values.get("Own gain (mean)"), float):
                            rating_rows.append([1.0 if u in cover else 0.0 for u in units])
                        continue
                    members = _members(view, people, key, row[0], named)
                    if isinstance(values.get(OWN), float):
                        cover = {(p[0], m) for p in members for m, _ in p[4]}
                        rating_rows.append([1.0 if u in cover else 0.0 for u in units])
                    if isinstance(values.get(INTAKE), float):
                        ids = {p[0] for p in members}
                        intake_rows.append([1.0 if p[0] in ids else 0.0 for p in people])
    return units, np.array(rating_rows or [[0.0] * len(units)]), np.array(intake_rows or [[0.0] * len(people)])


def _solvable(matrix, target) -> bool:
    rank = np.linalg.matrix_rank(matrix)
    return np.linalg.matrix_rank(np.vstack([matrix, target])) == rank


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("AUDIT_SEEDS", "6"))))
def test_no_person_can_be_solved_from_every_figure_shown(app, client, lti, seed):
    from lti_tool.extensions import db
    from lti_tool.models import Course
    from tests.reflections.helpers import launch

    launch(lti, "lnd-1", role="lnd", cohort=None)
    people = _deployment(app, random.Random(seed))
    with app.app_context():
        deployment_id = db.session.execute(db.select(Course.deployment_id)).scalars().first()
    units, ratings, intake = _equations(app, deployment_id, people)
    for i, (pid, month) in enumerate(units):
        one = np.zeros(len(units))
        one[i] = 1
        assert not _solvable(ratings, one), f"seed {seed}: the rating of participant {pid} in {month} is solvable"
        whole = np.array([1.0 if u[0] == pid else 0.0 for u in units])
        assert not _solvable(ratings, whole), f"seed {seed}: participant {pid}'s ratings are solvable"
    for i, p in enumerate(people):
        one = np.zeros(len(people))
        one[i] = 1
        assert not _solvable(intake, one), f"seed {seed}: participant {p[0]}'s intake status is solvable"
    assert ratings.any() or intake.any() or len(people) < 5  # the audit looked at figures that were shown
