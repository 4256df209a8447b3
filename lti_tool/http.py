"""The one outbound requests.Session: guarded addresses, a total deadline, a size cap, retries.

Every URL the tool calls comes from outside (registration documents, key sets, token
endpoints, AGS/NRPS URLs from launch claims, Moodle WS and Canvas REST base URLs), so every
call goes through the same guard:

- Addresses: unless the tool itself runs on loopback (development, tests), a host that
  resolves to a loopback, private, link-local, multicast, unspecified, reserved or cloud
  metadata address is refused. The check happens after DNS resolution, in the connection
  itself, and the socket connects to the very address that was checked (no second lookup:
  DNS rebinding between check and connect cannot bypass it). `http.allowed_private_hosts`
  admits an LMS on an intranet address (host names, addresses or networks); cloud metadata
  addresses are refused even then.
- Redirects are followed here, at most `http.max_redirects`, each hop through the same guard.
- A total deadline per call (connect, headers and body together), enforced by a watchdog
  that shuts the socket down: a server dripping a byte every few seconds is cut at the
  deadline, not after one read timeout per byte.
- The body is read as a stream and refused past `max_bytes` (never read whole first).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from .settings import HttpSettings

    # The mixin below is only ever combined with urllib3's HTTPConnection: mypy sees it as one.
    _ConnectionBase = HTTPConnection
else:
    _ConnectionBase = object

log = logging.getLogger(__name__)

USER_AGENT = "lti-tool/0.1 (+LTI 1.3 portfolio and TeachHub tool)"
# Refused even when an allowlisted network contains them: they hand out cloud credentials.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"),
                                ipaddress.ip_address("fd00:ec2::254")})
DEFAULT_MAX_BYTES = 16 << 20  # a roster page of ~50,000 members; anything bigger is not an LMS


class BlockedAddress(requests.ConnectionError):
    """The URL's host resolves to an address the tool must not call."""


class DeadlineExceeded(requests.Timeout):
    """The call did not finish within its total deadline."""


class ResponseTooLarge(requests.RequestException):
    """The answer is larger than the call's size cap."""


class AddressRefused(Exception):
    """Raised inside urllib3 (not an OSError, so urllib3 neither wraps nor retries it)."""


def body_digest(body: bytes) -> str:
    """What is kept of an upstream body (never the body: it may hold anything)."""
    return f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}"


def digest(status: int | None, body: bytes) -> str:
    """What the log keeps of an upstream answer: status, length and a sha256 prefix."""
    return f"HTTP {status}, {body_digest(body)}"


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is localhost or a loopback address."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AddressPolicy:
    """Which resolved addresses outbound calls may connect to."""

    def __init__(self, *, enabled: bool, allowed: list[str] | tuple[str, ...] = ()):
        self.enabled = enabled
        self.allowed_hosts: set[str] = set()
        self.allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowed:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self.allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allowed_hosts.add(entry.rstrip("."))

    def refusal(self, host: str, address: str) -> str | None:
        """Why `host` at `address` must not be called, or None when it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if not self.enabled:
            return None
        if host.lower().rstrip(".") in self.allowed_hosts:
            return None
        if any(ip in network for network in self.allowed_networks):
            return None
        if ip.is_loopback:
            return "a loopback address"
        if ip.is_link_local:
            return "a link-local address"
        if ip.is_multicast:
            return "a multicast address"
        if ip.is_unspecified:
            return "an unspecified address"
        if ip.is_private or ip.is_reserved or not ip.is_global:
            return "a private or reserved address"
        return None

    def resolve(self, host: str, port: int) -> list[tuple]:
        """getaddrinfo for `host`, refused as a whole when any address is refused."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for info in infos:
            address = info[4][0]
            if not isinstance(address, str):  # SOCK_STREAM lookups give IPv4/IPv6 addresses only
                raise AddressRefused(f"{host} resolves to a non-IP address; not called")
            reason = self.refusal(host, address)
            if reason:
                raise AddressRefused(f"{host} resolves to {reason}; not called "
                                     f"(http.allowed_private_hosts admits an intranet LMS)")
        return infos


class _Call:
    """The deadline of the call in progress on this thread, and the socket it uses."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.expired = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self.sock = sock
            if self.expired:
                self._shut()

    def detach(self) -> bool:
        """Forget the socket before it goes back to the pool; False if the deadline passed."""
        with self._lock:
            self.sock = None
            return not self.expired

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self.sock is not None:
            try:  # the plain socket's shutdown: it wakes a thread blocked in recv, TLS or not
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
            except OSError:
                pass


_current = threading.local()


def _watch(sock) -> None:
    call = getattr(_current, "call", None)
    if call is not None:
        call.watch(sock)


class _GuardedConnectionMixin(_ConnectionBase):
    """Resolve, check every address, connect to a checked one; report the socket."""

    policy: AddressPolicy

    def _new_conn(self) -> socket.socket:
        try:
            infos = self.policy.resolve(self._dns_host, self.port)
        except socket.gaierror as err:
            raise NameResolutionError(self.host, self, err) from err
        last: Exception | None = None
        for _family, _type, _proto, _name, address in infos:
            try:
                # An address literal: create_connection does no DNS lookup of its own.
                sock = urllib3_connection.create_connection(
                    (address[0], self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
                break
            except TimeoutError as err:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout="
                          f"{self.timeout})") from err
            except OSError as err:
                last = err
        else:
            raise NewConnectionError(self, f"Failed to establish a new connection: {last}")
        _watch(sock)
        return sock

    def request(self, *args, **kwargs):
        # A kept-alive connection serves this call: the watchdog must know its socket.
        _watch(self.sock)
        return super().request(*args, **kwargs)


def _pool_classes(policy: AddressPolicy) -> dict[str, type]:
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection),
                     {"policy": policy})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection),
                      {"policy": policy})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,),
                     {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,),
                      {"ConnectionCls": https_conn}),
    }


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose direct connections go through the address policy."""

    def __init__(self, policy: AddressPolicy, **kwargs):
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # The proxy is the administrator's own (it may well be on a private address): its
        # connections only report their socket to the deadline watchdog.
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _pool_classes(AddressPolicy(enabled=False))
        return manager

    def send(self, request, **kwargs):
        try:
            if kwargs.get("proxies") and self.policy.enabled:
                # Through a proxy the proxy connects: check the target's addresses here
                # (best effort: the proxy resolves again; configure it to refuse internal ones).
                parts = urlsplit(request.url)
                try:
                    self.policy.resolve(parts.hostname or "", parts.port
                                        or (443 if parts.scheme == "https" else 80))
                except socket.gaierror as err:
                    raise requests.ConnectionError(f"cannot resolve {parts.hostname}",
                                                   request=request) from err
            return super().send(request, **kwargs)
        except AddressRefused as err:
            raise BlockedAddress(str(err), request=request) from err

    def __getstate__(self):
        state = super().__getstate__()
        state["policy"] = self.policy
        return state


class GuardedSession(requests.Session):
    """A Session whose every call has a total deadline, a size cap and checked redirects.

    Extra keyword arguments of `request`: `deadline` (an absolute time.monotonic() value,
    to share one deadline among several calls), `total_timeout` (seconds) and `max_bytes`.
    The returned response's body is already read (`stream=True` is accepted and changes
    nothing), so the connection goes back to the pool at once.
    """

    def __init__(self, *, timeout: tuple[float, float], total_timeout: float,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_redirects: int = 3):
        super().__init__()
        self.default_timeout = timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    def request(self, method, url, **kwargs):  # requests' contract, plus the above
        deadline = kwargs.pop("deadline", None)
        total = float(kwargs.pop("total_timeout", self.total_timeout))
        max_bytes = int(kwargs.pop("max_bytes", self.max_bytes))
        follow = kwargs.pop("allow_redirects", True)
        kwargs.pop("stream", None)
        deadline = min(deadline or float("inf"), time.monotonic() + total)
        call = _Call(deadline)
        outer = getattr(_current, "call", None)
        _current.call = call
        timer = threading.Timer(max(0.0, call.remaining()), call.expire)
        timer.daemon = True
        timer.start()
        try:
            return self._follow(call, method, url, follow, max_bytes, kwargs)
        except requests.RequestException as err:
            if call.expired:
                raise DeadlineExceeded(f"{method} {_where(url)}: no complete answer before "
                                       f"the deadline") from err
            raise
        finally:
            timer.cancel()
            _current.call = outer

    def _follow(self, call: _Call, method: str, url: str, follow: bool, max_bytes: int,
                kwargs: dict) -> requests.Response:
        kwargs = dict(kwargs)
        headers = dict(kwargs.pop("headers", None) or {})
        timeout = kwargs.pop("timeout", None) or self.default_timeout
        if not isinstance(timeout, tuple):
            timeout = (timeout, timeout)
        for _hop in range(self.max_redirects + 1):
            remaining = call.remaining()
            if remaining <= 0:
                call.expired = True
                raise DeadlineExceeded(f"{method} {_where(url)}: deadline passed")
            bounded = (min(timeout[0], remaining), min(timeout[1], remaining))
            response = super().request(method, url, headers=headers, stream=True,
                                       allow_redirects=False, timeout=bounded, **kwargs)
            if not (follow and response.is_redirect):
                _read_body(response, call, max_bytes)
                return response
            location = urljoin(url, response.headers["Location"])
            response.close()
            if urlsplit(location).scheme not in ("http", "https"):
                raise requests.exceptions.InvalidURL(
                    f"redirect to a non-HTTP URL from {_where(url)}")
            if origin_of(location) != origin_of(url):
                # requests' own rule: credentials never follow a redirect to another host.
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if response.status_code == 303 or (response.status_code in (301, 302)
                                                and method == "POST"):
                method = "GET" if method != "HEAD" else method
                for key in ("data", "json", "files"):
                    kwargs.pop(key, None)
                headers = {k: v for k, v in headers.items()
                           if k.lower() not in ("content-type", "content-length")}
            kwargs.pop("params", None)  # they are in the Location already
            url = location
        raise requests.TooManyRedirects(f"more than {self.max_redirects} redirects from "
                                        f"{_where(url)}")


def _where(url: str) -> str:
    """Scheme, host and path of a URL: never its query string (it may hold a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _read_body(response: requests.Response, call: _Call, max_bytes: int) -> None:
    """Read the body within the cap and the deadline; it becomes response.content."""
    try:
        declared = int(response.headers.get("Content-Length", "-1"))
    except ValueError:
        declared = -1
    if declared > max_bytes:
        response.close()
        raise ResponseTooLarge(f"answer of {declared} bytes, more than {max_bytes}")
    chunks, size = [], 0
    try:
        for chunk in response.raw.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(f"answer larger than {max_bytes} bytes")
            chunks.append(chunk)
            if call.expired:
                break
    except ResponseTooLarge:
        response.close()
        raise
    except Exception as err:  # urllib3's read errors, once the watchdog shut the socket
        response.close()
        raise requests.ConnectionError(f"reading the answer failed: {err.__class__.__name__}",
                                       response=response) from err
    # A watchdog firing from now on must not shut a socket that serves the next call.
    if not call.detach():
        response.close()
        raise DeadlineExceeded("deadline passed while reading the answer")
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]  # types-requests omits it
    response.close()  # the body is read: the connection goes back to the pool


def make_session(http: HttpSettings, *, base_url: str) -> GuardedSession:
    """The guarded, pooled session of settings [http]; retries on connection errors and
    502/503/504 for GETs. Private addresses are refused unless `base_url` is a loopback one."""
    session = GuardedSession(
        timeout=(http.connect_timeout_seconds, http.read_timeout_seconds),
        total_timeout=http.total_timeout_seconds,
        max_bytes=http.max_response_bytes,
        max_redirects=http.max_redirects,
    )
    policy = AddressPolicy(enabled=not is_loopback_url(base_url),
                           allowed=list(http.allowed_private_hosts))
    retry = Retry(
        total=http.retries,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=False,  # a Retry-After must not outlast the deadline
        raise_on_status=False,
    )
    adapter = GuardedAdapter(policy, pool_connections=20, pool_maxsize=20, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Proxies come from settings, read once, not from the environment at every request
    # (requests re-reads os.environ and ~/.netrc per call: a third of a score post's cost).
    session.trust_env = False
    if http.proxy:
        session.proxies = {"http": http.proxy, "https": http.proxy}
    return session
