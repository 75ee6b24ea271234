"""The audit log: facilitators' exports, removals and publishing are recorded with who, when and which
cohort, never with reflection text; L&D administrators of the deployment read and download it."""
from __future__ import annotations

import csv
import io

import pytest

from lti_tool.extensions import db
from lti_tool.models import AuditEvent, Deployment, LtiUser, OutboxMessage
from lti_tool.services import audit
from tests.conftest import csrf_token_in, https_client, register
from tests.lti_platform import Launcher, TestPlatform

from .helpers import ZOE_TEXT, delete_as, seed_lab


def _events(app, action=None):
    with app.app_context():
        query = db.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        rows = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return rows


def _lnd(app, platform, sub="lnd-admin"):
    launcher = Launcher(https_client(app), platform)
    launcher(role="lnd", sub=sub, name="Lena Dev", email=f"{sub}@example.com")
    return launcher.client


def test_facilitator_actions_are_logged_with_who_when_and_cohort(app, platform):
    lab = seed_lab(app, platform)
    fac = lab.facilitator.client
    with app.app_context():
        tess = db.session.execute(db.select(LtiUser.id).where(LtiUser.sub == "teacher")).scalar_one()
        message = db.session.execute(db.select(OutboxMessage.id)).scalars().first()
    assert fac.get(f"/facilitator/cohorts/{lab.cohort_id}/calendar.ics").status_code == 200
    assert fac.get(f"/facilitator/cohorts/{lab.cohort_id}/outbox/{message}.eml").status_code == 200
    dan = lab.pid(app, "dan")
    page = fac.get(f"/facilitator/cohorts/{lab.cohort_id}/participants/{dan}/remove")
    assert fac.post(f"/facilitator/cohorts/{lab.cohort_id}/participants/{dan}/remove",
                    data={"csrf_token": csrf_token_in(page)}).status_code == 303
    (publish,) = _events(app, "publish")
    assert (publish.actor_role, publish.actor_user_id, publish.cohort_id) == ("facilitator", tess, lab.cohort_id)
    assert publish.details["teams"] == 2 and publish.deployment_id is not None and publish.at is not None
    exports = _events(app, "export")
    assert [e.details["what"] for e in exports] == ["cohort_calendar", "message"]
    assert all(e.actor_user_id == tess and e.cohort_id == lab.cohort_id for e in exports)
    (removal,) = _events(app, "removal")
    assert removal.details == {"participant": dan} and removal.actor_user_id == tess

    delete_as(lab.clients["zoe"])
    with app.app_context():  # nothing anyone wrote, and no name or address, is ever in the log
        for event in db.session.execute(db.select(AuditEvent)).scalars():
            text = repr((event.actor_role, event.action, event.details))
            assert ZOE_TEXT["reflection"] not in text and "@" not in text and "Quenneville" not in text


def test_lnd_of_the_deployment_reads_and_downloads_the_log_facilitators_cannot(app, platform):
    lab = seed_lab(app, platform)
    delete_as(lab.clients["zoe"])
    assert lab.facilitator.client.get("/insights/audit").status_code == 403
    assert lab.facilitator.client.get("/insights/audit.csv").status_code == 403
    assert lab.clients["ben"].get("/insights/audit").status_code == 403
    lnd = _lnd(app, platform)
    page = lnd.get("/insights/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = '<th scope="row">{}</th>'.format
    assert row("Published teams") in html and "Tess Facilitator" in html and row("A learner deleted their data") in html
    assert "Zoe" not in html
    filtered = lnd.get("/insights/audit?action=deletion").get_data(as_text=True)
    assert row("Published teams") not in filtered and row("A learner deleted their data") in filtered
    download = lnd.get("/insights/audit.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == audit.CSV_COLUMNS
    assert {r[1] for r in rows[1:]} >= {"publish", "deletion"}
    deletion = next(r for r in rows[1:] if r[1] == "deletion")
    assert deletion[3] == "Learner" and deletion[4] == "not recorded" and deletion[6] == "Lab"
    (exported,) = _events(app, "audit_export")
    assert exported.actor_role == "lnd" and exported.details["rows"] == len(rows) - 1


def test_lnd_of_another_deployment_sees_none_of_it(app, platform):
    seed_lab(app, platform)
    other = TestPlatform(deployment_id="deploy-other")
    try:
        register(app, other)
        lnd = _lnd(app, other, sub="other-admin")
        html = lnd.get("/insights/audit").get_data(as_text=True)
        rows = lnd.get("/insights/audit.csv").get_data(as_text=True).strip().splitlines()
    finally:
        other.close()
    # Only their own platform's registration: nothing the first deployment's people did.
    assert html.count('<th scope="row">') == 1 and '<th scope="row">Registered a platform</th>' in html
    assert len(rows) == 2 and "Registered a platform" in rows[1]


def test_record_refuses_personal_text_and_works_without_a_request(app, platform):
    with app.app_context():
        deployment = db.session.execute(db.select(Deployment)).scalar_one()
        before = db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar()  # the fixture's registration
        with pytest.raises(audit.AuditDetailError):
            audit.record("export", deployment=deployment, details={"who": "Zoe Quenneville"})
        with pytest.raises(audit.AuditDetailError):
            audit.record("export", deployment=deployment, details={"to": "zoe.q@example.org"})
        with pytest.raises(ValueError):
            audit.record("gossip", deployment=deployment)
        event = audit.record("registration", deployment=deployment, actor_role="platform",
                             details={"platform": deployment.platform_id, "via": "dynamic"})
        assert (event.actor_user_id, event.actor_role, event.deployment_id) == (None, "platform", deployment.id)
        assert db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar() == before + 1


def test_cli_exports_a_deployment_s_log(app, platform, runner):
    with app.app_context():
        deployment = db.session.execute(db.select(Deployment)).scalar_one()
        audit.record("registration", deployment=deployment, actor_role="platform")
    result = runner.invoke(args=["audit", "export", "--deployment", "deploy-1"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("When (UTC),Action") and ",registration,Registered a platform,LMS platform," in lines[1]
    assert runner.invoke(args=["audit", "export", "--deployment", "nope"]).exit_code == 2
    assert [e.actor_role for e in _events(app, "audit_export")] == ["cli"]


def test_audit_download_is_streamed_in_pieces_not_built_whole(app, platform):
    with app.app_context():
        deployment = db.session.execute(db.select(Deployment)).scalar_one()
        for i in range(2500):  # more than one batch of rows
            audit.record("export", deployment=deployment, details={"rows": i}, commit=False)
        db.session.commit()
    download = _lnd(app, platform).get("/insights/audit.csv", buffered=False)
    assert download.is_streamed
    chunks = list(download.response)
    download.close()
    assert len(chunks) > 1
    assert b"".join(chunks).decode("utf-8").count("\r\n") == 1 + 2500 + 1  # header, the exports, the registration
