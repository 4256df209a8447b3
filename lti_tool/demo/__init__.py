"""The built-in demo LMS: "Try it" on the embedded default (a loopback BASE_URL).

A small but real LTI 1.3 platform served by the tool's own process on the other loopback name
(http://localhost:PORT frames the tool at http://127.0.0.1:PORT: another site, as Moodle is),
registered with the tool as a platform marked `lti-tool-demo`, with a seeded course. The LTI
core knows nothing of it: it registers itself here, and only when `platform.enabled` says so.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import services
from .platform import DemoLms, PlatformKey, Tokens, enabled, urls_for


def init_app(app: Flask) -> None:
    """Serve the demo LMS under /demo, only on the embedded default with demo.enabled."""
    settings = services(app).settings
    if not enabled(settings):
        return
    from .views import bp

    urls = urls_for(settings.tool.base_url)
    services(app).provide(DemoLms(urls=urls, key=PlatformKey(settings.keys.dir), tokens=Tokens()))
    app.config["DEMO_ENTRY_URL"] = urls.site + "/demo/"
    app.register_blueprint(bp)
