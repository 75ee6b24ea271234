"""Shared fixtures: the app on SQLite and on a fresh PostgreSQL database, a test LMS, launches.

Every test that uses ``app`` runs twice, once per database. The PostgreSQL database is created
for this run and dropped afterwards; on CI (CI=true) an unreachable server fails the run.
"""
from __future__ import annotations

import os
import uuid

import pytest
from flask.testing import FlaskClient

from tests.lti_platform import Launcher, TestPlatform

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ON_CI = os.environ.get("CI", "").lower() == "true"


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database created for this test run and dropped at its end."""
    import psycopg

    name = f"rml_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {e}"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server of this test process's own (never the shared one): parallel test processes, and
    other test runs on the machine, cannot empty or read each other's queues and keys."""
    from tests.ops.helpers import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    from lti_tool import create_app

    app = create_app("config.settings.TestingConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     OUTBOX_DIR=str(tmp_path_factory.mktemp("outbox")))
    with app.app_context():
        upgrade()  # the real migrations, on SQLite and PostgreSQL alike
    yield app
    from lti_tool.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app):
    """The session's app, with every table emptied after each test."""
    from lti_tool.extensions import db
    from lti_tool.lti import keys

    yield _app
    keys._ACTIVE.clear()
    from lti_tool.services import insights

    for thread in list(insights._REBUILDING.values()):  # a page rebuilt in the background (large deployments)
        thread.join(timeout=60)
    insights.forget_kept(_app)  # pages kept per process belong to this test's rows
    with _app.app_context():
        db.session.remove()
        from lti_tool.models import Cohort

        db.session.execute(db.update(Cohort).values(published_run_id=None))  # break the cohort<->run cycle
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


class HttpsClient(FlaskClient):
    """A test client on https://tool.test, so cookies get Secure; SameSite=None as in an LMS iframe."""

    def open(self, *args, **kwargs):
        if not (args and not isinstance(args[0], str)):
            kwargs.setdefault("base_url", "https://tool.test")
        return super().open(*args, **kwargs)

    def session_transaction(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://tool.test")
        return super().session_transaction(*args, **kwargs)


def https_client(app) -> FlaskClient:
    app.test_client_class = HttpsClient
    return app.test_client()


@pytest.fixture
def client(app):
    return https_client(app)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def register(app, platform: TestPlatform):
    from lti_tool.lti.registration import save_platform

    with app.app_context():
        return save_platform(**platform.registration_args()).id


@pytest.fixture
def platform(app):
    lms = TestPlatform()
    register(app, lms)
    yield lms
    lms.close()


@pytest.fixture
def lti(client, platform):
    return Launcher(client, platform)


def csrf_token_in(response) -> str:
    """The CSRF token a rendered form carries (forms post it back like a browser would)."""
    html = response.get_data(as_text=True)
    return html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def plain_text(raw_message: str) -> str:
    """The text/plain body of a stored message (mail is multipart: text and HTML)."""
    import email
    from email import policy

    return email.message_from_string(raw_message, policy=policy.default).get_body(("plain",)).get_content()


def dated_lab(app, platform: TestPlatform, day_one, learners=("ana", "ben", "cleo")) -> int:
    """Learners launch into the "lab" cohort, whose two days start on ``day_one`` (Berlin time); its id."""
    from datetime import timedelta

    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    for sub in learners:
        Launcher(https_client(app), platform)(role="learner", sub=sub, name=sub.capitalize(),
                                              email=f"{sub}@example.com", custom={"cohort": "lab"})
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).where(Cohort.slug == "lab")).scalar_one()
        cohort.day_one, cohort.day_two, cohort.timezone = day_one, day_one + timedelta(days=1), "Europe/Berlin"
        db.session.commit()
        return cohort.id
