"""A learner's data rights: download everything the tool holds about them, and delete it.

Deletion keeps aggregates consistent this way: the numeric gain ratings of submitted reflections are
copied, without any identity (no participant, user, team or text; only cohort, session and the day),
to ``AnonymousRating``, and insights read ratings from both tables. Everything else about the person
(intake, preferences, attendance, reflections with their text, grade sync records, their LMS identity
and course memberships) is removed; enrolment, intake, attendance and team figures are recomputed from
the remaining rows, so they drop by one person, as they would had the person never joined.
"""
from __future__ import annotations

from flask import session

from ..extensions import db
from ..models import (AnonymousRating, Attendance, Cohort, GradeSync, LtiUser, MatchRun, Membership, Participant,
                      PartnerPreference, Reflection, Team)
from .curriculum import GAIN_PARTNER, GAIN_SELF


def _row(obj, skip=()) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


def export_user(user: LtiUser) -> dict:
    people = db.session.execute(db.select(Participant).where(Participant.user_id == user.id)).scalars().all()
    ids = [p.id for p in people]
    out = {"user": _row(user, skip=("platform_id",)), "memberships": [
        _row(m) for m in db.session.execute(db.select(Membership).where(Membership.user_id == user.id)).scalars()],
        "participations": []}
    for p in people:
        teams = [t for t in db.session.execute(db.select(Team).where(Team.cohort_id == p.cohort_id)).scalars()
                 if p.id in (t.member_ids or [])]
        out["participations"].append({
            "cohort": p.cohort.name, "profile": _row(p),
            "partner_preferences": [_row(x) for x in db.session.execute(db.select(PartnerPreference).where(
                PartnerPreference.from_participant_id == p.id)).scalars()],
            "attendance": [_row(x) for x in db.session.execute(db.select(Attendance).where(
                Attendance.participant_id == p.id)).scalars()],
            "reflections": [_row(x) for x in db.session.execute(db.select(Reflection).where(
                Reflection.participant_id == p.id)).scalars()],
            "teams": [{"id": t.id, "score": t.score, "status": t.status, "my_gain": (t.gains or {}).get(str(p.id)),
                       "reasons": t.reasons} for t in teams],
            "grade_syncs": [_row(x) for x in db.session.execute(db.select(GradeSync).where(
                GradeSync.participant_id == p.id)).scalars()],
        })
    out["participant_ids"] = ids
    return out


def delete_user_data(user: LtiUser) -> None:
    people = db.session.execute(db.select(Participant).where(Participant.user_id == user.id)).scalars().all()
    ids = [p.id for p in people]
    if ids:
        for r in db.session.execute(db.select(Reflection).where(Reflection.participant_id.in_(ids),
                                                                 Reflection.status == "submitted")).scalars():
            a = r.answers or {}
            if isinstance(a.get(GAIN_SELF), int) or isinstance(a.get(GAIN_PARTNER), int):
                db.session.add(AnonymousRating(cohort_id=r.cohort_id, session_id=r.session_id,
                                               gain_self=a.get(GAIN_SELF), gain_partner=a.get(GAIN_PARTNER),
                                               submitted_on=r.submitted_at.date() if r.submitted_at else None))
        for model, column in ((Reflection, Reflection.participant_id), (Attendance, Attendance.participant_id),
                              (GradeSync, GradeSync.participant_id)):
            db.session.execute(db.delete(model).where(column.in_(ids)))
        db.session.execute(db.delete(PartnerPreference).where(
            PartnerPreference.from_participant_id.in_(ids) | PartnerPreference.to_participant_id.in_(ids)))
        db.session.execute(db.update(Participant).where(Participant.manager_participant_id.in_(ids))
                           .values(manager_participant_id=None))
        cohort_ids = {p.cohort_id for p in people}
        for team in db.session.execute(db.select(Team).where(Team.cohort_id.in_(cohort_ids))).scalars():
            if set(ids) & set(team.member_ids or []):
                team.member_ids = [m for m in team.member_ids if m not in ids]
                team.gains = {k: v for k, v in (team.gains or {}).items() if int(k) not in ids}
        db.session.execute(db.delete(Participant).where(Participant.id.in_(ids)))
    db.session.execute(db.update(Cohort).where(Cohort.facilitator_user_id == user.id).values(facilitator_user_id=None))
    db.session.execute(db.update(MatchRun).where(MatchRun.created_by_user_id == user.id)
                       .values(created_by_user_id=None))
    db.session.execute(db.delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(db.delete(LtiUser).where(LtiUser.id == user.id))
    db.session.commit()
    session.clear()
