"""Plain emails to participants (partner announcements, reminders), written to the outbox first.

Calendar invites are iMIP messages built in ``invites``; these are ordinary text messages that use
the same outbox, so they are kept, retried and shown to the facilitator the same way.
"""
from __future__ import annotations

import logging


from ..extensions import db
from ..models import Cohort, Course, MatchRun, Participant, Team
from . import invites, matchmaking, outbox
from .teams import active_teams

log = logging.getLogger(__name__)
PARTNER_SUBJECT = "Your reciprocal mentoring partner"


def where_to_open(cohort: Cohort) -> str:
    course = db.session.get(Course, cohort.course_id)
    return f"Open the lab from the course \u201c{course.title or course.label or ''}\u201d in your learning platform."


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
            partners = " and ".join(people[m].user.name or "your partner" for m in team.member_ids
                                    if m != member and m in people)
            reasons = "\n".join(f"- {reason}" for reason in team.reasons or [])
            outbox.write(cohort, me.user.contact_email, PARTNER_SUBJECT,
                  f"Hello {me.user.name or ''},\n\nIn {cohort.name} you are teamed with {partners}. "
                  "Each of you has something the other wants to learn:\n\n"
                  f"{reasons}\n\n{where_to_open(cohort)} There you see your pod, add the meetings to your "
                  "calendar and, after each session, note what you learned from each other.\n")
            written += 1
    db.session.commit()
    return written


PARTNER_LEFT_SUBJECT = "Your mentoring partner has left the lab"


def tell_partners(cohort: Cohort, partner_ids: list[int], *, team_goes_on: bool) -> int:
    """Tell the people left in a team, in plain words, that a member has left the lab and what happens
    next. The one who left is not named: the message must not keep anything about them."""
    people = [p for p in db.session.execute(db.select(Participant).where(Participant.id.in_(partner_ids))).scalars()
              if p.status == "enrolled" and p.user.contact_email]
    for me in people:
        others = " and ".join(p.user.name or "your partner" for p in people if p.id != me.id)
        if team_goes_on:
            news = (f"One member of your team in {cohort.name} has left the lab. You carry on together with "
                    f"{others}; your follow-up meetings stay as they are, and a calendar update follows.")
        else:
            news = (f"Your partner in {cohort.name} has left the lab, so your pair has ended. Your follow-up "
                    "meetings together are cancelled; a separate calendar message removes them from your calendar.\n\n"
                    "Your facilitator will find you a new partner, and you will get an email as soon as they have. "
                    "You do not need to do anything until then.")
        outbox.write(cohort, me.user.contact_email, PARTNER_LEFT_SUBJECT,
              f"Hello {me.user.name or ''},\n\n{news}\n\n{where_to_open(cohort)}\n")
    db.session.commit()
    return len(people)


def publish_and_announce(run: MatchRun) -> tuple[list[Team], list[Team], int]:
    """Publish a proposal, tell the people in new teams, and queue the calendar invites it changes.

    Returns (every team of the result, the new teams, invites queued). Teams that stay as they were
    get no message; the invites follow what changed (see ``invites.queue_invites``).
    """
    cohort = db.session.get(Cohort, run.cohort_id)
    before = {frozenset(team.member_ids) for team in active_teams(cohort)}
    teams = matchmaking.publish(run)
    new = [team for team in teams if frozenset(team.member_ids) not in before]
    announce_teams(cohort, new)
    queued = invites.queue_invites(cohort) if cohort.day_one else 0
    outbox.deliver_later(cohort)
    log.info("run %s published: %s teams, %s new, %s invites queued", run.id, len(teams), len(new), queued)
    return teams, new, queued
