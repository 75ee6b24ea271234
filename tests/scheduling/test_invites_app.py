"""Invites from the app: .ics downloads, feeds with ETag, outbox over a real SMTP server, retries."""
from __future__ import annotations

import email
from datetime import timedelta

import icalendar
import vobject
from aiosmtpd.controller import Controller

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage
from lti_tool.services import invites, outbox
from tests.conftest import csrf_token_in

from tests.scheduling.scheduling_helpers import LAB_DAY, Inbox, free_port


def test_lab_calendar_has_blocks_series_and_rule_timezones(app, lab, lti, client):
    cohort_id, _ = lab
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    response = client.get(f"/facilitator/cohorts/{cohort_id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 4 + 2  # four half-day blocks, two follow-up series
    series = [e for e in events if e.get("RRULE")]
    assert all(e["RRULE"]["INTERVAL"] == [2] and e["RRULE"]["COUNT"] == [6] for e in series)
    ana_ben = next(e for e in series if "Ana" in str(e["SUMMARY"]))
    start = ana_ben.decoded("DTSTART")
    assert start.weekday() == 1 and start.hour == 10 and str(start.tzinfo) == "Europe/Berlin"
    assert start.date() >= LAB_DAY + timedelta(days=8)
    zone = calendar.walk("VTIMEZONE")[0]
    assert zone.walk("STANDARD")[0].get("RRULE") and zone.walk("DAYLIGHT")[0].get("RRULE")
    vobject.readOne(response.data.decode())  # an independent parser accepts it too


def test_learner_calendar_and_private_feed(app, lab):
    cohort_id, learners = lab
    ana = learners["ana"]
    mine = icalendar.Calendar.from_ical(ana.get(f"/learner/cohorts/{cohort_id}/calendar.ics").data)
    summaries = [str(e["SUMMARY"]) for e in mine.walk("VEVENT")]
    assert len(summaries) == 5 and any("Ana & Ben" in s for s in summaries)
    assert not any("Cleo" in s for s in summaries)
    home = ana.get("/learner/")
    ana.post(f"/learner/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(home)})
    home = ana.get("/learner/").get_data(as_text=True)
    url = home.split("/calendar/")[1].split("</code>")[0]
    anonymous = app.test_client()
    first = anonymous.get("/calendar/" + url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = anonymous.get("/calendar/" + url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    ana.post(f"/learner/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(ana.get("/learner/")), "rotate": "1"})
    assert anonymous.get("/calendar/" + url).status_code == 404
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404


def test_cohort_feed_is_made_on_request_and_can_be_rotated(app, lab, lti, client):
    """The whole-cohort feed lists every attendee's name and email: its address can be replaced like a learner's."""
    cohort_id, _ = lab
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com", custom={"cohort": "lab"})
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert "/calendar/" not in page.get_data(as_text=True)  # viewing the page creates no feed
    client.post(f"/facilitator/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(page)})
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    old = page.get_data(as_text=True).split("/calendar/")[1].split("</code>")[0]
    anonymous = app.test_client()
    feed = anonymous.get("/calendar/" + old)
    assert feed.status_code == 200 and b"ana@example.com" in feed.data
    rotated = client.post(f"/facilitator/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(page)})
    assert rotated.status_code == 303
    new = client.get(f"/facilitator/cohorts/{cohort_id}").get_data(as_text=True).split("/calendar/")[1].split("</code>")[0]
    assert new != old
    assert anonymous.get("/calendar/" + old).status_code == 404
    assert anonymous.get("/calendar/" + new).status_code == 200
    assert client.post(f"/facilitator/cohorts/{cohort_id}/feed").status_code == 400  # CSRF


def test_invites_reach_a_real_smtp_server_and_updates_keep_the_uid(app, lab, smtp_inbox):
    cohort_id, _ = lab
    inbox = smtp_inbox
    with app.app_context():
        result = invites.send_due(cohort_id)
    assert result["queued"] == 4 * 4 + 2 * 2 and result["sent"] == result["queued"] and result["failed"] == 0
    message = inbox.messages[0]
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    types = [p.get_content_type() for p in alternative.get_payload()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    assert alternative.get_payload()[2].get_param("method") == "REQUEST"
    first = icalendar.Calendar.from_ical(alternative.get_payload()[2].get_payload(decode=True))
    event = first.walk("VEVENT")[0]
    uid = str(event["UID"])
    assert event["SEQUENCE"] == 0 and first["METHOD"] == "REQUEST"
    assert {"ORGANIZER", "ATTENDEE", "DTSTAMP", "LOCATION", "URL", "STATUS"} <= set(event.keys())

    with app.app_context():
        assert invites.send_due(cohort_id)["queued"] == 0  # nothing changed, nothing sent
        db.session.get(Cohort, cohort_id).venue = "Room Galileo"
        db.session.commit()
        updated = invites.send_due(cohort_id)
    assert updated["queued"] == 16  # the lab blocks moved room; the follow-ups did not change
    later = [icalendar.Calendar.from_ical(m.get_payload()[0].get_payload()[2].get_payload(decode=True))
             for m in inbox.messages[-16:]]
    same = [c.walk("VEVENT")[0] for c in later if str(c.walk("VEVENT")[0]["UID"]) == uid]
    assert same and same[0]["SEQUENCE"] == 1 and str(same[0]["LOCATION"]) == "Room Galileo"


def test_smtp_down_keeps_the_message_and_a_retry_delivers(app, lab):
    cohort_id, _ = lab
    port = free_port()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        with app.app_context():
            result = invites.send_due(cohort_id)
            assert result["failed"] == result["queued"] > 0
            failed = db.session.execute(db.select(OutboxMessage)).scalars().first()
            assert failed.status == "failed" and failed.last_error and failed.next_attempt_at
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            with app.app_context():
                outbox.retry(db.session.get(OutboxMessage, failed.id))
                assert db.session.get(OutboxMessage, failed.id).status == "sent"
            assert len(inbox.messages) >= 1
        finally:
            controller.stop()
    finally:
        app.config["SMTP_URL"] = None


def test_without_smtp_messages_become_eml_files_and_cli_sends(app, lab, runner, tmp_path):
    cohort_id, _ = lab
    app.config["OUTBOX_DIR"] = str(tmp_path)
    result = runner.invoke(args=["invites", "send", "--cohort", str(cohort_id)])
    assert result.exit_code == 0 and "20 queued" in result.output and "20 written" in result.output
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 20
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed.get_content_type() == "multipart/mixed"


def test_a_download_between_a_change_and_sending_does_not_swallow_the_update(app, lab, lti, client):
    """The .ics download raises SEQUENCE too; invites still go out because they follow what was sent."""
    cohort_id, _ = lab
    with app.app_context():
        assert invites.send_due(cohort_id)["queued"] == 20
        db.session.get(Cohort, cohort_id).venue = "Room Galileo"
        db.session.commit()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    assert "Room Galileo" in client.get(f"/facilitator/cohorts/{cohort_id}/calendar.ics").get_data(as_text=True)
    with app.app_context():
        assert invites.send_due(cohort_id)["queued"] == 16
