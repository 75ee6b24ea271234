"""Facilitator views: thin wrappers over services.cohorts and services.roster."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..downloads import download
from ..auth import role_required
from ..jobs import enqueue
from ..lti.roles import FACILITATOR
from ..extensions import db
from ..models import MatchRun, OutboxMessage, Participant
from ..services import (audit, calendar_events, cohort_path, follow_ups, held_invites, invites, matchmaking,
                        notifications, outbox, teams, waiting, withdrawal)
from ..services import roster as roster_service
from ..services.slots import SLOT_CHOICES
from ..services.cohorts import cohort_in_course, roster, save_cohort
from ..services.courses import cohorts_in_course
from lab_curriculum.kit import DOCUMENTS as KIT_DOCUMENTS

from . import bp
from .forms import ActionForm, CohortForm, FollowUpForm, RosterUploadForm
from ..states import OutboxStatus, RunStatus


@bp.get("/")
@role_required(FACILITATOR)
def home():
    """The facilitator's landing page: the course's cohorts with their sizes and the step each is at."""
    cohorts = cohorts_in_course(g.lti.course)
    return render_template("facilitator/home.html", cohorts=cohorts,
                           steps={cohort.id: cohort_path.current_step(cohort) for cohort, _n in cohorts})


@bp.route("/cohorts/new", methods=["GET", "POST"])
@role_required(FACILITATOR)
def cohort_new():
    form = CohortForm()
    if form.validate_on_submit():
        cohort = save_cohort(form)
        flash(_("Cohort %(name)s created.", name=cohort.name), "success")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    return render_template("facilitator/cohort_form.html", form=form, cohort=None), 200 if not form.errors else 422


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(FACILITATOR)
def cohort_edit(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    form = CohortForm(obj=cohort if request.method == "GET" else None, original_day_one=cohort.day_one)
    if request.method == "GET":
        form.load_policy(cohort.policy or {})
    if form.validate_on_submit():
        save_cohort(form, cohort)
        stale = invites.people_out_of_date(cohort)
        if stale:
            flash(_("Cohort settings saved. %(n)s people have out-of-date invites: send them the updates below.",
                    n=stale), "warning")
        else:
            flash(_("Cohort settings saved."), "success")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    return render_template("facilitator/cohort_form.html", form=form, cohort=cohort), 200 if not form.errors else 422


def _follow_up_form(cohort, overview, **kwargs) -> FollowUpForm:
    return FollowUpForm(teams=[(row["team"].id, row["names"]) for row in overview], slots=SLOT_CHOICES, **kwargs)


def _cohort_page(cohort, status: int = 200, **context):
    """The cohort page; a form that failed validation comes in ``context`` to show its errors."""
    runs = matchmaking.latest_runs(cohort, limit=5)
    count = cohort_path.headcount(cohort)
    events = calendar_events.events_for(cohort)
    overview = follow_ups.follow_up_overview(cohort)
    context.setdefault("upload", RosterUploadForm())
    context.setdefault("follow_up", _follow_up_form(cohort, overview, formdata=None))
    return render_template("facilitator/cohort.html", cohort=cohort, people=roster(cohort), action=ActionForm(),
                           runs=runs, run_numbers={run.id: matchmaking.proposal_number(run) for run in runs}, mail=outbox.summary(cohort), count=count,
                           steps=cohort_path.steps(cohort, count=count), status_label=outbox.status_label, feed=calendar_events.current_feed(None, cohort), events=events,
                           overview=overview, dropouts=matchmaking.dropout_summary(cohort), waiting=waiting.panel(cohort),
                           kit_documents=KIT_DOCUMENTS, out_of_date=invites.people_out_of_date(cohort),
                           held=held_invites.holders(cohort.id),
                           **context), status


@bp.get("/cohorts/<int:cohort_id>")
@role_required(FACILITATOR)
def cohort(cohort_id: int):
    return _cohort_page(cohort_in_course(cohort_id))


@bp.post("/cohorts/<int:cohort_id>/feed")
@role_required(FACILITATOR)
def cohort_feed(cohort_id: int):
    """Create the whole-cohort subscription feed, or replace its address (the old one stops working)."""
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    had_feed = calendar_events.current_feed(None, cohort) is not None
    calendar_events.feed_for(None, cohort, rotate=had_feed)
    flash(_("The cohort's calendar address was replaced; the old address no longer works.") if had_feed
          else _("The cohort's private calendar address is ready."), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/roster/sync")
@role_required(FACILITATOR)
def roster_sync(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    try:
        job = enqueue("lti_tool.services.roster.sync_from_lms_job", cohort.id)
    except roster_service.RosterError as e:
        for problem in e.problems:
            flash(problem, "error")
    else:
        flash(_("Roster sync started; refresh in a moment to see new people.") if job
              else _("Roster synchronised with the LMS."), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/roster/upload")
@role_required(FACILITATOR)
def roster_upload(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    upload = RosterUploadForm()
    if upload.validate_on_submit():
        try:
            result = roster_service.import_csv(cohort, upload.file.data.read())
        except roster_service.RosterError as e:
            return _cohort_page(cohort, 422, upload=upload, csv_problems=e.problems)
        audit.record("roster_import", cohort=cohort, details={"added": result.added, "already": result.already})
        flash(_("Imported: %(added)s added, %(already)s already in the cohort.", added=result.added,
                already=result.already), "success")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    return _cohort_page(cohort, 422, upload=upload)


@bp.get("/roster-template.csv")
@role_required(FACILITATOR)
def roster_template():
    return download("\ufeff" + roster_service.csv_template(), "roster-template.csv", "text/csv")


# --- matching -------------------------------------------------------------------------------------

def _run_in_cohort(cohort, run_id: int) -> MatchRun:
    run = db.session.get(MatchRun, run_id)
    if run is None or run.cohort_id != cohort.id:
        abort(404)
    return run


@bp.post("/cohorts/<int:cohort_id>/match")
@role_required(FACILITATOR)
def match_start(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    run = matchmaking.start_run(cohort, g.lti.user)
    return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)


@bp.get("/cohorts/<int:cohort_id>/match/<int:run_id>")
@role_required(FACILITATOR)
def match_review(cohort_id: int, run_id: int):
    cohort = cohort_in_course(cohort_id)
    run = _run_in_cohort(cohort, run_id)
    previous = db.session.execute(db.select(MatchRun).where(
        MatchRun.cohort_id == cohort.id, MatchRun.id < run.id, MatchRun.status == RunStatus.DONE)
        .order_by(MatchRun.id.desc())).scalars().first()
    diff = matchmaking.compare(run.result, previous.result) if previous and run.result else None
    names = matchmaking.names(run)
    changed = sorted(names.get(str(pid), str(pid)) for pid in ((run.result or {}).get("stats") or {}).get("changed", []))
    return render_template("facilitator/match.html", cohort=cohort, run=run, names=names,
                           previous=previous, diff=diff, action=ActionForm(), changed=changed,
                           explained=matchmaking.explain(run, cohort), stuck=matchmaking.is_stuck(run),
                           previous_number=matchmaking.proposal_number(previous) if previous else None)


@bp.get("/cohorts/<int:cohort_id>/match/<int:run_id>/status.json")
@role_required(FACILITATOR)
def match_status(cohort_id: int, run_id: int):
    run = _run_in_cohort(cohort_in_course(cohort_id), run_id)
    return {"status": run.status, "progress": run.progress, "error": run.error}


@bp.post("/cohorts/<int:cohort_id>/match/<int:run_id>/retry")
@role_required(FACILITATOR)
def match_retry(cohort_id: int, run_id: int):
    """Run a failed proposal again, or one stuck past MATCH_RUN_TIMEOUT_SECONDS (a lost job or a dead worker)."""
    cohort = cohort_in_course(cohort_id)
    run = _run_in_cohort(cohort, run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if run.status != RunStatus.FAILED and not matchmaking.is_stuck(run):
        flash(_("This proposal is still being worked out; wait for it to finish."), "error")
        return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)
    new_run = matchmaking.retry_run(run, g.lti.user)
    return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=new_run.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/match/<int:run_id>/adjust")
@role_required(FACILITATOR)
def match_adjust(cohort_id: int, run_id: int):
    """Pin, forbid or swap, then re-run straight away."""
    cohort = cohort_in_course(cohort_id)
    run = _run_in_cohort(cohort, run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "clear":
        cohort.pinned_pairs, cohort.forbidden_pairs = [], []
        db.session.commit()
        new_run = matchmaking.start_run(cohort, g.lti.user, kind=run.kind)
        return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=new_run.id), code=303)
    ids = {int(p["id"]) for p in (run.pool or {}).get("participants", [])}
    try:
        a, b = int(request.form.get("a", "")), int(request.form.get("b", ""))
    except ValueError:
        abort(400)
    if a not in ids or b not in ids or a == b:
        flash(_("Choose two different people from this proposal."), "error")
        return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)
    action = request.form.get("action")
    try:
        if action == "pin":
            matchmaking.refuse_if_hard_rule_broken(run, [a, b])
            matchmaking.add_pair(cohort, "pinned_pairs", a, b)
        elif action == "forbid":
            matchmaking.add_pair(cohort, "forbidden_pairs", a, b)
        elif action == "swap":
            matchmaking.swap(cohort, run, a, b)
        else:
            abort(400)
    except ValueError as e:
        flash(str(e), "error")
        return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)
    new_run = matchmaking.start_run(cohort, g.lti.user, kind=run.kind)
    return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=new_run.id), code=303)


@bp.get("/cohorts/<int:cohort_id>/match/<int:run_id>/publish")
@role_required(FACILITATOR)
def match_publish_preview(cohort_id: int, run_id: int):
    """What publishing would send, person by person, with the counts; the confirm button posts the publish."""
    cohort = cohort_in_course(cohort_id)
    run = _run_in_cohort(cohort, run_id)
    if run.status != RunStatus.DONE or run.published_at:
        flash(_("This proposal is already published.") if run.published_at
              else _("This proposal is not ready to publish."), "error")
        return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)
    return render_template("facilitator/publish_preview.html", cohort=cohort, run=run,
                           preview=notifications.publish_preview(run), action=ActionForm())


@bp.post("/cohorts/<int:cohort_id>/match/<int:run_id>/publish")
@role_required(FACILITATOR)
def match_publish(cohort_id: int, run_id: int):
    cohort = cohort_in_course(cohort_id)
    run = _run_in_cohort(cohort, run_id)
    if not ActionForm().validate_on_submit() or run.status != RunStatus.DONE:
        abort(400)
    if run.published_at:
        abort(409)
    teams, new, queued = notifications.publish_and_announce(run)
    audit.record("publish", cohort=cohort, details={"run": run.id, "kind": run.kind, "teams": len(teams),
                                                    "new_teams": len(new)})
    if run.kind == "rematch":
        flash(_("Re-match approved: %(n)s new teams; every other team stays as it was. The people in new teams "
                "have been told by email.", n=len(new)), "success")
    else:
        flash(_("%(n)s teams published. Learners now see their partner and the reasons, and have been told by "
                "email.", n=len(teams)), "success")
    if queued:
        flash(_("%(n)s calendar invites and updates are on their way.", n=queued), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


# --- drop-outs ------------------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/participants/<int:participant_id>/remove", methods=["GET", "POST"])
@role_required(FACILITATOR)
def participant_remove(cohort_id: int, participant_id: int):
    """Take someone out of the cohort (they told the facilitator they cannot take part), after a confirmation."""
    cohort = cohort_in_course(cohort_id)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.cohort_id != cohort.id:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        withdrawal.withdraw(participant)
        audit.record("removal", cohort=cohort, details={"participant": participant.id})
        flash(_("%(name)s is no longer in this cohort.", name=participant.user.name or _("The participant")), "success")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id, _anchor="dropouts-h"), code=303)
    return render_template("facilitator/remove.html", cohort=cohort, participant=participant, action=form,
                           team=teams.my_team(participant))


@bp.post("/cohorts/<int:cohort_id>/rematch")
@role_required(FACILITATOR)
def rematch_start(cohort_id: int):
    """Re-pair only the people left without a team; every other team stays."""
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if matchmaking.dropout_summary(cohort) is None:
        flash(_("Nobody is waiting for a new partner."), "error")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    run = matchmaking.start_run(cohort, g.lti.user, kind="rematch")
    return redirect(url_for("facilitator.match_review", cohort_id=cohort.id, run_id=run.id), code=303)


# --- schedule and invites -------------------------------------------------------------------------

@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
@role_required(FACILITATOR)
def cohort_calendar(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    audit.record("export", cohort=cohort, details={"what": "cohort_calendar"})
    return download(calendar_events.calendar_for(cohort), f"{cohort.slug}.ics", "text/calendar")


@bp.get("/cohorts/<int:cohort_id>/events/<int:event_id>.ics")
@role_required(FACILITATOR)
def event_calendar(cohort_id: int, event_id: int):
    cohort = cohort_in_course(cohort_id)
    body = calendar_events.event_calendar(cohort, event_id)
    if body is None:
        abort(404)
    audit.record("export", cohort=cohort, details={"what": "event_calendar", "event": event_id})
    return download(body, f"{cohort.slug}-event-{event_id}.ics", "text/calendar")


@bp.post("/cohorts/<int:cohort_id>/invites/updates")
@role_required(FACILITATOR)
def send_invite_updates(cohort_id: int):
    """The one confirmed step after a change of dates, times or venue: updates to everyone who has an old invite."""
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    stale = invites.people_out_of_date(cohort)
    queued = invites.send_updates(cohort)
    audit.record("invite_updates", cohort=cohort, details={"people": stale, "messages": queued})
    flash(_("Updates sent to %(n)s people (%(m)s messages). See the messages below for their delivery.",
            n=stale, m=queued), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/invites")
@role_required(FACILITATOR)
def send_invites(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    queued = invites.queue_invites(cohort)
    job = outbox.deliver_later(cohort)
    if job:
        flash(_("Invites: %(queued)s new, updated or cancelled; they are being sent in the background.",
                queued=queued), "success")
    else:
        failed = db.session.execute(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.cohort_id == cohort.id, OutboxMessage.status == OutboxStatus.FAILED)).scalar()
        flash(_("Invites: %(queued)s new, updated or cancelled; %(failed)s messages failed and will be retried.",
                queued=queued, failed=failed), "error" if failed else "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/follow-ups")
@role_required(FACILITATOR)
def follow_up_change(cohort_id: int):
    """Move or cancel one follow-up meeting of a team, or move its whole series to another weekly time."""
    cohort = cohort_in_course(cohort_id)
    by_id = {team.id: team for team in teams.active_teams(cohort)}
    form = _follow_up_form(cohort, follow_ups.follow_up_overview(cohort))
    if form.validate_on_submit():
        team = by_id[form.team.data]  # the choices are this cohort's active teams
        try:
            if form.change.data == "series":
                queued = follow_ups.set_series_slot(team, form.slot.data)
            elif form.change.data == "cancel":
                queued = follow_ups.cancel_meeting(team, form.occurrence.data)
            else:
                queued = follow_ups.move_meeting(team, form.occurrence.data, form.new_time.data, form.new_date.data)
        except follow_ups.FollowUpError as e:
            form[e.field].errors = [*form[e.field].errors, e.message]
        else:
            flash(_("Follow-up meetings changed; %(n)s calendar messages queued for people already invited.",
                    n=queued), "success")
            return redirect(url_for("facilitator.cohort", cohort_id=cohort.id) + "#follow-ups-h", code=303)
    return _cohort_page(cohort, 422, follow_up=form)


def _message_in_cohort(cohort, message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.cohort_id != cohort.id:
        abort(404)
    return message


@bp.post("/cohorts/<int:cohort_id>/outbox/<int:message_id>/retry")
@role_required(FACILITATOR)
def outbox_retry(cohort_id: int, message_id: int):
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    message = _message_in_cohort(cohort, message_id)
    if held_invites.superseded(message):
        flash(_("Not sent again: a newer message already brings this to %(who)s.", who=message.recipient), "info")
    elif outbox.retry(message) is not None:
        flash(_("Retry started; the message is being sent in the background."), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.get("/cohorts/<int:cohort_id>/outbox/<int:message_id>.eml")
@role_required(FACILITATOR)
def outbox_download(cohort_id: int, message_id: int):
    cohort = cohort_in_course(cohort_id)
    message = _message_in_cohort(cohort, message_id)
    audit.record("export", cohort=cohort, details={"what": "message", "message": message.id})
    return download(message.body, f"message-{message.id}.eml", "message/rfc822")
