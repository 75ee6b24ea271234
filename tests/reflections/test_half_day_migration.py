"""Migration 9c4e2a7b1d05: reflections written per session are copied into half-day reflections, kept, and
never shown to more people than the learner chose."""
from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

from tests.reflections.helpers import cohort_id, lab_held, launch, participant_id

HALF_DAYS = {"d1-morning", "d1-afternoon", "d2-morning", "d2-afternoon"}
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "9c4e2a7b1d05_half_day_reflections.py"


@pytest.fixture
def migration():
    spec = importlib.util.spec_from_file_location("half_day_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_upgrade(app, module):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from lti_tool.extensions import db

    with app.app_context(), db.engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            module.upgrade()


def add(app, pid, cid, session_id, answers, visibility=None, status="submitted", day=1):
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    with app.app_context():
        db.session.add(Reflection(participant_id=pid, cohort_id=cid, session_id=session_id, answers=answers,
                                  visibility=visibility or {}, status=status,
                                  submitted_at=datetime(2026, 3, day, 12) if status == "submitted" else None,
                                  updated_at=datetime(2026, 3, day, 12)))
        db.session.commit()


def half_days(app, pid) -> dict:
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    with app.app_context():
        return {r.session_id: r for r in db.session.execute(db.select(Reflection).where(
            Reflection.participant_id == pid)).scalars() if r.session_id in HALF_DAYS}


def test_session_reflections_become_one_half_day_reflection(app, lti, migration):
    launch(lti, "ana")
    cid, pid = cohort_id(app), participant_id(app, "ana")
    add(app, pid, cid, "d1-welcome", {"learned_from_partner": "Budgets", "gain_self": 3, "gain_partner": 2})
    add(app, pid, cid, "d1-listening", {"learned_from_partner": "Pauses", "gain_self": 5},
        {"learned_from_partner": "me"})
    run_upgrade(app, migration)
    morning = half_days(app, pid)["d1-morning"]
    assert morning.answers == {"learned_from_partner": "Budgets\n\nPauses", "gain_self": 5, "gain_partner": 2}
    assert morning.status == "submitted" and morning.submitted_at == datetime(2026, 3, 1, 12)
    assert morning.visibility["learned_from_partner"] == "me"  # the most private choice among the sources
    assert morning.visibility["gain_partner"] == "facilitator"


def test_a_draft_is_never_shared_by_the_copy(app, lti, migration):
    launch(lti, "ana")
    cid, pid = cohort_id(app), participant_id(app, "ana")
    add(app, pid, cid, "d1-welcome", {"learned_from_partner": "Sent", "gain_self": 4})
    add(app, pid, cid, "d1-knowledge-map", {"learned_from_partner": "UNSENT-DRAFT"}, status="draft")
    add(app, pid, cid, "d2-goals", {"taught_partner": "Only a draft"}, status="draft")
    run_upgrade(app, migration)
    mine = half_days(app, pid)
    assert mine["d1-morning"].answers == {"learned_from_partner": "Sent", "gain_self": 4}
    assert mine["d2-morning"].status == "draft" and mine["d2-morning"].answers == {"taught_partner": "Only a draft"}


def test_session_reflections_stay_readable_and_are_not_counted_twice(app, client, lti, migration):
    launch(lti, "ana")
    cid, pid = cohort_id(app), participant_id(app, "ana")
    lab_held(app)
    add(app, pid, cid, "d1-close", {"do_differently": "Ask first", "taught_partner": "KEPT-IN-THE-OLD-ROW"})
    run_upgrade(app, migration)
    run_upgrade(app, migration)  # running again adds nothing
    assert len(half_days(app, pid)) == 1
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "Earlier reflections" in listing and "KEPT-IN-THE-OLD-ROW" in listing
    assert "1 of 7 done" in client.get("/learner/").get_data(as_text=True)  # d1-afternoon, once
