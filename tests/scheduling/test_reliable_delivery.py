"""Mail that retries by itself and is never sent twice: SMTP (aiosmtpd on loopback) down and back up,
back-off up to a limit then "needs attention", atomic claims so two deliveries never send one message
twice, and a send interrupted by a dying worker is flagged instead of being sent again."""
from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

from aiosmtpd.controller import Controller

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage, utcnow
from lti_tool.services import invites, outbox, upkeep
from tests.conftest import csrf_token_in
from tests.scheduling.scheduling_helpers import Inbox, free_port


class SlowInbox(Inbox):
    """An inbox that takes a moment over each message, so two senders overlap."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def message_ids(inbox) -> Counter:
    return Counter(m["Message-ID"] for m in inbox.messages)


def rows():
    return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def test_smtp_down_then_up_every_message_is_delivered_exactly_once_without_a_click(app, lab):
    cohort_id, _ = lab
    port = free_port()  # nothing listens here yet: the mail server is down
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_RETRY_SECONDS=[0])
    try:
        with app.app_context():
            result = invites.send_due(cohort_id)
            assert result["failed"] == result["queued"] == 20
            assert {(r.status, r.attempts) for r in rows()} == {("failed", 1)}
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()  # the mail server comes back on the same port
        try:
            with app.app_context():
                first = upkeep.sweep()  # what the worker's scheduler runs every minute
                again = upkeep.sweep()
                assert first["sent"] == 20 and again["sent"] == 0
                assert {r.status for r in rows()} == {"sent"}
                ids = {r.message_id for r in rows()}
            assert len(inbox.messages) == 20
            assert set(message_ids(inbox).values()) == {1} and set(message_ids(inbox)) == ids
        finally:
            controller.stop()
    finally:
        app.config.update(SMTP_URL=None)


def test_a_failing_message_backs_off_exponentially_then_needs_attention(app, lab):
    cohort_id, _ = lab
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_RETRY_SECONDS=[60, 120, 240],
                      MAIL_MAX_ATTEMPTS=3)
    try:
        with app.app_context():
            invites.send_due(cohort_id)
            waits = []
            for _ in range(2):
                row = rows()[0]
                waits.append(round((row.next_attempt_at - utcnow()).total_seconds() / 60))
                for r in rows():  # the wait is over
                    r.next_attempt_at = utcnow() - timedelta(seconds=1)
                db.session.commit()
                upkeep.sweep()
            assert waits == [1, 2]
            row = rows()[0]
            assert row.status == "attention" and row.attempts == 3 and "SMTP delivery" in row.last_error
            assert upkeep.sweep()["sent"] == 0 and rows()[0].attempts == 3  # no more tries by itself
    finally:
        app.config.update(SMTP_URL=None)


def test_two_deliveries_over_the_same_rows_send_each_message_once(app, lab):
    cohort_id, _ = lab
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{controller.port}")
    try:
        with app.app_context():
            invites.queue_invites(db.session.get(Cohort, cohort_id))
            db.session.commit()

        def deliver():
            with app.app_context():
                outbox.deliver_outbox(cohort_id)

        workers = [threading.Thread(target=deliver) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(inbox.messages) == 20 and set(message_ids(inbox).values()) == {1}
    finally:
        controller.stop()
        app.config.update(SMTP_URL=None)


def test_a_send_interrupted_by_a_dying_worker_is_flagged_not_sent_again(app, lab, smtp_inbox):
    cohort_id, _ = lab
    with app.app_context():
        invites.queue_invites(db.session.get(Cohort, cohort_id))
        db.session.commit()
        stuck = rows()[0]  # a worker claimed it, then died before it could say how the send went
        stuck.status, stuck.attempts, stuck.next_attempt_at = "sending", 1, utcnow() - timedelta(seconds=1)
        db.session.commit()
        upkeep.sweep()
        stuck = db.session.get(OutboxMessage, stuck.id)
        assert stuck.status == "attention" and "interrupted" in stuck.last_error
        assert len(smtp_inbox.messages) == 19 and stuck.message_id not in message_ids(smtp_inbox)


def test_needs_attention_comes_first_on_the_cohort_page_and_retry_sends_it(app, lab, lti, client, smtp_inbox):
    cohort_id, _ = lab
    with app.app_context():
        invites.queue_invites(db.session.get(Cohort, cohort_id))
        late = rows()[-1]  # out of tries before it ever arrived; the others are delivered
        late.status, late.attempts, late.last_error = "attention", 6, "SMTP delivery to mail:25 failed: refused"
        db.session.commit()
        outbox.deliver_outbox(cohort_id)
        late_id, late_recipient = late.id, late.recipient
    sent_before = len(smtp_inbox.messages)
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    body = page.get_data(as_text=True)
    assert "Needs attention: 1 messages" in body and "mail:25 failed: refused" in body
    assert f"/outbox/{late_id}/retry" in body  # the problem list offers its Retry on the cohort page
    response = client.post(f"/facilitator/cohorts/{cohort_id}/outbox/{late_id}/retry",
                           data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 303
    assert [m["To"] for m in smtp_inbox.messages[sent_before:]] == [late_recipient]
    with app.app_context():
        assert db.session.get(OutboxMessage, late_id).status == "sent"


def test_the_shipped_cron_queues_the_sweep_and_a_worker_delivers_what_failed(app, lab, redis_server, redis_db15):
    """The real pieces: the delivery job on Redis fails (SMTP down), SMTP comes up, the cron schedule in
    lti_tool.cron queues the sweep and an RQ worker runs it: each message arrives once, nobody clicked."""
    from rq import Queue, SimpleWorker
    from rq.cron import CronScheduler

    from lti_tool.jobs import QUEUE_NAME

    cohort_id, _ = lab
    port = free_port()
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_RETRY_SECONDS=[0], REDIS_URL=redis_server.url)
    queue = Queue(QUEUE_NAME, connection=redis_db15)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    try:
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            invites.queue_invites(cohort)
            outbox.deliver_later(cohort)
            SimpleWorker([queue], connection=redis_db15).work(burst=True)
            assert {r.status for r in rows()} == {"failed"}
            controller.start()
            cron = CronScheduler(connection=redis_db15)
            cron.load_config_from_file("lti_tool.cron")
            assert [job.func_name for job in cron.enqueue_jobs()] == ["lti_tool.jobs.run_job"]
            SimpleWorker([queue], connection=redis_db15).work(burst=True)
            assert {r.status for r in rows()} == {"sent"}
        assert len(inbox.messages) == 20 and set(message_ids(inbox).values()) == {1}
    finally:
        controller.stop()
        app.config.update(SMTP_URL=None, REDIS_URL=None)
