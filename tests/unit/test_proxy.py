"""X-Forwarded-* headers count only from the configured TLS proxies."""

import json

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from lti_tool.ops.proxy import UNTRUSTED_FORWARD, TrustedProxyFix


@Request.application
def echo(request: Request) -> Response:
    """What the app sees of the request."""
    return Response(json.dumps({
        "scheme": request.scheme, "host": request.host, "remote": request.remote_addr,
        "untrusted": bool(request.environ.get(UNTRUSTED_FORWARD)),
        "forwarded_headers": sorted(k for k, _v in request.headers.items()
                                    if k.startswith("X-Forwarded")),
    }), mimetype="application/json")


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.example.edu",
             "X-Forwarded-For": "203.0.113.7"}


def _seen(trusted: list[str], remote: str, headers=FORWARDED) -> dict:
    client = Client(TrustedProxyFix(echo, trusted))
    return client.get("/", headers=headers, environ_base={"REMOTE_ADDR": remote}).json


@pytest.mark.parametrize("trusted, remote", [
    (["10.0.0.5"], "10.0.0.5"),
    (["10.0.0.0/8"], "10.20.30.40"),
    (["::1"], "::1"),
    (["unix"], ""),
])
def test_a_trusted_proxy_sets_scheme_host_and_client(trusted, remote):
    seen = _seen(trusted, remote)
    assert (seen["scheme"], seen["host"], seen["remote"]) == (
        "https", "tool.example.edu", "203.0.113.7")
    assert not seen["untrusted"]


@pytest.mark.parametrize("trusted, remote", [
    ([], "127.0.0.1"),
    (["10.0.0.0/8"], "127.0.0.1"),
    (["10.0.0.5"], "10.0.0.6"),
    (["unix"], "127.0.0.1"),
])
def test_anyone_else_cannot_claim_https_or_another_address(trusted, remote):
    seen = _seen(trusted, remote)
    assert (seen["scheme"], seen["host"], seen["remote"]) == ("http", "localhost", remote)
    assert seen["forwarded_headers"] == []
    assert seen["untrusted"]


def test_a_direct_request_without_forwarded_headers_is_not_marked():
    assert not _seen(["10.0.0.5"], "127.0.0.1", headers={})["untrusted"]
