"""Helpers for learner tests: launch people into a cohort, fill their intake directly."""
from __future__ import annotations

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, LtiUser, Participant, utcnow


def participant_of(app, sub: str) -> Participant:
    with app.app_context():
        p = db.session.execute(db.select(Participant).join(LtiUser, LtiUser.id == Participant.user_id)
                               .where(LtiUser.sub == sub)).scalar_one()
        db.session.expunge(p)
        return p


def cohort_id(app, slug="spring") -> int:
    with app.app_context():
        return db.session.execute(db.select(Cohort.id).where(Cohort.slug == slug)).scalar_one()


def fill(app, sub: str, **values) -> int:
    """Give a launched learner a submitted intake (defaults below, overridden by ``values``)."""
    base = dict(gender="woman", department="Finance", location="Lisbon", timezone="Europe/Lisbon", level=3,
                offers=["Negotiation"], wants=["Data analysis"], availability=["tue-14"], consent=True,
                visible_fields=["department", "location", "offers", "wants"])
    base.update(values)
    with app.app_context():
        p = db.session.execute(db.select(Participant).join(LtiUser, LtiUser.id == Participant.user_id)
                               .where(LtiUser.sub == sub)).scalar_one()
        for k, v in base.items():
            setattr(p, k, v)
        p.intake_updated_at = p.intake_submitted_at = utcnow()
        db.session.commit()
        return p.id


@pytest.fixture
def people(lti, app):
    """Launch four learners into cohort 'spring' (the last one launched stays signed in: ana)."""
    for sub, name in [("ben", "Ben Okafor"), ("chloe", "Chloé Martin"), ("dev", "Dev Raman"),
                      ("ana", "Ana Costa")]:
        lti(role="learner", sub=sub, name=name, email=f"{sub}@example.com", custom={"cohort": "spring"})
    return cohort_id(app)
