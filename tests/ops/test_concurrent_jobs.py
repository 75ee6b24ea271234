"""Jobs that create rows race like launches do: a roster sync adding a person while another sync (or a
launch) adds them, and two score pushes for one person. Both must succeed with the row made once; the
SELECT barrier from the launch tests makes both look before either inserts."""
from __future__ import annotations

from tests.ops.test_concurrent_launches import counts, launch_data, sync, twice_at_once


def test_roster_enrolment_of_one_person_twice_at_once(app, platform):
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, LtiUser, Participant
    from lti_tool.services import roster

    synced = sync(app, launch_data(platform, sub="teacher", cohort="spring", role="instructor"))
    with app.app_context():
        user = LtiUser(platform_id=db.session.get(LtiUser, synced.user_id).platform_id, sub="ana")
        db.session.add(user)
        db.session.execute(db.delete(Participant))
        db.session.commit()
        user_id = user.id

    def enrol():
        result = roster.RosterResult()
        roster._enrol(db.session.get(Cohort, synced.cohort_id), db.session.get(LtiUser, user_id), result)
        return result

    twice_at_once(app, "participant", enrol)
    assert counts(app)["participant"] == 1


def test_two_score_pushes_for_one_person_at_once(app, platform):
    from lti_tool.extensions import db
    from lti_tool.models import GradeSync, Participant, ResourceLink
    from lti_tool.services import grades

    sync(app, launch_data(platform, sub="ana", cohort="spring"))
    with app.app_context():
        participant_id = db.session.scalar(db.select(Participant.id))
        link_id = db.session.scalar(db.select(ResourceLink.id))

    outcomes = twice_at_once(app, "grade_sync", lambda: grades.push_score(participant_id, link_id))
    assert len(outcomes) == 2  # (the test LMS offers no score service here: each push records its failure)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(GradeSync)) == 1
