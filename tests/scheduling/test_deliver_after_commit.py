"""The delivery job is queued only after the messages it delivers are committed: a worker that picks
it up at once (before the request has even returned) finds them all. Should the queue fail between
the commit and the job, the messages stay saved, the user is told when they will go out, and the
periodic sweep sends them."""
from __future__ import annotations

import threading

from lti_tool.extensions import db
from lti_tool.jobs import QueueUnavailable
from lti_tool.models import Cohort, OutboxMessage
from lti_tool.services import invites, outbox, upkeep
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher


def statuses() -> list[str]:
    return list(db.session.execute(db.select(OutboxMessage.status).order_by(OutboxMessage.id)).scalars())


def test_a_worker_that_runs_the_job_the_moment_it_is_queued_finds_every_message(app, lab, monkeypatch):
    cohort_id, _ = lab
    seen = []

    def fast_worker(path, *args):
        """What a worker on another connection does the instant the job is queued."""
        def work():
            with app.app_context():
                seen.append(outbox.deliver_outbox(*args))
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        return "job-1"

    monkeypatch.setattr(outbox, "enqueue", fast_worker)
    with app.app_context():
        queued = invites.queue_invites(db.session.get(Cohort, cohort_id))
        assert outbox.deliver_later(db.session.get(Cohort, cohort_id)) == "job-1"
        assert queued > 0 and seen == [{"sent": 0, "written": queued, "failed": 0}]
        db.session.expire_all()
        assert set(statuses()) == {"written"}


def test_a_queue_failing_after_the_commit_keeps_the_messages_says_so_and_the_sweep_sends_them(
        app, lab, platform, monkeypatch):
    cohort_id, _ = lab
    client = https_client(app)
    Launcher(client, platform)(role="instructor", sub="fran", email="fran@example.com", custom={"cohort": "lab"})
    token = csrf_token_in(client.get(f"/facilitator/cohorts/{cohort_id}"))

    def queue_gone(path, *args):
        raise QueueUnavailable("The job queue is unreachable: connection refused")

    monkeypatch.setattr(outbox, "enqueue", queue_gone)
    response = client.post(f"/facilitator/cohorts/{cohort_id}/invites", data={"csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Saved; the mail will go out within a minute." in response.get_data(as_text=True)
    with app.app_context():
        saved = statuses()
        assert saved and set(saved) == {"queued"}
        assert upkeep.sweep()["written"] == len(saved)
        assert set(statuses()) == {"written"}
