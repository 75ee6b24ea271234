"""Development platform views: the demo 'LMS' pages and its OIDC authorization endpoint."""
from __future__ import annotations

from urllib.parse import urlencode

import jwt
from flask import abort, jsonify, render_template, request, url_for

from ..extensions import csrf
from ..lti import keys
from ..lti.registration import public_url
from ..security import with_script_nonce
from . import bp, platform


@bp.get("/")
def index():
    """Demo users, each with a launch button naming the role."""
    platform.ensure_registered()
    return render_template("dev/index.html", users=platform.DEMO_USERS, labels=platform.ROLE_LABELS,
                           locales=platform.LOCALES, locale=platform.launch_locale(request.args.get("locale")))


@bp.get("/course/<key>")
def course(key: str):
    """A stand-in LMS course page that embeds the tool in an iframe, as an LMS would."""
    user = platform.demo_user(key)
    if user is None:
        abort(404)
    platform.ensure_registered()
    hint = platform.encode_hint("deep-link" if request.args.get("deep_link") else "resource-link",
                                 platform.launch_locale(request.args.get("locale")))
    login = public_url("lti.login") + "?" + urlencode({
        "iss": platform.issuer(), "login_hint": key, "target_link_uri": public_url("lti.launch"),
        "lti_message_hint": hint, "client_id": platform.CLIENT_ID, "lti_deployment_id": platform.DEPLOYMENT_ID,
    })
    return render_template("dev/course.html", user=user, login_url=login, label=platform.ROLE_LABELS[user["role"]],
                           context=platform.CONTEXT)


@bp.get("/auth")
def authorize():
    """The platform's OIDC authorization endpoint: sign an id_token and post it to the tool."""
    user = platform.demo_user(request.args.get("login_hint", ""))
    redirect_uri = request.args.get("redirect_uri", "")
    if user is None or request.args.get("client_id") != platform.CLIENT_ID:
        abort(400)
    if redirect_uri != public_url("lti.launch"):
        abort(400)
    kind, locale = platform.decode_hint(request.args.get("lti_message_hint", ""))
    token = platform.id_token(user, request.args.get("nonce", ""), kind, locale=locale,
                              return_url=url_for("dev.index", _external=True, locale=locale or None))
    return with_script_nonce(render_template("dev/autopost.html", action=redirect_uri,
                                             fields={"id_token": token, "state": request.args.get("state", "")}))


@bp.get("/jwks")
def jwks():
    return jsonify({"keys": [platform.public_jwk()]})


@bp.post("/token")
@csrf.exempt
def token():
    """Not used by the demo yet: LTI services are exercised against the test platform."""
    return jsonify(error="unsupported_grant_type"), 400


@bp.post("/deep-link-return")
@csrf.exempt
def deep_link_return():
    """Where the tool posts its deep-linking response: verify it with the tool's JWKS and show it."""
    encoded = request.form.get("JWT", "")
    try:
        header = jwt.get_unverified_header(encoded)
        jwk = next(k for k in keys.public_jwks()["keys"] if k["kid"] == header.get("kid"))
        key = jwt.PyJWK(jwk)
        body = jwt.decode(encoded, key.key, algorithms=["RS256"], audience=platform.issuer())
    except (StopIteration, jwt.PyJWTError) as e:
        return render_template("dev/deep_link_result.html", error=str(e), items=[]), 400
    items = body.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])
    return render_template("dev/deep_link_result.html", error=None, items=items)
