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
