"""LTI endpoints: login, launch, JWKS, dynamic registration, Canvas JSON, deep linking."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .. import web_session
from ..db import get_db
from ..errors import Forbidden, LaunchError, NotSignedIn
from ..extensions import csrf, placements, services, settings
from . import deep_linking, registration
from .launch import LaunchPolicy
from .launch_flow import AskStorage, LaunchServices, OpenNewWindow, run_launch
from .login import STATE_COOKIE_PREFIX, begin_login
from .registry import DatabaseToolConf
from .roles import PLACERS

bp = Blueprint("lti", __name__)

PARAMS_LIMIT = 64  # login/launch forms have a dozen fields; more is not an LMS


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    if len(source) > PARAMS_LIMIT:
        raise LaunchError(code="too_many_parameters")
    return {key: source.get(key, "") for key in source}


def launch_url() -> str:
    """The redirect_uri every platform sends id_tokens to."""
    return settings().tool.base_url + "/lti/launch"


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party initiated login: remember state + nonce, send the browser to the LMS."""
    g.no_session_in_urls = True
    lti = settings().lti
    max_total = lti.max_login_request_bytes
    # Checked before the form is parsed: an oversized body is not even read.
    if (request.content_length or 0) > max_total or len(request.query_string) > max_total:
        raise LaunchError(_("The login request is too large."), code="request_too_large")
    start = begin_login(
        get_db(), _params(), platforms=services().platforms,
        base_url=settings().tool.base_url, launch_url=launch_url(),
        state_ttl=lti.state_ttl_seconds,
        states=services().login_states,
        max_param_bytes=lti.max_login_param_bytes, max_total_bytes=max_total,
    )
    if start.storage_target:
        # Canvas: keep the state in the platform window too, in case cookies are blocked.
        response = current_app.make_response(render_template(
            "lti/login_storage.html", start=start))
    else:
        response = redirect(start.auth_url, code=302)
    response.set_cookie(
        STATE_COOKIE_PREFIX + start.state, start.state,
        max_age=lti.state_ttl_seconds,
        secure=True, httponly=True, samesite="None", partitioned=True, path="/lti/",
    )
    return response


@bp.route("/lti/launch", methods=["POST"])
@csrf.exempt
def launch():
    """Validate the id_token, keep who/where, start a session, go to the placement's page."""
    g.no_session_in_urls = True
    params = _params()
    db = get_db()
    outcome = run_launch(db, params, request.cookies, _launch_services(db))
    if isinstance(outcome, AskStorage):
        return render_template("lti/launch_storage.html", params=params,
                               storage_target=outcome.target, auth_origin=outcome.auth_origin)
    if isinstance(outcome, OpenNewWindow):
        return render_template("lti/new_window.html", message=outcome.message,
                               login_params=outcome.login_params), 400
    g.no_session_in_urls = False  # the landing URL carries the new session (?ls=)
    response = redirect(url_for(outcome.landing.endpoint, **outcome.landing.values), code=303)
    response.delete_cookie(STATE_COOKIE_PREFIX + params["state"], path="/lti/", secure=True,
                           samesite="None", partitioned=True)
    return response


def _launch_services(db) -> LaunchServices:
    tool = services()
    lti = tool.settings.lti

    def start_session(data: dict) -> None:
        # A shared computer: the next person's launch signs the previous one out here.
        web_session.end_if_someone_else(db, request.cookies.get(web_session.COOKIE_NAME),
                                        data["platform_id"], data["user_id"])
        web_session.start(db, data)

    return LaunchServices(
        tool_conf=DatabaseToolConf(db, tool.keyring),
        keysets=tool.keysets,
        platforms=tool.platforms,
        states=tool.login_states,
        records=tool.launch_records,
        placements=placements(current_app),
        policy=LaunchPolicy(
            base_url=settings().tool.base_url,
            max_token_bytes=lti.max_id_token_bytes,
            leeway=lti.clock_leeway_seconds,
            require_browser_bound_state=lti.require_browser_bound_state,
        ),
        start_session=start_session,
        frame_origins_changed=tool.frame_ancestors.invalidate,
        refresh_roster=tool.roster_refresher.request_if_due,
        http=tool.http,
    )


@bp.route("/.well-known/jwks.json")
def jwks():
    """The tool's public keys, including the previous key during its grace period."""
    g.no_session_in_urls = True
    response = jsonify(services().keyring.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/lti/canvas.json")
def canvas_config():
    """The Canvas developer key JSON (Admin > Developer Keys > + LTI Key > Enter URL)."""
    g.no_session_in_urls = True
    return jsonify(registration.canvas_configuration(
        settings().tool.base_url, settings().tool.name))


@bp.route("/lti/register")
def register():
    """LTI Dynamic Registration 1.0, only through an invite URL the tool's administrator issued.

    The LMS opens the pasted URL (`?invite=...`) with its `openid_configuration` and
    `registration_token` appended to the query string.
    """
    # Rate limited per client address: ops/limits.py wraps this view.
    g.no_session_in_urls = True
    options = settings().registration
    platform = registration.register_with_platform(
        get_db(), services().http,
        invite_token=request.args.get("invite"),
        openid_configuration_url=request.args.get("openid_configuration", ""),
        registration_token=request.args.get("registration_token"),
        base_url=settings().tool.base_url, tool_name=settings().tool.name,
        auto_activate=options.auto_activate,
        slots=services().registration_slots,
        deadline_seconds=options.deadline_seconds,
    )
    services().frame_ancestors.invalidate()
    services().platforms.invalidate()
    return render_template("lti/registered.html", platform=platform)


@bp.route("/lti/deep-link", methods=["GET", "POST"])
def deep_link():
    """Let an instructor choose what to place in the course, and answer the LMS."""
    requested = session.get("deep_linking")  # the platform's deep linking settings claim
    if not requested:
        raise NotSignedIn()
    if session.get("role") not in PLACERS:
        raise Forbidden(_("Only teachers, course designers and administrators can add the tool "
                          "to a course."))
    choices = placements(current_app).choices(get_db(), session["platform_id"], session["role"])
    form = deep_linking.PlacementForm(choices)
    if request.method == "POST" and form.validate_on_submit():
        db = get_db()
        response_jwt = deep_linking.response_jwt(
            db, services().keyring, platform_id=session["platform_id"],
            deployment_id=session["deployment_id"], settings=requested,
            item=form.item(), launch_url=launch_url(),
        )
        session.pop("deep_linking", None)
        return render_template("lti/deep_link_return.html",
                               return_url=requested["deep_link_return_url"], jwt=response_jwt)
    return render_template("lti/deep_link.html", form=form, settings=requested,
                           title=_("Add to the course"))
