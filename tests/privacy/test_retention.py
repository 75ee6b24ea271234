"""Retention: `flask --app lti_tool data purge --older-than 18m` removes the personal data of ended cohorts."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lti_tool.extensions import db
from lti_tool.models import AnonymousRating, AuditEvent, Cohort, LtiUser, Participant
from lti_tool.services import data_rights

from .helpers import OTHERS, ZOE, ZOE_TEXT, launch_learner, seed_lab, traces


def _age(app, cohort_id, days_ago):
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        cohort.day_one = date.today() - timedelta(days=days_ago)
        cohort.day_two = cohort.day_one + timedelta(days=1)
        db.session.commit()


def _people(app, cohort_id):
    with app.app_context():
        rows = db.session.execute(db.select(Participant).where(Participant.cohort_id == cohort_id)).scalars().all()
        return {p.id for p in rows}, {p.user_id for p in rows}


def test_purge_removes_personal_data_of_cohorts_ended_before_the_period(app, platform, runner):
    lab = seed_lab(app, platform)
    fresh = launch_learner(app, platform, "fern", "Fern Freshman", "fern@example.com", cohort="fresh")
    with app.app_context():
        fresh_id = db.session.execute(db.select(Cohort.id).where(Cohort.slug == "fresh")).scalar_one()
    _age(app, lab.cohort_id, days_ago=2 * 365)  # ended about two years ago (lab, then 12 weeks of follow-ups)
    _age(app, fresh_id, days_ago=30)
    pids, uids = _people(app, lab.cohort_id)
    names = [ZOE["name"], ZOE["email"], ZOE["sub"], ZOE_TEXT["goals"], ZOE_TEXT["reflection"], "Quenneville"]
    for sub, name, *_ in OTHERS:
        names += [name, f"{sub}@example.com"]

    dry = runner.invoke(args=["data", "purge", "--older-than", "18m", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f'Would purge cohort {lab.cohort_id} "Lab"' in dry.output and "4 people" in dry.output
    assert "Fresh" not in dry.output and "nothing removed" in dry.output
    assert traces(app, names, pids, uids)  # a dry run changes nothing

    result = runner.invoke(args=["data", "purge", "--older-than", "18m"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 cohort(s): 4 people's data removed" in result.output
    assert traces(app, names, pids, uids) == []
    with app.app_context():
        assert sorted((r.gain_self, r.gain_partner) for r in db.session.execute(db.select(AnonymousRating)).scalars()) \
            == [(4, 5), (5, 4)]  # the anonymous ratings stay, so aggregates hold
        assert db.session.get(Cohort, lab.cohort_id) is not None  # the cohort itself (its name and dates) stays
        fern = db.session.execute(db.select(LtiUser).where(LtiUser.sub == "fern")).scalar_one()
        assert db.session.execute(db.select(Participant).where(Participant.user_id == fern.id)).scalar_one()
        assert db.session.execute(db.select(LtiUser).where(LtiUser.sub == "teacher")).scalar_one()  # staff stay
        (event,) = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "purge")).scalars()
        assert (event.cohort_id, event.actor_role, event.actor_user_id) == (lab.cohort_id, "cli", None)
        assert event.details["people"] == 4 and event.details["retention_days"] == 548
    again = runner.invoke(args=["data", "purge", "--older-than", "18m"])
    assert again.exit_code == 0 and "No cohort that ended more than 18m ago holds personal data" in again.output
    assert fresh.get("/learner/").status_code == 200


def test_the_period_defaults_to_the_retention_setting(app, platform, runner):
    launch_learner(app, platform, "olga", "Olga Older", "olga@example.com")
    with app.app_context():
        cid = db.session.execute(db.select(Cohort.id)).scalar_one()
    _age(app, cid, days_ago=20 * 30)  # ended (no teams) about 20 months ago
    assert "No cohort" in runner.invoke(args=["data", "purge", "--dry-run", "--older-than", "2y"]).output
    app.config["RETENTION_MONTHS"] = 24
    try:
        assert "No cohort that ended more than 24m ago" in runner.invoke(args=["data", "purge", "--dry-run"]).output
    finally:
        app.config.pop("RETENTION_MONTHS")
    assert "Would purge" in runner.invoke(args=["data", "purge", "--dry-run"]).output  # 18 months by default
    assert "Purged 1 cohort(s)" in runner.invoke(args=["data", "purge"]).output
    with app.app_context():
        assert db.session.execute(db.select(LtiUser).where(LtiUser.sub == "olga")).first() is None


def test_a_cohort_without_dates_ends_with_its_last_activity(app, platform, runner):
    launch_learner(app, platform, "nadia", "Nadia Nodates", "nadia@example.com")
    assert "No cohort" in runner.invoke(args=["data", "purge", "--older-than", "1d"]).output
    with app.app_context():
        assert data_rights.purge_plan(timedelta(days=1), today=date.today() + timedelta(days=3))


@pytest.mark.parametrize("period", ["18", "m", "0m", "18w", "-3m"])
def test_a_bad_period_is_refused_with_the_forms_that_work(app, runner, period):
    result = runner.invoke(args=["data", "purge", "--older-than", period])
    assert result.exit_code == 2 and "such as 18m, 90d or 2y" in result.output


def test_parse_period():
    assert data_rights.parse_period("18m") == timedelta(days=548)
    assert data_rights.parse_period("90d") == timedelta(days=90)
    assert data_rights.parse_period("2Y") == timedelta(days=730)
