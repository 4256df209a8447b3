"""Serve a WSGI app on 127.0.0.1 at a free port in a daemon thread."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without one log line per request (noise and cost in benchmarks)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log successful requests."""


class LoopbackServer:
    """A threaded werkzeug server for one WSGI app on 127.0.0.1 (context manager)."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        """http://HOST:PORT, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LoopbackServer:
        """Bind a free port and serve in a daemon thread."""
        if self._server is None:
            self._server = make_server(
                self.host, 0, self.app, threaded=True, request_handler=_QuietHandler
            )
            # A short poll interval makes stop() fast (the default 0.5 s is paid on every stop).
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"loopback-{self._server.server_port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
