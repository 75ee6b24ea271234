"""First launches that arrive at the same moment must not fail on each other's new rows.

Two threads (two gunicorn workers, or two instances) run the same get-or-create at once. A SQL hook
holds each thread right after its SELECT of the table under test until both have looked (a barrier),
so both see "no row" and both insert: exactly the collision seen in production
(``UniqueViolation … uq_course_deployment_id_context_id``). Every launch must still succeed and the
rows must exist once.
"""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event

from tests.conftest import https_client
from tests.lti_platform import landed, Launcher, ROLE
from tests.lti.test_shared_storage import second_worker

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


class SelectBarrier:
    """Make the participating threads meet right after their first SELECT on ``table`` (read directly or
    through a join: a launch looks up its user, course and resource link in one query, after a WITH).

    ``before``: meet right before that statement instead, so that both run it at the same moment. On
    PostgreSQL a launch writes its user in the statement that looks for them (INSERT … ON CONFLICT inside
    it), so there is no gap between looking and inserting to stop in: the second statement waits inside
    the database for the first launch's transaction, then updates the row that launch inserted."""

    def __init__(self, engine, table: str, parties: int = 2, *, before: bool = False):
        self.engine = engine
        self.event = "before_cursor_execute" if before else "after_cursor_execute"
        self.pattern = re.compile(rf"^\s*(?:WITH|SELECT)\b.*\b(?:FROM|JOIN) {table}\b", re.IGNORECASE | re.DOTALL)
        self.barrier = threading.Barrier(parties)
        self.local = threading.local()
        self.met = 0

    def join(self) -> None:
        """Called by each racing thread: from now on, its first SELECT on the table waits for the other."""
        self.local.armed = True

    def _meet(self, conn, cursor, statement, parameters, context, executemany):
        if getattr(self.local, "armed", False) and self.pattern.match(statement):
            self.local.armed = False
            try:
                # SQLite serialises writers, so there the other thread may be waiting on our lock.
                self.barrier.wait(timeout=3)
                self.met += 1
            except threading.BrokenBarrierError:
                pass

    def __enter__(self):
        event.listen(self.engine, self.event, self._meet)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, self.event, self._meet)


def launch_data(platform, *, sub="u-1", context="course-new", link="link-1", cohort=None, role="learner",
                email=None):
    data = {
        "iss": platform.issuer, "aud": platform.client_id, "sub": sub, "name": f"Person {sub}",
        LTI + "deployment_id": platform.deployment_id,
        LTI + "roles": ROLE[role],
        LTI + "context": {"id": context, "title": "New course", "label": "NEW"},
        LTI + "resource_link": {"id": link, "title": "Lab"},
    }
    if email:
        data["email"] = email
    if cohort:
        data[LTI + "custom"] = {"cohort": cohort}
    return data


def race(app, table: str, first: dict, second: dict):
    """Run sync_launch for both launches at once, colliding on ``table``; return both results."""
    from lti_tool.extensions import db
    from lti_tool.lti.sync import sync_launch

    with app.app_context():
        engine = db.engine
    results, errors = [None, None], []

    def run(index, data, barrier):
        try:
            with app.app_context():
                barrier.join()
                results[index] = sync_launch(data, data["aud"], used_nonce=None)
                db.session.commit()
        except Exception as e:  # noqa: BLE001 - reported below with the thread's error
            errors.append(e)

    # A launch on PostgreSQL looks for its user and inserts them in one statement: race that statement itself.
    before = table == "lti_user" and engine.dialect.name == "postgresql"
    with SelectBarrier(engine, table, before=before) as barrier:
        threads = [threading.Thread(target=run, args=(i, d, barrier)) for i, d in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors
    return results, barrier


def sync(app, data):
    from lti_tool.lti.sync import sync_launch

    from lti_tool.extensions import db

    with app.app_context():
        synced = sync_launch(data, data["aud"], used_nonce=None)
        db.session.commit()
        return synced


def counts(app) -> dict[str, int]:
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, Course, LtiUser, Membership, Participant, ResourceLink

    with app.app_context():
        return {m.__tablename__: db.session.scalar(db.select(db.func.count()).select_from(m))
                for m in (LtiUser, Course, Membership, ResourceLink, Cohort, Participant)}


def twice_at_once(app, table: str, work) -> list:
    """Run ``work()`` in two threads (each with its own app context and connection), colliding on ``table``."""
    from lti_tool.extensions import db

    with app.app_context():
        engine = db.engine
    results, errors = [], []

    def run(barrier):
        try:
            with app.app_context():
                barrier.join()
                results.append(work())
                db.session.commit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with SelectBarrier(engine, table) as barrier:
        threads = [threading.Thread(target=run, args=(barrier,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert barrier.met == 2, "both should have looked before either inserted"
    return results


def test_two_learners_first_launch_into_a_new_course(app, platform):
    """The reported case: two people open the lab in a course nobody has opened before."""
    results, barrier = race(app, "course", launch_data(platform, sub="ana"), launch_data(platform, sub="ben"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert barrier.met == 2, "both launches should have looked for the course before either inserted it"
    assert results[0].course_id == results[1].course_id
    assert counts(app)["course"] == 1 and counts(app)["membership"] == 2


def test_same_person_twice_at_once(app, platform):
    """A double click (or two tabs) on the very first launch: one user, one of everything."""
    racing = launch_data(platform, cohort="spring", email="ana@example.com")
    results, barrier = race(app, "lti_user", racing, dict(racing))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert barrier.met == 2
    assert results[0] == results[1]
    assert set(counts(app).values()) == {1}


# Two people's first launches through a link (or into a cohort) nobody has used yet: the launches before
# create every row up to the table under test.
CASES = {
    "resource_link": [dict(sub="ana", link="link-0"), dict(sub="ben", link="link-0")],
    "cohort": [dict(sub="ana"), dict(sub="ben")],
}


@pytest.mark.parametrize("table", list(CASES))
def test_two_people_first_through_a_new_link_or_cohort(app, platform, table):
    for earlier in CASES[table]:
        sync(app, launch_data(platform, **earlier))
    before = counts(app)
    results, barrier = race(app, table, launch_data(platform, sub="ana", cohort="spring"),
                            launch_data(platform, sub="ben", cohort="spring"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert barrier.met == 2
    assert results[0].cohort_id == results[1].cohort_id is not None
    after = counts(app)
    assert after[table] == before[table] + 1 and after["participant"] == 2


@pytest.mark.parametrize("table", ["membership", "participant"])
def test_get_or_create_for_one_person_at_once(app, platform, table):
    """A person's own rows, made by a launch while the roster job adds them (the user row does not serialise
    these: the roster leaves it alone when nothing changed)."""
    from lti_tool.extensions import db
    from lti_tool.lti.sync import _get_or_create
    from lti_tool.models import Membership, Participant

    synced = sync(app, launch_data(platform, cohort="spring", role="instructor"))
    keys = (dict(course_id=synced.course_id, user_id=synced.user_id) if table == "membership"
            else dict(cohort_id=synced.cohort_id, user_id=synced.user_id))
    model = Membership if table == "membership" else Participant
    with app.app_context():
        if table == "membership":
            db.session.execute(db.delete(Membership))
            db.session.commit()
    ids = twice_at_once(app, table, lambda: _get_or_create(model, **keys).id)
    assert len(ids) == 2 and ids[0] == ids[1]
    assert counts(app)[table] == 1


def test_roster_placeholder_adopted_once(app, platform):
    """A CSV-imported person (placeholder) launching twice at once becomes one user, not two."""
    from lti_tool.extensions import db
    from lti_tool.lti.sync import PLACEHOLDER_PREFIX
    from lti_tool.models import LtiUser, Platform

    with app.app_context():
        platform_id = db.session.scalar(db.select(Platform.id))
        db.session.add(LtiUser(platform_id=platform_id, sub=PLACEHOLDER_PREFIX + "ana@example.com"))
        db.session.commit()
    racing = launch_data(platform, email="Ana@example.com")
    results, _ = race(app, "lti_user", racing, dict(racing))
    assert results[0].user_id == results[1].user_id
    with app.app_context():
        subs = db.session.scalars(db.select(LtiUser.sub)).all()
    assert subs == ["u-1"]


def test_first_launches_through_two_instances(app, platform):
    """Full OIDC logins on one instance and launches on another, at once, into a new course."""
    from lti_tool.extensions import db

    other = second_worker(app)
    posts = []
    for person in ("ana", "ben"):
        login = https_client(app)
        params = Launcher(login, platform).start()
        launch = https_client(other)
        for cookie in login._cookies.values():
            launch.set_cookie(cookie.key, cookie.value, domain="tool.test")
        token = platform.id_token(params["nonce"], sub=person, context_id="brand-new")
        posts.append((launch, {"id_token": token, "state": params["state"]}))
    responses = [None, None]
    with other.app_context():
        engine = db.engine
    with SelectBarrier(engine, "course") as barrier:
        def run(index):
            barrier.join()
            client, form = posts[index]
            responses[index] = client.post("/lti/launch", data=form)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert [landed(r) for r in responses] == [True, True], [r.get_data(as_text=True)[:300] for r in responses]
    assert counts(app)["course"] == 1
