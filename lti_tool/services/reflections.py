"""Reflections: one short reflection per half day (prompts from the curriculum), open once that part of
the lab has happened; drafts saved as the learner types, submit, edit window, the mutual learning view.

A stored reflection's ``session_id`` is the half-day reflection's id (``d1-morning``...). Reflections
written before the lab asked for one per half day carry a session id: they stay readable ("earlier
reflections") and in exports, and migration 9c4e2a7b1d05 copied their answers into the half-day ones.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app

from ..extensions import db
from ..models import Cohort, Participant, Reflection, Team, utcnow
from . import curriculum as cur
from . import lab_day, teams
from .visibility import AS_PARTNER, LEVELS, default_for, visible_answers
from ..states import ReflectionStatus


class ReflectionClosed(Exception):
    """The reflection was submitted and its edit window has passed."""


@dataclass
class Validation:
    answers: dict
    visibility: dict
    errors: dict = field(default_factory=dict)


def opens_at(scheduled) -> datetime:
    """When a half-day reflection opens: at the in-room reflection time of the session it belongs to
    (its activities from the one marked ``reflection`` on), else at the session's scheduled end."""
    activities = list(scheduled.session.activities)
    marked = next((i for i, a in enumerate(activities) if a.reflection), None)
    tail = sum(a.minutes for a in activities[marked:]) if marked is not None else 0
    return scheduled.end - timedelta(minutes=tail)


def open_reflections(cohort: Cohort, now: datetime | None = None) -> list:
    """The half-day reflections a learner of this cohort can write now, in programme order.

    Nothing before the teams are published or while the lab dates are not set; after that, each half
    day's reflection once that part of the lab has happened (dates and times in the cohort's time zone).
    """
    if not teams.is_published(cohort):
        return []
    sessions = {item.session.id: item for item in lab_day.scheduled_sessions(cohort)}
    if not sessions:
        return []
    now = now or datetime.now(timezone.utc)
    return [r for r in cur.half_day_reflections() if r.after in sessions and opens_at(sessions[r.after]) <= now]


def is_half_day(reflection: Reflection) -> bool:
    return cur.half_day(reflection.session_id) is not None


def earlier_reflections(participant: Participant) -> list[tuple[str, Reflection, list[tuple[str, object]]]]:
    """Reflections written per session before the half-day ones: (title, reflection, [(prompt, answer)])."""
    titles = cur.reflection_titles()
    order = {s.id: i for i, s in enumerate(cur.curriculum().sessions)}
    rows = sorted((r for r in reflections_of(participant).values() if not is_half_day(r)),
                  key=lambda r: order.get(r.session_id, 999))
    texts = cur.prompt_texts()
    return [(titles.get(r.session_id, r.session_id), r,
             [(texts.get(pid, pid), value) for pid, value in (r.answers or {}).items()]) for r in rows]


def edit_window() -> timedelta:
    return timedelta(hours=float(current_app.config.get("REFLECTION_EDIT_HOURS", 72)))


def editable_until(reflection: Reflection | None):
    if reflection is None or reflection.status != ReflectionStatus.SUBMITTED or reflection.submitted_at is None:
        return None
    return reflection.submitted_at + edit_window()


def is_editable(reflection: Reflection | None) -> bool:
    until = editable_until(reflection)
    return until is None or utcnow() <= until


def draft_payload(text: str) -> tuple[dict, dict]:
    """An autosave body as (answers, visibility), or ValueError saying what is wrong with it.

    Expected: ``{"answers": {prompt: text | number | null}, "visibility": {prompt: level}}``. Anything
    else is refused whole, so a broken client never overwrites the draft already saved.
    """
    try:
        body = json.loads(text or "{}")
    except (ValueError, RecursionError) as e:
        raise ValueError("The draft is not valid JSON.") from e
    if not isinstance(body, dict):
        raise ValueError("The draft must be a JSON object with 'answers' and 'visibility'.")
    answers, visibility = body.get("answers") or {}, body.get("visibility") or {}
    if not isinstance(answers, dict) or not isinstance(visibility, dict):
        raise ValueError("'answers' and 'visibility' must be JSON objects.")
    for key, value in answers.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise ValueError(f"The answer to {key!r} must be text or a number.")
    for key, value in visibility.items():
        if not isinstance(value, str):
            raise ValueError(f"The visibility of {key!r} must be text.")
    return answers, visibility


def clean(session, raw_answers: dict, raw_visibility: dict, *, for_submit: bool) -> Validation:
    """Keep only this half day's prompts; ratings as integers within their scale."""
    out = Validation({}, {})
    for prompt in session.prompts:
        value = raw_answers.get(prompt.id)
        if prompt.kind == "rating":
            if value in (None, ""):
                if for_submit:
                    out.errors[prompt.id] = "Choose a number from %s to %s." % (prompt.scale_min, prompt.scale_max)
            else:
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    number = None
                if number is None or not prompt.scale_min <= number <= prompt.scale_max:
                    out.errors[prompt.id] = "Choose a number from %s to %s." % (prompt.scale_min, prompt.scale_max)
                else:
                    out.answers[prompt.id] = number
        else:
            text = str(value or "").strip()[:5000]
            if text:
                out.answers[prompt.id] = text
        level = raw_visibility.get(prompt.id)
        out.visibility[prompt.id] = level if level in LEVELS else default_for(prompt.id)
    if for_submit and not any(isinstance(v, str) for v in out.answers.values()) and \
            any(p.kind == "text" for p in session.prompts):
        first_text = next(p.id for p in session.prompts if p.kind == "text")
        out.errors.setdefault(first_text, "Write at least one answer before you submit.")
    return out


def reflections_of(participant: Participant) -> dict[str, Reflection]:
    rows = db.session.execute(db.select(Reflection).where(Reflection.participant_id == participant.id)).scalars()
    return {r.session_id: r for r in rows}


def get_reflection(participant: Participant, session_id: str) -> Reflection | None:
    return db.session.execute(db.select(Reflection).where(
        Reflection.participant_id == participant.id, Reflection.session_id == session_id)).scalars().first()


def save(participant: Participant, session, raw_answers: dict, raw_visibility: dict, *,
         submit: bool) -> tuple[Reflection | None, Validation]:
    """Save a draft (partial answers are fine) or submit. Raises ReflectionClosed after the window."""
    reflection = get_reflection(participant, session.id)
    if not is_editable(reflection):
        raise ReflectionClosed(session.id)
    result = clean(session, raw_answers, raw_visibility, for_submit=submit)
    if submit and result.errors:
        return reflection, result
    if reflection is None:
        reflection = Reflection(participant_id=participant.id, cohort_id=participant.cohort_id,
                                session_id=session.id)
        db.session.add(reflection)
    reflection.answers = result.answers
    reflection.visibility = result.visibility
    reflection.updated_at = utcnow()
    was_submitted = reflection.status == ReflectionStatus.SUBMITTED
    if submit and not was_submitted:
        reflection.status = ReflectionStatus.SUBMITTED
        reflection.submitted_at = utcnow()
    db.session.commit()  # a submit changes progress: services.grades sends the score after the response
    return reflection, result


@dataclass
class MemberView:
    participant: Participant
    learned: list[tuple[str, str]]  # (half-day title, text)
    gain_self: float | None
    gain_partner: float | None


def _mean(values):
    values = [v for v in values if isinstance(v, int)]
    return round(sum(values) / len(values), 1) if values else None


def mutual_view(team: Team) -> list[MemberView]:
    """What each member learned from the other, and the gains they reported: only what was shared."""
    members = db.session.execute(db.select(Participant).where(Participant.id.in_(team.member_ids))).scalars().all()
    reflections = db.session.execute(db.select(Reflection).where(
        Reflection.participant_id.in_(team.member_ids), Reflection.status == ReflectionStatus.SUBMITTED)).scalars().all()
    halves = cur.half_day_reflections()
    titles = {r.id: r.title for r in halves}
    order = {r.id: i for i, r in enumerate(halves)}
    reflections = [r for r in reflections if r.session_id in order]  # earlier per-session ones were copied in
    out = []
    for member in sorted(members, key=lambda m: team.member_ids.index(m.id)):
        mine = sorted((r for r in reflections if r.participant_id == member.id),
                      key=lambda r: order.get(r.session_id, 999))
        shared = [(r, visible_answers(r, AS_PARTNER)) for r in mine]
        learned = [(titles.get(r.session_id, r.session_id), a[cur.LEARNED]) for r, a in shared if cur.LEARNED in a]
        out.append(MemberView(member, learned, _mean([a.get(cur.GAIN_SELF) for _, a in shared]),
                              _mean([a.get(cur.GAIN_PARTNER) for _, a in shared])))
    return out
