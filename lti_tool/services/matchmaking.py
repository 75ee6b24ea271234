"""The bridge between the cohort's rows and the pure ``matching`` library.

This is the only module that knows both worlds: it builds a POOL (docs/contracts.md) from
participants, runs the matcher in a background job, and turns a reviewed proposal into teams.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from ..extensions import db
from ..states import ParticipantStatus, RunStatus, TeamStatus
from ..models import Cohort, LtiUser, MatchRun, Participant, Team, utcnow
from .teams import active_teams, kept_teams, previous_partners
from .intake import preferences_for_cohort, split_free_text
from .skills import taxonomy
from .slots import SLOTS

log = logging.getLogger(__name__)


def eligible_participants(cohort: Cohort) -> list[Participant]:
    """Enrolled people who submitted their intake (the only ones the matcher may pair)."""
    return list(db.session.execute(
        db.select(Participant).where(Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED,
                                     Participant.intake_submitted_at.is_not(None)).order_by(Participant.id)
    ).scalars())


def pool_gender(p: Participant) -> str:
    if p.gender in ("woman", "man", "non-binary"):
        return p.gender
    if p.gender == "self-described" and (p.gender_self_described or "").strip():
        return f"self-described:{p.gender_self_described.strip()}"
    return "undisclosed"


def external_manager_id(name: str) -> str:
    """A stable id for a manager outside the roster: the name, case and spacing normalised."""
    return "ext:" + " ".join(name.split()).casefold()


def matching_pool_entry(participant: Participant) -> dict:
    """One participant in the POOL.json shape (docs/contracts.md)."""
    p = participant
    if p.manager_participant_id:
        manager = str(p.manager_participant_id)
    elif (p.manager_name or "").strip():
        manager = external_manager_id(p.manager_name)
    else:
        manager = None
    known = set(taxonomy().skills)
    return {
        "id": str(p.id),
        "name": (p.user.name if p.user is not None else None) or f"Participant {p.id}",
        "gender": pool_gender(p),
        "department": p.department or "",
        "location": p.location or "",
        "timezone": p.timezone or p.cohort.timezone,
        "level": p.level,
        "manager_id": manager,
        "offers": list(dict.fromkeys([s for s in p.offers or [] if s in known] + split_free_text(p.offers_other))),
        "wants": list(dict.fromkeys([s for s in p.wants or [] if s in known] + split_free_text(p.wants_other))),
        "availability": [s for s in SLOTS if s in set(p.availability or [])],
        "previous_partners": [],
    }


def build_pool(cohort: Cohort) -> dict[str, Any]:
    people = eligible_participants(cohort)
    ids = {p.id for p in people}
    history = previous_partners(cohort)
    entries = []
    for person in people:
        entry = matching_pool_entry(person)
        entry["previous_partners"] = sorted(str(i) for i in history.get(person.id, set()) if i in ids)
        entries.append(entry)
    prefs = preferences_for_cohort(cohort)
    keep = lambda pairs: [[str(a), str(b)] for a, b in pairs if int(a) in ids and int(b) in ids]  # noqa: E731
    return {
        "participants": entries,
        "must_pair": keep(cohort.pinned_pairs or []),
        "never_pair": keep(cohort.forbidden_pairs or []),
        "requests": keep(prefs.get("requests", [])),
        "declines": keep(prefs.get("declines", [])),
        "policy": dict(cohort.policy or {}),
    }


def result_as_dict(result: Any) -> dict[str, Any]:
    """The matcher's result in RESULT.json's shape (docs/contracts.md)."""
    if isinstance(result, dict):
        return result
    if hasattr(result, "to_dict"):
        return result.to_dict()
    return dataclasses.asdict(result)


def start_run(cohort: Cohort, user: LtiUser | None, kind: str = "full") -> MatchRun:
    """Queue a matching run: checked that the queue answers, committed, then queued (so the job always
    finds its run). If the queue cannot take it, the run is removed again and ``QueueUnavailable``
    propagates (a 'try again in a minute' page); should even that removal fail, the sweep fails the run
    after ``MATCH_RUN_TIMEOUT_SECONDS`` (with a Retry): no run is left 'queued' for ever."""
    from ..jobs import QueueUnavailable, enqueue, require_queue

    require_queue()
    run = MatchRun(cohort_id=cohort.id, created_by_user_id=user.id if user else None, status=RunStatus.QUEUED,
                   kind=kind)
    db.session.add(run)
    db.session.commit()
    try:
        enqueue("lti_tool.services.matchmaking.run_matching", run.id)
    except QueueUnavailable:
        db.session.delete(run)
        db.session.commit()
        raise
    return run


def _stuck_before():
    return utcnow() - timedelta(seconds=current_app.config["MATCH_RUN_TIMEOUT_SECONDS"])


def is_stuck(run: MatchRun) -> bool:
    """Read only: still queued or running past ``MATCH_RUN_TIMEOUT_SECONDS`` (its worker may have died)."""
    return run.status in (RunStatus.QUEUED, RunStatus.RUNNING) and run.created_at < _stuck_before()


def stuck_error() -> str:
    minutes = max(1, round(current_app.config["MATCH_RUN_TIMEOUT_SECONDS"] / 60))
    return f"No result after {minutes} minutes: the job was lost or its worker stopped. Retry to run it again."


def fail_stuck_runs() -> int:
    """Sweep: runs stuck in queued/running past the time limit become failed (with a Retry on their page)."""
    failed = db.session.execute(
        db.update(MatchRun).where(MatchRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
                                  MatchRun.created_at < _stuck_before())
        .values(status=RunStatus.FAILED, error=stuck_error()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if failed:
        log.warning("%s matching runs stuck past MATCH_RUN_TIMEOUT_SECONDS marked failed", failed)
    return failed


def retry_run(run: MatchRun, user: LtiUser | None) -> MatchRun:
    """A facilitator's Retry of a failed or stuck run: a new run of the same kind (the old one is failed)."""
    new = start_run(db.session.get(Cohort, run.cohort_id), user, kind=run.kind)
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        run.status, run.error = RunStatus.FAILED, stuck_error()
        db.session.commit()
    return new


def run_matching(run_id: int) -> None:
    """Job: solve the cohort's pool and store the proposal. Safe to run again (it recomputes)."""
    import matching

    run = db.session.get(MatchRun, run_id)
    if run is None or run.status in (RunStatus.DONE, RunStatus.FAILED):  # failed: timed out (see fail_stuck_runs)
        return
    run.status, run.progress = "running", 10
    db.session.commit()
    try:
        cohort = db.session.get(Cohort, run.cohort_id)
        pool = build_pool(cohort)
        run.pool, run.progress = pool, 30
        db.session.commit()
        if run.kind == "rematch":
            kept = [[str(m) for m in team.member_ids] for team in kept_teams(cohort)]
            result = result_as_dict(matching.rematch(pool, kept, []))
        else:
            result = result_as_dict(matching.solve(pool))
    except matching.MatchingError as e:  # bad or infeasible input: the facilitator sees why
        db.session.rollback()
        run = db.session.get(MatchRun, run_id)
        run.status, run.error = "failed", str(e)
        db.session.commit()
        log.warning("matching run %s failed: %s", run_id, e)
        return
    run.result, run.status, run.progress = result, "done", 100
    db.session.commit()


def dropout_summary(cohort: Cohort) -> dict[str, list[Participant]] | None:
    """After publishing: who left a team, and who is now without one (partners left behind, late joiners).

    None before teams are published or when nobody needs a new partner.
    """
    if not cohort.published_run_id:
        return None
    published = db.session.get(MatchRun, cohort.published_run_id)
    kept = {m for team in kept_teams(cohort) for m in team.member_ids}
    left = list(db.session.execute(db.select(Participant).where(
        Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.WITHDRAWN,
        Participant.withdrawn_at >= published.published_at).order_by(Participant.id)).scalars())
    waiting = [p for p in eligible_participants(cohort) if p.id not in kept]
    if not waiting:
        return None
    return {"left": left, "waiting": waiting}


def latest_runs(cohort: Cohort, limit: int = 2) -> list[MatchRun]:
    return list(db.session.execute(
        db.select(MatchRun).where(MatchRun.cohort_id == cohort.id).order_by(MatchRun.id.desc()).limit(limit)
    ).scalars())


def compare(current: dict | None, previous: dict | None) -> dict[str, list[tuple[str, str]]]:
    """Teams kept, added and dropped between two proposals."""
    def teams(result):
        return {tuple(sorted(map(str, members_of(p)))) for p in (result or {}).get("pairs", [])}
    now, before = teams(current), teams(previous)
    return {"kept": sorted(now & before), "added": sorted(now - before), "dropped": sorted(before - now)}


def publish(run: MatchRun) -> list[Team]:
    """Turn a reviewed proposal into the cohort's teams; returns every team of the result, in order.

    A team whose members the proposal keeps together stays the same row, so its follow-up series
    keeps its UID and nobody gets a cancellation and a new invite for the same meetings; the other
    active teams are dissolved. A full run re-scores the teams it keeps and forms pods afresh. A
    re-match leaves the teams it keeps exactly as they were, and a new team joins the pod its
    members' old team was in.
    """
    import matching

    cohort = db.session.get(Cohort, run.cohort_id)
    rematch = run.kind == "rematch"
    previous = {frozenset(team.member_ids): team for team in active_teams(cohort)}
    old_pod = {m: team.pod for team in previous.values() for m in team.member_ids}
    teams = []
    for pair in run.result.get("pairs", []):
        members = _members(pair)
        team = previous.pop(frozenset(members), None)
        if team is None:
            team = _team_from_pair(Team(cohort_id=cohort.id, member_ids=members), run, pair)
            if rematch:
                team.pod = next((old_pod[m] for m in members if old_pod.get(m) is not None), None)
        elif not rematch:
            _team_from_pair(team, run, pair)
        teams.append(team)
    for team in previous.values():
        team.status = TeamStatus.DISSOLVED
    if not rematch:
        db.session.flush()
        pods = matching.form_pods(run.result.get("pairs", []), run.pool["participants"])
        pod_of = {str(member): number for number, pod in enumerate(pods, start=1) for team in pod for member in team}
        for team in teams:
            team.pod = pod_of.get(str(team.member_ids[0]))
        cohort.published_run_id = run.id
    run.published_at = utcnow()
    db.session.commit()
    log.info("run %s (%s) published for cohort %s: %s teams", run.id, run.kind, cohort.id, len(teams))
    return teams


def members_of(pair: dict) -> list:
    """A result team's member ids (2 or 3); results stored before teams had ``members`` give a, b, c."""
    if pair.get("members"):
        return list(pair["members"])
    return [pair["a"], pair["b"]] + ([pair["c"]] if pair.get("c") else [])


def _members(pair: dict) -> list[int]:
    return [int(m) for m in members_of(pair)]


def _team_from_pair(team: Team, run: MatchRun, pair: dict) -> Team:
    """Fill a team (new, or one the proposal keeps) with this run's score, gains and reasons."""
    team.match_run_id, team.score = run.id, float(pair["score"])
    team.gains = {str(k): v for k, v in pair["gains"].items()} if pair.get("gains") else \
        {str(pair["a"]): pair["gain_a"], str(pair["b"]): pair["gain_b"]}
    team.reasons = list(pair.get("reasons", []))
    db.session.add(team)
    return team


def names(run: MatchRun) -> dict[str, str]:
    return {p["id"]: p.get("name") or p["id"] for p in (run.pool or {}).get("participants", [])}


def add_pair(cohort: Cohort, attribute: str, a: int, b: int) -> None:
    """Pin (``pinned_pairs``) or forbid (``forbidden_pairs``) a pair for the next run."""
    pair = sorted((a, b))
    current = [sorted(p) for p in getattr(cohort, attribute) or []]
    if pair not in current:
        setattr(cohort, attribute, current + [pair])
    other = "forbidden_pairs" if attribute == "pinned_pairs" else "pinned_pairs"
    setattr(cohort, other, [p for p in getattr(cohort, other) or [] if sorted(p) != pair])
    db.session.commit()


def refuse_if_hard_rule_broken(run: MatchRun, *teams: list[int]) -> None:
    """Before pinning teams for the next run: a manager line, a never-pair or a decline between two of
    their members refuses them now, naming the people (ValueError), so no failed proposal is made and
    the pins and forbidden pairs stay as they were. Anything else (one side gaining nothing, the
    policy's rules) is kept and flagged by the matcher."""
    import matching

    for members in teams:
        try:
            matching.check_team(run.pool, [str(m) for m in members], origin="must_pair")
        except matching.MatchingError as e:
            if e.rule is not None:  # bad input is the matcher's to report, on the next run
                raise ValueError(_("%(why)s Nothing was changed: this proposal and your other adjustments "
                                   "stay as they were.", why=str(e))) from e


def swap(cohort: Cohort, run: MatchRun, x: int, y: int) -> None:
    """Exchange the partners of x and y: pin (x, partner of y) and (y, partner of x).

    In a trio the first other member is the partner swapped; the third is free for the matcher.
    """
    partner = {}
    for pair in run.result.get("pairs", []):
        members = _members(pair)
        for m in members:
            partner[m] = next(o for o in members if o != m)
    if x not in partner or y not in partner or partner[x] == y or partner[y] == x:
        raise ValueError("Choose two people who are in different teams.")
    px, py = partner[x], partner[y]
    refuse_if_hard_rule_broken(run, [x, py], [y, px])
    cohort.pinned_pairs = [p for p in cohort.pinned_pairs or [] if not set(p) & {x, y, px, py}]
    db.session.commit()
    add_pair(cohort, "pinned_pairs", x, py)
    add_pair(cohort, "pinned_pairs", y, px)


# --- explaining a proposal to the facilitator (read only) --------------------------------------------

STRONG_GAIN, GOOD_GAIN = 0.5, 0.2  # the smaller side's gain: share of what they want that the partner offers


def proposal_number(run: MatchRun) -> int:
    """The proposal's number within its cohort (1, 2, 3, ...), not the database id."""
    return db.session.execute(db.select(func.count(MatchRun.id)).where(
        MatchRun.cohort_id == run.cohort_id, MatchRun.id <= run.id)).scalar_one()


def quality_band(pair: dict) -> str:
    """"strong", "good" or "weak" from the smaller side's gain; a flagged team is weak whatever its gains."""
    gains = [float(v) for v in (pair.get("gains") or {}).values()] or \
        [float(pair.get(k)) for k in ("gain_a", "gain_b", "gain_c") if pair.get(k) is not None]
    smallest = min(gains) if gains else 0.0
    if pair.get("flags") or smallest < GOOD_GAIN:
        return "weak"
    return "strong" if smallest >= STRONG_GAIN else "good"


def explain(run: MatchRun, cohort: Cohort) -> dict[str, Any]:
    """What the review page shows in words: numbered proposal, teams with a band, each request and
    decline (honoured or why not), pinned and forbidden pairs by name, and whether there was anyone."""
    names_by_id = names(run)
    result = run.result or {}
    stats = result.get("stats") or {}

    def name(pid) -> str:
        return names_by_id.get(str(pid)) or _participant_name(cohort, pid)

    teams = [{"members": [name(m) for m in members_of(pair)], "band": quality_band(pair),
              "gains": {name(m): round(100 * float(g)) for m, g in (pair.get("gains") or {}).items()},
              "reasons": pair.get("reasons", []), "flags": pair.get("flags", []), "ids": members_of(pair)}
             for pair in result.get("pairs", [])]
    preferences = [{"kind": p["kind"], "from": name(p["from"]), "to": name(p["to"]), "honoured": p["honoured"],
                    "why_not": [w["message"] for w in p.get("why_not", [])]} for p in stats.get("preferences", [])]
    return {"number": proposal_number(run), "teams": teams, "preferences": preferences,
            "pinned": [(name(a), name(b)) for a, b in cohort.pinned_pairs or []],
            "forbidden": [(name(a), name(b)) for a, b in cohort.forbidden_pairs or []],
            "empty": bool(stats.get("note")) or not (result.get("pairs") or result.get("unmatched")),
            "bands": {band: sum(1 for t in teams if t["band"] == band) for band in ("strong", "good", "weak")}}


def _participant_name(cohort: Cohort, pid) -> str:
    try:
        person = db.session.get(Participant, int(pid))
    except (TypeError, ValueError):
        return str(pid)
    return person.user.name if person is not None and person.cohort_id == cohort.id and person.user.name else str(pid)
