"""Shared helpers: launches with the AGS claim, a team, reflections posted like a browser."""
from __future__ import annotations

from tests.conftest import csrf_token_in

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
          "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
SESSION = "d1-morning"  # a half-day reflection


def ags(platform, lineitem=None) -> dict:
    claim = {"scope": SCOPES, "lineitems": f"{platform.issuer}/ags/course-1/lineitems"}
    if lineitem:
        claim["lineitem"] = lineitem
    return {AGS_CLAIM: claim}


def launch(lti, sub, role="learner", cohort="spring-lab", with_ags=False, name=None):
    kwargs = dict(role=role, sub=sub, name=name or f"Person {sub}", email=f"{sub}@example.com",
                  custom={"cohort": cohort} if cohort else None)
    if with_ags:
        kwargs["extra"] = ags(lti.platform)
    response = lti(**kwargs)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    return response


def participant_id(app, sub):
    from lti_tool.extensions import db
    from lti_tool.models import LtiUser, Participant

    with app.app_context():
        return db.session.execute(db.select(Participant.id).join(LtiUser, LtiUser.id == Participant.user_id)
                                  .where(LtiUser.sub == sub)).scalar_one()


def cohort_id(app):
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    with app.app_context():
        return db.session.execute(db.select(Cohort.id)).scalars().first()


def make_team(app, *subs):
    from lti_tool.extensions import db
    from lti_tool.models import Team

    ids = [participant_id(app, s) for s in subs]
    with app.app_context():
        db.session.add(Team(cohort_id=cohort_id(app), member_ids=ids, score=0.8,
                            gains={str(i): 0.5 for i in ids}))
        db.session.commit()


def lab_held(app, days_ago=3, published=True):
    """The cohort's two lab days lie ``days_ago`` in the past (so every half-day reflection is open) and its
    teams are published (a finished match run)."""
    from datetime import date, timedelta

    from lti_tool.extensions import db
    from lti_tool.models import Cohort, MatchRun

    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id(app))
        cohort.day_one = date.today() - timedelta(days=days_ago)
        cohort.day_two = cohort.day_one + timedelta(days=1)
        if published and cohort.published_run_id is None:
            run = MatchRun(cohort_id=cohort.id, status="done")
            db.session.add(run)
            db.session.flush()
            cohort.published_run_id = run.id
        db.session.commit()


def reflect(client, cid, session=SESSION, action="submit", **answers):
    page = client.get(f"/learner/cohorts/{cid}/reflections/{session}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    data = {"csrf_token": csrf_token_in(page), "action": action}
    for key, value in answers.items():
        data[("v-" + key[4:]) if key.startswith("vis_") else ("a-" + key)] = value
    return client.post(f"/learner/cohorts/{cid}/reflections/{session}", data=data)
