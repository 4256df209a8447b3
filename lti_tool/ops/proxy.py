"""X-Forwarded-* headers, believed only from the TLS proxies named in settings [proxy]."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from werkzeug.middleware.proxy_fix import ProxyFix

from ..extensions import settings

UNTRUSTED_FORWARD = "lti_tool.untrusted_forward"


def parse_networks(values: list[str]) -> list:
    """IP networks from strings ("10.0.0.5", "10.0.0.0/8", "::1"); "unix" is kept as is."""
    return [value if value == "unix" else ip_network(value, strict=False) for value in values]


def address_in(address: str | None, networks: list) -> bool:
    """True when `address` (REMOTE_ADDR; empty for a unix socket) is in one of `networks`."""
    if not address:
        return "unix" in networks
    try:
        ip = ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(net != "unix" and ip.version == net.version and ip in net for net in networks)


class TrustedProxyFix:
    """werkzeug's ProxyFix for requests from a trusted proxy; forwarded headers dropped otherwise.

    ProxyFix trusts a number of hops, whoever sent them; a client that reaches the tool
    directly could then claim any scheme, host or address. Here only the configured proxies'
    requests are fixed, and anyone else's X-Forwarded-* headers are removed.
    """

    def __init__(self, app, trusted: list[str], *, x_for: int = 1, x_proto: int = 1,
                 x_host: int = 1, x_port: int = 0, x_prefix: int = 0):
        self.app = app
        self.networks = parse_networks(trusted)
        self.fixed = ProxyFix(app, x_for=x_for, x_proto=x_proto, x_host=x_host, x_port=x_port,
                              x_prefix=x_prefix)

    def __call__(self, environ, start_response):
        if self.networks and address_in(environ.get("REMOTE_ADDR"), self.networks):
            return self.fixed(environ, start_response)
        forwarded = [key for key in environ if key.startswith("HTTP_X_FORWARDED_")]
        if forwarded:
            # Came through some proxy we were not told about: /metrics refuses such requests.
            environ[UNTRUSTED_FORWARD] = True
            for key in forwarded:
                del environ[key]
        return self.app(environ, start_response)


def init_app(app) -> None:
    """Wrap the app's WSGI callable with TrustedProxyFix from settings [proxy]."""
    proxy = settings(app).proxy
    app.wsgi_app = TrustedProxyFix(
        app.wsgi_app, list(proxy.trusted), x_for=proxy.x_for, x_proto=proxy.x_proto,
        x_host=proxy.x_host, x_port=proxy.x_port, x_prefix=proxy.x_prefix)
