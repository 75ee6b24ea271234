"""During the lab: run-of-show (current session, timer, steps), attendance in a few taps, the kit, reminders."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from markupsafe import escape

from lti_tool.extensions import db
from lti_tool.models import Attendance, Cohort, OutboxMessage, Participant
from lti_tool.services import lab_day
from tests.conftest import csrf_token_in, dated_lab, https_client, plain_text
from tests.lti_platform import Launcher

LAB_DAY = date.today() + timedelta(days=30)


@pytest.fixture
def cohort_id(app, platform):
    """A dated cohort with three learners; only Ana has submitted her profile."""
    cid = dated_lab(app, platform, LAB_DAY)
    with app.app_context():
        ana = next(p for p in db.session.execute(db.select(Participant)).scalars() if p.user.sub == "ana")
        ana.intake_submitted_at = datetime.now(timezone.utc).replace(tzinfo=None)
        db.session.commit()
    return cid


def people_ids(app) -> dict[str, int]:
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


def test_current_session_follows_the_clock(app, cohort_id):
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        sessions = lab_day.scheduled_sessions(cohort)
        first, second = sessions[0], sessions[1]
        assert lab_day.current_session(cohort, first.start - timedelta(days=3)) == (first, "next")
        assert lab_day.current_session(cohort, first.start + timedelta(minutes=1)) == (first, "now")
        assert lab_day.current_session(cohort, second.start) == (second, "now")
        assert lab_day.current_session(cohort, sessions[-1].end + timedelta(hours=1)) == (sessions[-1], "over")
        assert first.start.tzinfo is not None and first.start.utcoffset() in (timedelta(hours=1), timedelta(hours=2))


def test_run_of_show_shows_next_session_steps_timer_and_navigation(app, cohort_id, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    with app.app_context():
        sessions = lab_day.scheduled_sessions(db.session.get(Cohort, cohort_id))
    first = sessions[0].session
    page = client.get(f"/facilitator/cohorts/{cohort_id}/run-of-show").get_data(as_text=True)
    assert "Up next" in page and f"<h1>{escape(first.title)}</h1>" in page
    assert 'id="timer"' in page and f'data-seconds="{first.duration_minutes * 60}"' in page
    assert str(escape(first.activities[0].steps[0])) in page or str(escape(first.objectives[0])) in page
    assert f"Next: {escape(sessions[1].session.title)}" in page
    working = next(s for s in sessions[1:] if not s.session.is_break and s.session.facilitator_notes)
    chosen = client.get(f"/facilitator/cohorts/{cohort_id}/run-of-show?session={working.session.id}").get_data(as_text=True)
    assert "Chosen session" in chosen and str(escape(working.session.facilitator_notes[0])) in chosen
    assert "Take attendance for this session" in chosen
    assert client.get(f"/facilitator/cohorts/{cohort_id}/run-of-show?session=nope").status_code == 404


def test_attendance_in_a_few_taps(app, cohort_id, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    with app.app_context():  # attendance is taken once the lab has started: this one ran last week
        cohort = db.session.get(Cohort, cohort_id)
        cohort.day_one, cohort.day_two = date.today() - timedelta(days=7), date.today() - timedelta(days=6)
        db.session.commit()
        sessions = lab_day.scheduled_sessions(cohort)
    session_id = next(s for s in sessions if not s.session.is_break).session.id
    break_id = next(s for s in sessions if s.session.is_break).session.id
    ids = people_ids(app)
    url = f"/facilitator/cohorts/{cohort_id}/attendance/{session_id}"
    page = client.get(url)
    assert "Ana" in page.get_data(as_text=True) and "Everyone is here" in page.get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": csrf_token_in(page), "present": [str(ids["ana"]), str(ids["cleo"])]})
    assert saved.status_code == 303
    with app.app_context():
        marks = lab_day.attendance(db.session.get(Cohort, cohort_id), session_id)
    assert marks == {ids["ana"]: True, ids["ben"]: False, ids["cleo"]: True}
    again = client.get(url)
    assert "2 present" in again.get_data(as_text=True) and "recorded: absent" in again.get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token_in(again), "everyone": "1"})
    with app.app_context():
        rows = db.session.execute(db.select(Attendance).where(Attendance.session_id == session_id)).scalars().all()
        assert len(rows) == 3 and sorted(r.present for r in rows) == [False, True, True]  # Ben's mark is kept
    assert client.get(f"/facilitator/cohorts/{cohort_id}/attendance/{break_id}").status_code == 404
    assert client.post(url, data={"present": [str(ids["ben"])]}).status_code == 400  # no CSRF token


def test_kit_downloads_carry_the_cohort(app, cohort_id, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    agenda = client.get(f"/facilitator/cohorts/{cohort_id}/kit/agenda.html")
    assert agenda.status_code == 200 and agenda.mimetype == "text/html"
    assert LAB_DAY.strftime("%d %B %Y") in agenda.get_data(as_text=True)
    pdf = client.get(f"/facilitator/cohorts/{cohort_id}/kit/guide.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "attachment" in pdf.headers["Content-Disposition"]
    assert client.get(f"/facilitator/cohorts/{cohort_id}/kit/secrets.pdf").status_code == 404
    assert client.get(f"/facilitator/cohorts/{cohort_id}/kit/agenda.exe").status_code == 404


def test_reminders_go_only_to_those_without_a_profile_and_not_twice_a_day(app, cohort_id, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert "Email a reminder to the others" in page.get_data(as_text=True)
    first = client.post(f"/facilitator/cohorts/{cohort_id}/remind", data={"csrf_token": csrf_token_in(page)})
    assert first.status_code == 303
    assert "Reminders: 2 written" in client.get(first.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.subject == lab_day.REMINDER_SUBJECT)
                                  ).scalars().all()
        assert sorted(r.recipient for r in rows) == ["ben@example.com", "cleo@example.com"]
        assert all(r.status == "written" for r in rows)  # no SMTP_URL in tests: saved as .eml files
        body = plain_text(rows[0].body)
        assert "profile is not submitted yet" in body and LAB_DAY.strftime("%d %B %Y") in body
    second = client.post(f"/facilitator/cohorts/{cohort_id}/remind", data={"csrf_token": csrf_token_in(page)})
    assert "0 written" in client.get(second.headers["Location"]).get_data(as_text=True)


def test_learners_cannot_reach_lab_day_pages(app, cohort_id, platform):
    learner = Launcher(https_client(app), platform)
    learner(role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "lab"})
    for path in ("run-of-show", "kit/guide.pdf", "attendance/anything"):
        assert learner.client.get(f"/facilitator/cohorts/{cohort_id}/{path}").status_code == 403


def test_reminder_mail_is_text_and_html_from_templates_with_a_date_and_the_lab_link(app, cohort_id, lti, client):
    """Mail comes from templates/email/: a text part and an HTML part, escaped, dated, with a way back."""
    import email
    from email import policy

    with app.app_context():  # a name that would be markup if it were not escaped
        from lti_tool.models import LtiUser

        ben = db.session.execute(db.select(LtiUser).where(LtiUser.sub == "ben")).scalar_one()
        ben.display_name = "Ben <b>Bold</b> & Co"
        db.session.commit()
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    client.post(f"/facilitator/cohorts/{cohort_id}/remind", data={"csrf_token": csrf_token_in(page)})
    with app.app_context():
        row = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.recipient == "ben@example.com")
                                 ).scalar_one()
        assert row.kind == "intake_reminder"
        message = email.message_from_string(row.body, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Date"] and message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Ben <b>Bold</b> & Co," in text
    assert "Hello Ben &lt;b&gt;Bold&lt;/b&gt; &amp; Co," in html and "<b>Bold</b>" not in html
    assert "https://tool.test/lti/home" in text and 'href="https://tool.test/lti/home"' in html
    assert all(len(line) <= 78 for line in text.splitlines())
