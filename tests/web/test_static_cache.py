"""Static files named by a page carry their digest and are kept by the browser for a year; a stale or
missing digest gets no such promise (on a slow link, a page then costs one request, not four)."""

from __future__ import annotations

import hashlib
import re

from conftest import login, make_user
from openscheme.locate import PROJECT_ROOT

STATIC = PROJECT_ROOT / "platform" / "openscheme" / "web" / "static"


def _static_links(html: str) -> dict[str, str]:
    return dict(re.findall(r'/static/([\w.-]+)\?v=([0-9a-f]+)', html))


def test_a_page_names_each_static_file_with_its_digest_and_the_file_is_cached_for_a_year(client, app):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    page = client.get("/s/gm-nafa-quick/register")
    assert page.status_code == 200
    links = _static_links(page.get_data(as_text=True))
    assert "forms.js" in links and "forms.css" in links, links
    for name, version in links.items():
        assert version == hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
        r = client.get(f"/static/{name}?v={version}")
        assert r.status_code == 200
        assert r.cache_control.max_age == 365 * 24 * 3600 and r.cache_control.public and r.cache_control.immutable
        assert r.headers["X-Content-Type-Options"] == "nosniff"  # the security headers are still there
        r.close()


def test_a_stale_or_missing_digest_is_served_without_the_promise(client):
    for url in ("/static/forms.js", "/static/forms.js?v=000000000000"):
        r = client.get(url)
        assert r.status_code == 200
        assert not r.cache_control.immutable and r.cache_control.max_age != 365 * 24 * 3600, url
        r.close()


def test_no_digest_for_a_file_that_does_not_exist(client, app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="missing.css") == "/static/missing.css"
        assert url_for("static", filename="../app.py") == "/static/../app.py"
    assert client.get("/static/missing.css?v=abc").status_code == 404
