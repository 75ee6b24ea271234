"""LMS gradebook passback (LTI Assignment and Grade Services via pylti1p3).

A score per participant per lab resource link, sent through the job queue whenever progress
changes. The score is the checklist items done out of all (3/14 after the intake and two reflections).

Every score is sent with gradingProgress ``FullyGraded``: it is the final value *for now*, and the
next one replaces it (the newest timestamp wins). Moodle stores a score's value only when it is
FullyGraded, Canvas and Open edX show it too; ``Pending`` would leave an empty cell until a learner had
done everything. activityProgress says how far along the learner is (Initialized, InProgress,
Completed). Sending the same progress twice is a no-op here and harmless at the LMS. A failure is recorded on ``GradeSync``
(shown to the facilitator) and re-raised under RQ so the job retries with back-off; learner work is
saved before any of this runs and never depends on it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from sqlalchemy.exc import OperationalError

from ..extensions import db, rollback_or_close
from ..jobs import enqueue
from ..lti.sync import _get_or_create
from ..lti.tool_config import service_connector
from ..models import Cohort, Course, GradeSync, Participant, ResourceLink, utcnow
from .progress import progress_for

log = logging.getLogger(__name__)
LINEITEM_TAG = "reciprocal-lab-completion"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def links_for_cohort(cohort_id: int) -> list[ResourceLink]:
    return list(db.session.execute(db.select(ResourceLink).where(ResourceLink.cohort_id == cohort_id)).scalars())


def schedule_for_participant(participant_id: int) -> int:
    """Queue a score for each lab link of the participant's cohort (the LMS offered AGS); returns how many."""
    participant = db.session.get(Participant, participant_id)
    if participant is None:
        return 0
    queued = 0
    for link in links_for_cohort(participant.cohort_id):
        course = db.session.get(Course, link.course_id)
        if not course.ags_lineitems_url and not link.ags_lineitem_url:
            continue
        queued += 1
        try:
            enqueue("lti_tool.services.grades.push_score", participant_id, link.id)
        except Exception:  # noqa: BLE001 - the failure is already on GradeSync; learner work is saved
            log.warning("grade passback for participant %s failed; recorded for the facilitator", participant_id)
    return queued


def _in_worker() -> bool:
    try:
        from rq import get_current_job
        return get_current_job() is not None
    except Exception:  # noqa: BLE001
        return False


def _lineitem(ags: AssignmentsGradesService, link: ResourceLink, maximum: int) -> LineItem:
    if link.ags_lineitem_url:
        return LineItem().set_id(link.ags_lineitem_url).set_score_maximum(maximum)
    wanted = (LineItem().set_tag(LINEITEM_TAG).set_resource_id(link.resource_link_id)
              .set_resource_link_id(link.resource_link_id).set_label(f"{link.title or 'Mentoring lab'}: completion")
              .set_score_maximum(maximum))
    found = ags.find_or_create_lineitem(wanted, find_by="resource_id")
    link.ags_lineitem_url = found.get_id()  # remember it: the next score goes straight there
    return found


def activity_progress(progress) -> str:
    """AGS activityProgress: Initialized (nothing yet), InProgress, Completed (every item done)."""
    if progress.complete:
        return "Completed"
    return "InProgress" if progress.done else "Initialized"


def push_score(participant_id: int, link_id: int) -> str:
    participant = db.session.get(Participant, participant_id)
    link = db.session.get(ResourceLink, link_id)
    if participant is None or link is None:
        return "gone"
    # two pushes for one person at once (a retry and a new change) both find it, one creates it
    sync = _get_or_create(GradeSync, defaults={"attempts": 0}, participant_id=participant_id, resource_link_id=link_id)
    progress = progress_for([participant])[participant.id]
    given, maximum = float(progress.done), float(progress.total)
    if sync.status == "sent" and sync.score_given == given and sync.score_maximum == maximum:
        return "unchanged"
    course = db.session.get(Course, link.course_id)
    sync.attempts = (sync.attempts or 0) + 1
    sync.last_attempt_at = utcnow()
    try:
        connector = service_connector(course.deployment.platform)
        ags = AssignmentsGradesService(connector, {"scope": list(course.ags_scopes or [SCORE_SCOPE]),
                                                   "lineitems": course.ags_lineitems_url,
                                                   "lineitem": link.ags_lineitem_url})
        lineitem = _lineitem(ags, link, int(maximum))
        grade = (Grade().set_score_given(given).set_score_maximum(maximum)
                 .set_activity_progress(activity_progress(progress))
                 .set_grading_progress("FullyGraded")
                 .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
                 .set_user_id(participant.user.sub))
        ags.put_grade(grade, lineitem)
    except Exception as e:  # noqa: BLE001 - any failure: record it, let RQ retry
        sync.status, sync.last_error = "failed", f"{type(e).__name__}: {e}"[:2000]
        db.session.commit()
        if _in_worker():
            raise
        return "failed"
    sync.status, sync.last_error, sync.sent_at = "sent", None, utcnow()
    sync.score_given, sync.score_maximum = given, maximum
    db.session.commit()
    return "sent"


def syncs_for_cohort(cohort: Cohort) -> dict[int, GradeSync]:
    rows = db.session.execute(db.select(GradeSync).join(Participant, Participant.id == GradeSync.participant_id)
                              .where(Participant.cohort_id == cohort.id)).scalars()
    out: dict[int, GradeSync] = {}
    for row in rows:  # the worst status per participant wins (a failure must show)
        if row.participant_id not in out or row.status == "failed":
            out[row.participant_id] = row
    return out


# --- progress changes made anywhere in a request are sent once the response is ready -------------
def _progress_touched(session, _flush_context) -> None:
    """Note participants whose progress inputs changed in this flush (attendance, intake, submit)."""
    from flask import g, has_request_context
    from sqlalchemy import inspect

    from ..models import Attendance, Reflection

    if not has_request_context():
        return
    touched = g.setdefault("progress_touched", set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Attendance):
            touched.add(obj.participant_id)
        elif isinstance(obj, Reflection) and inspect(obj).attrs.status.history.has_changes():
            touched.add(obj.participant_id)
        elif isinstance(obj, Participant) and inspect(obj).attrs.intake_submitted_at.history.has_changes():
            touched.add(obj.id)


def send_touched_progress(response):
    """after_request: queue a score for every participant whose progress may have changed."""
    from flask import g

    touched = g.pop("progress_touched", None)
    if touched and response.status_code < 400:
        try:
            for participant_id in sorted(i for i in touched if i):
                schedule_for_participant(participant_id)
        except OperationalError as e:
            # The request's work is committed and the database went away after it: keep the person's answer
            # (not a 500 for work that was saved); the next change of their progress sends the score.
            log.error("grade passback not queued for participants %s: the database is unavailable (%s)",
                      sorted(i for i in touched if i), e)
            rollback_or_close()
    return response


def init_app(app) -> None:
    """Progress changed anywhere in a request (a reflection submitted, attendance, intake) queues an LMS
    score once the response is ready: a flush listener notes who, an after_request hook sends."""
    from sqlalchemy import event

    if not event.contains(db.session, "after_flush", _progress_touched):
        event.listen(db.session, "after_flush", _progress_touched)
    app.after_request(send_touched_progress)


def received(sync: GradeSync | None) -> dict:
    """What the LMS gradebook holds for a learner, as far as the tool knows: the last score it accepted,
    when, and how the latest attempt went ("accepted", "failed: …", "waiting", "nothing sent")."""
    if sync is None:
        return {"score": "", "at": None, "result": "nothing sent", "failed": False}
    score = f"{sync.score_given:g}/{sync.score_maximum:g}" if sync.sent_at and sync.score_maximum else ""
    result = {"sent": "accepted", "failed": f"failed: {sync.last_error or ''}"}.get(sync.status, "waiting")
    return {"score": score, "at": sync.sent_at, "result": result, "failed": sync.status == "failed"}
