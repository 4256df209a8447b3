"""The one outbound requests.Session: explicit timeouts, retries on idempotent calls, pooling."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "lti-tool/0.1 (+LTI 1.3 portfolio and TeachHub tool)"


class TimeoutSession(requests.Session):
    """A Session that never waits forever: every call gets the default timeout."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):  # noqa: D102 - same contract as requests
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)


def make_session(settings: dict) -> requests.Session:
    """A pooled session with retries on connection errors and 502/503/504 for GETs."""
    http = settings.get("http", {})
    session = TimeoutSession(
        (float(http.get("connect_timeout_seconds", 5)), float(http.get("read_timeout_seconds", 20)))
    )
    retry = Retry(
        total=int(http.get("retries", 2)),
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(pool_connections=20, pool_maxsize=20, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Proxies come from settings, read once, not from the environment at every request
    # (requests re-reads os.environ and ~/.netrc per call: a third of a score post's cost).
    session.trust_env = False
    if http.get("proxy"):
        session.proxies = {"http": http["proxy"], "https": http["proxy"]}
    return session
