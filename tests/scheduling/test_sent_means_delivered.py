"""An event counts as sent to a person only once the message carrying it was delivered to them.

A message that ends in "needs attention" leaves its event unsent for that person: the page says so,
nobody gets an update of an invite they never received, and the next "Send invites" queues it again,
while a message still waiting for its next try is never queued twice."""
from __future__ import annotations

from aiosmtpd.controller import Controller

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, OutboxMessage
from lti_tool.services import calendar_events, held_invites, invites, outbox
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher
from tests.scheduling.scheduling_helpers import Inbox, free_port

PEOPLE = {"ana@example.com", "ben@example.com", "cleo@example.com", "dan@example.com"}


class RefusesBen(Inbox):
    """A mail server that knows everyone but ben."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "ben@example.com":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def by_status() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for status, recipient in db.session.execute(db.select(OutboxMessage.status, OutboxMessage.recipient)
                                                .order_by(OutboxMessage.id)):
        out.setdefault(status, []).append(recipient)
    return out


def facilitator(app, platform):
    client = https_client(app)
    Launcher(client, platform)(role="instructor", sub="fran", email="fran@example.com", custom={"cohort": "lab"})
    return client


def cohort_page(app, platform, cohort_id) -> str:
    return facilitator(app, platform).get(f"/facilitator/cohorts/{cohort_id}").get_data(as_text=True)


def test_invites_that_never_arrived_are_not_sent_get_no_update_and_go_out_again(app, lab, platform):
    cohort_id, _ = lab
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_MAX_ATTEMPTS=1)  # nothing listens
    try:
        with app.app_context():
            first = invites.send_due(cohort_id)
            assert first["queued"] == first["failed"] == 20 and set(by_status()) == {"attention"}
            cohort = db.session.get(Cohort, cohort_id)
            cohort.venue = "Room Galileo"  # a change after the failed send
            db.session.commit()
            calendar_events.record_versions(cohort)  # as saving the cohort does
            assert invites.people_out_of_date(cohort) == 0  # nobody holds an invite to be out of date
        assert "not sent yet" in cohort_page(app, platform, cohort_id)
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            assert invites.send_updates(cohort) == 0  # no update of an invite nobody received

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        controller.start()  # the mail server works now
        app.config.update(SMTP_URL=f"smtp://127.0.0.1:{controller.port}")
        try:
            with app.app_context():
                again = invites.send_due(cohort_id)  # the facilitator's next "Send invites"
                assert again["queued"] == again["sent"] == 20
                assert invites.send_due(cohort_id)["queued"] == 0  # now they hold them
            assert {m["To"] for m in inbox.messages} == PEOPLE
            assert all(not m["Subject"].startswith("Updated") for m in inbox.messages)  # new to them
            assert "not sent yet" not in cohort_page(app, platform, cohort_id)
        finally:
            controller.stop()
    finally:
        app.config.update(SMTP_URL=None, MAIL_MAX_ATTEMPTS=6)


def test_one_refused_address_is_the_only_one_sent_again_and_never_twice_while_waiting(app, lab, platform):
    cohort_id, _ = lab
    inbox = RefusesBen()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{controller.port}", MAIL_MAX_ATTEMPTS=2)
    try:
        with app.app_context():
            first = invites.send_due(cohort_id)
            bens = by_status()["failed"]
            assert bens and set(bens) == {"ben@example.com"} and first["sent"] == 20 - len(bens)
            # ben's messages wait for their next try: a second "Send invites" does not queue them again
            assert invites.queue_invites(db.session.get(Cohort, cohort_id)) == 0
            db.session.commit()
            db.session.execute(db.update(OutboxMessage).where(OutboxMessage.status == "failed")
                               .values(next_attempt_at=None))
            db.session.commit()
            outbox.deliver_outbox(cohort_id)  # the last try
            assert by_status()["attention"] == bens
            failed = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.status == "attention")).scalars()
            assert not any(held_invites.superseded(m) for m in failed)  # a Retry would bring ben something new
            cohort = db.session.get(Cohort, cohort_id)
            cohort.venue = "Room Galileo"
            db.session.commit()
            calendar_events.record_versions(cohort)
            assert invites.people_out_of_date(cohort) == 3  # everyone but ben holds the old venue
        assert "version 0 delivered to 3" in cohort_page(app, platform, cohort_id)  # ben's invites never arrived
        with app.app_context():
            queued = invites.queue_invites(db.session.get(Cohort, cohort_id))
            db.session.commit()
            waiting = by_status()["queued"]
            lab_events = db.session.scalar(db.select(db.func.count(CalendarEvent.id)).where(CalendarEvent.kind == "lab"))
            assert queued == len(waiting) == 3 * lab_events + len(bens)  # updates to the three, ben's invites again
            assert waiting.count("ben@example.com") == len(bens)
            new_to_ben = db.session.execute(db.select(OutboxMessage.subject).where(
                OutboxMessage.status == "queued", OutboxMessage.recipient == "ben@example.com")).scalars().all()
            assert new_to_ben and not any(s.startswith("Updated") for s in new_to_ben)
            # retrying one of ben's old messages would now only send him a second copy
            failed = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.status == "attention")).scalars()
            assert all(held_invites.superseded(m) for m in failed)
            old = db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.status == "attention").limit(1))
        client = facilitator(app, platform)
        token = csrf_token_in(client.get(f"/facilitator/cohorts/{cohort_id}"))
        retried = client.post(f"/facilitator/cohorts/{cohort_id}/outbox/{old}/retry", data={"csrf_token": token},
                              follow_redirects=True)
        assert "Not sent again: a newer message already brings this to ben@example.com." in retried.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(OutboxMessage, old).status == "attention" and by_status()["queued"] == waiting
    finally:
        controller.stop()
        app.config.update(SMTP_URL=None, MAIL_MAX_ATTEMPTS=6)


def test_the_cohort_page_counts_who_has_each_event(app, lab, platform, smtp_inbox):
    cohort_id, _ = lab
    with app.app_context():
        invites.send_due(cohort_id)
    page = cohort_page(app, platform, cohort_id)
    assert "version 0 delivered to 4" in page and "version 0 delivered to 2" in page


def test_messages_delivered_out_of_order_never_step_back():
    """Retries can deliver an older message after a newer one: what someone holds only moves forward."""
    from lti_tool.services.held_invites import Held, apply, carried

    invite, update = carried(7, 0, "request", {1: 1}), carried(7, 1, "request", {1: 2})
    assert apply(apply(None, update), invite) == Held(1, False, {"1": 2})
    moved = carried(7, 1, "occurrence", {1: 3})
    assert apply(apply(apply(None, invite), update), moved) == Held(1, False, {"1": 3})
    assert apply(None, moved) is None  # a moved meeting of a series they never received gives nothing
    cancel = carried(7, 2, "cancel")
    assert apply(apply(apply(None, invite), cancel), update) == Held(2, True)
