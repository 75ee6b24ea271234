import socket
from email import message_from_bytes, policy

import icalendar
import pytest

from lti_tool.scheduling.ics import to_ics_bytes
from lti_tool.scheduling.imip import DeliveryError, SmtpSettings, build_invite_message, send_message, write_eml

from tests.scheduling.test_ics import spec


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _msg():
    return build_invite_message(to_ics_bytes([spec()]), sender="fac@example.org", recipient="ana@example.org",
                                subject="Lab invite", text_body="Hi", html_body="<p>Hi</p>", method="REQUEST")


def _check(raw: bytes):
    m = message_from_bytes(raw, policy=policy.default)
    assert m.get_content_type() == "multipart/mixed"
    alt, att = m.get_payload()
    assert alt.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in alt.get_payload()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    calp = alt.get_payload()[2]
    assert calp.get_param("method") == "REQUEST" and calp.get_content_charset() == "utf-8"
    cal = icalendar.Calendar.from_ical(calp.get_payload(decode=True))
    assert cal["METHOD"] == "REQUEST"
    assert att.get_filename() == "invite.ics"
    assert att.get_payload(decode=True) == calp.get_payload(decode=True)


def test_settings_from_url():
    s = SmtpSettings.from_url("smtp+starttls://u%40x:p@mail.example:2525")
    assert (s.host, s.port, s.username, s.password, s.mode) == ("mail.example", 2525, "u@x", "p", "starttls")
    assert SmtpSettings.from_url("smtps://h").mode == "ssl"
    assert SmtpSettings.from_url("smtp://h?starttls=1").mode == "starttls"
    assert SmtpSettings.from_url("smtp://h").port == 25


def test_real_smtp_roundtrip():
    from aiosmtpd.controller import Controller

    got = []

    class H:
        async def handle_DATA(self, server, session, envelope):
            got.append(envelope.content)
            return "250 OK"

    port = _free_port()
    c = Controller(H(), hostname="127.0.0.1", port=port)
    c.start()
    try:
        send_message(_msg(), SmtpSettings.from_url(f"smtp://127.0.0.1:{port}"), timeout=5)
    finally:
        c.stop()
    assert len(got) == 1
    _check(got[0])


def test_smtp_down_raises():
    with pytest.raises(DeliveryError):
        send_message(_msg(), SmtpSettings.from_url(f"smtp://127.0.0.1:{_free_port()}"), timeout=2)


def test_write_eml(tmp_path):
    p1, p2 = write_eml(_msg(), tmp_path), write_eml(_msg(), tmp_path)
    assert p1 != p2 and p1.suffix == ".eml"
    _check(p1.read_bytes())


# aiosmtpd warns about AUTH without TLS; expected on loopback in this test only
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_auth_over_plain_loopback():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    got, logins = [], []

    class H:
        async def handle_DATA(self, server, session, envelope):
            got.append(envelope.content)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"user" and auth_data.password == b"pa:ss"
        logins.append(ok)
        return AuthResult(success=ok)

    port = _free_port()
    c = Controller(H(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                   auth_require_tls=False, auth_required=True)
    c.start()
    try:
        send_message(_msg(), SmtpSettings.from_url(f"smtp://user:pa%3Ass@127.0.0.1:{port}"), timeout=5)
        with pytest.raises(DeliveryError):
            send_message(_msg(), SmtpSettings.from_url(f"smtp://user:bad@127.0.0.1:{port}"), timeout=5)
    finally:
        c.stop()
    assert logins[0] is True and len(got) == 1
    _check(got[0])
