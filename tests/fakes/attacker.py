"""An attacker's server on loopback: internal secrets, redirects, slow drips, huge bodies.

Every request is recorded in `hits`, so a test can show that the tool made no call at all.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from lti_platform import LoopbackServer
from werkzeug.wrappers import Request, Response

SECRET = "internal-secret-4f1c9a"


class Attacker:
    """A WSGI app with a few hostile answers; `documents` maps a path to a JSON answer."""

    def __init__(self, drip_interval: float = 4.0, host: str = "127.0.0.1"):
        self.drip_interval = drip_interval
        self.documents: dict[str, Any] = {}
        self.hits: list[str] = []
        self.authorizations: list[str | None] = []
        self.huge_bytes_sent = 0
        self._lock = threading.Lock()
        self.server = LoopbackServer(self, host=host)

    def __enter__(self) -> Attacker:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.hits.append(request.path)
            self.authorizations.append(request.headers.get("Authorization"))
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        path = request.path
        if path in self.documents:
            return Response(json.dumps(self.documents[path]), content_type="application/json")
        if path == "/secret":
            return Response(json.dumps({"secret": SECRET}), content_type="application/json")
        if path == "/leak":  # an error page that repeats what it should not
            return Response(f"error: {SECRET}", status=500, content_type="text/plain")
        if path == "/redirect":
            return Response("", status=302, headers={"Location": request.args["to"]})
        if path == "/drip":
            def drip():
                yield b"{"
                for _ in range(100):
                    time.sleep(self.drip_interval)
                    yield b" "
            return Response(drip(), content_type="application/json", direct_passthrough=True)
        if path == "/huge":
            chunk = b" " * (1 << 20)

            def huge():
                yield b'{"a": "'
                for _ in range(64):
                    yield chunk
                    self.huge_bytes_sent += len(chunk)
                yield b'"}'
            return Response(huge(), content_type="application/json", direct_passthrough=True)
        return Response("not found", status=404)
