"""Emails to participants about their team (partner announcements, a partner leaving), from
``templates/email/`` in each recipient's language, written to the outbox first.

Calendar invites are iMIP messages built in ``invites``; these use the same outbox, so they are kept,
retried and shown to the facilitator the same way.
"""
from __future__ import annotations

import logging


from ..extensions import db
from ..jobs import require_queue
from ..models import Cohort, MatchRun, Participant, Team
from . import calendar_events, invites, matchmaking, outbox
from .teams import active_teams
from ..states import ParticipantStatus

log = logging.getLogger(__name__)
# The English subjects (tests and the audit of what was sent read them); mail is written in the recipient's language.
PARTNER_SUBJECT = "Your reciprocal mentoring partner"
PARTNER_LEFT_SUBJECT = "Your mentoring partner has left the lab"


def announce_teams(cohort: Cohort, teams: list[Team]) -> int:
    """Tell each member of these teams who their partner is and why; returns the messages written."""
    ids = {m for team in teams for m in team.member_ids}
    people = {p.id: p for p in db.session.execute(db.select(Participant).where(Participant.id.in_(ids))).scalars()}
    written = 0
    for team in teams:
        for member in team.member_ids:
            me = people.get(member)
            if me is None or not me.user.contact_email:
                continue
            partners = " & ".join(people[m].user.name or "?" for m in team.member_ids if m != member and m in people)
            outbox.write_to(cohort, me.user, "partner", name=me.user.name or "", partners=partners,
                            reasons=list(team.reasons or []))
            written += 1
    db.session.commit()
    return written


def tell_partners(cohort: Cohort, partner_ids: list[int], *, team_goes_on: bool) -> int:
    """Tell the people left in a team, in plain words, that a member has left the lab and what happens
    next. The one who left is not named: the message must not keep anything about them."""
    people = [p for p in db.session.execute(db.select(Participant).where(Participant.id.in_(partner_ids))).scalars()
              if p.status == ParticipantStatus.ENROLLED and p.user.contact_email]
    for me in people:
        others = " & ".join(p.user.name or "?" for p in people if p.id != me.id)
        outbox.write_to(cohort, me.user, "partner_left", name=me.user.name or "", others=others,
                        team_goes_on=team_goes_on)
    db.session.commit()
    return len(people)


def publish_preview(run: MatchRun) -> dict:
    """Read only: what publishing this proposal would send, person by person, and the totals.

    Each person gets: the partner email (if their team is new and they have an address) as it would
    be written in their language, and the calendar events they would be invited to.
    """
    cohort = db.session.get(Cohort, run.cohort_id)
    proposed = [[int(m) for m in matchmaking.members_of(pair)] for pair in (run.result or {}).get("pairs", [])]
    reasons = {frozenset(members): list(pair.get("reasons", []))
               for members, pair in zip(proposed, (run.result or {}).get("pairs", []))}
    return preview_teams(cohort, proposed, reasons)


def preview_teams(cohort: Cohort, proposed: list[list[int]], reasons: dict[frozenset, list[str]]) -> dict:
    """Read only: what forming these teams would send (``publish_preview``; a team formed by hand)."""
    kept = {frozenset(team.member_ids) for team in active_teams(cohort)}
    events = calendar_events.events_if_published(cohort, proposed) if cohort.day_one else {}
    people = {p.id: p for p in db.session.execute(db.select(Participant).where(
        Participant.cohort_id == cohort.id)).scalars()}
    rows = []
    for members in proposed:
        new = frozenset(members) not in kept
        for member in members:
            me = people.get(member)
            if me is None:
                continue
            partners = " & ".join(people[m].user.name or "?" for m in members if m != member and m in people)
            mail = None
            if new and me.user.contact_email:
                mail = outbox.render("partner", outbox.recipient_locale(me.user), cohort=cohort,
                                     name=me.user.name or "", partners=partners, reasons=reasons[frozenset(members)])
            mine = events.get(member, []) if me.user.contact_email else []
            rows.append({"name": me.user.name or me.user.sub, "email": me.user.contact_email, "partners": partners,
                         "new": new, "mail": mail, "events": mine})
    in_teams = set().union(*map(set, proposed)) if proposed else set()
    others = [{"name": p.user.name or p.user.sub, "email": p.user.contact_email, "partners": "", "new": False,
               "mail": None, "events": events.get(pid, []) if p.user.contact_email else []}
              for pid, p in people.items() if pid not in in_teams and events.get(pid) and p.user.contact_email]
    rows.extend(others)
    return {"people": rows, "emails": sum(1 for r in rows if r["mail"]),
            "invites": sum(len(r["events"]) for r in rows), "teams": len(proposed),
            "new_teams": sum(1 for m in proposed if frozenset(m) not in kept)}


def publish_and_announce(run: MatchRun) -> tuple[list[Team], list[Team], int]:
    """Publish a proposal, tell the people in new teams, and queue the calendar invites it changes.

    Returns (every team of the result, the new teams, invites queued). Teams that stay as they were
    get no message; the invites follow what changed (see ``invites.queue_invites``).
    """
    require_queue()  # the announcements and invites go through the job queue: with it down, nothing changes
    cohort = db.session.get(Cohort, run.cohort_id)
    before = {frozenset(team.member_ids) for team in active_teams(cohort)}
    teams = matchmaking.publish(run)
    new = [team for team in teams if frozenset(team.member_ids) not in before]
    announce_teams(cohort, new)
    queued = invites.queue_invites(cohort) if cohort.day_one else 0
    outbox.deliver_later(cohort)
    log.info("run %s published: %s teams, %s new, %s invites queued", run.id, len(teams), len(new), queued)
    return teams, new, queued
