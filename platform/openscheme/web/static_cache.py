"""Static files (CSS, JavaScript) kept by browsers for a year, so that a page costs one request on a slow link.

Every `url_for('static', filename=...)` gets `?v=<digest of the file>`. A request that carries the
file's current digest is answered with `Cache-Control: public, max-age=<a year>, immutable`: the
browser asks for it again only when a page names another digest, which happens when the file
changes. Without `v`, or with a stale one, the file is served as Flask serves it (revalidated on
every use). Digests are computed once per file; in debug mode on every request, so that an edited
file is never hidden behind a cached one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

YEAR = 365 * 24 * 3600


def init_static_cache(app: Flask) -> None:
    folder = Path(app.static_folder).resolve()
    digests: dict[str, str | None] = {}

    def digest(filename: str) -> str | None:
        if filename in digests and not app.debug:
            return digests[filename]
        path = (folder / filename).resolve()
        found = None
        if path.is_relative_to(folder) and path.is_file():
            found = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        digests[filename] = found
        return found

    @app.url_defaults
    def _versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = digest(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _cached(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            version = request.args.get("v")
            if version and version == digest((request.view_args or {}).get("filename", "")):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
