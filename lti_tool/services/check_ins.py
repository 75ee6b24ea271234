"""Follow-up meetings are followed up: after each meeting both partners answer "Did you meet?".

- ``send_due`` (a job the worker runs, like ``invites.send_due``) finds the follow-up meetings that
  ended in the last ``WINDOW`` days, makes one check-in per person per meeting (a unique row, so
  running it twice sends nothing twice) and emails each person a link to answer.
- The link carries a signed, expiring token (itsdangerous, salted for this one purpose) naming one
  check-in: opening it shows the question (GET only reads); answering it (POST) records that one
  answer and nothing else, with no LTI session. The learner's home page asks the same question.
- A team has **lapsed** when its last two meetings that were asked about both went without a "yes"
  or "moved" from any member (answered "no", or not answered at all). The facilitator sees lapsed
  teams and can nudge them (an email to each member, after a confirmation).
- ``cohort_counts`` gives L&D per cohort: meetings due, check-ins answered, meetings held (a meeting
  is held when at least one member answered "yes").
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..lti.registration import public_url
from ..models import CalendarEvent, CheckIn, Cohort, Participant, Team, TeamMember, utcnow
from ..scheduling import stable_uid
from ..states import CheckInAnswer, ParticipantStatus, TeamStatus, WithdrawalReason
from . import outbox, teams
from .calendar_events import organizer_of, overrides_of, people_of, team_spec, utc_naive
from .follow_ups import meetings

WINDOW = timedelta(days=14)  # meetings that ended longer ago are not asked about any more
TOKEN_MAX_AGE = timedelta(days=30)  # how long an emailed link can be used
TOKEN_SALT = "follow-up-check-in"  # the token is good for this and nothing else
LAPSED_AFTER = 2  # meetings in a row without a "yes" or "moved"
ANSWERS = tuple(CheckInAnswer)


# ------------------------------------------------------------------------------------- the links

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def token_for(check_in: CheckIn) -> str:
    return _serializer().dumps({"check_in": check_in.id, "participant": check_in.participant_id})


def link_for(check_in: CheckIn) -> str:
    return public_url("check_in.answer_by_link", token=token_for(check_in))


class LinkError(ValueError):
    """A link that cannot be used: ``expired`` or ``invalid`` (tampered, or its check-in is gone)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def from_token(token: str) -> CheckIn:
    """The check-in a link names (read only); LinkError when it expired, was altered or is gone."""
    try:
        data = _serializer().loads(token, max_age=int(TOKEN_MAX_AGE.total_seconds()))
    except SignatureExpired as e:
        raise LinkError("expired") from e
    except BadSignature as e:
        raise LinkError("invalid") from e
    row = db.session.get(CheckIn, data.get("check_in")) if isinstance(data, dict) else None
    if row is None or row.participant_id != data.get("participant"):
        raise LinkError("invalid")
    participant = db.session.get(Participant, row.participant_id)
    if participant is None or participant.status != ParticipantStatus.ENROLLED:
        raise LinkError("invalid")
    return row


def answer(check_in: CheckIn, value: str) -> CheckIn:
    """Record one answer (a later answer replaces an earlier one)."""
    if value not in ANSWERS:
        raise ValueError(f"not an answer: {value!r}")
    check_in.answer, check_in.answered_at = CheckInAnswer(value).value, utcnow()
    db.session.commit()
    return check_in


# ------------------------------------------------------------------------------------ the sweep

@dataclass(frozen=True)
class Meeting:
    team: Team
    occurrence: datetime  # original start, UTC naive
    start: datetime  # actual start, aware
    end: datetime  # actual end, aware


def _series_row(team: Team) -> CalendarEvent | None:
    return db.session.execute(db.select(CalendarEvent).where(
        CalendarEvent.uid == stable_uid("team", team.id, "follow-up"))).scalar_one_or_none()


def past_meetings(cohort: Cohort, now: datetime) -> list[Meeting]:
    """Read only: the meetings of the cohort's active teams that ended by ``now`` within ``WINDOW``.

    A cancelled meeting is left out; a moved one counts at its new time. Only series the tool has
    recorded (a published team's follow-ups) count.
    """
    organizer, out = organizer_of(cohort), []
    for team in teams.active_teams(cohort):
        row, spec = _series_row(team), team_spec(cohort, team, organizer)
        if row is None or spec is None or row.status == "CANCELLED":
            continue
        length = spec.end - spec.start
        changes = {o.recurrence_id: o for o in overrides_of(row)}
        for original in meetings(spec):
            change = changes.get(utc_naive(original))
            if change is not None and change.cancelled:
                continue
            start = (change.start.replace(tzinfo=timezone.utc) if change is not None and change.start
                     else original.astimezone(timezone.utc))
            if now - WINDOW <= start + length <= now:
                out.append(Meeting(team, utc_naive(original), start, start + length))
    return out


def _existing(cohort: Cohort) -> set[tuple[int, int, datetime]]:
    rows = db.session.execute(db.select(CheckIn.participant_id, CheckIn.team_id, CheckIn.occurrence)
                              .where(CheckIn.cohort_id == cohort.id)).all()
    return {tuple(r) for r in rows}


def queue_check_ins(cohort: Cohort, now: datetime | None = None) -> int:
    """One check-in per enrolled member per past meeting, each emailed once; returns how many were made."""
    now = now or datetime.now(timezone.utc)
    done, made = _existing(cohort), 0
    tz = ZoneInfo(cohort.timezone)
    for meeting in past_meetings(cohort, now):
        people = people_of(cohort, list(meeting.team.member_ids))
        for me, user in people:
            if (me.id, meeting.team.id, meeting.occurrence) in done:
                continue
            row = CheckIn(cohort_id=cohort.id, team_id=meeting.team.id, participant_id=me.id,
                          occurrence=meeting.occurrence, meeting_start=utc_naive(meeting.start))
            db.session.add(row)
            db.session.flush()
            done.add((me.id, meeting.team.id, meeting.occurrence))
            made += 1
            if user.contact_email:
                partners = " & ".join(u.name or "?" for p, u in people if p.id != me.id)
                outbox.write_to(cohort, user, "checkin", name=user.name or "", partners=partners,
                                when=meeting.start.astimezone(tz), link=link_for(row),
                                days=TOKEN_MAX_AGE.days)
    db.session.commit()
    return made


def send_due(cohort_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """The job after meetings: make and email the check-ins that are due (one cohort or all), then
    deliver the outbox. Safe to run as often as wanted: nobody is asked twice about one meeting."""
    query = db.select(Cohort).where(Cohort.day_two.is_not(None))
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    made = sum(queue_check_ins(cohort, now) for cohort in db.session.execute(query).scalars().all())
    return {"check_ins": made, **outbox.deliver_outbox(cohort_id)}


# ------------------------------------------------------------------------------ learners' view

def open_for(participant: Participant, now: datetime | None = None) -> list[CheckIn]:
    """Read only: this person's check-ins still to answer (for their home page), oldest first."""
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    if participant.status != ParticipantStatus.ENROLLED:
        return []
    return list(db.session.execute(db.select(CheckIn).where(
        CheckIn.participant_id == participant.id, CheckIn.answer.is_(None),
        CheckIn.created_at >= now - TOKEN_MAX_AGE).order_by(CheckIn.meeting_start)).scalars())


def local_start(row: CheckIn, cohort: Cohort) -> datetime:
    """When the meeting took place, in the cohort's time zone."""
    return row.meeting_start.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(cohort.timezone))


def mine(participant: Participant, check_in_id: int) -> CheckIn | None:
    row = db.session.get(CheckIn, check_in_id)
    return row if row is not None and row.participant_id == participant.id else None


# ----------------------------------------------------------------------------- facilitator view

def _by_meeting(cohort: Cohort) -> dict[int, dict[datetime, list[CheckIn]]]:
    out: dict[int, dict[datetime, list[CheckIn]]] = defaultdict(lambda: defaultdict(list))
    for row in db.session.execute(db.select(CheckIn).where(CheckIn.cohort_id == cohort.id)).scalars():
        out[row.team_id][row.occurrence].append(row)
    return out


def _met(rows: list[CheckIn]) -> bool:
    return any(r.answer in (CheckInAnswer.YES, CheckInAnswer.MOVED) for r in rows)


@dataclass
class TeamFollowUp:
    team: Team
    names: str
    asked: int  # meetings asked about
    held: int  # meetings at least one member said took place
    lapsed: bool
    last: list[str]  # the answers about the last meeting, one per member ("no answer" as None)


def team_status(cohort: Cohort) -> list[TeamFollowUp]:
    """Read only: per active team, meetings asked about and held, and whether it has lapsed."""
    grouped, out = _by_meeting(cohort), []
    for team in teams.active_teams(cohort):
        asked = grouped.get(team.id, {})
        order = sorted(asked)
        recent = order[-LAPSED_AFTER:]
        lapsed = len(recent) == LAPSED_AFTER and not any(_met(asked[o]) for o in recent)
        people = people_of(cohort, list(team.member_ids))
        out.append(TeamFollowUp(team, " & ".join(u.name or "Participant" for _, u in people), len(order),
                                sum(1 for o in order if any(r.answer == CheckInAnswer.YES for r in asked[o])),
                                lapsed, [r.answer for r in asked[order[-1]]] if order else []))
    return out


def lapsed_teams(cohort: Cohort) -> list[TeamFollowUp]:
    return [t for t in team_status(cohort) if t.lapsed]


def nudge_recipients(team: Team) -> list[tuple[Participant, object]]:
    cohort = db.session.get(Cohort, team.cohort_id)
    return [(p, u) for p, u in people_of(cohort, list(team.member_ids)) if u.contact_email]


def nudge_preview(team: Team) -> list[tuple[str, outbox.Rendered]]:
    """Read only: the nudge each member would receive, in their language."""
    cohort = db.session.get(Cohort, team.cohort_id)
    people = nudge_recipients(team)
    return [(u.contact_email, outbox.render("checkin_nudge", outbox.recipient_locale(u), cohort=cohort,
                                            **_nudge_context(people, p, u)))
            for p, u in people]


def _nudge_context(people, me, user) -> dict:
    return {"name": user.name or "", "partners": " & ".join(u.name or "?" for p, u in people if p.id != me.id)}


def nudge(team: Team) -> int:
    """Email each member of a lapsed team a friendly nudge to meet again; returns messages written."""
    cohort = db.session.get(Cohort, team.cohort_id)
    people = nudge_recipients(team)
    for me, user in people:
        outbox.write_to(cohort, user, "checkin_nudge", **_nudge_context(people, me, user))
    outbox.deliver_later(cohort)  # commits them once the queue answers, or nothing (whole or nothing)
    return len(people)


def team_in_cohort(cohort: Cohort, team_id: int) -> Team | None:
    team = db.session.get(Team, team_id)
    return team if team is not None and team.cohort_id == cohort.id and team.status == TeamStatus.ACTIVE else None


# ----------------------------------------------------------------------------------- L&D counts

def cohort_counts(cohort_ids: list[int]) -> dict[int, dict[str, int]]:
    """Read only, per cohort: ``meetings_due`` (meetings asked about), ``check_ins`` (asked),
    ``answered`` (check-ins answered), ``held`` (meetings at least one member said took place) and
    ``respondents`` (distinct people who answered: the small-group rule applies to it)."""
    out = {cid: {"meetings_due": 0, "check_ins": 0, "answered": 0, "held": 0, "respondents": 0}
           for cid in cohort_ids}
    if not cohort_ids:
        return out
    meetings_seen: dict[int, dict[tuple, bool]] = defaultdict(dict)
    people: dict[int, set] = defaultdict(set)
    rows = db.session.execute(db.select(CheckIn.cohort_id, CheckIn.team_id, CheckIn.occurrence,
                                        CheckIn.participant_id, CheckIn.answer)
                              .where(CheckIn.cohort_id.in_(cohort_ids))).all()
    for cid, team_id, occurrence, pid, value in rows:
        key = (team_id, occurrence)
        meetings_seen[cid][key] = meetings_seen[cid].get(key, False) or value == CheckInAnswer.YES
        out[cid]["check_ins"] += 1
        if value is not None:
            out[cid]["answered"] += 1
            people[cid].add(pid)
    for cid, seen in meetings_seen.items():
        out[cid]["meetings_due"] = len(seen)
        out[cid]["held"] = sum(seen.values())
        out[cid]["respondents"] = len(people[cid])
    return out


def people_who_met(participant_ids: set[int]) -> set[int]:
    """Of these participants, those in a team where someone said a follow-up meeting took place ("yes")."""
    if not participant_ids:
        return set()
    held = db.select(CheckIn.team_id).where(CheckIn.answer == CheckInAnswer.YES).distinct()
    members = db.session.execute(db.select(TeamMember.participant_id).where(
        TeamMember.team_id.in_(held), TeamMember.participant_id.in_(participant_ids))).scalars()
    return set(members)


def withdrawal_reasons(cohort_ids: list[int]) -> dict[str, int]:
    """Read only: how many people who withdrew gave each reason (counts only, never who)."""
    rows = db.session.execute(db.select(Participant.withdrawal_reason, db.func.count(Participant.id)).where(
        Participant.cohort_id.in_(cohort_ids), Participant.status == ParticipantStatus.WITHDRAWN,
        Participant.withdrawal_reason.is_not(None)).group_by(Participant.withdrawal_reason)).all() \
        if cohort_ids else []
    found = dict(rows)
    return {reason.value: found.get(reason.value, 0) for reason in WithdrawalReason}


