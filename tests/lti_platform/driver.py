"""A browser stand-in over requests: drives login initiation, the platform's auth and the launch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from requests.cookies import get_cookie_header

if TYPE_CHECKING:
    from .claims import LaunchPlan

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DriverError(AssertionError):
    """A step of the launch did not go as a browser would need; carries the last response."""

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


@dataclass
class Form:
    """An HTML form as parsed from a page."""

    action: str
    method: str
    target: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = a.get("method", "get").upper()
            self._current = Form(a.get("action", ""), method, a.get("target"))
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            self._current.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def parse_forms(html: str, base_url: str = "") -> list[Form]:
    """Every form in `html`, with actions made absolute against `base_url`."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(base_url, form.action)
    return parser.forms


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _cookie_attr(cookie: Cookie, name: str) -> tuple[bool, str | None]:
    # http.cookiejar keeps unknown attributes (SameSite, Partitioned) with their original case.
    for key in (name, name.lower(), name.capitalize(), name.upper()):
        if cookie.has_nonstandard_attr(key):
            return True, cookie.get_nonstandard_attr(key)
    return False, None


class BrowserCookiePolicy(DefaultCookiePolicy):
    """Chromium's cookie rules that requests lacks: Secure on loopback over http, and SameSite.

    A request is cross-site when it goes to another origin than the platform's and either the
    tool is framed (every request from an iframe on the LMS page is third-party) or the driver
    is making a cross-site navigation (the form POSTs from the platform). In a cross-site request
    only `SameSite=None; Secure` cookies are sent or accepted, and with third-party cookies
    blocked only `Partitioned` ones too. This models the real, cross-site deployment even though
    the tool and platform here share the host 127.0.0.1.
    """

    def __init__(self, *, framed: bool = True, third_party_cookies_blocked: bool = False) -> None:
        super().__init__()
        self.framed = framed
        self.third_party_cookies_blocked = third_party_cookies_blocked
        self.first_party_origins: set[str] = set()
        self.cross_site_navigation = False

    def is_cross_site(self, url: str) -> bool:
        """Whether a request to `url` is made from a cross-site context right now."""
        if _origin(url) in self.first_party_origins:
            return False
        return self.framed or self.cross_site_navigation

    def _third_party_ok(self, cookie: Cookie) -> bool:
        present, samesite = _cookie_attr(cookie, "SameSite")
        # Chromium treats a cookie without SameSite as Lax.
        if not present or (samesite or "").lower() != "none" or not cookie.secure:
            return False
        if self.third_party_cookies_blocked and not _cookie_attr(cookie, "Partitioned")[0]:
            return False
        return True

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        """Accept a cookie as Chromium would (cross-site responses set only SameSite=None ones)."""
        if not super().set_ok(cookie, request):
            return False
        return not self.is_cross_site(request.get_full_url()) or self._third_party_ok(cookie)

    def return_ok(self, cookie: Cookie, request: Any) -> bool:
        """Send a cookie as Chromium would (see the class docstring)."""
        if not super().return_ok(cookie, request):
            return False
        return not self.is_cross_site(request.get_full_url()) or self._third_party_ok(cookie)

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        """Send Secure cookies over http to loopback hosts, like Chromium for localhost."""
        if cookie.secure and request.type not in ("https", "wss"):
            return urlsplit(request.get_full_url()).hostname in LOOPBACK_HOSTS
        return True


class BrowserSession(requests.Session):
    """A requests.Session whose Cookie headers follow a BrowserCookiePolicy, redirects included.

    Cookies come from the session's jar only (a per-request `cookies=` argument is ignored).
    """

    def __init__(self, policy: BrowserCookiePolicy | None = None) -> None:
        super().__init__()
        self.policy = policy or BrowserCookiePolicy()
        self.cookies.set_policy(self.policy)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send `request` with a Cookie header rebuilt from the jar under our policy."""
        # requests builds Cookie headers from a fresh copy of the jar with the default policy,
        # which drops Secure cookies over http and knows nothing of SameSite.
        request.headers.pop("Cookie", None)
        header = get_cookie_header(self.cookies, request)
        if header:
            request.headers["Cookie"] = header
        return super().send(request, **kwargs)


@dataclass
class LoginStep:
    """The tool's answer to login initiation, and the auth request it asks the browser to make."""

    driver: LaunchDriver = field(repr=False)
    plan: LaunchPlan = field(repr=False)
    response: requests.Response = field(repr=False)
    auth_url: str | None
    auth_method: str
    auth_params: dict[str, str]
    launch_url: str | None = None

    @property
    def state(self) -> str | None:
        """The state the tool put in its auth request."""
        return self.auth_params.get("state")

    @property
    def nonce(self) -> str | None:
        """The nonce the tool put in its auth request."""
        return self.auth_params.get("nonce")

    @property
    def redirect_uri(self) -> str | None:
        """Where the tool asked the platform to post the id_token."""
        return self.auth_params.get("redirect_uri")

    @property
    def is_redirect(self) -> bool:
        """True if the tool sent the browser on to the platform (no postMessage page)."""
        return self.auth_url is not None

    def authorize(self) -> tuple[str, str]:
        """Make the auth request; return (id_token, state) from the platform's auto-post form."""
        if self.auth_url is None:
            raise DriverError(
                "the tool answered login initiation with a page, not a redirect to the platform",
                self.response,
            )
        if self.auth_method == "GET":
            # A redirect: the query string already carries exactly the tool's parameters.
            resp = self.driver.send("GET", self.auth_url)
        else:
            resp = self.driver.send("POST", self.auth_url, data=self.auth_params)
        if resp.status_code != 200:
            raise DriverError(f"platform auth refused: {resp.status_code} {resp.text}", resp)
        forms = [f for f in parse_forms(resp.text, resp.url) if "id_token" in f.fields]
        if not forms:
            raise DriverError("platform auth page has no id_token form", resp)
        form = forms[0]
        self.launch_url = form.action
        return form.fields["id_token"], form.fields.get("state", "")


class LaunchDriver:
    """Drives a launch like a browser in an LMS iframe would, over one requests.Session."""

    def __init__(
        self,
        session: BrowserSession | None = None,
        *,
        framed: bool = True,
        third_party_cookies_blocked: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if session is None:
            session = BrowserSession(
                BrowserCookiePolicy(
                    framed=framed, third_party_cookies_blocked=third_party_cookies_blocked
                )
            )
        self.session = session
        self.policy = session.policy
        self.timeout = timeout

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def __enter__(self) -> LaunchDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _cross_site(self) -> Iterator[None]:
        self.policy.cross_site_navigation = True
        try:
            yield
        finally:
            self.policy.cross_site_navigation = False

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request without following redirects (GET sends `data` as the query string)."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        if method.upper() == "GET" and "data" in kwargs:
            kwargs["params"] = kwargs.pop("data")
        return self.session.request(method.upper(), url, **kwargs)

    def get(self, url: str, *, follow_redirects: bool = True, **kwargs: Any) -> requests.Response:
        """GET a page in the tool's frame (same-site navigation within the tool)."""
        resp = self.send("GET", url, **kwargs)
        return self.follow(resp) if follow_redirects else resp

    def post(self, url: str, *, follow_redirects: bool = True, **kwargs: Any) -> requests.Response:
        """POST a form in the tool's frame (same-site navigation within the tool)."""
        resp = self.send("POST", url, **kwargs)
        return self.follow(resp) if follow_redirects else resp

    def follow(self, resp: requests.Response, max_hops: int = 10) -> requests.Response:
        """Follow redirects as a browser navigation does (303/302/301 become GET)."""
        history: list[requests.Response] = []
        while resp.is_redirect and len(history) < max_hops:
            history.append(resp)
            url = urljoin(resp.url, resp.headers["Location"])
            if resp.status_code in (307, 308):
                resp = self.send(
                    resp.request.method or "GET",
                    url,
                    data=resp.request.body,
                    headers={"Content-Type": resp.request.headers.get("Content-Type", "")},
                )
            else:
                resp = self.send("GET", url)
        resp.history = history
        return resp

    def start_login(
        self,
        plan: LaunchPlan,
        tool_login_url: str | None = None,
        method: str = "POST",
        *,
        params: Mapping[str, str | None] | None = None,
    ) -> LoginStep:
        """Send the plan's login initiation to the tool; parse its redirect to the platform's auth.

        `params` overrides login parameters (None drops one). A 200 page that is not an
        auto-post form to the auth endpoint (a postMessage storage step) is returned as-is,
        with `auth_url` None.
        """
        platform = plan.platform
        self.policy.first_party_origins.add(_origin(platform.base_url))
        url = tool_login_url or (platform.tool.login_url if platform.tool else None)
        if url is None:
            raise DriverError("no tool login URL: pass one or call platform.set_tool()")
        login = dict(plan.login_params)
        for key, value in (params or {}).items():
            if value is None:
                login.pop(key, None)
            else:
                login[key] = value
        with self._cross_site():
            resp = self.send(method, url, data=login)
        if resp.is_redirect:
            location = urljoin(resp.url, resp.headers["Location"])
            parts = urlsplit(location)
            auth_params = dict(parse_qsl(parts.query, keep_blank_values=True))
            return LoginStep(self, plan, resp, location, "GET", auth_params)
        if resp.status_code == 200:
            for form in parse_forms(resp.text, resp.url):
                if form.action.split("?")[0] == platform.auth_login_url:
                    return LoginStep(self, plan, resp, form.action, form.method, form.fields)
            return LoginStep(self, plan, resp, None, "GET", {})
        raise DriverError(f"tool login answered {resp.status_code}: {resp.text[:500]}", resp)

    def post_launch(
        self,
        launch_url: str,
        id_token: str,
        state: str,
        *,
        follow_redirects: bool = True,
        **extra: str,
    ) -> requests.Response:
        """POST the launch form (id_token, state, extra fields) as the platform's page does."""
        with self._cross_site():
            form = {"id_token": id_token, "state": state, **extra}
            resp = self.send("POST", launch_url, data=form)
        return self.follow(resp) if follow_redirects else resp

    def launch(
        self,
        plan: LaunchPlan,
        tool_login_url: str | None = None,
        *,
        params: Mapping[str, str | None] | None = None,
        follow_redirects: bool = True,
    ) -> requests.Response:
        """Run login initiation, auth and launch; return the tool's final response."""
        step = self.start_login(plan, tool_login_url, params=params)
        id_token, state = step.authorize()
        assert step.launch_url is not None
        return self.post_launch(step.launch_url, id_token, state, follow_redirects=follow_redirects)
