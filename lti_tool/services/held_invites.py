"""Who holds which calendar event: the version last delivered to each person.

A calendar message carries (``OutboxMessage.carries``) what its delivery gives its recipient. When the
outbox delivers it, ``record`` applies that to the recipient's ``HeldInvite`` rows, in the same
transaction that marks the message sent; a message never delivered (it ends in "needs attention")
gives nothing. ``delivered`` is what people hold now (the facilitator's page); ``expected`` adds what is
on its way (messages waiting, retrying or being sent): new mail is queued against it, so a message
still being retried is never queued twice, and the content of one that needs attention is queued again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr

from ..extensions import db
from ..models import CalendarEvent, FollowUpOverride, HeldInvite, OutboxMessage, utcnow
from ..states import OutboxStatus

ON_ITS_WAY = (OutboxStatus.QUEUED, OutboxStatus.FAILED, OutboxStatus.SENDING)
Key = tuple[int, str]  # (event id, lower-case email)


@dataclass(frozen=True)
class Held:
    sequence: int
    cancelled: bool = False
    overrides: dict[str, int] = field(default_factory=dict)  # override id -> its version held

    @property
    def holds(self) -> bool:
        """They have the event in their calendar (the last thing delivered was not its cancellation)."""
        return not self.cancelled


def carried(event_id: int, sequence: int, change: str, overrides: dict | None = None) -> dict:
    """One entry of ``OutboxMessage.carries``: change is "request" (the event or series with its
    meetings), "occurrence" (one meeting moved or cancelled) or "cancel" (the whole event)."""
    return {"event": event_id, "sequence": sequence, "change": change,
            "overrides": {str(k): v for k, v in (overrides or {}).items()}}


def _newest(mine: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    return {k: max(v for v in (mine.get(k), theirs.get(k)) if v is not None) for k in {*mine, *theirs}}


def apply(held: Held | None, entry: dict) -> Held | None:
    """What someone holds once a message carrying ``entry`` reached them. Retries can deliver out of
    order: an older version never replaces a newer one."""
    sequence, change, overrides = entry["sequence"], entry["change"], dict(entry.get("overrides") or {})
    if change == "occurrence":
        return held if held is None or held.cancelled else Held(held.sequence, False, _newest(held.overrides, overrides))
    if held is not None and sequence < held.sequence:
        return held
    if change == "cancel":
        return Held(sequence, True)
    if held is not None and held.sequence == sequence and held.holds:
        overrides = _newest(held.overrides, overrides)
    return Held(sequence, False, overrides)


def delivered(cohort_id: int) -> dict[Key, Held]:
    """What each person of the cohort holds of each event: only what was delivered to them."""
    rows = db.session.execute(db.select(HeldInvite).where(HeldInvite.cohort_id == cohort_id)).scalars()
    return {(r.event_id, r.email): Held(r.sequence, r.cancelled, dict(r.overrides or {})) for r in rows}


def expected(cohort_id: int) -> dict[Key, Held]:
    """What each person will hold once the messages on their way are delivered (in the order queued)."""
    state = delivered(cohort_id)
    for recipient, carries in db.session.execute(
            db.select(OutboxMessage.recipient, OutboxMessage.carries)
            .where(OutboxMessage.cohort_id == cohort_id, OutboxMessage.status.in_(ON_ITS_WAY),
                   OutboxMessage.carries.is_not(None)).order_by(OutboxMessage.id)):
        email = parseaddr(recipient)[1].lower()
        for entry in carries or []:
            key = (entry["event"], email)
            after = apply(state.get(key), entry)
            if after is not None:
                state[key] = after
    return state


def superseded(message: OutboxMessage) -> bool:
    """A calendar message that needs attention whose recipient already holds, or is being sent in a
    newer message, everything it carries (the next "Send invites" queued it again): retrying it would
    only send them a second copy."""
    if message.status != OutboxStatus.ATTENTION or not message.carries:
        return False
    email = parseaddr(message.recipient)[1].lower()
    state = expected(message.cohort_id)
    return all(apply(state.get((entry["event"], email)), entry) == state.get((entry["event"], email))
               for entry in message.carries)


def record(message: OutboxMessage) -> None:
    """The message was delivered: its recipient now holds what it carries (not committed: the caller
    commits it together with the message's new status)."""
    email = parseaddr(message.recipient)[1].lower()
    for entry in message.carries or []:
        # the event's row is locked first: two workers recording copies of one event take turns
        event = db.session.execute(db.select(CalendarEvent).where(CalendarEvent.id == entry["event"])
                                   .with_for_update()).scalar_one_or_none()
        if event is None:
            continue
        row = db.session.execute(db.select(HeldInvite).where(HeldInvite.event_id == event.id,
                                                             HeldInvite.email == email)).scalar_one_or_none()
        before = Held(row.sequence, row.cancelled, dict(row.overrides or {})) if row is not None else None
        after = apply(before, entry)
        if after is None or after == before:
            continue
        if row is None:
            row = HeldInvite(cohort_id=event.cohort_id, event_id=event.id, email=email)
            db.session.add(row)
        row.sequence, row.cancelled, row.overrides, row.updated_at = (after.sequence, after.cancelled,
                                                                      after.overrides, utcnow())
        if entry["change"] != "occurrence" and (event.sent_sequence is None or event.sent_sequence < after.sequence):
            event.sent_sequence = after.sequence  # the newest version delivered to anyone
        for override_id, sequence in (entry.get("overrides") or {}).items():
            db.session.execute(db.update(FollowUpOverride).where(
                FollowUpOverride.id == int(override_id), FollowUpOverride.event_id == event.id,
                db.or_(FollowUpOverride.sent_sequence.is_(None), FollowUpOverride.sent_sequence < sequence))
                .values(sent_sequence=sequence).execution_options(synchronize_session=False))


def holders(cohort_id: int) -> dict[int, tuple[int, int]]:
    """For the cohort page: event id -> (the newest version anyone holds, how many people hold it)."""
    newest: dict[int, tuple[int, int]] = {}
    for (event_id, _), held in delivered(cohort_id).items():
        if not held.holds:
            continue
        version, count = newest.get(event_id, (-1, 0))
        if held.sequence > version:
            newest[event_id] = (held.sequence, 1)
        elif held.sequence == version:
            newest[event_id] = (version, count + 1)
    return newest
