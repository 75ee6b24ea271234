"""iMIP (RFC 6047) mail built with the stdlib email package; SMTP delivery and .eml outbox."""
from __future__ import annotations

import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class DeliveryError(Exception):
    """Sending failed; the caller should keep the message and retry with back-off."""


def _ics_bytes(calendar) -> bytes:
    return calendar if isinstance(calendar, bytes) else calendar.to_ical()


def build_invite_message(calendar, *, sender: str, recipient: str, subject: str, text_body: str,
                         html_body: str, method: str = "REQUEST") -> EmailMessage:
    method = method.upper()
    ics = _ics_bytes(calendar)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    msg.make_mixed()
    alt = EmailMessage()
    alt.set_content(text_body)
    alt.add_alternative(html_body, subtype="html")
    cal_part = EmailMessage()
    # bytes keep the CRLF line ends that RFC 5545 requires; base64 protects them in transit
    cal_part.set_content(ics, maintype="text", subtype="calendar", cte="base64",
                         params={"method": method, "charset": "UTF-8"})
    alt.attach(cal_part)
    msg.attach(alt)
    att = EmailMessage()
    att.set_content(ics, maintype="application", subtype="ics", filename="invite.ics", cte="base64")
    msg.attach(att)
    return msg


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    mode: str = "plain"  # plain | starttls | ssl

    @classmethod
    def from_url(cls, url: str) -> "SmtpSettings":
        u = urlsplit(url)
        q = parse_qs(u.query)
        scheme = u.scheme.lower()
        if scheme in ("smtps",):
            mode, default = "ssl", 465
        elif scheme in ("smtp+starttls",):
            mode, default = "starttls", 587
        elif scheme == "smtp":
            mode, default = "plain", 25
        else:
            raise ValueError(f"unsupported SMTP URL scheme {u.scheme!r}")
        if q.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"):
            mode = "starttls"
        if not u.hostname:
            raise ValueError("SMTP URL has no host")
        return cls(host=u.hostname, port=u.port or default,
                   username=unquote(u.username) if u.username else None,
                   password=unquote(u.password) if u.password else None, mode=mode)


def send_message(msg: EmailMessage, settings: SmtpSettings, timeout: float = 30,
                 ssl_context: ssl.SSLContext | None = None) -> None:
    try:
        if settings.mode == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                    context=ssl_context or ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if settings.mode == "starttls":
                smtp.starttls(context=ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP delivery to {settings.host}:{settings.port} failed: {exc}") from exc


def write_eml(msg: EmailMessage, directory) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    to = re.sub(r"[^A-Za-z0-9._-]+", "_", str(msg.get("To", "unknown")))[:60]
    path = d / f"{uuid.uuid4().hex}-{to}.eml"
    path.write_bytes(msg.as_bytes())
    return path
