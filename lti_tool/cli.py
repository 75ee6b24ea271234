"""Command line: ``flask --app lti_tool platform|keys|demo|invites|data|audit|bench …`` (``db upgrade`` comes from Flask-Migrate)."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db
from .models import Deployment, Platform

platform_cli = AppGroup("platform", help="Register LMS platforms with the tool.")
keys_cli = AppGroup("keys", help="Manage the tool's signing keys.")
demo_cli = AppGroup("demo", help="Demo data for a local click-through.")


@platform_cli.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss).")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--deployment-id", required=True, multiple=True, help="Deployment id(s); repeat for several.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
@click.option("--jwks-url", required=True, help="The platform's public key set URL.")
@click.option("--name", default="", help="A name to show administrators.")
def platform_add(issuer, client_id, deployment_id, auth_login_url, auth_token_url, jwks_url, name):
    """Register a platform and its deployment(s). Running it again updates, never duplicates.

    This is the only way to change an existing platform's endpoints or keys; every change is logged.
    """
    from .lti.registration import RegistrationError, save_platform

    try:
        for dep in deployment_id:
            platform = save_platform(issuer=issuer, client_id=client_id, deployment_id=dep,
                                     auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                                     jwks_url=jwks_url, name=name)
    except RegistrationError as e:
        raise click.BadParameter(str(e)) from e
    click.echo(f"Platform {platform.name} (issuer {issuer}, client id {client_id}) registered with "
               f"deployment(s) {', '.join(deployment_id)}.")


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m`` (minutes) or ``2w`` as a timedelta."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise click.BadParameter(f"{text!r}: use a number and a unit, e.g. 30m, 12h, 7d or 2w")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


@platform_cli.command("invite")
@click.option("--expires", default="7d", show_default=True, help="How long the link stays usable (30m, 12h, 7d, 2w).")
@click.option("--lms-url", default=None, help="The LMS's address; only that LMS may then use the link.")
@click.option("--label", default="", help="A note for yourself, e.g. which LMS the link is for.")
def platform_invite(expires, lms_url, label):
    """Print a one-time LTI Dynamic Registration link to paste into Moodle or Canvas."""
    from .lti.registration import RegistrationError, create_invite, invite_url

    try:
        token, invite = create_invite(parse_duration(expires), lms_url, label)
    except RegistrationError as e:
        raise click.BadParameter(str(e)) from e
    click.echo(invite_url(token))
    click.echo(f"Single use; valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC"
               + (f"; only for {invite.lms_origin}" if invite.lms_origin else "") + ".", err=True)


@platform_cli.command("list")
def platform_list():
    """List registered platforms and their deployments."""
    platforms = db.session.execute(db.select(Platform).order_by(Platform.id)).scalars().all()
    if not platforms:
        click.echo("No platforms registered. Use `platform add` or LTI Dynamic Registration.")
    for p in platforms:
        deps = db.session.execute(
            db.select(Deployment.deployment_id).where(Deployment.platform_id == p.id).order_by(Deployment.id)
        ).scalars().all()
        click.echo(f"{p.id}\t{p.name}\tissuer={p.issuer}\tclient_id={p.client_id}\t"
                   f"deployments={','.join(deps) or '-'}\tvia={p.registered_via}")


@keys_cli.command("rotate")
def keys_rotate():
    """Add a new signing key; the previous public key stays in /lti/jwks for the grace period."""
    from .lti import keys

    key = keys.rotate()
    click.echo(f"New signing key {key.kid}; retired keys stay published for the grace period.")


@demo_cli.command("seed")
def demo_seed():
    """Create the demo course, people and cohort on the development platform."""
    from .demo import seed

    summary = seed()
    click.echo(summary)


invites_cli = AppGroup("invites", help="Calendar invites for the lab and follow-up meetings.")


@invites_cli.command("send")
@click.option("--cohort", "cohort_id", type=int, default=None, help="Only this cohort (default: every cohort).")
def invites_send(cohort_id):
    """Queue invites and updates for changed events, then send the outbox (SMTP_URL or .eml files)."""
    from .services.invites import send_due

    result = send_due(cohort_id)
    click.echo(f"{result['queued']} queued, {result['sent']} sent, {result['written']} written to the outbox "
               f"folder, {result['failed']} failed (kept for retry).")


@invites_cli.command("sweep")
def invites_sweep():
    """What the periodic job does: fail stuck matching runs, flag interrupted sends, send what is due."""
    from .services.upkeep import sweep

    click.echo(", ".join(f"{value} {name.replace('_', ' ')}" for name, value in sweep().items()))


check_ins_cli = AppGroup("check-ins", help="After follow-up meetings: ask both partners \"Did you meet?\".")


@check_ins_cli.command("send")
@click.option("--cohort", "cohort_id", type=int, default=None, help="Only this cohort (default: every cohort).")
def check_ins_send(cohort_id):
    """Ask about every follow-up meeting that has ended (once per person and meeting), then send the outbox.

    Run it every hour or so (deploy/systemd/mentoring-lab-check-ins.timer); running it again asks nobody twice.
    """
    from .services.check_ins import send_due

    result = send_due(cohort_id)
    click.echo(f"{result['check_ins']} people asked, {result['sent']} sent, {result['written']} written to the "
               f"outbox folder, {result['failed']} failed (kept for retry).")


data_cli = AppGroup("data", help="Personal data: retention clean-up.")


@data_cli.command("purge")
@click.option("--older-than", "older_than", default=None, metavar="PERIOD",
              help="Cohorts that ended longer ago than this: 18m (months), 90d (days) or 2y (years). "
                   "Default: the RETENTION_MONTHS setting (18).")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def data_purge(older_than, dry_run):
    """Remove the personal data of cohorts that ended longer ago than the retention period.

    A cohort ends with its last follow-up meeting (or its second lab day when it had no teams).
    Anonymous ratings stay, so organisation-wide figures hold; each cohort purged is logged.
    """
    from .services import data_rights

    text = older_than or f"{data_rights.retention_months()}m"
    try:
        period = data_rights.parse_period(text)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--older-than") from e
    plans = data_rights.purge_plan(period)
    if not plans:
        click.echo(f"No cohort that ended more than {text} ago holds personal data.")
        return
    for plan in plans:
        click.echo(f"{'Would purge' if dry_run else 'Purging'} cohort {plan.cohort.id} \"{plan.cohort.name}\" "
                   f"(ended {plan.ended.isoformat()}): {plan.people} people, {plan.messages} messages.")
    if dry_run:
        click.echo(f"Dry run: nothing removed. {len(plans)} cohort(s) would be purged.")
        return
    done = data_rights.purge(period)
    click.echo(f"Purged {len(done)} cohort(s): {sum(c['people'] for _, c in done)} people's data removed, "
               f"anonymous ratings kept.")


audit_cli = AppGroup("audit", help="The audit log of what was done with people's data.")


@audit_cli.command("export")
@click.option("--deployment", "deployment_id", required=True, help="The deployment id, as `platform list` shows it.")
@click.option("--issuer", default=None, help="The platform's issuer, when two platforms use the same deployment id.")
@click.option("--action", default=None, help="Only this action (export, deletion, removal, publish, ...).")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def audit_export(deployment_id, issuer, action, output):
    """Write a deployment's audit log as CSV (the same as the L&D download)."""
    from .services import audit

    if action and action not in audit.ACTIONS:
        raise click.BadParameter(f"choose one of {', '.join(audit.ACTIONS)}", param_hint="--action")
    query = db.select(Deployment).join(Platform).where(Deployment.deployment_id == deployment_id)
    if issuer:
        query = query.where(Platform.issuer == issuer)
    found = db.session.execute(query).scalars().all()
    if len(found) != 1:
        raise click.BadParameter(f"{len(found)} deployments have the id {deployment_id!r}"
                                 + ("; add --issuer" if found else ""), param_hint="--deployment")
    rows = audit.entries(found[0].id, action=action)
    audit.record("audit_export", deployment=found[0], details={"rows": len(rows), "action": action})
    output.write(audit.as_csv(rows).lstrip("\ufeff"))


bench_cli = AppGroup("bench", help="Benchmark data (never on a production database).")


@bench_cli.command("seed")
@click.option("--learners", default=50_000, show_default=True, help="Learners (one cohort each).")
@click.option("--cohorts", default=3_000, show_default=True, help="Cohorts in the course.")
@click.option("--reflections", default=1_000_000, show_default=True, help="Submitted reflections in all.")
@click.option("--context-id", default="bench-enterprise", show_default=True, help="The LMS course (context) id.")
@click.option("--deployment-id", default=None, help="The deployment to fill (default: the only one).")
def bench_seed(learners, cohorts, reflections, context_id, deployment_id):
    """Fill one course with generated people, cohorts, teams and reflections, in bulk."""
    from .bench_seed import seed

    try:
        counts = seed(learners=learners, cohorts=cohorts, reflections=reflections, context_id=context_id,
                      deployment_id=deployment_id)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--deployment-id") from e
    click.echo(", ".join(f"{k}={v}" for k, v in counts.items()))


def init_app(app: Flask) -> None:
    for group in (platform_cli, keys_cli, demo_cli, invites_cli, check_ins_cli, data_cli, audit_cli, bench_cli):
        app.cli.add_command(group)
