"""Thin views over pylti1p3 (wrapped in launch.py) and the registration service."""
from __future__ import annotations

from flask import g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pylti1p3.deep_link_resource import DeepLinkResource

from ..auth import landing_endpoint, launch_context_of, launch_required, role_required, start_session
from ..extensions import csrf, db
from ..lti.roles import FACILITATOR
from ..models import Cohort
from ..security import with_script_nonce
from . import claims, keys
from .landing import keep_launch_after_failed_landing, landing_response
from .forms import DeepLinkForm, ProfileForm, RegisterForm
from .launch import message_launch, oidc_login, restore_launch
from .registration import (RegistrationError, fetch_openid_configuration, frame_origins_for, manual_configuration,
                           open_invite, public_url, register_with_platform, tool_urls)
from .sync import _get_or_create, slugify, sync_launch
from . import bp


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party login initiation; checks cookies work in the iframe first."""
    # The check page is our own template (ToolOIDCLogin), with its own wording: pylti1p3's texts are unused.
    response = oidc_login().enable_check_cookies().redirect(public_url("lti.launch"))
    return with_script_nonce(response)


@bp.route("/launch", methods=["POST"])
@csrf.exempt
def launch():
    launch = message_launch()
    data = launch.get_launch_data()  # validates state, nonce, signature, registration, deployment
    synced = sync_launch(data, launch.get_client_id(), used_nonce=launch.used_nonce)
    start_session(launch.get_launch_id(), synced)
    g.launch_context = launch_context_of(synced)  # the landing page's, without reading it back
    g.launched = True  # counted by observability, whatever the landing page answers
    if launch.is_deep_link_launch():
        db.session.commit()
        return redirect(url_for("lti.deep_link"), code=303)
    # The landing page reads in the launch's own transaction, which is committed after it: one
    # transaction for the whole launch instead of a second one (BEGIN … ROLLBACK) for the page's reads.
    try:
        response = landing_response(landing_endpoint(synced.roles))
    except Exception:
        keep_launch_after_failed_landing()
        raise
    db.session.commit()
    return response


@bp.get("/jwks")
def jwks():
    response = jsonify(keys.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config")
def config():
    """Values an administrator needs to register the tool by hand (Open edX, any LMS)."""
    return jsonify(manual_configuration())


@bp.get("/setup")
def setup():
    """The same values as /lti/config, as a page with per-LMS instructions."""
    return render_template("lti/setup.html", config=manual_configuration())


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Without a one-time link nothing is fetched: say how to get one."""
    return render_template("lti/register.html", error=_(
        "LTI Dynamic Registration needs a one-time registration link. Ask the tool's administrator to run "
        "`flask --app lti_tool platform invite` and paste the address it prints into your LMS's tool "
        "registration page."), form=None), 403


@bp.route("/register/<token>", methods=["GET", "POST"])
def register_with_invite(token: str):
    """LTI Dynamic Registration through a one-time link: the LMS opens it with openid_configuration."""
    try:
        invite = open_invite(token)
    except RegistrationError as e:
        return render_template("lti/register.html", error=str(e), form=None), e.status
    form = RegisterForm()
    if request.method == "GET":
        form.openid_configuration.data = request.args.get("openid_configuration", "")
        form.registration_token.data = request.args.get("registration_token", "")
    configuration_url = form.openid_configuration.data or ""
    g.frame_origins = frame_origins_for(invite, configuration_url)
    if request.method == "GET":
        if not configuration_url:
            return render_template("lti/register.html", error=_(
                "This one-time link is for LTI Dynamic Registration: paste it into your LMS's tool "
                "registration page rather than opening it directly."), form=None), 400
        try:
            platform = fetch_openid_configuration(configuration_url, form.registration_token.data, invite)
        except RegistrationError as e:
            return render_template("lti/register.html", error=str(e), form=None), e.status
        g.frame_origins = frame_origins_for(invite, configuration_url, platform)
        return render_template("lti/register.html", form=form, platform=platform, urls=tool_urls())
    if not form.validate_on_submit():
        return render_template("lti/register.html", error=_("The registration form expired; start again from your LMS."),
                               form=None), 400
    try:
        platform = register_with_platform(configuration_url, form.registration_token.data or None, token)
    except RegistrationError as e:
        return render_template("lti/register.html", error=str(e), form=None), e.status
    return with_script_nonce(render_template("lti/registered.html", platform=platform))


@bp.route("/deep-link", methods=["GET", "POST"])
@role_required(FACILITATOR, course=False)
def deep_link():
    """Let an instructor add the lab to the course: returns a signed LtiResourceLink item."""
    launch = restore_launch(g.lti.launch_id)  # None: only a deep linking launch keeps its data
    if launch is None or not launch.is_deep_link_launch():
        return render_template("errors/error.html", title=_("Not an activity picker launch"),
                               message=_("Open this from your course's 'add activity' picker."),
                               request_id=g.request_id), 400
    form = DeepLinkForm()
    if not form.validate_on_submit():
        return render_template("lti/deep_link.html", form=form)
    slug = slugify(form.cohort.data)
    if g.lti.course is not None:  # safe when two instructors add the same cohort at once
        _get_or_create(Cohort, course_id=g.lti.course.id, slug=slug, defaults={"name": form.cohort.data.strip()})
        db.session.commit()
    resource = (
        DeepLinkResource()
        .set_url(tool_urls()["launch_url"])
        .set_title(form.title.data.strip())
        .set_custom_params({"cohort": slug})
    )
    item = resource.to_dict()
    if form.text.data:
        item["text"] = form.text.data.strip()
    deep_link = launch.get_deep_link()
    message = deep_link.get_message_jwt([resource])
    message["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] = [item]
    settings = launch.get_launch_data().get(claims.DEEP_LINKING_SETTINGS) or {}
    if settings.get("data") is None:
        message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
    token = deep_link.encode_jwt(message)
    return with_script_nonce(render_template(
        "lti/deep_link_return.html", return_url=settings["deep_link_return_url"], jwt=token))


@bp.route("/profile", methods=["GET", "POST"])
@launch_required
def profile():
    """Ask for a name and email when the LMS did not send them (Open edX by default)."""
    user = g.lti.user
    form = ProfileForm(obj=None)
    if request.method == "GET":
        form.display_name.data = user.name or ""
        form.email.data = user.contact_email or ""
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user.display_name = form.display_name.data.strip()
        user.email = form.email.data.strip()
        db.session.commit()
        target = form.next.data or ""
        if not target.startswith("/") or target.startswith("//"):
            target = url_for(landing_endpoint(g.lti.roles))
        return redirect(target, code=303)
    return render_template("lti/profile.html", form=form)


@bp.get("/no-role")
@launch_required
def no_role():
    return render_template("errors/error.html", title=_("No role in this course"),
                           message=_("Your LMS did not say whether you are a learner or an instructor "
                                     "here. Ask the course administrator to check your enrolment."),
                           request_id=g.request_id), 403


@bp.get("/home")
@launch_required
def home():
    return redirect(url_for(landing_endpoint(g.lti.roles)))

