"""The SQL a login and a launch cost, counted: half of a launch's time under load is database round trips.

A browser's OIDC login and launch (which renders the landing page itself) into a course and resource link
that earlier launches created, by someone launching for the first time, as at the start of a course. Both
databases; with the database as shared storage and with Redis. The numbers are exact on purpose: a change
that adds a statement to the busiest path of the product should have to say so here.

A login runs no statement at all: its platform comes from the worker's memo (filled by earlier launches),
and its nonce is derived from the state in the browser's cookie instead of being stored. On PostgreSQL a
launch is one statement: it writes the used nonce, upserts the person and their membership of the course,
and reads the course and its resource link. A first launch's landing page reads nothing more: its launch
context is the rows the launch just wrote, and a new person takes part in no cohort but the one the launch
enrolled them in (none here). A known person's landing page reads their cohorts (2). SQLite cannot write
inside a query, so there the nonce, the user and the membership are statements of their own, and the
landing page reads the person's cohorts (5 for a first launch and for a known person). Nothing is
read from or written to the shared storage (database or Redis) for a resource link launch: the state and
nonce are checked against the browser's cookie, and only a deep linking launch keeps its launch data.
"""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import https_client
from tests.lti.test_shared_storage import second_worker
from tests.lti_platform import Launcher, landed
from tests.sql_round_trips import SqlRoundTrips

EXPECTED = {  # (login, launch) statements, by database: the same with the database or Redis as shared storage
    "postgresql": (0, 1),
    "sqlite": (0, 5),
}
RETURNING = {"postgresql": 2, "sqlite": 5}  # a known person's launch, and their cohorts for the landing page


def engine_of(app):
    from lti_tool.extensions import db

    with app.app_context():
        return db.engine


def login_and_launch(app, platform, sub: str):
    """One browser's login and launch; the SQL of each (counted on ``app``'s engine, this thread only)."""
    client = https_client(app)
    engine = engine_of(app)
    with SqlRoundTrips(engine) as login:
        params = Launcher(client, platform).start(login_hint=sub)
    token = platform.id_token(params["nonce"], sub=sub, name=f"Person {sub}", email=f"{sub}@example.com")
    with SqlRoundTrips(engine) as launch:
        response = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert landed(response, "/learner/"), response.get_data(as_text=True)[:500]
    return login, launch


@pytest.fixture(params=["database", "redis"])
def storage(request, app):
    """(the app answering the browsers, which shared storage it uses)."""
    if request.param == "database":
        return app, "database"
    url = request.getfixturevalue("redis_server").url
    return second_worker(app, REDIS_URL=url, REDIS_KEY_PREFIX=f"rt-{uuid.uuid4().hex[:8]}:"), "redis"


def test_statements_per_login_and_launch(storage, platform):
    app, _ = storage
    for sub in ("first", "second"):  # the course, the link, the platform's keys and compiled statements
        login_and_launch(app, platform, sub)
    login, launch = login_and_launch(app, platform, "newcomer")
    expected_login, expected_launch = EXPECTED[engine_of(app).dialect.name]
    assert login.statements == expected_login, login.report()
    assert launch.statements == expected_launch, launch.report()
    # Transaction control: one commit each (a launch commits its state, nonce and rows together).
    assert login.log.count("COMMIT") <= 1 and launch.log.count("COMMIT") == 1, (login.report(), launch.report())
    _, again = login_and_launch(app, platform, "newcomer")
    assert again.statements == RETURNING[engine_of(app).dialect.name], again.report()


def test_a_launch_compiles_no_sql(storage, platform):
    """Compiling a statement costs about as much CPU as running it: once a worker has run the launch path,
    every statement of a login and a launch (first or returning) comes from SQLAlchemy's compiled cache."""
    app, _ = storage
    for sub in ("first", "second", "third"):  # the course and link, then the first-launch path twice
        login_and_launch(app, platform, sub)
    login_and_launch(app, platform, "third")  # a returning person's path
    login, launch = login_and_launch(app, platform, "newcomer")
    _, again = login_and_launch(app, platform, "newcomer")
    assert login.compiled == [] and launch.compiled == [] and again.compiled == [], (
        login.compiled, launch.compiled, again.compiled)


def test_what_a_launch_reads_and_writes_in_one_go(app, platform):
    """A worker's first launch reads its platform and deployment in one join (and the platform's keys
    from the shared cache); its later ones take all three from the worker's memo and touch no storage."""
    login_and_launch(app, platform, "zero")  # the course, the link, the platform's keys in the shared cache
    worker = second_worker(app)  # a fresh worker: nothing memoised yet
    _, first = login_and_launch(worker, platform, "first")
    _, second = login_and_launch(worker, platform, "second")
    for launch in (first, second):
        statements = launch.statement_list
        assert not [s for s in statements if s.startswith("SET ")], launch.report()
        assert not [s for s in statements if s.startswith("SELECT") and "FROM deployment" in s], launch.report()
        assert len([s for s in statements if "LEFT OUTER JOIN course" in s
                    and "LEFT OUTER JOIN resource_link" in s and "LEFT OUTER JOIN lti_user" in s]) == 1, launch.report()
        assert not [s for s in statements if "FROM resource_link" in s], launch.report()
        assert not [s for s in statements if "INTO cache_entry" in s], launch.report()
    assert len([s for s in first.statement_list if "FROM platform LEFT OUTER JOIN deployment" in s]) == 1, first.report()
    assert not [s for s in second.statement_list if "FROM platform" in s or "cache_entry" in s], second.report()


def test_round_trips_per_launch_include_begin_and_commit(app, platform):
    """On the wire a launch is one transaction: BEGIN, its statements and the landing page's reads, COMMIT
    (the page reads before the commit, so no second transaction is opened for it); a login opens none."""
    login_and_launch(app, platform, "first")
    login, launch = login_and_launch(app, platform, "second")
    assert launch.log.count("BEGIN") == 1 and launch.log.count("ROLLBACK") == 0, launch.report()
    assert launch.log[-1] == "COMMIT", launch.report()  # after the landing page's reads
    assert launch.round_trips == launch.statements + 2, launch.report()
    assert login.round_trips == 0, login.report()  # no statement, so no transaction either


def launch_with_landing_page(app, platform, monkeypatch, home):
    """A first launch (into the course and link an earlier one created) whose learner landing page is
    ``home``: the launch's response, and a function that posts the same id_token again."""
    login_and_launch(app, platform, "first")
    monkeypatch.setitem(app.view_functions, "learner.home", home)
    client = https_client(app)
    params = Launcher(client, platform).start(login_hint="unlucky")
    token = platform.id_token(params["nonce"], sub="unlucky", name="Person unlucky", email="unlucky@example.com")

    def post():
        return client.post("/lti/launch", data={"id_token": token, "state": params["state"]})

    return post(), post


def test_a_landing_page_that_fails_does_not_lose_the_launch(app, platform, monkeypatch):
    """The launch's rows are committed after its landing page; when the page raises, they are kept all
    the same, and the person sees the error page."""
    from lti_tool.extensions import db
    from lti_tool.models import LtiUser, Membership

    def broken_home():
        raise RuntimeError("the landing page is broken")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answered as in production
    response, _ = launch_with_landing_page(app, platform, monkeypatch, broken_home)
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.execute(db.select(LtiUser).filter_by(sub="unlucky")).scalar_one()
        assert user.lms_email == "unlucky@example.com"
        assert db.session.execute(db.select(Membership).filter_by(user_id=user.id)).scalar_one() is not None


def test_a_landing_page_answered_by_an_error_page_does_not_lose_the_launch(app, platform, monkeypatch):
    """A landing page that fails on a service error is answered by its error page (503 for Redis), the way
    any request is. The error handlers roll back; inside a launch that used to undo the launch's own rows
    and used nonce while the launch's session cookie was still sent: a person signed in to rows that did
    not exist, with an id_token that could be posted again. The launch keeps its rows and its nonce now."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from lti_tool.extensions import db
    from lti_tool.models import LtiUser

    def home_without_redis():
        raise RedisConnectionError("Redis went away")

    response, post_again = launch_with_landing_page(app, platform, monkeypatch, home_without_redis)
    assert response.status_code == 503 and "unavailable for a minute" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(LtiUser).filter_by(sub="unlucky")).first() is not None
    again = post_again()
    assert again.status_code == 400 and "(replay)" in again.get_data(as_text=True)


def test_a_first_launch_into_a_new_course_and_link_still_creates_them_once(app, platform):
    from lti_tool.extensions import db
    from lti_tool.models import Course, ResourceLink

    login_and_launch(app, platform, "first")
    login_and_launch(app, platform, "second")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Course)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(ResourceLink)) == 1


def test_the_launch_transaction_does_not_wait_for_the_disk_with_or_without_redis(storage, platform):
    """On PostgreSQL a launch's transaction (state, nonce, launch data, the synced rows) commits with
    synchronous_commit off, whichever shared storage holds the launch data: with Redis the database no
    longer gets the cache upsert that used to switch it off, so the used nonce's insert has to."""
    from sqlalchemy import event, text

    from lti_tool.extensions import db

    app, _ = storage
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    login_and_launch(app, platform, "first")
    seen: list[str] = []

    def note_setting(session):
        if session.info.get("_noting"):
            return
        session.info["_noting"] = True
        try:
            seen.append(session.execute(text("SHOW synchronous_commit")).scalar() if postgres else "sqlite")
        finally:
            session.info.pop("_noting")

    event.listen(db.session, "before_commit", note_setting)
    try:
        login_and_launch(app, platform, "second")
    finally:
        event.remove(db.session, "before_commit", note_setting)
    # The launch's commit is the last of the two requests' (SQLite has no such setting: just seen).
    assert seen and seen[-1] == ("off" if postgres else "sqlite"), seen


def test_read_only_requests_keep_the_servers_prepared_statements(app, platform):
    """psycopg prepares a statement on the server once it has run 5 times on a connection, and drops every
    prepared statement (DEALLOCATE ALL, one more round trip) whenever a transaction is rolled back. A
    request that only read (a login with Redis, every page a learner looks at) used to end in ROLLBACK, so
    nothing stayed prepared and PostgreSQL parsed and planned each statement anew: a launch with Redis
    cost PostgreSQL more CPU than one without, which wrote and committed. A transaction that only read
    now ends in COMMIT (the same for the database), and what the worker prepared stays prepared."""
    from sqlalchemy import text

    from lti_tool.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # psycopg's prepared statements are PostgreSQL's; SQLite has none to keep
    worker = second_worker(app, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client = https_client(worker)
    params = Launcher(client, platform).start(login_hint="reader")
    token = platform.id_token(params["nonce"], sub="reader", name="Reader", email="reader@example.com")
    assert landed(client.post("/lti/launch", data={"id_token": token, "state": params["state"]}), "/learner/")
    for _ in range(8):  # the learner's home page, read again and again (no writes)
        assert client.get("/learner/").status_code == 200
    with worker.app_context():  # the pool's one connection, the one every request above used
        prepared = db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        db.session.rollback()
        db.engine.dispose()
    assert prepared > 0


def test_a_launch_that_changes_no_course_or_link_marks_nothing_to_flush(app, platform):
    """Writing the course's and link's names back unchanged marked both rows modified, so each of the
    launch's autoflushes worked through the unit of work for nothing. A newcomer's launch into a course
    and link that exist now flushes nothing (its user, membership and nonce are written by statements)."""
    from sqlalchemy import event

    from lti_tool.extensions import db

    login_and_launch(app, platform, "first")
    flushes: list[int] = []

    def note(session, context, instances):
        flushes.append(len(session.dirty) + len(session.new) + len(session.deleted))

    event.listen(db.session, "before_flush", note)
    try:
        login_and_launch(app, platform, "newcomer")
    finally:
        event.remove(db.session, "before_flush", note)
    assert flushes == [], flushes


def test_a_row_written_by_a_statement_joins_the_session_as_if_loaded(app, platform):
    """A first launch's user comes back from a Core INSERT … RETURNING and is put in the session as a
    loaded, unchanged object; should the session already hold that row, that object is kept and reloaded."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.lti.sync import _as_loaded
    from lti_tool.models import LtiUser

    login_and_launch(app, platform, "someone")
    with app.app_context():
        row = db.session.execute(select(*LtiUser.__table__.c).where(LtiUser.sub == "someone")).one()
        user = _as_loaded(LtiUser, row._mapping)
        assert user in db.session and not db.session.is_modified(user) and user.lms_name == "Person someone"
        db.session.execute(db.update(LtiUser).where(LtiUser.id == user.id).values(lms_name="Renamed"))
        again = _as_loaded(LtiUser, db.session.execute(
            select(*LtiUser.__table__.c).where(LtiUser.id == user.id)).one()._mapping)
        assert again is user and user.lms_name == "Renamed"
        db.session.rollback()


def test_a_launch_rolled_back_after_its_statements_keeps_none_of_its_writes(app, platform):
    """The used nonce and a first launch's user and membership are written by statements SQLAlchemy builds
    as SELECTs around INSERTs (WITH … INSERT … SELECT). A rollback after them (an error page after the
    rows were synced) must still undo them, not become the COMMIT that a transaction which only read gets
    on PostgreSQL (extensions.commit_read_only_transactions)."""
    from datetime import timedelta

    from lti_tool.extensions import db
    from lti_tool.lti.sync import sync_launch
    from lti_tool.models import LtiUser, Membership, UsedNonce, utcnow
    from tests.ops.test_concurrent_launches import launch_data

    with app.app_context():
        sync_launch(launch_data(platform, sub="earlier"), platform.client_id, used_nonce=None)  # course, link
        db.session.commit()
        nonce = {"issuer": platform.issuer, "nonce": "rolled-back", "expires_at": utcnow() + timedelta(hours=1)}
        synced = sync_launch(launch_data(platform, sub="unlucky"), platform.client_id, used_nonce=nonce)
        assert synced.user_id is not None
        db.session.rollback()
        assert db.session.execute(db.select(LtiUser).filter_by(sub="unlucky")).first() is None
        assert db.session.execute(db.select(UsedNonce).filter_by(nonce="rolled-back")).first() is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Membership)) == 1
