from datetime import timedelta

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..downloads import download
from ..auth import role_required
from ..lti.roles import LEARNER
from ..facilitator.forms import ActionForm
from ..services import calendar_events, check_ins, data_rights, intake, slots, teams, withdrawal
from ..services.courses import learner_cohorts
from ..services.progress import progress_for
from ..services.skills import taxonomy
from . import bp
from .access import learner_participant_or_404
from .forms import COMMON_TIMEZONES, TIMEZONES, CheckInForm, IntakeForm, PreferenceForm, WithdrawForm
from .next_step import cohort_today, next_step
from .wording import reasons_for_reader
from ..states import ParticipantStatus


@bp.get("/")
@role_required(LEARNER)
def home():
    """The learner's landing page: per cohort, intake status and next step, or partner and pod."""
    cards = []
    for cohort in learner_cohorts(g.lti):
        me = intake.learner_participant(g.lti.course, g.lti.user.id, cohort.id)
        team = teams.my_team(me)
        partners, pod = [], []
        if team is not None:
            people = teams.participants_by_id(team.member_ids)
            partners = [people[i] for i in team.member_ids if i != me.id and i in people]
            for other in teams.pod_teams(team):
                members = teams.participants_by_id(other.member_ids)
                pod.append([members[i] for i in other.member_ids if i in members])
        feed = calendar_events.current_feed(me, cohort)
        events = calendar_events.events_for(cohort, me) if cohort.day_one and me.status == ParticipantStatus.ENROLLED else []
        published = teams.is_published(cohort)
        progress = progress_for([me]).get(me.id)
        cards.append({"cohort": cohort, "me": me, "team": team, "partners": partners, "pod": pod,
                      "progress": progress, "step": next_step(cohort, me, team, published, progress, partners),
                      "reasons": reasons_for_reader(team.reasons, g.lti.user.name) if team else [],
                      "published": published, "feed": feed, "events": events,
                      "check_ins": [(row, check_ins.local_start(row, cohort)) for row in check_ins.open_for(me)]})
    # The forms (and the CSRF token they carry) only where a cohort card shows them.
    forms = {"action": ActionForm(), "check_in_form": CheckInForm()} if cards else {}
    return render_template("learner/home.html", cards=cards, **forms)


@bp.get("/cohorts/<int:cohort_id>/partner")
@role_required(LEARNER)
def partner(cohort_id: int):
    """My partner(s) in my active team: who, how to reach them, what we give each other, when we are
    both free (on my clock), and what to do next."""
    me = learner_participant_or_404(cohort_id)
    team = teams.my_team(me) if me.status == ParticipantStatus.ENROLLED else None
    if team is None:
        abort(404)
    people = teams.participants_by_id(team.member_ids)
    partners = [people[i] for i in team.member_ids if i != me.id and i in people]
    cohort = me.cohort
    week_of = (cohort.day_two or cohort.day_one or cohort_today(cohort)) + timedelta(days=7)
    zone = me.timezone or cohort.timezone
    free = [slots.slot_label_in(s, cohort.timezone, zone, week_of) for s in slots.shared([me, *partners])]
    step = next_step(cohort, me, team, True, progress_for([me]).get(me.id), partners)
    return render_template("learner/partner.html", me=me, cohort=cohort, team=team, step=step, zone=zone,
                           free=free, rows=[(p, *intake.exchange(me, p)) for p in partners], intake=intake)


@bp.get("/how-it-works")
@role_required(LEARNER)
def how_it_works():
    """The idea of the lab in plain words: both teach and learn, why gender is asked, who sees what."""
    return render_template("learner/how_it_works.html", max_requests=intake.MAX_REQUESTS)


INTAKE_STEPS = [("about", _l("About you")), ("offer", _l("What you offer")), ("learn", _l("What you want to learn")),
                ("free", _l("When you are free")), ("review", _l("Review and submit"))]


def _render_intake(me, form, status=200):
    return render_template(
        "learner/intake.html", me=me, cohort=me.cohort, form=form, taxonomy=taxonomy(),
        weekdays=slots.WEEKDAYS, hours=slots.HOURS, visible_fields=dict(intake.VISIBLE_FIELDS),
        availability=[slots.slot_label(s) for s in slots.SLOTS if s in set(me.availability or [])],
        intake=intake, steps=INTAKE_STEPS, timezones=list(dict.fromkeys(COMMON_TIMEZONES + TIMEZONES)),
        published=teams.is_published(me.cohort), closed=not intake.intake_open(me), roster=teams.participants_by_id(
            [me.manager_participant_id] if me.manager_participant_id else [])), status


@bp.route("/cohorts/<int:cohort_id>/intake", methods=["GET", "POST"])
@role_required(LEARNER)
def intake_page(cohort_id: int):
    me = learner_participant_or_404(cohort_id)
    if me.status == ParticipantStatus.WITHDRAWN:
        flash(_("You have withdrawn from this lab."), "info")
        return redirect(url_for(".home"))
    form = IntakeForm()
    form.set_choices(intake.cohort_roster(me.cohort), me)
    if request.method == "GET":
        form.load(me)
        return _render_intake(me, form)
    if not intake.intake_open(me):
        flash(_("Teams are published, so your intake can no longer change."), "error")
        return _render_intake(me, form, 409)
    submitting = bool(form.submit_intake.data)
    if not form.validate():
        return _render_intake(me, form, 422)
    values = form.values()
    missing = intake.missing_for_submit(values) if submitting else {}
    intake.save_intake(me, values, submit=submitting and not missing)
    if missing:
        for name, message in missing.items():
            form[name].errors = list(form[name].errors) + [message]
        return _render_intake(me, form, 422)
    if submitting and teams.is_published(me.cohort):
        flash(_("Thank you: your intake is submitted. You are on the waiting list: your facilitator will pair "
                "you with someone, and you will get an email with your partner's name."), "success")
        return redirect(url_for(".home"))
    if submitting:
        flash(_("Thank you: your intake is submitted. You can still change it until teams are published."),
              "success")
        return redirect(url_for(".people", cohort_id=cohort_id))
    flash(_("Draft saved."), "success")
    return redirect(url_for(".intake_page", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/intake/draft")
@role_required(LEARNER)
def intake_autosave(cohort_id: int):
    """Autosave (JSON): the intake form posted by script with the CSRF token in X-CSRFToken."""
    me = learner_participant_or_404(cohort_id)
    if me.status == ParticipantStatus.WITHDRAWN or not intake.intake_open(me):
        return jsonify(saved=False, message=_("Your intake can no longer change.")), 409
    form = IntakeForm()
    form.set_choices(intake.cohort_roster(me.cohort), me)
    if not form.validate():
        return jsonify(saved=False, errors={k: [str(e) for e in v] for k, v in form.errors.items()},
                       message=_("Not saved: please check the highlighted fields.")), 422
    intake.save_intake(me, form.values())
    return jsonify(saved=True, message=_("Saved"), saved_at=me.intake_updated_at.isoformat() + "Z")


@bp.get("/cohorts/<int:cohort_id>/people")
@role_required(LEARNER)
def people(cohort_id: int):
    me = learner_participant_or_404(cohort_id)
    filters = {k: (request.args.get(k) or "").strip()[:200] for k in ("skill", "department", "location")}
    rows = [(p, *intake.mutual_learning(me, p)) for p in intake.browsable(me, **filters)]
    prefs = intake.my_preferences(me)
    return render_template(
        "learner/people.html", me=me, cohort=me.cohort, rows=rows, filters=filters,
        options=intake.filter_options(me), prefs=prefs, form=PreferenceForm(),
        requests=sum(1 for k in prefs.values() if k == "request"), max_requests=intake.MAX_REQUESTS,
        closed=teams.is_published(me.cohort), labels=dict(intake.LEVELS), genders=dict(intake.GENDERS),
        managers=teams.participants_by_id({p.manager_participant_id for p, *_ in rows if p.manager_participant_id}))


@bp.post("/cohorts/<int:cohort_id>/people/<int:other_id>")
@role_required(LEARNER)
def preference(cohort_id: int, other_id: int):
    me = learner_participant_or_404(cohort_id)
    form = PreferenceForm()
    if not form.validate():
        abort(400)
    action = form.action.data
    if action not in ("request", "decline", "undo"):
        abort(400)
    try:
        intake.set_preference(me, other_id, None if action == "undo" else action)
    except LookupError:
        abort(404)
    except intake.IntakeClosed:
        flash(_("Teams are published, so partner requests can no longer change."), "error")
    except intake.PreferenceError as e:
        flash(str(e), "error")
    else:
        flash({"request": _("Partner requested."), "decline": _("Declined: you will not be paired."),
               "undo": _("Undone.")}[action], "success")
    return redirect(url_for(".people", cohort_id=cohort_id, **{k: v for k, v in request.args.items()
                                                                 if k in ("skill", "department", "location")})
                    + f"#person-{other_id}")


@bp.route("/cohorts/<int:cohort_id>/withdraw", methods=["GET", "POST"])
@role_required(LEARNER)
def withdraw(cohort_id: int):
    me = learner_participant_or_404(cohort_id)
    form = WithdrawForm()
    if me.status == ParticipantStatus.WITHDRAWN:
        flash(_("You have withdrawn from this lab."), "info")
        return redirect(url_for(".home"))
    if data_rights.has_ended(me.cohort):
        flash(_("%(cohort)s has ended: there is nothing left to leave. You can still download or delete your data.",
                cohort=me.cohort.name), "info")
        return redirect(url_for(".my_data"))
    if request.method == "POST" and form.validate():
        withdrawal.withdraw(me, form.reason.data or None)
        flash(_("You have withdrawn from this lab. Thank you for letting us know."), "success")
        return redirect(url_for(".home"))
    return render_template("learner/withdraw.html", me=me, cohort=me.cohort, form=form)


@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
@role_required(LEARNER)
def my_calendar(cohort_id: int):
    """The lab days and my team's follow-up meetings, to import into any calendar."""
    me = learner_participant_or_404(cohort_id)
    return download(calendar_events.calendar_for(me.cohort, me), "reciprocal-mentoring-lab.ics", "text/calendar")


@bp.get("/cohorts/<int:cohort_id>/events/<int:event_id>.ics")
@role_required(LEARNER)
def my_event(cohort_id: int, event_id: int):
    """One of my events on its own (a lab block, or my team's follow-up series with its changes)."""
    me = learner_participant_or_404(cohort_id)
    body = calendar_events.event_calendar(me.cohort, event_id, me)
    if body is None:
        abort(404)
    return download(body, f"lab-event-{event_id}.ics", "text/calendar")


@bp.post("/cohorts/<int:cohort_id>/feed")
@role_required(LEARNER)
def my_feed(cohort_id: int):
    """Create (or replace, revoking the old address) my private subscription feed."""
    me = learner_participant_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    calendar_events.feed_for(me, me.cohort, rotate=request.form.get("rotate") == "1")
    flash(_("Your private calendar address is ready."), "success")
    return redirect(url_for("learner.home"), code=303)


@bp.post("/cohorts/<int:cohort_id>/check-ins/<int:check_in_id>")
@role_required(LEARNER)
def check_in(cohort_id: int, check_in_id: int):
    """Answer "Did you meet?" about one of my follow-up meetings, from my home page."""
    me = learner_participant_or_404(cohort_id)
    row = check_ins.mine(me, check_in_id)
    if row is None or me.status == ParticipantStatus.WITHDRAWN:
        abort(404)
    form = CheckInForm()
    if not form.validate():
        abort(400)
    check_ins.answer(row, form.answer.data)
    flash(_("Thank you: your answer is saved."), "success")
    return redirect(url_for(".home"), code=303)
