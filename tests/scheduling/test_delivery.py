"""Delivery: SMTP over STARTTLS and implicit TLS (smtps://) with AUTH LOGIN and PLAIN against aiosmtpd
on loopback with a certificate made here, and a send queued on real Redis and run by an RQ worker."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lti_tool.extensions import db
from lti_tool.models import OutboxMessage
from lti_tool.services import invites
from tests.scheduling.scheduling_helpers import Inbox, calendar_part, free_port, parse_calendar, withdraw_as_learner



@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (and its key), as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return str(folder / "cert.pem"), str(folder / "key.pem")


def _server_tls(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


class Logins:
    """aiosmtpd authenticator: one account; records the mechanism each login used."""

    def __init__(self):
        self.seen = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"lab@example.com" and auth_data.password == b"s3cret:pw"
        self.seen.append((mechanism, ok, server.transport.get_extra_info("ssl_object") is not None))
        return AuthResult(success=ok)


def _server(mode, mechanism, certificate, inbox, logins):
    port = free_port()
    tls = _server_tls(certificate)
    exclude = [m for m in ("PLAIN", "LOGIN") if m != mechanism]  # the client has to use the one left
    common = dict(hostname="127.0.0.1", port=port, authenticator=logins, auth_required=True,
                  auth_exclude_mechanism=exclude)
    if mode == "ssl":  # aiosmtpd only sees STARTTLS as TLS, so AUTH over implicit TLS needs auth_require_tls off
        return Controller(inbox, ssl_context=tls, auth_require_tls=False, **common)
    return Controller(inbox, tls_context=tls, require_starttls=True, **common)


URLS = {"starttls": "smtp://lab%40example.com:s3cret%3Apw@127.0.0.1:{port}?starttls=1",
        "starttls-scheme": "smtp+starttls://lab%40example.com:s3cret%3Apw@127.0.0.1:{port}",
        "ssl": "smtps://lab%40example.com:s3cret%3Apw@127.0.0.1:{port}"}


AUTH_WARNING = "ignore:Requiring AUTH while not requiring TLS:UserWarning"  # implicit TLS, see _server


@pytest.mark.filterwarnings(AUTH_WARNING)
@pytest.mark.parametrize("form, mechanism", [("starttls", "PLAIN"), ("starttls-scheme", "LOGIN"), ("ssl", "LOGIN"),
                                             ("ssl", "PLAIN")])
def test_invites_go_out_over_tls_with_login(app, lab, certificate, form, mechanism):
    cohort_id, _ = lab
    inbox, logins = Inbox(), Logins()
    controller = _server("ssl" if form == "ssl" else "starttls", mechanism, certificate, inbox, logins)
    controller.start()
    app.config.update(SMTP_URL=URLS[form].format(port=controller.port), SMTP_CAFILE=certificate[0])
    try:
        with app.app_context():
            result = invites.send_due(cohort_id)
        assert result["sent"] == result["queued"] == 20 and result["failed"] == 0
        assert len(inbox.messages) == 20
        assert logins.seen and all(seen == (mechanism, True, True) for seen in logins.seen)  # over TLS, that mechanism
        calendar = parse_calendar(calendar_part(inbox.messages[0]))
        assert str(calendar["METHOD"]) == "REQUEST"
    finally:
        controller.stop()
        app.config.update(SMTP_URL=None, SMTP_CAFILE=None)


@pytest.mark.filterwarnings(AUTH_WARNING)
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_refused_and_the_message_kept(app, lab, certificate, mode):
    cohort_id, _ = lab
    inbox, logins = Inbox(), Logins()
    controller = _server(mode, "PLAIN", certificate, inbox, logins)
    controller.start()
    app.config.update(SMTP_URL=URLS[mode].format(port=controller.port), SMTP_CAFILE=None)  # no CA: verification fails
    try:
        with app.app_context():
            result = invites.send_due(cohort_id)
            assert result["failed"] == result["queued"] == 20 and not inbox.messages and not logins.seen
            failed = db.session.execute(db.select(OutboxMessage)).scalars().first()
            assert failed.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in failed.last_error
    finally:
        controller.stop()
        app.config.update(SMTP_URL=None)


def test_a_withdrawal_queues_its_mail_on_redis_and_an_rq_worker_delivers_it(app, lab, redis_server, redis_db15, smtp_inbox):
    from rq import Queue, SimpleWorker

    from lti_tool.jobs import QUEUE_NAME

    cohort_id, learners = lab
    inbox = smtp_inbox
    try:
        with app.app_context():
            assert invites.send_due(cohort_id)["sent"] == 20  # the first invites, sent directly
        app.config["REDIS_URL"] = redis_server.url
        withdraw_as_learner(learners["ben"], cohort_id)
        queue = Queue(QUEUE_NAME, connection=redis_db15)
        assert queue.count == 1 and len(inbox.messages) == 20  # queued on Redis, nothing sent yet
        with app.app_context():
            waiting = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.status == "queued")).scalars().all()
            assert len(waiting) == 18 + 1  # the calendar messages, and Ana's email that her partner left
            SimpleWorker([queue], connection=redis_db15).work(burst=True)  # in-process worker, in this app
            assert db.session.execute(db.select(db.func.count(OutboxMessage.id))
                                      .where(OutboxMessage.status == "sent")).scalar() == 39
        assert queue.count == 0 and len(inbox.messages) == 39
        cancels = [m for m in inbox.messages[20:] if m["To"] == "ben@example.com"]
        assert len(cancels) == 5 and all(str(parse_calendar(calendar_part(m))["METHOD"]) == "CANCEL" for m in cancels)
    finally:
        app.config["REDIS_URL"] = None
