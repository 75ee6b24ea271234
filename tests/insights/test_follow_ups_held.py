"""L&D sees follow-up meetings due, check-ins answered and follow-ups held per cohort, under the
small-group rule."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from tests.insights.helpers import seed
from tests.reflections.helpers import launch


def _check_ins(app, cohort_id, answers):
    """Each team of the cohort asked about ``len(answers)`` meetings; every member gives those answers."""
    from lti_tool.extensions import db
    from lti_tool.models import CheckIn, Team

    with app.app_context():
        for team in db.session.execute(db.select(Team).where(Team.cohort_id == cohort_id)).scalars():
            for k, answer in enumerate(answers):
                when = datetime(2026, 4, 7, 10) + timedelta(weeks=k)
                for pid in team.member_ids:
                    db.session.add(CheckIn(cohort_id=cohort_id, team_id=team.id, participant_id=pid,
                                           occurrence=when, meeting_start=when, answer=answer))
        db.session.commit()


def _table(client, query=""):
    raw = client.get(f"/insights/export/follow_ups.csv{query}").get_data().decode("utf-8-sig")
    # cohort -> the three figures (a note may follow in another column)
    return {row[0]: row[1:4] for row in list(csv.reader(io.StringIO(raw)))[1:] if row and row[0]}


def test_follow_ups_held_per_cohort(app, client, lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)
    big, = seed(app, cohorts=1, per_cohort=6)  # three teams
    _check_ins(app, big, ["yes", "no"])
    table = _table(client)
    assert table["Cohort 1"] == ["6", "12", "3"]  # 3 teams x 2 meetings due; 12 answers; 3 meetings held


def test_a_cohort_with_fewer_answering_than_the_minimum_is_not_shown_nor_its_total(app, client, lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)
    big, = seed(app, cohorts=1, per_cohort=6)
    small, = seed(app, cohorts=1, per_cohort=2)  # one team: two people answering
    with app.app_context():
        from lti_tool.extensions import db
        from lti_tool.models import Cohort

        db.session.get(Cohort, small).name = "Small cohort"
        db.session.commit()
    _check_ins(app, big, ["yes"])
    _check_ins(app, small, ["no"])
    table = _table(client)
    assert table["Cohort 1"] == ["3", "6", "3"]
    assert table["Small cohort"] == ["not shown"] * 3
    assert table["All cohorts"] == ["not shown"] * 3  # the total less Cohort 1 would give the small one
    html = client.get("/insights/").get_data(as_text=True)
    assert 'id="table-follow_ups"' in html


def test_a_department_filter_shows_no_follow_up_figures(app, client, lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)
    big, = seed(app, cohorts=1, per_cohort=6)
    _check_ins(app, big, ["yes"])
    assert _table(client, "?department=Finance") == {}


def _withdrawn(app, cohort_id, reasons):
    from lti_tool.extensions import db
    from lti_tool.models import Participant

    with app.app_context():
        people = db.session.execute(db.select(Participant).where(Participant.cohort_id == cohort_id)
                                    .order_by(Participant.id)).scalars().all()
        for p, reason in zip(people, reasons):
            p.status, p.withdrawal_reason = "withdrawn", reason
        db.session.commit()


def _reasons(client, query=""):
    raw = client.get(f"/insights/export/withdrawal_reasons.csv{query}").get_data().decode("utf-8-sig")
    return {row[0]: row[1] for row in list(csv.reader(io.StringIO(raw)))[1:] if row and row[0]}


def test_withdrawal_reasons_are_counted_and_a_small_count_cannot_be_worked_out(app, client, lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)
    big, other = seed(app, cohorts=2, per_cohort=12)
    _withdrawn(app, big, ["time"] * 6 + ["job"] * 5 + ["partner"])
    reasons = _reasons(client)
    assert reasons["No time"] == "6" and reasons["Health or personal reasons"] == "0"
    # one person said "partner": hidden, and the smallest shown count with it (else the total gives it back)
    assert reasons["The pairing did not work"] == reasons["Role changed or leaving the organisation"] == "not shown"
    assert _reasons(client, f"?cohort={big}") == {}  # never under a filter (two selections could be subtracted)


def test_withdrawal_reasons_from_fewer_than_the_minimum_are_not_shown(app, client, lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)
    big, = seed(app, cohorts=1, per_cohort=6)
    _withdrawn(app, big, ["time"] * 4)
    assert _reasons(client) == {}
