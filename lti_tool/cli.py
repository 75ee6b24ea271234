"""Command line: ``flask --app lti_tool platform|keys|demo …`` (``db upgrade`` comes from Flask-Migrate)."""
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


def init_app(app: Flask) -> None:
    for group in (platform_cli, keys_cli, demo_cli, invites_cli):
        app.cli.add_command(group)
