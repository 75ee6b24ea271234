"""/healthz says the process answers; /readyz says whether this instance can serve (503 naming what fails)."""
from __future__ import annotations

import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lti_tool import create_app
from tests.conftest import ON_CI, PG_ADMIN_URL, _pg_admin, https_client
from tests.ops.helpers import free_port


def test_ready_when_database_and_migrations_are_current(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"


def test_database_unreachable(tmp_path):
    app = create_app("config.settings.TestingConfig",
                     SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    client = https_client(app)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failing"] == ["database"]
    assert "unreachable" in ready.get_json()["problems"]["database"]
    # a page that needs the database: the "try again in a minute" page, not a generic 500
    page = client.get("/lti/login", query_string={"iss": "https://lms.example", "login_hint": "x",
                                                   "target_link_uri": "https://tool.test/lti/launch"})
    assert page.status_code == 503 and "The lab is unavailable for a minute" in page.get_data(as_text=True)


def _previous_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lti_tool.health import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return script.get_revision(script.get_current_head()).down_revision


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database(request, tmp_path):
    """An empty database of its own (this test migrates it to an older revision)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    import psycopg

    name = f"rml_ready_{uuid.uuid4().hex[:10]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        if ON_CI:  # on CI an unreachable PostgreSQL is a failure, not a skip
            pytest.fail(f"PostgreSQL unreachable: {e}")
        pytest.skip(f"PostgreSQL unreachable: {e}")
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_schema_behind_the_code_is_not_ready_until_upgraded(blank_database):
    from lti_tool.extensions import db

    app = create_app("config.settings.TestingConfig", SQLALCHEMY_DATABASE_URI=blank_database)
    client = https_client(app)
    never = client.get("/readyz")
    assert never.status_code == 503 and never.get_json()["failing"] == ["migrations"]
    with app.app_context():
        upgrade(revision=_previous_revision())
    behind = client.get("/readyz").get_json()
    assert behind["failing"] == ["migrations"] and "db upgrade" in behind["problems"]["migrations"]
    with app.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200
    with app.app_context():  # a newer release migrated further (rolling upgrade): this instance still serves
        db.session.execute(text("UPDATE alembic_version SET version_num = 'f0000000000f'"))
        db.session.commit()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_database_lost_mid_request_gives_the_unavailable_page(app, client, lti, monkeypatch):
    """The database stops answering after a signed-in learner's request loaded them: the error page's header
    (name, course) and CSP (the LMS that frames it) must not ask the database again, or the person gets the
    server's bare 500 instead of "unavailable for a minute" (seen in benchmarks/load_bench.py's restart)."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from lti_tool.extensions import db
    from lti_tool.services import reflections
    from tests.reflections.helpers import cohort_id, launch

    launch(lti, "ana")
    cid = cohort_id(app)

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    def database_stops(*args, **kwargs):  # mid-request: the person, course and platform are loaded by now
        event.listen(db.engine, "before_cursor_execute", down)
        return original(*args, **kwargs)

    original = reflections.reflections_of
    monkeypatch.setattr(reflections, "reflections_of", database_stops)
    try:
        page = client.get(f"/learner/cohorts/{cid}/reflections")
    finally:
        with app.app_context():
            if event.contains(db.engine, "before_cursor_execute", down):
                event.remove(db.engine, "before_cursor_execute", down)
    assert page.status_code == 503 and "The lab is unavailable for a minute" in page.get_data(as_text=True)
    assert lti.platform.issuer in page.headers["Content-Security-Policy"]  # still framed by the LMS
    monkeypatch.undo()
    assert client.get(f"/learner/cohorts/{cid}/reflections").status_code == 200  # back at once


def test_database_lost_while_the_response_is_finished(app, client, lti):
    """A page's work is done (an autosave committed) and the database stops before the response's headers are
    added: the response goes out as it is (200), not as a 500 — the CSP header's LMS origins were taken with
    the launch context instead of being reloaded from the platform the commit expired (seen in
    benchmarks/load_bench.py's PostgreSQL restart)."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from lti_tool.extensions import db
    from tests.conftest import csrf_token_in
    from tests.reflections.helpers import SESSION, cohort_id, lab_held, launch

    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    url = f"/learner/cohorts/{cid}/reflections/{SESSION}"
    token = csrf_token_in(client.get(url))

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    def database_stops(response):  # the last registered after_request runs first: before the CSP header
        event.listen(db.engine, "before_cursor_execute", down)
        return response

    app.after_request_funcs.setdefault(None, []).append(database_stops)
    try:
        saved = client.post(url + "/draft", json={"answers": {"learned_from_partner": "kept"}},
                            headers={"X-CSRFToken": token})
    finally:
        app.after_request_funcs[None].remove(database_stops)
        with app.app_context():
            if event.contains(db.engine, "before_cursor_execute", down):
                event.remove(db.engine, "before_cursor_execute", down)
    assert saved.status_code == 200 and saved.get_json()["status"] == "draft"
    assert lti.platform.issuer in saved.headers["Content-Security-Policy"]


def test_database_lost_with_its_rollback_failing_too_gives_the_unavailable_page(app, client, lti):
    """PostgreSQL terminated the connection: the statement fails, and so does the rollback the error page
    starts with (seen as two bare 500s on OIDC logins during benchmarks/load_bench.py's restart). The person
    still gets the "unavailable for a minute" page, and the next login works."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from lti_tool.extensions import db

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("terminating connection due to administrator command"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", down)
    event.listen(engine, "rollback", down)
    try:
        response = lti.login()
    finally:
        event.remove(engine, "before_cursor_execute", down)
        event.remove(engine, "rollback", down)
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert "The lab is unavailable for a minute" in response.get_data(as_text=True)
    assert lti.start()["state"]  # back at once


def test_database_connection_killed_at_any_point_of_a_submit_never_gives_a_500(app, client, lti):
    """PostgreSQL terminates the request's connection (as `pg_ctl stop -m fast` does) at each statement of a
    reflection submit in turn: the person gets the submit done (303) or "unavailable for a minute" (503),
    never the bare 500 seen once in benchmarks/load_bench.py's restart, and the next request works. (The
    end-of-transaction hook that keeps prepared statements read the invalidated connection's info, which
    raised PendingRollbackError from inside the rollback.)"""
    from sqlalchemy import event

    from lti_tool.extensions import db
    from tests.conftest import csrf_token_in
    from tests.reflections.helpers import SESSION, cohort_id, lab_held, launch

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # a server to terminate the connection is PostgreSQL's; SQLite has none
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    url = f"/learner/cohorts/{cid}/reflections/{SESSION}"
    with app.app_context():
        engine = db.engine
    outcomes = []
    for at in range(1, 60):
        data = {"csrf_token": csrf_token_in(client.get(url)), "action": "submit",
                "a-learned_from_partner": f"try {at}", "a-gain_self": "4", "a-gain_partner": "3"}
        seen = {"n": 0, "killed": False}

        def terminate(conn, cursor, statement, parameters, context, executemany, seen=seen, at=at):
            seen["n"] += 1
            if seen["n"] == at:
                with _pg_admin() as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (conn.connection.dbapi_connection.info.backend_pid,))
                seen["killed"] = True

        event.listen(engine, "before_cursor_execute", terminate)
        try:
            response = client.post(url, data=data)
        finally:
            event.remove(engine, "before_cursor_execute", terminate)
        outcomes.append((at, response.status_code))
        assert response.status_code in (303, 503), outcomes
        assert client.get(f"/learner/cohorts/{cid}/reflections").status_code == 200, outcomes  # back at once
        if not seen["killed"]:  # the submit ran fewer statements than ``at``: every point was tried
            break
    assert any(status == 503 for _, status in outcomes) and outcomes[-1][1] == 303, outcomes
