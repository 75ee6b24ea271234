"""A live development server and headless Chromium (Debian's package) driven by Playwright."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def chromium_path():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (Debian package 'chromium'; `make test` installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def serve_demo(tmp_path_factory, prepare=None, name="instance"):
    """The app with the development platform, served on a free loopback port, demo seeded; yields the base
    URL and what ``prepare(app)`` returned (it runs in a request context after the seed)."""
    from flask_migrate import upgrade

    from lti_tool import create_app
    from lti_tool.demo import seed

    instance = tmp_path_factory.mktemp(name)
    database_url = f"sqlite:///{instance / 'live.sqlite3'}"
    app = create_app("config.settings.DevelopmentConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     LTI_DEV_PLATFORM=True, PUBLIC_BASE_URL=None, OUTBOX_DIR=str(instance / "outbox"))
    app.instance_path = str(instance)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with app.app_context():
        upgrade()
    base = f"http://127.0.0.1:{server.server_port}"
    with app.test_request_context(base_url=base):
        seed()
        prepared = prepare(app) if prepare else None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, prepared
    server.shutdown()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app with the development platform, served on a free loopback port, demo seeded.

    It has its own SQLite database, apart from the one the other tests empty after each test.
    """
    for base, _ in serve_demo(tmp_path_factory, name="shared-live"):  # tests may open its database by this name
        yield base


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright per test session: a second sync_playwright() in the same thread is refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver, chromium_path):
    browser = playwright_driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- the tool on a loopback port with registered test LMSs (tests/lti_platform.py) -------------------------

LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def serve_tool(instance: Path):
    """The tool with its own SQLite database in ``instance``, served on a free loopback port (no Redis:
    jobs run inline). Returns (app, base URL, server); call ``server.shutdown()`` when done."""
    from flask_migrate import upgrade

    from lti_tool import create_app

    app = create_app("config.settings.DevelopmentConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'tool.sqlite3'}",
                     LTI_DEV_PLATFORM=False, PUBLIC_BASE_URL=None, OUTBOX_DIR=str(instance / "outbox"), REDIS_URL=None)
    app.instance_path = str(instance)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_port}", server


def register_lms(app, key: str, title: str):
    """A test LMS (tests/lti_platform.py) registered with the tool, its course titled ``title``, with a
    facilitator ``{key}-teacher``. Add learners with :func:`add_learner`."""
    from lti_tool.lti.registration import save_platform
    from tests.lti_platform import TestPlatform

    lms = TestPlatform(client_id=f"client-{key}", deployment_id=f"deploy-{key}")
    lms.course_title = title
    lms.users[f"{key}-teacher"] = {"sub": f"{key}-teacher", "role": "instructor", "name": f"Fac {key.title()}",
                                   "email": f"fac@{key}.example"}
    with app.app_context():
        save_platform(**lms.registration_args())
    return lms


def add_learner(lms, sub: str, name: str, email: str) -> None:
    """A learner of the LMS course: can launch, and is in the roster (NRPS) the tool syncs from."""
    lms.users[sub] = {"sub": sub, "role": "learner", "name": name, "email": email}
    lms.members.append({"user_id": sub, "name": name, "email": email, "status": "Active", "roles": [LEARNER_ROLE]})


def open_from_lms(browser, tool, lms, course_key, cohort, user, heading, width=1000):
    """A fresh browser (own cookies) clicks the lab in the LMS course and lands in the tool."""
    from urllib.parse import urlencode

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    query = urlencode({"user": user, "tool": tool, "cohort": cohort})
    page.goto(f"{lms.issuer}/course/{course_key}-101/open?{query}")
    page.get_by_role("heading", level=1, name=heading).wait_for(timeout=15000)
    return page


def fill_intake(page, gender, department, offers, wants):
    """A learner fills their intake in the browser (from their home page) and submits it."""
    page.get_by_role("link", name="Fill in your intake").first.click()
    page.get_by_label(gender, exact=True).check()
    page.get_by_label("Department", exact=True).fill(department)
    page.get_by_label("Location", exact=True).fill("Berlin office")
    page.get_by_label("3 – Team lead or senior specialist").check()
    page.get_by_role("link", name="What you offer").click()
    page.locator("#offers").get_by_label(offers, exact=True).check()
    page.get_by_role("link", name="What you want to learn").click()
    page.locator("#wants").get_by_label(wants, exact=True).check()
    page.get_by_role("link", name="When you are free").click()
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Tuesday 10:00").check()
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Submit intake").click()
    page.get_by_text("Thank you: your intake is submitted.").wait_for()
