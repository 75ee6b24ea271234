"""Calendar mail: invites, updates and cancellations for what attendees do not have yet (iMIP).

Every message is written to the outbox first (``outbox``), then sent over SMTP or written as an .eml
file; what was delivered to each person is kept (``held_invites``) so updates and cancellations follow
what people actually have.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date, format_time

from ..extensions import db
from ..models import Cohort, LtiUser, Participant, utcnow
from ..scheduling import Attendee, EventSpec, Person, build_calendar
from ..scheduling.imip import build_invite_message
from .calendar_events import all_specs, localizer, overrides_of, override_spec, rows_of, with_overrides
from . import held_invites, outbox

log = logging.getLogger(__name__)


def _spec_to_json(spec: EventSpec) -> dict:
    """An event as its attendees were sent it (kept to build their cancellation later)."""
    data = dataclasses.asdict(spec)
    for name in ("start", "end"):
        data[name] = {"at": getattr(spec, name).isoformat(), "tz": str(getattr(spec, name).tzinfo)}
    for name in ("recurrence_id", "exdates", "created", "last_modified"):
        data.pop(name)
    return data


def _spec_from_json(data: dict) -> EventSpec:
    data = dict(data)
    for name in ("start", "end"):
        data[name] = datetime.fromisoformat(data[name]["at"]).astimezone(ZoneInfo(data[name]["tz"]))
    data["organizer"] = Person(**data["organizer"])
    data["attendees"] = tuple(Attendee(**a) for a in data["attendees"])
    data["categories"] = tuple(data.get("categories") or ())
    return EventSpec(**data)


def recipient_locales(cohort: Cohort) -> dict[str, str]:
    """Email address -> the language to write to that person of the cohort in (their last launch's)."""
    users = db.session.execute(db.select(LtiUser).join(Participant, Participant.user_id == LtiUser.id)
                               .where(Participant.cohort_id == cohort.id)).scalars()
    return {user.contact_email.lower(): outbox.recipient_locale(user) for user in users if user.contact_email}


def _render(cohort: Cohort, spec: EventSpec, change: str, day: datetime | None, locale: str) -> outbox.Rendered:
    """``templates/email/invite.*`` for one event in one language; ``change`` is new, updated, moved or
    cancelled (of one meeting of a series when ``day`` is given)."""
    with force_locale(locale):
        when = (f"{format_date(spec.start.date(), 'full')}, {format_time(spec.start, 'short', rebase=False)} "
                f"({spec.start.tzinfo})")
        day_text = format_date(day.date(), "long") if day else None
    return outbox.render("invite", locale, cohort=cohort, change=change, day=day_text, summary=spec.summary,
                         when=when, where=spec.location or spec.url, description=spec.description)


def _queue_message(cohort: Cohort, events: list[EventSpec], method: str, recipients, change: str,
                   locales: dict[str, str], localize, day: datetime | None = None, *, carries: list[dict]) -> int:
    """One iMIP message per recipient, in their language, written to the outbox (delivery happens later)
    with what it ``carries``: the recipients hold that only once it is delivered (``held_invites``).
    The event and the mail around it are rendered once per language (``localize``: the event's summary
    and description in a language); UID, SEQUENCE and times are the same for everyone."""
    sender = current_app.config["MAIL_FROM"]
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    mails: dict[str, tuple[outbox.Rendered, bytes]] = {}
    for attendee in recipients:
        locale = locales.get(attendee.email.lower(), default)
        if locale not in mails:
            localized = localize(events, locale)
            mails[locale] = (_render(cohort, localized[0], change, day, locale),
                             build_calendar(localized, method=method).to_ical())
        mail, calendar = mails[locale]
        message = build_invite_message(calendar, sender=sender, recipient=attendee.email, subject=mail.subject,
                                       text_body=mail.text, html_body=mail.html, method=method)
        outbox.add(cohort, message, kind="invite_" + method.lower(), carries=carries)
    return len(recipients)


def _named(emails, earlier: EventSpec) -> tuple[Attendee, ...]:
    """The people (by email) as the event last mailed names them."""
    names = {a.email.lower(): a for a in earlier.attendees}
    return tuple(names.get(email) or Attendee(email, email) for email in sorted(emails))


def _by_event(cohort: Cohort) -> dict[int, dict[str, held_invites.Held]]:
    """Event id -> email -> what that person will hold once the mail on its way is delivered."""
    out: dict[int, dict[str, held_invites.Held]] = {}
    for (event_id, email), held in held_invites.expected(cohort.id).items():
        out.setdefault(event_id, {})[email] = held
    return out


def _queue_changes(cohort: Cohort, *, only_invited: bool) -> int:
    """Mail each person what they do not have yet: invites (unless ``only_invited``), updates of events
    they hold an older version of, moved or cancelled meetings of a series they hold, a cancellation to
    anyone taken off an event, and cancellations of events that no longer exist (a dissolved team's
    series). What someone has is what was delivered to them plus what is on its way (``held_invites``):
    a message still waiting or retrying is not queued again; one that needs attention is. Returns the
    number of messages queued."""
    count = 0
    locales = recipient_locales(cohort)
    localize = localizer(cohort)
    current = all_specs(cohort)
    rows = rows_of(cohort)
    holding = _by_event(cohort)
    for spec, _ in current:
        row = rows[spec.uid]
        overrides = overrides_of(row)
        held = {email: h for email, h in holding.get(row.id, {}).items() if h.holds}
        fresh, stale, up_to_date = [], [], []
        for attendee in spec.attendees:
            mine = held.get(attendee.email.lower())
            if mine is None:
                if not only_invited:
                    fresh.append(attendee)
            else:
                (up_to_date if mine.sequence == spec.sequence else stale).append((attendee, mine))
        request = [held_invites.carried(row.id, spec.sequence, "request", {o.id: o.sequence for o in overrides})]
        for group, change in ((fresh, "new"), ([a for a, _ in stale], "updated")):
            if group:
                count += _queue_message(cohort, with_overrides(spec, overrides), "REQUEST", group, change, locales, localize,
                                        carries=request)
        now_invited = {a.email.lower() for a in spec.attendees}
        removed = [email for email in held if email not in now_invited]
        if removed:  # RFC 5546 3.2.5: the organizer cancels the event for the removed attendees only
            earlier = _spec_from_json(row.sent_spec) if row.sent_spec else spec
            gone = _named(removed, earlier)
            count += _queue_message(cohort, [dataclasses.replace(earlier, sequence=spec.sequence, attendees=gone)],
                                    "CANCEL", gone, "cancelled", locales, localize,
                                    carries=[held_invites.carried(row.id, spec.sequence, "cancel")])
        if fresh or stale:
            row.sent_spec = _spec_to_json(spec)  # the event as last mailed: later cancellations start from it
        for override in overrides:  # to those who hold the series as it is: the meetings changed since
            behind = [a for a, mine in up_to_date if mine.overrides.get(str(override.id)) != override.sequence]
            if behind:
                single = override_spec(spec, override)
                count += _queue_message(
                    cohort, [single], "CANCEL" if override.cancelled else "REQUEST", behind,
                    "cancelled" if override.cancelled else "moved", locales, localize, day=single.recurrence_id,
                    carries=[held_invites.carried(row.id, spec.sequence, "occurrence", {override.id: override.sequence})])
    live = {spec.uid for spec, _ in current}
    for row in rows.values():
        if row.uid in live:
            continue
        if row.status != "CANCELLED":
            row.status, row.sequence, row.updated_at = "CANCELLED", row.sequence + 1, utcnow()
        held = [email for email, h in holding.get(row.id, {}).items() if h.holds]
        if held and row.sent_spec:  # (also a cancellation that never arrived, again)
            earlier = _spec_from_json(row.sent_spec)
            count += _queue_message(cohort, [dataclasses.replace(earlier, sequence=row.sequence, status="CANCELLED")],
                                    "CANCEL", _named(held, earlier), "cancelled", locales, localize,
                                    carries=[held_invites.carried(row.id, row.sequence, "cancel")])
    db.session.flush()  # the caller commits, then queues the job that delivers it (outbox.deliver_later)
    return count


def queue_invites(cohort: Cohort) -> int:
    """Outbox an invite, update or cancellation for every event whose current version its attendees lack.

    Not committed: the caller commits, then queues the delivery job (``outbox.deliver_later``). Nobody
    holds anything yet: each person holds an event once the message carrying it is delivered."""
    return _queue_changes(cohort, only_invited=False)


def people_out_of_date(cohort: Cohort) -> int:
    """Read only: how many people hold (or are being sent) an older version of an event than its
    current one (dates, times or venue changed after), or an event since cancelled. Someone whose
    invite never arrived holds nothing, so is not counted: "Send invites" sends it again."""
    sequences = {row.id: row.sequence for row in rows_of(cohort).values()}
    return len({email for (event_id, email), held in held_invites.expected(cohort.id).items()
                if held.holds and event_id in sequences and held.sequence != sequences[event_id]})


def send_updates(cohort: Cohort) -> int:
    """After a change: tell people who already have an event (updates and cancellations only), in the background."""
    queued = _queue_changes(cohort, only_invited=True)
    if queued:
        outbox.deliver_later(cohort)
    else:
        db.session.commit()
    return queued


def participant_left(participant: Participant) -> int:
    """Someone withdrew (``withdrawal.withdraw`` calls this after marking them and dissolving their pair):
    they get a cancellation of every event they were invited to; everyone else on those events an
    update without them; the remaining partner a cancellation of the dissolved team's series."""
    log.info("participant %s left cohort %s: sending cancellations and updates", participant.id, participant.cohort_id)
    return send_updates(participant.cohort)




def send_due(cohort_id: int | None = None) -> dict[str, int]:
    """Queue invites for changed events (one cohort or all with dates), then deliver the outbox."""
    query = db.select(Cohort).where(Cohort.day_one.is_not(None))
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    queued = sum(queue_invites(cohort) for cohort in db.session.execute(query).scalars().all())
    db.session.commit()
    return {"queued": queued, **outbox.deliver_outbox(cohort_id)}


