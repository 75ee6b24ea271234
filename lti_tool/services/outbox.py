"""The outbox: every message is written here first, then delivered over SMTP (``SMTP_URL``) or as an
.eml file (``OUTBOX_DIR``); failures are kept with their error and retried with back-off."""
from __future__ import annotations

import logging
import ssl
import textwrap
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_string
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, flash, has_request_context, render_template
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..jobs import QueueUnavailable, enqueue, require_queue
from ..i18n import available_locales, best_locale
from ..lti.registration import public_url
from ..models import Cohort, Course, LtiUser, OutboxMessage, utcnow
from ..states import OutboxStatus
from ..scheduling.imip import DeliveryError, SmtpSettings, send_message, write_eml
from . import held_invites

log = logging.getLogger(__name__)


def recipient_locale(user: LtiUser | None) -> str:
    """The language to write to someone in: the one of their last launch when a catalogue serves it."""
    available = available_locales()
    return (best_locale([user.locale], available) if user is not None and user.locale else None) \
        or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def _wrap(text: str) -> str:
    """Plain text wrapped at 76 columns, paragraphs and list lines kept (so it travels as 8-bit text)."""
    lines = []
    for line in text.splitlines():
        indent = "  " if line.startswith("- ") else ""
        lines.extend(textwrap.wrap(line, 76, subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False) or [""])
    return "\n".join(lines).strip() + "\n"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, locale: str, **context) -> Rendered:
    """``templates/email/<template>.{subject.txt,txt,html}`` in ``locale``, with the lab's link and course."""
    cohort: Cohort | None = context.get("cohort")
    if cohort is not None:
        course = db.session.get(Course, cohort.course_id)
        context.setdefault("cohort_name", cohort.name)
        context.setdefault("course_title", course.title or course.label or "")
    context.setdefault("lab_url", public_url("lti.home"))
    with force_locale(locale):
        subject = " ".join(render_template(f"email/{template}.subject.txt", **context).split())
        text = render_template(f"email/{template}.txt", subject=subject, **context)
        html = render_template(f"email/{template}.html", subject=subject, lang=locale.replace("_", "-"), **context)
    return Rendered(subject, _wrap(text), html)


def add(cohort: Cohort, message: EmailMessage, *, kind: str | None = None,
        carries: list[dict] | None = None) -> OutboxMessage:
    """Put a built message in the outbox (delivery happens later); its Message-ID is kept with it, and
    for calendar mail what its delivery gives the recipient (``held_invites``)."""
    row = OutboxMessage(cohort_id=cohort.id, recipient=str(message["To"]), subject=str(message["Subject"]),
                        body=message.as_string(policy=email_policy.SMTP), message_id=str(message["Message-ID"]),
                        kind=kind, carries=carries)
    db.session.add(row)
    return row


def write(cohort: Cohort, recipient: str, subject: str, text: str, *, html: str | None = None,
          kind: str | None = None) -> OutboxMessage:
    """A message to one person, written to the outbox (delivery happens later)."""
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"], message["To"], message["Subject"] = current_app.config["MAIL_FROM"], recipient, subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rsplit("@", 1)[-1].strip("> ") or None)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return add(cohort, message, kind=kind)


def write_to(cohort: Cohort, user: LtiUser, template: str, **context) -> OutboxMessage:
    """An email from ``templates/email/<template>.*`` to a person, in their language (``kind`` = template)."""
    mail = render(template, recipient_locale(user), cohort=cohort, **context)
    return write(cohort, user.contact_email, mail.subject, mail.text, html=mail.html, kind=template)


def deliver_later(cohort: Cohort) -> str | None:
    """Commit what the caller wrote for the cohort's outbox, then queue its delivery.

    Whole or nothing: the queue is checked first, so when it is down QueueUnavailable propagates and
    nothing is committed. The job is queued only after the commit, so it always finds the messages;
    should the queue fail in between, the messages are saved and the periodic sweep sends them
    (the user is told so). Returns the job id, or None when it ran inline or could not be queued.
    """
    return _deliver_soon(cohort.id)


def _deliver_soon(cohort_id: int) -> str | None:
    require_queue()
    db.session.commit()
    try:
        return enqueue("lti_tool.services.outbox.deliver_outbox", cohort_id)
    except QueueUnavailable as e:
        minutes = max(1, round(current_app.config["SWEEP_INTERVAL_SECONDS"] / 60))
        log.error("cohort %s: messages saved but their delivery job was not queued (%s); the sweep sends them",
                  cohort_id, e)
        if has_request_context():
            flash(ngettext("Saved; the mail will go out within a minute.",
                           "Saved; the mail will go out within %(num)s minutes.", minutes), "warning")
        return None


def _due(now):
    return db.and_(OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.FAILED)),
                   db.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))


def _claim(message_id: int) -> bool:
    """Take one due message for this worker: a single conditional UPDATE, so of two workers (or a job
    run twice) only one gets it; it is held until its lease runs out (``MAIL_SEND_LEASE_SECONDS``)."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["MAIL_SEND_LEASE_SECONDS"])
    taken = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=lease)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return taken


def _failed(row: OutboxMessage, error: Exception) -> None:
    """Keep the error; try again after the next wait of ``MAIL_RETRY_SECONDS``, or, out of tries, ask for attention."""
    config = current_app.config
    row.last_error = str(error)
    if row.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        row.status, row.next_attempt_at = OutboxStatus.ATTENTION, None
        log.error("message %s to %s needs attention after %s tries: %s", row.id, row.recipient, row.attempts, error)
    else:
        waits = config["MAIL_RETRY_SECONDS"]
        row.status = OutboxStatus.FAILED
        row.next_attempt_at = utcnow() + timedelta(seconds=waits[min(row.attempts - 1, len(waits) - 1)])
        log.warning("message %s to %s failed (try %s), next try at %s: %s", row.id, row.recipient, row.attempts,
                    row.next_attempt_at, error)


def deliver_outbox(cohort_id: int | None = None) -> dict[str, int]:
    """Send what is due: over SMTP when configured, else as .eml files. Each message is claimed before
    it is sent, so it is sent once however many jobs run; failures are kept and retried with back-off.
    Only a delivered message gives its recipient the calendar events it carries."""
    now = utcnow()
    query = db.select(OutboxMessage.id).where(_due(now))
    if cohort_id is not None:
        query = query.where(OutboxMessage.cohort_id == cohort_id)
    smtp_url = current_app.config.get("SMTP_URL")
    settings = SmtpSettings.from_url(smtp_url) if smtp_url else None
    # TLS is always verified; SMTP_CAFILE trusts a private CA (or a test's own certificate) on top.
    tls = ssl.create_default_context()
    if current_app.config.get("SMTP_CAFILE"):
        tls.load_verify_locations(cafile=current_app.config["SMTP_CAFILE"])
    result = {"sent": 0, "written": 0, "failed": 0}
    for message_id in db.session.execute(query.order_by(OutboxMessage.id)).scalars().all():
        if not _claim(message_id):
            continue  # another worker has it, or has sent it
        row = db.session.get(OutboxMessage, message_id)
        message = message_from_string(row.body, policy=email_policy.default)
        try:
            if settings is None:
                write_eml(message, Path(current_app.config["OUTBOX_DIR"]))
                row.status = OutboxStatus.WRITTEN
                result["written"] += 1
            else:
                send_message(message, settings, timeout=15, ssl_context=tls)
                row.status = OutboxStatus.SENT
                result["sent"] += 1
            row.sent_at, row.last_error, row.next_attempt_at = utcnow(), None, None
            held_invites.record(row)  # the recipient holds its events now, committed with its status
        except (DeliveryError, OSError) as e:
            _failed(row, e)
            result["failed"] += 1
        db.session.commit()
    return result


INTERRUPTED = ("Sending was interrupted (the worker stopped): the message may or may not have arrived, so it is "
               "not sent again by itself. Check with the recipient, then retry if it is missing.")


def flag_interrupted() -> int:
    """Messages whose sender died mid-send (lease over, still 'sending'): never resent by themselves
    (that could deliver them twice), but shown as needing attention. Returns how many."""
    flagged = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING,
                                       OutboxMessage.next_attempt_at < utcnow())
        .values(status=OutboxStatus.ATTENTION, last_error=INTERRUPTED, next_attempt_at=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return flagged


def retry(message: OutboxMessage) -> str | None:
    """A facilitator's Retry of a failed message or one that needs attention: sent now (through the job
    queue), with its tries counted afresh. Nothing changes if the queue cannot take the job."""
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.ATTENTION):
        return None
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.QUEUED, 0, None
    return _deliver_soon(message.cohort_id)

# --- what the facilitator sees: a summary, failures first, the rows on demand ----------------------

STATUS_LABELS = {OutboxStatus.QUEUED: _l("waiting"), OutboxStatus.SENDING: _l("sending"),
                 OutboxStatus.SENT: _l("sent"), OutboxStatus.WRITTEN: _l("saved as file"),
                 OutboxStatus.FAILED: _l("failed, will be retried"), OutboxStatus.ATTENTION: _l("needs attention")}


def status_label(status: str) -> str:
    """A status in words; a status without words yet is shown as it is stored."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status.replace("_", " ")


@dataclass(frozen=True)
class Summary:
    total: int
    counts: list[tuple[str, int]]  # (status, messages): statuses with errors first, then in OutboxStatus order
    problems: list[OutboxMessage]  # messages carrying an error, newest first (at most ``shown``)
    problem_count: int


def summary(cohort: Cohort, shown: int = 5) -> Summary:
    """The cohort's messages counted by status (any status, known or not), failures first with their error."""
    by_status = dict(db.session.execute(db.select(OutboxMessage.status, db.func.count(OutboxMessage.id))
                                        .where(OutboxMessage.cohort_id == cohort.id)
                                        .group_by(OutboxMessage.status)).all())
    with_errors = set(db.session.execute(db.select(OutboxMessage.status).where(
        OutboxMessage.cohort_id == cohort.id, OutboxMessage.last_error.is_not(None)).distinct()).scalars())
    known = [s.value for s in OutboxStatus]
    order = sorted(by_status, key=lambda s: (s not in with_errors, known.index(s) if s in known else len(known), s))
    errors = db.select(OutboxMessage).where(OutboxMessage.cohort_id == cohort.id,
                                            OutboxMessage.last_error.is_not(None))
    problems = list(db.session.execute(errors.order_by(OutboxMessage.status != OutboxStatus.ATTENTION,  # attention first
                                                      OutboxMessage.id.desc()).limit(shown)).scalars())
    count = db.session.execute(db.select(db.func.count()).select_from(errors.subquery())).scalar_one()
    return Summary(sum(by_status.values()), [(s, by_status[s]) for s in order], problems, count)


def messages(cohort: Cohort, status: str | None = None, limit: int = 500) -> list[OutboxMessage]:
    """The cohort's messages, newest first, optionally of one status."""
    query = db.select(OutboxMessage).where(OutboxMessage.cohort_id == cohort.id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit)).scalars())
