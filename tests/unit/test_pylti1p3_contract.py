"""What the tool takes from pylti1p3next and what it overrides: an upgrade that changes either
fails here, loudly, before it fails in a launch (docs/architecture.md, "The pylti1p3next seam").

The tool keeps pylti1p3's classes as a frame and replaces their steps: MessageLaunch's
validate() and its seven validate_* steps (lti/launch.py), the tool config over the platforms
table (lti/registry.py), ServiceConnector's token cache (gradebook/lms.py), and the deep
linking response, which pylti1p3 builds and the tool edits and signs (lti/deep_linking.py).
Each test names what it guards. Written against pylti1p3next 2.0.2.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
from pylti1p3.cookie import CookieService
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config import ToolConfAbstract

from lti_tool.gradebook.lms import _Assertion
from lti_tool.lti.constants import LTI_VERSION, Claim
from lti_tool.lti.keys import Keyring
from lti_tool.lti.launch import ToolMessageLaunch, _FormRequest, _NoCookies
from lti_tool.lti.registry import DatabaseToolConf

# The steps lti/launch.py replaces; the library's validate() must run these and nothing else
# that the tool would silently skip (save_launch_data is left out on purpose: the launch is
# kept in the tool's own session).
STEPS = (
    "validate_jwt_format",
    "validate_registration",
    "validate_state",
    "validate_jwt_signature",
    "validate_nonce",
    "validate_deployment",
    "validate_message",
)
LEFT_OUT = {"save_launch_data"}
OVERRIDDEN = ("validate", *STEPS, "get_client_id", "_get_request_param")
DATA_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/data"  # lti/deep_linking.py pops it
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def _abstract(cls) -> set[str]:
    # pylti1p3 marks them with @abstractmethod without ABCMeta: no __abstractmethods__.
    return {
        name
        for name in dir(cls)
        if getattr(getattr(cls, name, None), "__isabstractmethod__", False)
    }


def _called_methods(function) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


# -- MessageLaunch (lti/launch.py) ---------------------------------------------------------
def test_the_library_validates_with_the_steps_the_tool_overrides():
    called = {
        name
        for name in _called_methods(MessageLaunch.validate)
        if name.startswith(("validate_", "save_"))
    }
    assert called == set(STEPS) | LEFT_OUT, (
        "MessageLaunch.validate() runs other steps now: ToolMessageLaunch.validate() skips "
        f"{sorted(called - set(STEPS) - LEFT_OUT)} and runs {sorted(set(STEPS) - called)}"
    )


def test_the_library_has_no_validate_step_the_tool_does_not_override():
    steps = {name for name in dir(MessageLaunch) if name.startswith("validate_")}
    assert steps == set(STEPS)


@pytest.mark.parametrize("name", OVERRIDDEN)
def test_each_override_replaces_a_library_method_of_the_same_signature(name):
    assert name in vars(ToolMessageLaunch), f"ToolMessageLaunch no longer overrides {name}"
    library = getattr(MessageLaunch, name, None)
    assert library is not None, f"MessageLaunch.{name} is gone: the override is dead code"
    assert _parameters(library) == _parameters(vars(ToolMessageLaunch)[name])


class _Probe(MessageLaunch):
    def _get_request_param(self, key):
        return None


def _probe() -> _Probe:
    request = _FormRequest({})
    return _Probe(
        request,
        DatabaseToolConf(None, None),
        session_service=SessionService(request),
        cookie_service=_NoCookies(),
    )


def test_the_constructor_takes_what_the_tool_passes_and_sets_the_attributes_it_touches():
    assert {"request", "tool_config", "session_service", "cookie_service"} <= set(
        _parameters(MessageLaunch.__init__)
    )
    launch = _probe()
    # ToolMessageLaunch sets _validated, _jwt and _registration, and reads _tool_config.
    assert launch._validated is False
    assert launch._jwt == {}
    assert isinstance(launch._tool_config, DatabaseToolConf)


def test_the_library_accessors_read_what_the_tool_validate_leaves():
    launch = _probe()
    launch._validated = True
    launch._jwt = {"header": {"kid": "k"}, "body": {"sub": "s", Claim.VERSION: LTI_VERSION}}
    assert launch.get_launch_data() == launch._jwt["body"]
    launch._registration = registration = SimpleNamespace()
    assert launch.get_service_connector()._registration is registration


def test_the_request_and_cookie_seams_need_nothing_more():
    assert _abstract(Request) and _abstract(_FormRequest) == set()
    assert _abstract(CookieService) and _abstract(_NoCookies) == set()


# -- the tool config (lti/registry.py) -----------------------------------------------------
def test_the_tool_config_implements_every_abstract_method_and_overrides_real_ones():
    assert _abstract(ToolConfAbstract) and _abstract(DatabaseToolConf) == set()
    assert _abstract(MessageLaunch) <= set(OVERRIDDEN)
    for name in (
        "check_iss_has_one_client",
        "check_iss_has_many_clients",
        "find_deployment",
        "find_registration_by_issuer",
        "find_registration_by_params",
        "find_deployment_by_params",
        "get_jwks",
    ):
        assert callable(getattr(ToolConfAbstract, name, None)), f"ToolConfAbstract.{name} is gone"
    # DatabaseToolConf makes this dict its own; the library must still keep its cache there.
    assert "issuers_relation_types" in vars(ToolConfAbstract)


@pytest.fixture(scope="module")
def registration(tmp_path_factory):
    keyring = Keyring(tmp_path_factory.mktemp("contract-keys"), timedelta(hours=1))
    keyring.ensure()
    platform = SimpleNamespace(
        issuer="https://lms.example",
        client_id="client-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        key_set_url="https://lms.example/jwks",
        auth_audience="",
    )
    return DatabaseToolConf(None, keyring).registration_for(platform), keyring


def test_the_registration_names_the_keyring_key(registration):
    # The tool signs deep linking responses with the keyring's kid, and pylti1p3 signs token
    # requests with the registration's: both must be the kid the tool's JWKS publishes.
    reg, keyring = registration
    assert reg.get_kid() == keyring.current().kid


# -- ServiceConnector (gradebook/lms.py) ---------------------------------------------------
class _TokenEndpoint:
    """A requests.Session stand-in handed through pylti1p3's requests_session seam."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []

    def post(self, url, data=None, **kwargs):
        self.posts.append((url, data))
        return SimpleNamespace(
            ok=True, json=lambda: {"access_token": f"t{len(self.posts)}", "expires_in": 1234}
        )


def test_the_connector_cache_hooks_keep_their_names_and_signatures():
    assert _parameters(ServiceConnector.__init__) == ["self", "registration", "requests_session"]
    for name in ("_get_cached_access_token", "_cache_access_token", "encode_jwt"):
        assert name in vars(_Assertion)
        assert _parameters(getattr(ServiceConnector, name)) == _parameters(vars(_Assertion)[name])
    assert {"_get_cached_access_token", "_cache_access_token", "encode_jwt"} <= _called_methods(
        ServiceConnector.get_access_token
    )


def test_the_connector_asks_every_time_and_reports_the_lifetime(registration):
    reg, keyring = registration
    endpoint = _TokenEndpoint()
    assertion = _Assertion(reg, endpoint)
    assert assertion.get_access_token(["b", "a"]) == "t1"
    assert assertion.get_access_token(["a", "b"]) == "t2"  # no cache of pylti1p3's own
    assert assertion.expires_in == 1234.0
    (url, form), _ = endpoint.posts
    assert url == "https://lms.example/token"
    assert form["grant_type"] == "client_credentials" and form["scope"] == "a b"
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header == {"alg": "RS256", "kid": keyring.current().kid, "typ": "JWT"}
    claims = jwt.decode(
        form["client_assertion"],
        keyring.current().public_pem,
        algorithms=["RS256"],
        audience="https://lms.example/token",
    )
    assert claims["iss"] == claims["sub"] == reg.get_client_id()


# -- the deep linking response (lti/deep_linking.py) ----------------------------------------
def test_the_deep_linking_message_carries_the_claims_the_tool_edits_and_signs(registration):
    reg, _keyring = registration
    resource = (
        DeepLinkResource()
        .set_url("https://tool.example/lti/launch")
        .set_title("Card")
        .set_custom_params({"placement": "teachhub"})
        .set_lineitem(
            LineItem()
            .set_score_maximum(100)
            .set_label("Card")
            .set_resource_id("teachhub")
            .set_tag("teachhub")
        )
    )
    message = DeepLink(
        reg, "deployment-1", {"deep_link_return_url": "https://lms.example/r"}
    ).get_message_jwt([resource])
    assert isinstance(message, dict), "get_message_jwt signs now: the tool signs it itself"
    assert set(message) == {
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        Claim.DEPLOYMENT_ID,
        Claim.MESSAGE_TYPE,
        Claim.VERSION,
        CONTENT_ITEMS,
        DATA_CLAIM,
    }
    assert message[DATA_CLAIM] is None  # sent empty unless the request had data: the tool pops it
    assert (message["iss"], message["aud"]) == ("client-1", ["https://lms.example"])
    assert message[Claim.MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert (message[Claim.DEPLOYMENT_ID], message[Claim.VERSION]) == ("deployment-1", LTI_VERSION)
    (item,) = message[CONTENT_ITEMS]
    assert item["type"] == "ltiResourceLink"
    assert (item["url"], item["title"], item["custom"]) == (
        "https://tool.example/lti/launch",
        "Card",
        {"placement": "teachhub"},
    )
    assert item["lineItem"] == {
        "scoreMaximum": 100,
        "label": "Card",
        "resourceId": "teachhub",
        "tag": "teachhub",
    }
    echoed = DeepLink(reg, "deployment-1", {"data": "opaque"}).get_message_jwt([resource])
    assert echoed[DATA_CLAIM] == "opaque"
