"""Follow-up check-ins and a withdrawal reason are personal data: exported, and gone after deletion."""
from __future__ import annotations

from datetime import timedelta, timezone

from lti_tool.extensions import db
from lti_tool.models import CheckIn, Cohort, Participant, Team
from lti_tool.services import check_ins, follow_ups

from .helpers import ZOE, delete_as, seed_lab, traces

NEEDLES = [ZOE["name"], "Quenneville", ZOE["email"], ZOE["sub"]]


def _zoe_checked_in(app, lab) -> None:
    """After Zoe's first follow-up meeting everyone is asked; Zoe answers, and gives a reason on record."""
    with app.app_context():
        cohort = db.session.get(Cohort, lab.cohort_id)
        team = next(t for t in db.session.execute(db.select(Team).where(Team.status == "active")).scalars()
                    if lab.zoe_pid in t.member_ids)
        meetings = next(t for t in follow_ups.follow_up_overview(cohort) if t["team"].id == team.id)["meetings"]
        first = meetings[0][0]
        check_ins.queue_check_ins(cohort, first.astimezone(timezone.utc) + timedelta(hours=3))
        row = db.session.execute(db.select(CheckIn).where(CheckIn.participant_id == lab.zoe_pid)).scalar_one()
        check_ins.answer(row, "yes")
        db.session.get(Participant, lab.zoe_pid).withdrawal_reason = "other"  # as a withdrawal would keep it
        db.session.commit()


def test_check_ins_and_the_withdrawal_reason_are_in_the_export(app, platform):
    lab = seed_lab(app, platform)
    _zoe_checked_in(app, lab)
    data = lab.clients["zoe"].get("/learner/my-data.json").get_json()
    (answered,) = data["Follow-up check-ins"]
    assert answered["Your answer"] == "yes, we met" and answered["Answered"]
    (intake,) = data["Cohorts and intake"]
    assert intake["Why you left"] == "Another reason"


def test_deletion_removes_check_ins_and_leaves_no_trace(app, platform):
    lab = seed_lab(app, platform)
    _zoe_checked_in(app, lab)
    with app.app_context():
        partners_rows = db.session.execute(db.select(db.func.count(CheckIn.id)).where(
            CheckIn.participant_id != lab.zoe_pid)).scalar_one()
    assert partners_rows  # her partner (and the other team) were asked too
    assert any("check_in" in t for t in traces(app, NEEDLES, {lab.zoe_pid}, {lab.zoe_user_id}))
    delete_as(lab.clients["zoe"])
    assert traces(app, NEEDLES, {lab.zoe_pid}, {lab.zoe_user_id}) == []
    with app.app_context():
        assert db.session.execute(db.select(CheckIn).where(CheckIn.participant_id == lab.zoe_pid)).first() is None
