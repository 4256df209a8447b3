"""Static files under URLs that name their content, kept by browsers for a year.

The tool's pages open again and again inside the LMS frame, often on phones. Flask serves
static files with `no-cache`: every page asked again for its style sheets and scripts, a
round trip each (a 304) before the page could show. Now `url_for('static', ...)` adds the
file's content hash (`?v=`), and a request that carries one is answered as immutable: a
changed file gets a new URL, so nobody keeps an old copy. A URL without `v` (typed by hand,
or from an old page) keeps Flask's `no-cache`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

YEAR_SECONDS = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Version the static URLs of `app` and let browsers keep versioned answers."""
    if app.static_folder is None:
        return
    folder = Path(app.static_folder)

    @lru_cache(maxsize=512)
    def digest(filename: str, modified_ns: int) -> str:
        # modified_ns is in the key: a file edited under a running server gets a new URL.
        return hashlib.sha256((folder / filename).read_bytes()).hexdigest()[:16]

    def version(filename: str) -> str | None:
        try:
            return digest(filename, (folder / filename).stat().st_mtime_ns)
        except OSError:
            return None  # no such file (or a name that is not one): 404 as before

    @app.url_defaults
    def _content_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            current = version(values["filename"])  # names from templates
            if current:
                values["v"] = current

    @app.after_request
    def _immutable(response: Response) -> Response:
        # Only the file's current version is kept: an old page's URL is revalidated.
        asked = request.args.get("v")
        if (
            asked
            and request.endpoint == "static"
            and response.status_code == 200
            and request.view_args
            and asked == version(request.view_args["filename"])
        ):
            response.cache_control.no_cache = None  # Flask's no-cache, removed
            response.cache_control.public = True
            response.cache_control.max_age = YEAR_SECONDS
            response.cache_control.immutable = True
        return response
