"""Every route x every role: each route declares its permission, and the permission decides.

A route without a declared permission fails this test (unless it is public by design),
so a new screen cannot ship unprotected. For each role, a GET (or, for POST-only routes,
an empty POST) must be refused with 403 when the role lacks the permission, and must never
be refused or crash when it has it (dummy ids give 404, empty forms 400/422 - never 500).
"""

from __future__ import annotations

import pytest

from conftest import ROLES, login
from openscheme.web.permissions import roles_for

PUBLIC = {"static", "auth.login", "auth.logout", "auth.language", "main.health", "api.token", "api.openapi_public"}
SCHEME = "gm-nafa-quick"


def routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.startswith(("admin.", "static")) or "." not in rule.endpoint:
            continue
        if "token" in rule.endpoint:  # signing in and out of the API: tested in tests/api
            continue
        if rule.endpoint.split(".")[0] in {"admin", "_admin"} or rule.rule.startswith("/admin"):
            continue
        view = app.view_functions[rule.endpoint]
        out.append((rule, view))
    return out


def fill(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "IntegerConverter":
            values[name] = 999999
        elif name in ("scheme", "code"):
            values[name] = SCHEME
        elif name in ("benefit",):
            values[name] = "nafa_quick"
        elif name in ("uid",):
            values[name] = "H0000000000"
        else:
            values[name] = "x"
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<{name}>", str(value))
        for conv in ("int", "string", "path", "uuid"):
            url = url.replace(f"<{conv}:{name}>", str(value))
    return url


def test_every_route_declares_a_permission(app):
    missing = [r.rule for r, view in routes(app) if not getattr(view, "permission", None)]
    assert not missing, f"routes without @requires(...): {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_its_permissions_allow(app, users, role):
    client = app.test_client()
    assert login(client, role).status_code == 302
    token = client.post("/api/v1/token", json={"username": role, "password": "secret-pass"}).get_json()["token"]
    problems = []
    for rule, view in routes(app):
        permission = view.permission
        url = fill(rule)
        method = "GET" if "GET" in rule.methods else next(m for m in ("POST", "PUT", "DELETE", "PATCH")
                                                          if m in rule.methods)
        headers = {"Authorization": f"Bearer {token}"} if url.startswith(("/api/", "/fhir/")) else {}
        response = client.open(url, method=method, data={}, headers=headers)
        allowed = role in roles_for(permission)
        status = response.status_code
        if status >= 500:
            problems.append(f"{method} {url}: {status} (server error) for {role}")
        elif allowed and status == 403:
            problems.append(f"{method} {url}: 403 for {role}, which holds {permission}")
        elif not allowed and status != 403:
            problems.append(f"{method} {url}: {status} for {role}, which lacks {permission}")
    assert not problems, "\n".join(problems)


ADMIN_PAGES = ["/admin/locations/", "/admin/facilities/", "/admin/users/", "/admin/role-assignments/",
               "/admin/catalogue/", "/admin/price-lists/", "/admin/icd10/"]


@pytest.mark.parametrize("role", ROLES)
def test_reference_data_administration_is_for_administrators(app, users, role):
    client = app.test_client()
    login(client, role)
    for page in ADMIN_PAGES:
        status = client.get(page).status_code
        assert status == (200 if role == "administrator" else 403), (page, role, status)
    versions = client.get("/admin/scheme-versions/").status_code
    assert versions == (200 if role in roles_for("schemes.versions") else 403), (role, versions)


def test_anonymous_users_are_sent_to_login(app):
    client = app.test_client()
    for rule, _view in routes(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(fill(rule))
        if rule.rule.startswith(("/api/", "/fhir/")):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule
