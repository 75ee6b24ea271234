"""A learner's data rights, and retention: read everything held about you, delete it, purge old cohorts.

Export: ``export_user`` gathers what the tool holds about the launched person, in labelled sections
with words rather than internal codes (the "Your data" page and its JSON download show the same).

Deletion (``delete_user_data``) removes the person or irreversibly anonymises them everywhere:

- They first leave their cohorts the way a withdrawal does (``withdrawal.withdraw``): a pair is dissolved,
  everyone's calendars are updated without them, and the remaining partner is told in plain words
  (``notifications.tell_partners``) that their partner has left and the facilitator finds a new one.
  Whatever is due in the outbox is sent right away, so the person's own cancellations go out before
  their address is forgotten.
- The numeric gain ratings of their submitted reflections are copied, without any identity (only
  cohort, session and day), to ``AnonymousRating`` so aggregates hold. Their participant rows,
  intake (with the reason they gave for withdrawing), partner requests (theirs and those naming
  them), attendance, reflections, follow-up check-ins, grade-sync records, calendar feeds,
  memberships, stored launch data and the user row are deleted.
- Rows that belong to others but mention them are rewritten: matching proposals (their pool entry
  becomes a bare placeholder, teams they were in lose the reasons that described them, an
  unpublished proposal with them in it is marked failed so it cannot be published), team reasons,
  the calendar events' last-sent copies (they leave the attendee list), other participants' free
  text, and messages: those addressed to them are deleted, sent messages that mention them keep
  only a note that their content was removed, unsent ones that mention them are dropped.
- The deletion is logged in the audit log without their user id or anything personal.

Retention (``purge``): the personal data of cohorts that ended longer ago than the retention period
(``RETENTION_MONTHS``, 18 by default) goes the same way, person by person, with the cohort's
remaining messages, calendar copies and matching inputs; anonymous ratings stay.
"""
from __future__ import annotations

import email
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import gettext as _

from ..extensions import cache, db
from ..models import (AnonymousRating, Attendance, CacheEntry, CalendarEvent, CalendarFeed, CheckIn, Cohort, Course,
                      GradeSync, HeldInvite, LtiUser, MatchRun, Membership, OutboxMessage, Participant, PartnerPreference,
                      Reflection, ResourceLink, Team, TeamMember, utcnow)
from . import curriculum as cur, insights_store
from .curriculum import GAIN_PARTNER, GAIN_SELF
from .withdrawal import REASONS, withdraw
from ..states import OutboxStatus, ParticipantStatus, ReflectionStatus, RunStatus, TeamStatus

log = logging.getLogger(__name__)
FORMER = "a former participant"
LEFT_REASON = "A member of this team has left the lab and deleted their data."
REMOVED_NOTE = ("The content of this message was removed: it mentioned a participant who has since deleted "
                "their data.")
STALE_RUN = "A participant in this proposal has left and deleted their data. Run the matcher again."


# --------------------------------------------------------------------------------------- export

def _when(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def _people_of(user: LtiUser) -> list[Participant]:
    return list(db.session.execute(db.select(Participant).where(Participant.user_id == user.id)
                                   .order_by(Participant.id)).scalars())


def _name_of(participant_id: int | None) -> str:
    other = db.session.get(Participant, participant_id) if participant_id else None
    return (other.user.name if other is not None else None) or _("a participant")


def _intake(p: Participant) -> dict:
    from .intake import GENDERS, LEVELS, VISIBLE_FIELDS
    from .slots import slot_label

    genders, levels, fields = dict(GENDERS), dict(LEVELS), dict(VISIBLE_FIELDS)
    cohort = p.cohort
    course = db.session.get(Course, cohort.course_id)
    status = _("Taking part") if p.status == ParticipantStatus.ENROLLED else _("Withdrawn on %(day)s", day=_when(p.withdrawn_at))
    return {
        _("Cohort"): cohort.name,
        _("Course"): course.title or course.label,
        _("Lab days"): ", ".join(_when(d) for d in (cohort.day_one, cohort.day_two) if d) or _("not set yet"),
        _("Status"): status,
        _("Joined"): _when(p.joined_at),
        _("Why you left"): str(dict(REASONS).get(p.withdrawal_reason, p.withdrawal_reason))
        if p.withdrawal_reason else None,
        _("Gender identity"): str(genders.get(p.gender, p.gender)) if p.gender else None,
        _("Gender in your own words"): p.gender_self_described,
        _("Department"): p.department,
        _("Location"): p.location,
        _("Time zone"): p.timezone,
        _("Level"): str(levels.get(str(p.level), p.level)) if p.level else None,
        _("Manager"): _name_of(p.manager_participant_id) if p.manager_participant_id else p.manager_name,
        _("Skills you offer"): list(p.offers or []),
        _("Other skills you offer"): p.offers_other,
        _("Skills you want to learn"): list(p.wants or []),
        _("Other skills you want to learn"): p.wants_other,
        _("Goals"): p.goals,
        _("Times you are free"): [str(slot_label(s)) for s in p.availability or []],
        _("Agreed to take part"): _yes(p.consent),
        _("Shown to other participants"): [str(fields.get(f, f)) for f in p.visible_fields or []],
        _("Intake last saved"): _when(p.intake_updated_at),
        _("Intake submitted"): _when(p.intake_submitted_at),
    }


def _teams(p: Participant) -> list[dict]:
    from .slots import slot_label

    out = []
    for team in db.session.execute(db.select(Team).where(Team.cohort_id == p.cohort_id).order_by(Team.id)).scalars():
        if p.id not in (team.member_ids or []):
            continue
        out.append({
            _("Cohort"): p.cohort.name,
            _("Partners"): [_name_of(m) for m in team.member_ids if m != p.id],
            _("Status"): _("Active") if team.status == TeamStatus.ACTIVE else _("Ended"),
            _("Formed"): _when(team.created_at),
            _("Match score"): round(team.score, 2),
            _("What you were expected to gain (0 to 1)"): (team.gains or {}).get(str(p.id)),
            _("Why you were teamed"): list(team.reasons or []),
            _("Pod"): team.pod,
            _("Weekly follow-up time"): str(slot_label(team.follow_up_slot)) if team.follow_up_slot else None,
        })
    return out


def _reflections(p: Participant) -> list[dict]:
    from .visibility import level_of

    readers = {"me": _("only you"), "partner": _("your partner and the facilitator"),
               "facilitator": _("the facilitator")}
    out = []
    for r in db.session.execute(db.select(Reflection).where(Reflection.participant_id == p.id)
                                .order_by(Reflection.id)).scalars():
        half = cur.half_day(r.session_id)  # else a reflection written per session, before the half-day ones
        prompts = {pr.id: pr.text for pr in half.prompts} if half else cur.prompt_texts()
        out.append({
            _("Cohort"): p.cohort.name,
            _("Part of the lab"): cur.reflection_titles().get(r.session_id, r.session_id),
            _("Status"): _("Submitted") if r.status == ReflectionStatus.SUBMITTED else _("Draft"),
            _("Submitted"): _when(r.submitted_at),
            _("Last changed"): _when(r.updated_at),
            _("Answers"): [{_("Question"): prompts.get(key, key), _("Your answer"): value,
                            _("Who may read it"): readers[level_of(r, key)]}
                           for key, value in (r.answers or {}).items()],
        })
    return out


def _emails(user: LtiUser) -> list[str]:
    return sorted({e.lower() for e in (user.email, user.lms_email) if e})


def export_user(user: LtiUser) -> dict[str, Any]:
    """Everything held about ``user`` (and nobody else), in labelled sections a person can read."""
    from . import curriculum as cur
    from ..lti.registration import public_url

    people = _people_of(user)
    ids = [p.id for p in people]
    cohorts = {p.cohort_id: p.cohort for p in people}
    role_words = {"learner": _("Learner"), "facilitator": _("Facilitator"), "lnd": _("L&D administrator")}
    memberships = db.session.execute(db.select(Membership, Course).join(Course, Course.id == Membership.course_id)
                                     .where(Membership.user_id == user.id).order_by(Course.id)).all()
    prefs = db.session.execute(db.select(PartnerPreference).where(PartnerPreference.from_participant_id.in_(ids))
                               .order_by(PartnerPreference.id)).scalars() if ids else []
    attendance = db.session.execute(db.select(Attendance).where(Attendance.participant_id.in_(ids))
                                    .order_by(Attendance.id)).scalars() if ids else []
    feeds = db.session.execute(db.select(CalendarFeed).where(CalendarFeed.participant_id.in_(ids))
                               .order_by(CalendarFeed.id)).scalars() if ids else []
    emails = _emails(user)
    messages = db.session.execute(db.select(OutboxMessage).where(
        OutboxMessage.cohort_id.in_(list(cohorts)), db.func.lower(OutboxMessage.recipient).in_(emails))
        .order_by(OutboxMessage.id)).scalars() if cohorts and emails else []
    check_ins = db.session.execute(db.select(CheckIn).where(CheckIn.participant_id.in_(ids))
                                   .order_by(CheckIn.meeting_start)).scalars() if ids else []
    said = {"yes": _("yes, we met"), "moved": _("we moved it"), "no": _("no, we did not meet")}
    grades = db.session.execute(db.select(GradeSync, ResourceLink).join(
        ResourceLink, ResourceLink.id == GradeSync.resource_link_id).where(GradeSync.participant_id.in_(ids))
        .order_by(GradeSync.id)).all() if ids else []
    by_id = {p.id: p for p in people}
    sessions = {s.id: s.title for s in cur.curriculum().sessions}
    message_status = {"queued": _("waiting to be sent"), "sent": _("sent"), "written": _("saved as a file"),
                      "failed": _("not delivered yet; will be retried")}
    return {
        _("About this file"): _("Everything the Reciprocal Mentoring Lab holds about you, as of %(when)s. Other "
                                "people's details appear only where they are part of your own record (your "
                                "partners' names).", when=_when(utcnow())),
        _("Profile"): {
            _("Name"): user.display_name, _("Email"): user.email,
            _("Name from your learning platform"): user.lms_name,
            _("Email from your learning platform"): user.lms_email,
            _("Your id in your learning platform"): user.sub,
            _("First seen"): _when(user.created_at), _("Last opened the lab"): _when(user.last_launch_at),
            _("Courses and your roles"): [
                {_("Course"): course.title or course.label,
                 _("Your roles"): [str(role_words.get(r, r)) for r in m.tool_roles or []]}
                for m, course in memberships],
        },
        _("Cohorts and intake"): [_intake(p) for p in people],
        _("Partner requests"): [
            {_("Cohort"): by_id[x.from_participant_id].cohort.name, _("Person"): _name_of(x.to_participant_id),
             _("Your choice"): _("You asked to be paired") if x.kind == "request" else _("You asked not to be paired"),
             _("When"): _when(x.created_at)} for x in prefs],
        _("Teams"): [t for p in people for t in _teams(p)],
        _("Attendance"): [
            {_("Cohort"): by_id[a.participant_id].cohort.name, _("Session"): sessions.get(a.session_id, a.session_id),
             _("Present"): _yes(a.present), _("Recorded"): _when(a.recorded_at)} for a in attendance],
        _("Reflections"): [r for p in people for r in _reflections(p)],
        _("Follow-up check-ins"): [
            {_("Cohort"): by_id[c.participant_id].cohort.name, _("Meeting"): _when(c.meeting_start),
             _("Your answer"): str(said[c.answer]) if c.answer else _("not answered"),
             _("Answered"): _when(c.answered_at)} for c in check_ins],
        _("Calendar"): [
            {_("Cohort"): by_id[f.participant_id].cohort.name,
             _("Private calendar address"): public_url("calendar.feed", token=f.token),
             _("Created"): _when(f.created_at),
             _("Status"): _("in use") if f.revoked_at is None else _("replaced on %(day)s", day=_when(f.revoked_at))}
            for f in feeds],
        _("Messages sent to you"): [
            {_("Cohort"): cohorts[m.cohort_id].name, _("Subject"): m.subject, _("To"): m.recipient,
             _("Status"): message_status.get(m.status, m.status), _("Written"): _when(m.created_at),
             _("Sent"): _when(m.sent_at)} for m in messages],
        _("Grades sent to your course"): [
            {_("Activity"): link.title or _("lab activity"),
             _("Score"): f"{g.score_given:g} / {g.score_maximum:g}" if g.score_given is not None
             and g.score_maximum else None,
             _("Status"): g.status, _("Sent"): _when(g.sent_at)} for g, link in grades],
    }


# ------------------------------------------------------------------------------------- scrubbing

@dataclass
class Trace:
    """What identifies one person in text: their names and addresses (whole words, any case)."""

    names: list[str]
    emails: list[str]
    sub: str
    participant_ids: set[int]
    pattern: re.Pattern | None = field(init=False, default=None)

    def __post_init__(self):
        words = [re.escape(e) for e in self.emails] + [r"\b" + re.escape(n) + r"\b" for n in self.names]
        if words:
            self.pattern = re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)

    @classmethod
    def of(cls, user: LtiUser, people: list[Participant]) -> "Trace":
        names = sorted({n.strip() for n in (user.display_name, user.lms_name) if n and n.strip()})
        return cls(names, _emails(user), user.sub, {p.id for p in people})

    def found_in(self, text: str | None) -> bool:
        return bool(text and self.pattern and self.pattern.search(text))

    def scrub(self, value):
        """``value`` with every mention replaced (strings inside lists and dicts too)."""
        if isinstance(value, str):
            return self.pattern.sub(FORMER, value) if self.pattern else value
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


def _set_if_changed(row, attribute: str, value) -> None:
    if getattr(row, attribute) != value:
        setattr(row, attribute, value)


def _without_ids(pairs, ids: set[str]) -> list:
    return [p for p in pairs or [] if not {str(x) for x in p} & ids]


def _scrub_pool(pool: dict | None, trace: Trace) -> dict | None:
    if not pool:
        return pool
    ids = {str(i) for i in trace.participant_ids}
    participants = []
    for entry in pool.get("participants", []):
        if str(entry.get("id")) in ids:
            participants.append({"id": entry["id"], "name": FORMER})
            continue
        entry = dict(entry)
        entry["previous_partners"] = [x for x in entry.get("previous_partners") or [] if str(x) not in ids]
        if str(entry.get("manager_id")) in ids:
            entry["manager_id"] = None
        participants.append(entry)
    out = dict(pool, participants=participants)
    for key in ("must_pair", "never_pair", "requests", "declines"):
        if key in out:
            out[key] = _without_ids(out[key], ids)
    return trace.scrub(out)


def _scrub_result(result: dict | None, trace: Trace) -> dict | None:
    if not result:
        return result
    ids = {str(i) for i in trace.participant_ids}
    pairs = [dict(p, reasons=[LEFT_REASON]) if {str(p.get(k)) for k in ("a", "b", "c")} & ids else p
             for p in result.get("pairs", [])]
    unmatched = [u for u in result.get("unmatched", []) if str(u.get("id")) not in ids]
    return trace.scrub(dict(result, pairs=pairs, unmatched=unmatched))


def _scrub_runs(cohort_ids: set[int], trace: Trace) -> None:
    for run in db.session.execute(db.select(MatchRun).where(MatchRun.cohort_id.in_(cohort_ids))).scalars():
        in_run = {str(e.get("id")) for e in (run.pool or {}).get("participants", [])} & \
            {str(i) for i in trace.participant_ids}
        if in_run and run.published_at is None and run.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE):
            run.status, run.error = "failed", STALE_RUN  # a proposal with a ghost must not be published
        _set_if_changed(run, "pool", _scrub_pool(run.pool, trace))
        _set_if_changed(run, "result", _scrub_result(run.result, trace))
        _set_if_changed(run, "error", trace.scrub(run.error))


def _scrub_teams(cohort_ids: set[int], trace: Trace) -> None:
    ids = trace.participant_ids
    for team in db.session.execute(db.select(Team).where(Team.cohort_id.in_(cohort_ids))).scalars():
        if ids & set(team.member_ids or []):
            team.member_ids = [m for m in team.member_ids if m not in ids]
            team.gains = {k: v for k, v in (team.gains or {}).items() if int(k) not in ids}
            team.reasons = [LEFT_REASON]
        else:
            _set_if_changed(team, "reasons", trace.scrub(list(team.reasons or [])))


def _scrub_events(cohort_ids: set[int], trace: Trace) -> None:
    """The copies of what attendees were last sent: the person leaves the attendee list and the text,
    and the record of what was delivered to them goes."""
    emails = set(trace.emails)
    if emails:
        db.session.execute(db.delete(HeldInvite).where(HeldInvite.cohort_id.in_(cohort_ids),
                                                       HeldInvite.email.in_(sorted(emails))))
    sender_name, sender = parseaddr(current_app.config["MAIL_FROM"])
    for row in db.session.execute(db.select(CalendarEvent).where(CalendarEvent.cohort_id.in_(cohort_ids),
                                                                 CalendarEvent.sent_spec.is_not(None))).scalars():
        spec = dict(row.sent_spec)
        spec["attendees"] = [a for a in spec.get("attendees") or [] if (a.get("email") or "").lower() not in emails]
        if ((spec.get("organizer") or {}).get("email") or "").lower() in emails:
            spec["organizer"] = {"name": sender_name or "Reciprocal Mentoring Lab", "email": sender}
        _set_if_changed(row, "sent_spec", trace.scrub(spec))


def _scrub_others(cohort_ids: set[int], trace: Trace) -> None:
    """Other people's free text that names the person (a reflection, a goal, a manager's name)."""
    if trace.pattern is None:
        return
    for r in db.session.execute(db.select(Reflection).where(Reflection.cohort_id.in_(cohort_ids))).scalars():
        _set_if_changed(r, "answers", trace.scrub(dict(r.answers or {})))
    for p in db.session.execute(db.select(Participant).where(Participant.cohort_id.in_(cohort_ids))).scalars():
        for attribute in ("goals", "offers_other", "wants_other", "manager_name", "gender_self_described"):
            _set_if_changed(p, attribute, trace.scrub(getattr(p, attribute)))
    for cohort in db.session.execute(db.select(Cohort).where(Cohort.id.in_(cohort_ids))).scalars():
        ids = {str(i) for i in trace.participant_ids}
        for attribute in ("pinned_pairs", "forbidden_pairs"):
            _set_if_changed(cohort, attribute, _without_ids(getattr(cohort, attribute), ids))


def message_text(body: str) -> str:
    """Every header and decoded part of a stored message, iCalendar lines unfolded (to search it)."""
    message = email.message_from_string(body, policy=email_policy.default)
    texts = [f"{k}: {v}" for k, v in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        texts.append(payload.decode("utf-8", "replace"))
    return re.sub(r"\r?\n[ \t]", "", "\n".join(texts))


def _scrub_outbox(cohort_ids: set[int], trace: Trace) -> None:
    emails = set(trace.emails)
    query = db.select(OutboxMessage).where(db.or_(OutboxMessage.cohort_id.in_(cohort_ids),
                                                  db.func.lower(OutboxMessage.recipient).in_(emails)))
    for row in db.session.execute(query).scalars().all():
        if row.recipient.lower() in emails:
            db.session.delete(row)
        elif trace.found_in(row.subject) or trace.found_in(message_text(row.body)):
            if row.status in (OutboxStatus.SENT, OutboxStatus.WRITTEN):  # keep the record that a message went out, not its content
                note = EmailMessage(policy=email_policy.SMTP)
                note["From"], note["To"] = current_app.config["MAIL_FROM"], row.recipient
                note["Subject"] = row.subject = trace.scrub(row.subject)
                note.set_content(REMOVED_NOTE)
                row.body = note.as_string()
            else:  # never delivered, and it cannot be delivered as it was
                db.session.delete(row)


def _forget_launches(trace: Trace) -> None:
    """Stored launch data (the LMS's id token: name, email, id) of the person."""
    if has_request_context() and session.get("launch_id"):  # with Redis: the current launch now, others expire
        launch_id, browser = session["launch_id"], request.cookies.get("lti1p3-session-id")
        keys = [launch_id] + ([f"lti1p3-{browser}-{launch_id.removeprefix('lti1p3-')}"] if browser else [])
        cache.delete_many(*keys)
    quoted = json.dumps(trace.sub)
    for entry in db.session.execute(db.select(CacheEntry)).scalars().all():
        text = json.dumps(entry.value)
        if quoted in text or any(e in text.lower() for e in trace.emails):
            db.session.delete(entry)


# --------------------------------------------------------------------------------------- deletion

def _keep_ratings(ids: list[int]) -> None:
    for r in db.session.execute(db.select(Reflection).where(Reflection.participant_id.in_(ids),
                                                             Reflection.status == ReflectionStatus.SUBMITTED)).scalars():
        if cur.half_day(r.session_id) is None:
            continue  # written per session; its ratings were copied into the half-day reflection
        a = r.answers or {}
        if isinstance(a.get(GAIN_SELF), int) or isinstance(a.get(GAIN_PARTNER), int):
            db.session.add(AnonymousRating(cohort_id=r.cohort_id, session_id=r.session_id,
                                           gain_self=a.get(GAIN_SELF), gain_partner=a.get(GAIN_PARTNER),
                                           submitted_on=r.submitted_at.date() if r.submitted_at else None))


def _leave_cohorts(people: list[Participant]) -> int:
    """Withdraw as a learner would (teams, calendars), then tell the remaining partners; returns how many."""
    told = 0
    for p in people:
        if p.status != ParticipantStatus.ENROLLED:
            continue
        told += withdraw(p)  # tells the remaining partners too
    db.session.commit()
    return told


def _erase(users: list[LtiUser], people: list[Participant], trace: Trace) -> None:
    """Delete the rows of these people and rewrite those that mention them (no commit)."""
    ids = [p.id for p in people]
    cohort_ids = {p.cohort_id for p in people}
    if ids:
        _keep_ratings(ids)
        insights_store.note_participants(ids)  # their insights tally rows go at commit (bulk deletes below)
        for model, column in ((Reflection, Reflection.participant_id), (Attendance, Attendance.participant_id),
                              (GradeSync, GradeSync.participant_id), (CalendarFeed, CalendarFeed.participant_id),
                              (CheckIn, CheckIn.participant_id)):
            db.session.execute(db.delete(model).where(column.in_(ids))
                               .execution_options(insight_tally=insights_store.NOTED))
        db.session.execute(db.delete(PartnerPreference).where(
            PartnerPreference.from_participant_id.in_(ids) | PartnerPreference.to_participant_id.in_(ids)))
        db.session.execute(db.update(Participant).where(Participant.manager_participant_id.in_(ids))
                           .values(manager_participant_id=None))
    if cohort_ids:
        _scrub_runs(cohort_ids, trace)
        _scrub_teams(cohort_ids, trace)
        _scrub_events(cohort_ids, trace)
        _scrub_others(cohort_ids, trace)
    _scrub_outbox(cohort_ids, trace)
    _forget_launches(trace)
    db.session.flush()
    if ids:
        db.session.execute(db.delete(Participant).where(Participant.id.in_(ids)))
    user_ids = [u.id for u in users]
    db.session.execute(db.update(Cohort).where(Cohort.facilitator_user_id.in_(user_ids))
                       .values(facilitator_user_id=None))
    db.session.execute(db.update(MatchRun).where(MatchRun.created_by_user_id.in_(user_ids))
                       .values(created_by_user_id=None))
    db.session.execute(db.delete(Membership).where(Membership.user_id.in_(user_ids)))
    db.session.execute(db.delete(LtiUser).where(LtiUser.id.in_(user_ids)))


def _send_what_is_due(cohort_ids) -> None:
    """Deliver now what is waiting (the person's cancellations among it) before their address goes."""
    from .outbox import deliver_outbox

    for cohort_id in sorted(cohort_ids):
        deliver_outbox(cohort_id)


def delete_user_data(user: LtiUser) -> dict[str, int]:
    """Remove ``user`` everywhere (see the module's docstring); returns counts for the page and the log."""
    from . import audit

    people = _people_of(user)
    trace = Trace.of(user, people)
    cohorts = {p.cohort_id: p.cohort for p in people}
    course = None if cohorts or not has_request_context() else _launch_course()
    told = _leave_cohorts(people)
    _send_what_is_due(cohorts)
    _erase([user], people, trace)
    db.session.commit()
    for cohort in cohorts.values():  # logged without the person: no user id, only the cohort
        audit.record("deletion", cohort=cohort, actor_role="learner", anonymous=True,
                     details={"partners_told": told}, commit=False)
    if not cohorts:
        audit.record("deletion", course=course, actor_role="learner", anonymous=True, commit=False)
    db.session.commit()
    if has_request_context():
        session.clear()
    log.info("a learner deleted their data (%s cohorts)", len(cohorts))
    return {"cohorts": len(cohorts), "partners_told": told}


def _launch_course():
    from flask import g

    launch = g.get("lti")
    return launch.course if launch is not None else None


# -------------------------------------------------------------------------------------- retention

def retention_months() -> int:
    return int(current_app.config.get("RETENTION_MONTHS", 18))


def parse_period(text: str) -> timedelta:
    """"18m" (months of 30.44 days), "90d", "2y" -> a period; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([dmy])\s*", (text or "").lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a period such as 18m, 90d or 2y")
    days = {"d": 1, "m": 30.44, "y": 365.25}[match.group(2)]
    return timedelta(days=round(int(match.group(1)) * days))


def cohort_end(cohort: Cohort) -> date:
    """The cohort's last day with people's data in use: the last follow-up meeting when it had teams,
    else the second lab day, else (no dates ever set) the last time anyone joined or saved an intake."""
    from .curriculum import curriculum

    if cohort.day_two or cohort.day_one:
        end = cohort.day_two or cohort.day_one
        if cohort.published_run_id:
            f = curriculum().follow_up
            end += timedelta(weeks=1 + f.interval_weeks * f.count)
        return end
    last = db.session.execute(db.select(db.func.max(db.func.coalesce(
        Participant.intake_updated_at, Participant.joined_at))).where(Participant.cohort_id == cohort.id)).scalar()
    return max(filter(None, [cohort.created_at, last])).date()


def has_ended(cohort: Cohort, today: date | None = None) -> bool:
    """The cohort's lab and follow-up meetings are all over (there is nothing left to leave)."""
    return cohort_end(cohort) < (today or utcnow().date())


@dataclass
class PurgePlan:
    cohort: Cohort
    ended: date
    people: int
    messages: int


def _holds_personal_data(cohort: Cohort) -> tuple[int, int, bool]:
    people = db.session.execute(db.select(db.func.count(Participant.id)).where(
        Participant.cohort_id == cohort.id)).scalar_one()
    messages = db.session.execute(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.cohort_id == cohort.id)).scalar_one()
    rest = db.session.execute(db.select(db.func.count(MatchRun.id)).where(
        MatchRun.cohort_id == cohort.id, db.or_(MatchRun.pool.is_not(None), MatchRun.result.is_not(None)))).scalar_one()
    rest += db.session.execute(db.select(db.func.count(CalendarEvent.id)).where(
        CalendarEvent.cohort_id == cohort.id, CalendarEvent.sent_spec.is_not(None))).scalar_one()
    rest += db.session.execute(db.select(db.func.count(HeldInvite.id)).where(
        HeldInvite.cohort_id == cohort.id)).scalar_one()
    return people, messages, bool(rest or cohort.facilitator_user_id)


def purge_plan(older_than: timedelta, today: date | None = None) -> list[PurgePlan]:
    """Cohorts that ended before ``today - older_than`` and still hold personal data."""
    cutoff = (today or utcnow().date()) - older_than
    plans = []
    for cohort in db.session.execute(db.select(Cohort).order_by(Cohort.id)).scalars():
        ended = cohort_end(cohort)
        if ended >= cutoff:
            continue
        people, messages, rest = _holds_personal_data(cohort)
        if people or messages or rest:
            plans.append(PurgePlan(cohort, ended, people, messages))
    return plans


def purge_cohort(cohort: Cohort) -> dict[str, int]:
    """Remove the personal data of one ended cohort; anonymous ratings and the cohort's own settings stay."""
    people = list(db.session.execute(db.select(Participant).where(Participant.cohort_id == cohort.id)).scalars())
    users = {p.user_id: p.user for p in people}
    traces = [Trace.of(user, []) for user in users.values()]
    trace = Trace(sorted({n for t in traces for n in t.names}), sorted({e for t in traces for e in t.emails}), "",
                  {p.id for p in people})
    _erase([], people, trace)
    # SQL NULL, not a JSON null: "holds nothing" is then one query
    db.session.execute(db.update(MatchRun).where(MatchRun.cohort_id == cohort.id).values(
        pool=db.null(), result=db.null(), error=None, created_by_user_id=None))
    db.session.execute(db.update(Team).where(Team.cohort_id == cohort.id).values(reasons=[]))
    db.session.execute(db.delete(TeamMember).where(
        TeamMember.team_id.in_(db.select(Team.id).where(Team.cohort_id == cohort.id))))
    db.session.execute(db.update(CalendarEvent).where(CalendarEvent.cohort_id == cohort.id)
                       .values(sent_spec=db.null()))
    db.session.execute(db.delete(HeldInvite).where(HeldInvite.cohort_id == cohort.id))
    messages = db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.cohort_id == cohort.id)).rowcount
    cohort.facilitator_user_id = None
    cohort.pinned_pairs, cohort.forbidden_pairs = [], []
    db.session.flush()
    # People with nothing left in the tool (no other cohort, no staff role) are removed entirely.
    gone = 0
    for user in users.values():
        still = db.session.execute(db.select(db.func.count(Participant.id)).where(
            Participant.user_id == user.id)).scalar_one()
        staff = db.session.execute(db.select(Membership).where(Membership.user_id == user.id)).scalars().all()
        if not still and not any(set(m.tool_roles or []) - {"learner"} for m in staff):
            _forget_launches(Trace.of(user, []))
            _erase([user], [], Trace.of(user, []))
            gone += 1
    return {"people": len(people), "accounts_removed": gone, "messages": messages}


def purge(older_than: timedelta | None = None, *, today: date | None = None) -> list[tuple[PurgePlan, dict]]:
    """Purge every cohort that ended longer ago than ``older_than`` (default: the retention setting)."""
    from . import audit

    period = older_than or parse_period(f"{retention_months()}m")
    done = []
    for plan in purge_plan(period, today):
        counts = purge_cohort(plan.cohort)
        audit.record("purge", cohort=plan.cohort, actor_role="cli",
                     details={**counts, "retention_days": period.days}, commit=False)
        db.session.commit()
        log.info("purged cohort %s (ended %s): %s", plan.cohort.id, plan.ended, counts)
        done.append((plan, counts))
    return done
