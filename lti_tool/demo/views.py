"""The demo LMS's pages (course page, role picker, gradebook, reset) and its LTI endpoints
(OIDC authorization, JWKS, token, AGS, NRPS, deep linking return). Registered only on the
embedded default (demo/__init__.py): elsewhere every /demo URL is a 404."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode, urlsplit

import jwt
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from ..db import get_db
from ..errors import Forbidden, NotFound
from ..evidence.storage import unlink_stored
from ..extensions import csrf, services, settings
from ..i18n import supported_locale
from ..lti.constants import Scope
from ..lti.roles import ToolRole, tool_role
from ..portfolio.rubric import Rubric
from ..teachhub.config import TeachHubConfig
from . import platform as demo, seed, service
from .people import BY_SUB, COURSES, PORTFOLIO_COURSE, SEAT_BY_KEY, SEATS, roles_in
from .platform import ClientError, Urls

bp = Blueprint("demo", __name__, url_prefix="/demo")

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
HINT_SECONDS = 600


def _urls() -> Urls:
    return services().get(demo.DemoLms).urls


def _key() -> demo.PlatformKey:
    return services().get(demo.DemoLms).key


def _tokens() -> demo.Tokens:
    return services().get(demo.DemoLms).tokens


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="demo-lms-login")


def _locale() -> str:
    return (
        supported_locale(request.args.get("lang"), settings().i18n.locales)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def _on_demo_site() -> BaseResponse | None:
    """The LMS pages live on the demo site: on the tool's own host, send the browser there."""
    site = urlsplit(_urls().site)
    if request.host.lower() != site.netloc.lower():
        return redirect(_urls().site + request.full_path.rstrip("?"), code=302)
    return None


def demo_page(view):
    """A page of the demo LMS: only on the demo site (on the tool's host, a redirect there), only
    for its courses (a 404 for another `context_id`), with the demo registered and seeded."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        moved = _on_demo_site()
        if moved is not None:
            return moved
        if "context_id" in kwargs and kwargs["context_id"] not in COURSES:
            raise NotFound()
        _ready()
        return view(*args, **kwargs)

    return wrapper


def _ready() -> None:
    """Register the demo platform and seed its course on first use (one transaction)."""
    db = get_db()
    platform, created = service.register(db, _urls())
    if created:
        seed.seed(
            db,
            platform_id=platform.id,
            settings=settings(),
            rubric=services().get(Rubric),
            urls=_urls(),
            today=services().get(TeachHubConfig).today(),
        )
    db.commit()
    if created:
        services().platforms.invalidate()
        services().frame_ancestors.invalidate()


def _frame_tool() -> None:
    """The course page frames the tool (security.py adds it to the page's frame-src)."""
    g.csp_frame_src = _urls().tool


@bp.get("/")
@demo_page
def index():
    """ "Try it": the demo course page, on the demo site."""
    return redirect(url_for("demo.course", context_id=PORTFOLIO_COURSE, lang=_locale()))


@bp.get("/course/<context_id>")
@demo_page
def course(context_id: str):
    """A course page of the demo LMS: header, course menu, role picker, the tool framed."""
    chosen = SEAT_BY_KEY.get(request.args.get("as", ""))
    if chosen is not None and context_id not in chosen.person.roles:
        chosen = None
    # Course staff may place the tool's content (deep linking), as a Moodle teacher can.
    placer = chosen is not None and tool_role(roles_in(chosen.person, context_id)) in (
        ToolRole.INSTRUCTOR,
        ToolRole.ADMIN,
    )
    _frame_tool()
    return render_template(
        "demo/course.html",
        course=COURSES[context_id],
        courses=COURSES,
        seats=SEATS,
        chosen=chosen,
        placer=placer,
        deep=placer and request.args.get("deep") == "1",
        lang=_locale(),
        locales=settings().i18n.locales,
    )


@bp.get("/course/<context_id>/grades")
@demo_page
def grades(context_id: str):
    """The demo course's gradebook: the scores the tool posted over AGS."""
    return render_template(
        "demo/grades.html",
        course=COURSES[context_id],
        courses=COURSES,
        columns=demo.gradebook(get_db(), context_id),
        people=BY_SUB,
        lang=_locale(),
        locales=settings().i18n.locales,
    )


@bp.get("/launch/<seat>/<context_id>")
@demo_page
def launch(seat: str, context_id: str):
    """The framed launch: a third-party initiated login to the tool (LTI 1.3 Core §5.1.1)."""
    chosen = SEAT_BY_KEY.get(seat)
    if chosen is None or context_id not in chosen.person.roles:
        raise NotFound()
    deep = request.args.get("deep") == "1"
    urls = _urls()
    hint = _hints().dumps(
        {"sub": chosen.person.sub, "course": context_id, "locale": _locale(), "deep": deep}
    )
    params = {
        "iss": urls.issuer,
        "login_hint": chosen.person.sub,
        "target_link_uri": urls.tool_launch,
        "lti_message_hint": hint,
        "client_id": demo.CLIENT_ID,
        "lti_deployment_id": demo.DEPLOYMENT_ID,
    }
    return redirect(urls.tool_login + "?" + urlencode(params), code=302)


@bp.route("/auth", methods=["GET", "POST"])
@csrf.exempt
def auth():
    """The OIDC authorization endpoint: the signed id_token, posted back to the tool."""
    params = request.values
    problems = [
        name
        for name in (
            "scope",
            "response_type",
            "client_id",
            "redirect_uri",
            "login_hint",
            "nonce",
            "state",
            "lti_message_hint",
        )
        if not params.get(name)
    ]
    if problems:
        return _text(400, "invalid_request: missing " + ", ".join(problems))
    urls = _urls()
    if "openid" not in params["scope"].split() or params["response_type"] != "id_token":
        return _text(400, "invalid_request: scope openid and response_type id_token expected")
    if params["client_id"] != demo.CLIENT_ID:
        return _text(400, "unauthorized_client")
    if params["redirect_uri"] != urls.tool_launch:
        return _text(400, "invalid_request: unregistered redirect_uri")
    try:
        hint = _hints().loads(params["lti_message_hint"], max_age=HINT_SECONDS)
    except BadSignature:
        return _text(400, "invalid_request: unknown or expired lti_message_hint")
    person = BY_SUB.get(hint.get("sub", ""))
    if person is None or person.sub != params["login_hint"]:
        return _text(403, "access_denied: login_hint is not the launching user")
    course_ = COURSES[hint["course"]]
    item = None
    if not hint.get("deep"):
        item = (
            seed.portfolio_line_item(get_db(), course_)
            if course_.placement == "portfolio"
            else None
        )
        get_db().commit()
    claims = demo.id_token_claims(
        urls,
        person,
        course_,
        nonce=params["nonce"],
        locale=hint.get("locale") or "kk",
        deep_linking=bool(hint.get("deep")),
        link_item_id=item.id if item is not None else None,
        link_custom=demo.link_custom(get_db(), course_),
    )
    return render_template(
        "demo/post.html",
        action=urls.tool_launch,
        fields={"id_token": _key().sign(claims), "state": params["state"]},
    )


@bp.get("/jwks")
def jwks():
    """The demo platform's public key set."""
    return jsonify(_key().jwks())


@bp.post("/token")
@csrf.exempt
def token():
    """OAuth2 client_credentials with a JWT assertion signed by the tool's key."""
    try:
        answer = _tokens().issue(
            request.form.to_dict(),
            token_url=_urls().token,
            tool_jwks=services().keyring.jwks(),
        )
    except ClientError as err:
        return _oauth_error(err)
    return jsonify(answer)


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
@csrf.exempt
def lineitems(context_id: str):
    """AGS line items container: list (filtered) or create."""
    db = get_db()
    try:
        _course(context_id)
        if request.method == "GET":
            _tokens().check(
                request.headers.get("Authorization"),
                Scope.AGS_LINEITEM,
                Scope.AGS_LINEITEM_READONLY,
            )
            items = demo.line_items(db, context_id, request.args.to_dict())
            return _json([demo.line_item_json(_urls(), i) for i in items], LINEITEM_CONTAINER)
        _tokens().check(request.headers.get("Authorization"), Scope.AGS_LINEITEM)
        item = demo.save_line_item(db, context_id, request.get_json(force=True, silent=True))
        db.commit()
        return _json(demo.line_item_json(_urls(), item), LINEITEM, 201)
    except ClientError as err:
        return _oauth_error(err)


@bp.route("/ags/<context_id>/lineitems/<int:item_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def lineitem(context_id: str, item_id: int):
    """One line item: read, replace, delete."""
    db = get_db()
    try:
        item = _item(context_id, item_id)
        if request.method == "GET":
            _tokens().check(
                request.headers.get("Authorization"),
                Scope.AGS_LINEITEM,
                Scope.AGS_LINEITEM_READONLY,
            )
            return _json(demo.line_item_json(_urls(), item), LINEITEM)
        _tokens().check(request.headers.get("Authorization"), Scope.AGS_LINEITEM)
        if request.method == "DELETE":
            db.delete(item)
            db.commit()
            return Response(status=204)
        demo.save_line_item(db, context_id, request.get_json(force=True, silent=True), item)
        db.commit()
        return _json(demo.line_item_json(_urls(), item), LINEITEM)
    except ClientError as err:
        return _oauth_error(err)


@bp.post("/ags/<context_id>/lineitems/<int:item_id>/scores")
@csrf.exempt
def scores(context_id: str, item_id: int):
    """Post a score (AGS 2.0 §3.4)."""
    db = get_db()
    try:
        item = _item(context_id, item_id)
        _tokens().check(request.headers.get("Authorization"), Scope.AGS_SCORE)
        demo.post_score(db, item, request.get_json(force=True, silent=True))
        db.commit()
    except ClientError as err:
        return _oauth_error(err)
    return Response(status=204)


@bp.get("/ags/<context_id>/lineitems/<int:item_id>/results")
def results(context_id: str, item_id: int):
    """A line item's results (AGS 2.0 §3.3)."""
    try:
        item = _item(context_id, item_id)
        _tokens().check(request.headers.get("Authorization"), Scope.AGS_RESULT_READONLY)
    except ClientError as err:
        return _oauth_error(err)
    return _json(demo.results(get_db(), _urls(), item), RESULT_CONTAINER)


@bp.get("/nrps/<context_id>/memberships")
def nrps(context_id: str):
    """The course roster (NRPS 2.0)."""
    try:
        course_ = _course(context_id)
        _tokens().check(request.headers.get("Authorization"), Scope.NRPS_READONLY)
    except ClientError as err:
        return _oauth_error(err)
    return _json(demo.memberships(_urls(), course_), MEMBERSHIP_CONTAINER)


@bp.post("/deep-link-return")
@csrf.exempt
def deep_link_return():
    """Deep Linking 2.0 §4.2: the tool's signed answer; the LMS shows what was chosen."""
    token_ = request.form.get("JWT", "")
    keyring = services().keyring
    try:
        kid = jwt.get_unverified_header(token_).get("kid")
        keys = {k["kid"]: k for k in keyring.jwks()["keys"]}
        claims = jwt.decode(
            token_, jwt.PyJWK(keys[kid]).key, algorithms=["RS256"], audience=_urls().issuer
        )
    except (jwt.PyJWTError, KeyError) as err:
        return _text(400, f"invalid deep linking response: {err.__class__.__name__}")
    items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []
    _frame_tool()
    return render_template(
        "demo/deep_linked.html", items=[i for i in items if isinstance(i, dict)], lang=_locale()
    )


@bp.post("/reset")
@csrf.exempt
def reset():
    """Start the demo over: remove the demo platform's data and seed it afresh.

    No CSRF token (the demo site has no session to keep one in): the request must come from
    the demo site's own page (Origin), so another site cannot reset it.
    """
    if request.headers.get("Origin", "") != _urls().site:
        raise Forbidden()
    db = get_db()
    files = service.remove(db)
    db.commit()
    services().launch_records.clear()
    services().platforms.invalidate()
    unlink_stored(settings(), list(files))
    _ready()
    return redirect(
        url_for("demo.course", context_id=PORTFOLIO_COURSE, lang=_locale(), reset=1), code=303
    )


def _course(context_id: str):
    if context_id not in COURSES:
        raise ClientError(404, "not_found")
    return COURSES[context_id]


def _item(context_id: str, item_id: int):
    item = get_db().get(demo.DemoLineItem, item_id)
    if item is None or item.context_id != context_id:
        raise ClientError(404, "not_found")
    return item


def _json(body: object, media_type: str, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = media_type
    return response


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _oauth_error(err: ClientError) -> Response:
    response = jsonify({"error": err.error, "error_description": err.description})
    response.status_code = err.status
    return response
