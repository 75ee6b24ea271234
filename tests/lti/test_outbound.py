"""Server-side request forgery: outbound calls refuse internal addresses, redirects, slow and huge answers."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from flask import Flask, Response

from lti_tool.extensions import db
from lti_tool.lti import outbound
from lti_tool.models import Platform
from tests.conftest import register
from tests.lti.test_registration import invite_path
from tests.lti_platform import Launcher, TestPlatform

REG = {"registration_token": "reg-token-123"}


@pytest.fixture
def guarded(app, monkeypatch):
    """Production's outbound rules (private networks refused), with plain http still allowed for the test LMS."""
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", False)
    return app


class Listener:
    """A TCP port that records every connection made to it (and answers nothing)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.held.append(conn)  # never answers: a slow server

    def close(self):
        self.stop = True
        for conn in self.held:
            conn.close()
        self.sock.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost:5432/", "http://10.0.0.5/", "http://192.168.1.10/",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://[fe80::1]/",
])
def test_internal_addresses_are_refused(guarded, url):
    with guarded.app_context(), pytest.raises(outbound.OutboundRefused, match="private or local"):
        outbound.check_url(url)


def test_an_allowed_company_network_is_reachable(guarded, monkeypatch):
    monkeypatch.setitem(guarded.config, "OUTBOUND_ALLOWED_NETWORKS", ["127.0.0.0/8"])
    with guarded.app_context():
        outbound.check_url("http://127.0.0.1:9/")  # no exception
        with pytest.raises(outbound.OutboundRefused):
            outbound.check_url("http://10.0.0.1/")


def test_non_http_schemes_are_refused(guarded):
    with guarded.app_context():
        for url in ("file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.com/"):
            with pytest.raises(outbound.OutboundRefused, match="not an http"):
                outbound.check_url(url)


def test_registration_probe_cannot_tell_open_ports_from_closed(guarded, client, runner):
    """The reported attack: a registration fetch told PostgreSQL's and Redis's ports from a closed one."""
    open_port = Listener()
    try:
        answers = []
        for port in (open_port.port, closed_port()):
            page = client.get(invite_path(runner), query_string={
                "openid_configuration": f"http://127.0.0.1:{port}/.well-known/openid-configuration", **REG})
            text = page.get_data(as_text=True).replace(str(port), "PORT")
            answers.append((page.status_code, text.split('role="alert"')[1].split("</div>")[0]))
        assert answers[0] == answers[1]
        assert "private or local network" in answers[0][1]
        time.sleep(0.3)
        assert open_port.accepted == 0  # refused before connecting
    finally:
        open_port.close()


def test_launch_does_not_fetch_keys_from_an_internal_address(guarded, client):
    lms = TestPlatform()
    try:
        register(guarded, lms)
        response = Launcher(client, lms)(role="learner")
        assert response.status_code == 400
        assert "private or local network" not in response.get_data(as_text=True)  # the learner sees plain advice
        assert lms.jwks_fetches == 0
    finally:
        lms.close()


def test_roster_sync_does_not_call_an_internal_address(app, client, platform, lti, monkeypatch):
    from lti_tool.services import roster

    lti(role="instructor", custom={"cohort": "spring-lab"})  # the launch itself on the development rules
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", False)
    with app.app_context():
        from lti_tool.models import Cohort

        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        with pytest.raises(roster.RosterError, match="private or local network"):
            roster.sync_from_lms(cohort.id)
    assert platform.token_requests == []


class SlowOrHuge:
    def __init__(self):
        app = Flask("slow")

        @app.get("/huge")
        def huge():
            return Response(b"{" + b" " * (2 * 1024 * 1024) + b"}", mimetype="application/json")

        @app.get("/huge-chunked")
        def huge_chunked():
            def chunks():
                for _ in range(64):
                    yield b" " * 65536
            return Response(chunks(), mimetype="application/json")

        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_answers_are_bounded_in_size(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_MAX_BYTES", 1024 * 1024)
    server = SlowOrHuge()
    try:
        with app.app_context():
            for path in ("/huge", "/huge-chunked"):
                with pytest.raises(outbound.OutboundRefused, match="larger than"):
                    outbound.session().get(server.base + path)
        monkeypatch.setitem(app.config, "OUTBOUND_MAX_BYTES", 3 * 1024 * 1024)
        with app.app_context():
            assert len(outbound.session().get(server.base + "/huge").content) == 2 * 1024 * 1024 + 2
    finally:
        server.close()


def test_a_silent_server_times_out(app, monkeypatch):
    import requests

    monkeypatch.setitem(app.config, "OUTBOUND_TIMEOUT_SECONDS", 0.5)
    silent = Listener()
    try:
        started = time.monotonic()
        with app.app_context(), pytest.raises(requests.Timeout):
            outbound.session().get(f"http://127.0.0.1:{silent.port}/")
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_platform_rows_keep_their_urls_after_a_refused_fetch(guarded, client):
    lms = TestPlatform()
    try:
        register(guarded, lms)
        Launcher(client, lms)(role="learner")
        with guarded.app_context():
            assert db.session.execute(db.select(Platform.jwks_url)).scalar_one() == lms.issuer + "/jwks"
    finally:
        lms.close()
