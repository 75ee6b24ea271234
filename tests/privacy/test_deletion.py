""""Delete my data" deletes: no trace of the person anywhere, the partner told, the deletion logged anonymously."""
from __future__ import annotations

from datetime import date, timedelta

from lti_tool.extensions import db
from lti_tool.models import (AnonymousRating, AuditEvent, CalendarFeed, Cohort, LtiUser, MatchRun, OutboxMessage,
                             Participant, Reflection, Team)
from lti_tool.services.notifications import PARTNER_LEFT_SUBJECT
from tests.conftest import csrf_token_in, plain_text

from .helpers import OTHERS, ZOE, ZOE_TEXT, delete_as, launch_learner, message_text, seed_lab, traces

NEEDLES = [ZOE["name"], "Quenneville", ZOE["email"], ZOE["sub"], ZOE_TEXT["goals"], ZOE_TEXT["offers"],
           ZOE_TEXT["wants"], ZOE_TEXT["department"], ZOE_TEXT["reflection"]]


def _partner_of_zoe(app, lab) -> str:
    with app.app_context():
        team = next(t for t in db.session.execute(db.select(Team).where(Team.status == "active")).scalars()
                    if lab.zoe_pid in t.member_ids)
        other = next(m for m in team.member_ids if m != lab.zoe_pid)
        return db.session.get(Participant, other).user.sub


def test_deletion_leaves_no_trace_in_any_table(app, platform):
    lab = seed_lab(app, platform)
    partner = _partner_of_zoe(app, lab)
    assert traces(app, NEEDLES, {lab.zoe_pid}, {lab.zoe_user_id})  # the walk does find her before
    with app.app_context():
        before = {row.id for row in db.session.execute(db.select(OutboxMessage)).scalars()}

    page = delete_as(lab.clients["zoe"])
    assert "Your partner has been told" in page
    assert ZOE["name"] not in page and "Quenneville" not in page  # not even in the page header
    # Her browser still holds the launch: the lab answers it plainly, naming no one.
    after = lab.clients["zoe"].get("/learner/")
    assert after.status_code in (200, 302, 401, 403) and "Quenneville" not in after.get_data(as_text=True)

    assert traces(app, NEEDLES, {lab.zoe_pid}, {lab.zoe_user_id}) == []
    with app.app_context():
        # Her ratings stay, anonymous; the others are untouched.
        assert {(r.gain_self, r.gain_partner) for r in db.session.execute(db.select(AnonymousRating)).scalars()} \
            == {(5, 4)}
        assert len(db.session.execute(db.select(Participant)).scalars().all()) == 3
        ben_reflection = db.session.execute(db.select(Reflection)).scalar_one()
        assert ben_reflection.answers["learned_from_partner"] == "a former participant showed me how to negotiate"
        # Her partner was told in plain words, without her name; the pair is dissolved.
        told = db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.subject == PARTNER_LEFT_SUBJECT, OutboxMessage.id.not_in(before))).scalar_one()
        assert told.recipient == f"{partner}@example.com" and told.status == "written"
        text = plain_text(told.body)
        assert "has left the lab" in text and "find you a new partner" in text
        team = db.session.execute(db.select(Team)).scalars().all()
        assert all(lab.zoe_pid not in t.member_ids for t in team)
        # The partner's calendar: their follow-up series with Zoe was cancelled and delivered before the
        # stored copy (which named her) kept only a note.
        (cancel,) = [m for m in db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.recipient == f"{partner}@example.com", OutboxMessage.id.not_in(before))).scalars()
                     if m.subject.startswith("Cancelled: Reciprocal mentoring")]
        assert cancel.status == "written" and "a former participant" in cancel.subject
        assert "deleted their data" in message_text(cancel.body)
        # The deletion is logged, without anything about her.
        (event,) = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "deletion")).scalars()
        assert event.actor_user_id is None and event.actor_role == "learner" and event.cohort_id == lab.cohort_id
        assert event.details == {"partners_told": 1}  # a count, nothing about her
    assert lab.clients["zoe"].get("/learner/").status_code == 401  # her session is gone


def test_self_described_gender_is_gone_too(app, platform):
    lab = seed_lab(app, platform, zoe_gender="self-described", zoe_gender_words="Quietly genderfluid zebra")
    with app.app_context():
        run = db.session.execute(db.select(MatchRun)).scalars().first()
        assert any("Quietly genderfluid zebra" in p["gender"] for p in run.pool["participants"])
    delete_as(lab.clients["zoe"])
    assert traces(app, NEEDLES + ["genderfluid zebra"], {lab.zoe_pid}, {lab.zoe_user_id}) == []


def test_learner_with_a_private_calendar_feed_can_delete(app, platform):
    """The reported 500: a calendar feed's foreign key blocked the deletion and nothing was deleted."""
    client = launch_learner(app, platform, "feedy", "Fay Feedwell", "fay@example.com")
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        cohort.day_one, cohort.day_two = date.today() + timedelta(days=9), date.today() + timedelta(days=10)
        db.session.commit()
        cid = cohort.id
    page = client.get("/learner/")
    assert client.post(f"/learner/cohorts/{cid}/feed", data={"csrf_token": csrf_token_in(page)}).status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(CalendarFeed)).scalar_one()
    assert "Your data was deleted" in delete_as(client)
    with app.app_context():
        assert db.session.execute(db.select(CalendarFeed)).first() is None
        assert db.session.execute(db.select(LtiUser).where(LtiUser.sub == "feedy")).first() is None


def test_an_unpublished_proposal_with_the_person_cannot_be_published(app, platform):
    lab = seed_lab(app, platform)
    fac = lab.facilitator.client
    page = fac.get(f"/facilitator/cohorts/{lab.cohort_id}")
    assert fac.post(f"/facilitator/cohorts/{lab.cohort_id}/match",
                    data={"csrf_token": csrf_token_in(page)}).status_code == 303
    with app.app_context():
        fresh = db.session.execute(db.select(MatchRun).order_by(MatchRun.id.desc())).scalars().first()
        fresh_id = fresh.id
    delete_as(lab.clients["zoe"])
    with app.app_context():
        fresh = db.session.get(MatchRun, fresh_id)
        assert fresh.status == "failed" and "Run the matcher again" in fresh.error
    review = fac.get(f"/facilitator/cohorts/{lab.cohort_id}/match/{fresh_id}")
    publish = fac.post(f"/facilitator/cohorts/{lab.cohort_id}/match/{fresh_id}/publish",
                       data={"csrf_token": csrf_token_in(review)})
    assert publish.status_code == 400


def test_deletion_only_touches_the_person_who_asked(app, platform):
    lab = seed_lab(app, platform)
    others = [sub for sub, *_ in OTHERS]
    with app.app_context():
        before = {p.user.sub: (p.department, p.offers_other, p.goals) for p in
                  db.session.execute(db.select(Participant)).scalars() if p.user.sub in others}
    delete_as(lab.clients["cleo"])  # Cleo, not Zoe
    with app.app_context():
        zoe = db.session.get(Participant, lab.zoe_pid)
        assert zoe is not None and zoe.goals == ZOE_TEXT["goals"] and zoe.user.name == ZOE["name"]
        after = {p.user.sub: (p.department, p.offers_other, p.goals) for p in
                 db.session.execute(db.select(Participant)).scalars() if p.user.sub in others}
    assert after == {k: v for k, v in before.items() if k != "cleo"}
    assert lab.clients["zoe"].get("/learner/").status_code == 200
