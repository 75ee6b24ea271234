"""Scheduling fixtures: a cohort with lab dates, four learners with availability, and two teams."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, Participant, Team
from lti_tool.services import calendar_events
from tests.conftest import https_client
from tests.lti_platform import Launcher

from tests.scheduling.scheduling_helpers import LAB_DAY, Inbox, free_port

ON_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def lab(app, platform):
    """A cohort with dates, four learners with intake, and two published teams."""
    learners = {}
    for sub in ("ana", "ben", "cleo", "dan"):
        launcher = Launcher(https_client(app), platform)
        launcher(role="learner", sub=sub, name=sub.capitalize(), email=f"{sub}@example.com", custom={"cohort": "lab"})
        learners[sub] = launcher.client
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).where(Cohort.slug == "lab")).scalar_one()
        cohort.day_one, cohort.day_two, cohort.timezone = LAB_DAY, LAB_DAY + timedelta(days=1), "Europe/Berlin"
        cohort.venue = "Room Kepler"
        people = {p.user.sub: p for p in db.session.execute(db.select(Participant)).scalars()}
        for sub, slots in (("ana", ["tue-10", "thu-14"]), ("ben", ["tue-10"]), ("cleo", ["wed-09"]), ("dan", ["wed-09"])):
            people[sub].availability = slots
        db.session.add_all([Team(cohort_id=cohort.id, member_ids=[people["ana"].id, people["ben"].id], reasons=["x"]),
                            Team(cohort_id=cohort.id, member_ids=[people["cleo"].id, people["dan"].id], reasons=["y"])])
        cohort.published_run_id = None
        db.session.commit()
        calendar_events.record_versions(cohort)  # as saving the cohort and publishing its teams do in the app
        return cohort.id, learners


@pytest.fixture
def smtp_inbox(app):
    """A plain SMTP server (aiosmtpd) on loopback that the app sends to; yields what it receives."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()
    app.config["SMTP_URL"] = None


@pytest.fixture
def redis_db15(redis_server):
    """The test process's own Redis, emptied before and after the test."""
    redis = redis_server.client()
    redis.flushdb()
    yield redis
    redis.flushdb()
    redis.close()
