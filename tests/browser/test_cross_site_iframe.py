"""The tool inside an LMS on another site, with third-party cookies blocked (the browser default).

The LMS (development platform) answers on 127.0.0.1 and the tool on localhost: different sites, so
the tool's cookies are third-party in the iframe. A TLS proxy is simulated with X-Forwarded-Proto,
so the tool sets `Secure; SameSite=None; Partitioned` cookies as it does in production.
"""
from __future__ import annotations

import socket
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import CHROMIUM_ARGS, screenshot


@pytest.fixture(scope="module")
def cross_site(tmp_path_factory):
    from flask_migrate import upgrade

    from lti_tool import create_app
    from lti_tool.demo import seed

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    instance = tmp_path_factory.mktemp("cross-site")
    app = create_app("config.settings.DevelopmentConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance}/db.sqlite3",
                     LTI_DEV_PLATFORM=True, PUBLIC_BASE_URL=f"http://localhost:{port}")
    app.instance_path = str(instance)
    inner = app.wsgi_app

    def tls_terminating_proxy(environ, start_response):
        if environ.get("HTTP_HOST", "").startswith("localhost"):
            environ["HTTP_X_FORWARDED_PROTO"] = "https"
        return inner(environ, start_response)

    app.wsgi_app = tls_terminating_proxy
    with app.app_context():
        upgrade()
    with app.test_request_context(base_url=f"http://127.0.0.1:{port}"):
        seed()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(params=["default", "--test-third-party-cookie-phaseout"])
def strict_page(request, playwright_driver, chromium_path):
    flags = [] if request.param == "default" else [request.param]
    browser = playwright_driver.chromium.launch(executable_path=chromium_path, args=[*CHROMIUM_ARGS, *flags])
    page = browser.new_page()
    yield page
    browser.close()


def wait_for_landing(page, frame, name: str) -> None:
    """Wait for the landing page's heading in the LMS's iframe. A failure seen once on CI (the launch had
    answered 200) left nothing to go on: this one says what every frame showed, with a screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        frame.get_by_role("heading", level=1, name=name).wait_for(timeout=15000)
    except PlaywrightTimeout:
        screenshot(page, "cross-site-launch-failed")
        shown = [(f.url, f.evaluate("() => document.body ? document.body.innerText.slice(0, 400) : ''"))
                 for f in page.frames]
        raise AssertionError(f"no heading {name!r} in the lab's frame; the frames showed {shown}") from None


def test_launch_in_a_cross_site_iframe_with_third_party_cookies_blocked(strict_page, cross_site):
    strict_page.goto(cross_site + "/dev/course/ana")
    frame = strict_page.frame_locator("iframe.lti-frame")
    wait_for_landing(strict_page, frame, "Welcome, Ana Costa")
    cookies = strict_page.context.cookies()
    session = [c for c in cookies if c["name"] == "rml_session"]
    assert session and session[0]["secure"] and session[0]["sameSite"] == "None"
    screenshot(strict_page, "cross-site-launch")
    # The launch POST answered with the page itself; the page put its own address in the frame's history,
    # so a reload is a plain GET of the landing page, never a second post of the spent id_token.
    lab = [f for f in strict_page.frames if f != strict_page.main_frame]
    assert len(lab) == 1 and lab[0].url.endswith("/learner/"), [f.url for f in lab]
    lab = lab[0]
    requests_seen = []
    strict_page.on("request", lambda r: requests_seen.append((r.method, r.url)))
    lab.evaluate("location.reload()")
    wait_for_landing(strict_page, frame, "Welcome, Ana Costa")
    assert [m for m, u in requests_seen if u.endswith("/learner/")] == ["GET"], requests_seen
    assert not [u for m, u in requests_seen if "/lti/launch" in u], requests_seen


def test_when_the_iframe_gets_no_cookies_at_all_the_lab_opens_in_a_new_window(page, cross_site):
    """Browsers that refuse even partitioned cookies (Safari) get the new-window path."""
    page.add_init_script("Object.defineProperty(Document.prototype, 'cookie', "
                         "{get() { return ''; }, set(value) {}, configurable: true});")
    page.goto(cross_site + "/dev/course/ana")
    frame = page.frame_locator("iframe.lti-frame")
    link = frame.get_by_role("link", name="Open the lab in a new window")
    link.wait_for(timeout=15000)
    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    popup.get_by_role("heading", level=1, name="Welcome, Ana Costa").wait_for(timeout=15000)
