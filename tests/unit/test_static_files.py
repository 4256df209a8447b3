"""Static files: URLs that name their content, kept by the browser; a change gets a new URL."""

from __future__ import annotations

import os
import re

from flask import Flask, render_template_string, url_for

from lti_tool import create_app, static_files


def cache_control(client, url: str) -> str:
    with client.get(url) as response:  # a file's answer is open until closed
        assert response.status_code == 200
        return response.headers["Cache-Control"]


def test_pages_link_versioned_files_that_browsers_keep(tmp_path):
    app = create_app(
        {"tool": {"data_dir": str(tmp_path), "database_url": f"sqlite:///{tmp_path}/t.db"}}
    )
    client = app.test_client()
    page = client.get("/no-such-page")  # any page drawn on base.html
    assert page.status_code == 404
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{16})"', page.text)
    assert css, page.text[:500]
    with client.get(css.group(1)) as kept:
        assert kept.status_code == 200 and b"{" in kept.data
    assert cache_control(client, css.group(1)) == "public, max-age=31536000, immutable"
    # Without the version, or with another one, the browser asks again (Flask's no-cache).
    for url in ("/static/app.css", "/static/app.css?v=0000000000000000"):
        assert cache_control(client, url) == "no-cache"


def test_a_changed_file_gets_a_new_url_and_a_missing_one_none(tmp_path):
    (tmp_path / "site.css").write_text("body { color: black }")
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    static_files.init_app(app)
    with app.test_request_context():
        first = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: navy }")
        stat = (tmp_path / "site.css").stat()
        os.utime(tmp_path / "site.css", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        second = url_for("static", filename="site.css")
        missing = render_template_string("{{ url_for('static', filename='gone.js') }}")
    assert first != second and first.startswith("/static/site.css?v=")
    assert missing == "/static/gone.js"
    client = app.test_client()
    assert cache_control(client, second) == "public, max-age=31536000, immutable"
    assert cache_control(client, first) == "no-cache"  # the old content is gone
