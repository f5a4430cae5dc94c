"""The JSON API at /api/v1.

Clients authenticate with `Authorization: Bearer <token>` (POST /api/v1/token with
a username and password gives one; only its SHA-256 is stored). Cookies never
authenticate an API request - that is why the blueprint can be exempt from CSRF.
Every route but the token one declares its permission with `@requires`, and
records are checked against the user's location scope like in the web pages.

Records go through `Registry` - the same validation, de-duplication and audit as
the forms and the bulk import; a refused record gives 422 with one entry per
error: {"path": "members[2].dob", "field", "code", "message"}. Every other error
is JSON too: {"error": {"status", "code", "message", ...}}. Messages follow
?lang=, then Accept-Language, then the user's language.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from ..registry import audit
from ..registry.importer import Importer
from ..registry.search import UID_RE, search
from ..registry.service import Registry, location_fields
from ..storage.models import Household, Individual, LoginAttempt, User
from ..web.app import catalog, csrf, db_session, nul_in_request
from ..web.auth import recent_failures
from ..web.permissions import can, home_place, requires, schemes_visible, scope_paths
from . import tokens
from .describe import plain, scheme_description, scheme_summary
from .openapi import build_document

log = logging.getLogger("openscheme.api")
bp = Blueprint("api", __name__, url_prefix="/api/v1")

LANG_RE = re.compile(r"^[a-z]{2,3}([_-][a-z0-9]{2,8})?$", re.I)
VERSION_RE = re.compile(r"^[0-9]{1,18}$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _session():
    return db_session()


def _catalog():
    return catalog()


# ---- language -----------------------------------------------------------------------------


def known_languages() -> set[str]:
    langs = set(current_app.config["LANGUAGES"])
    for scheme in _catalog().all_current():
        langs |= set(scheme.languages)
    return langs


def api_language() -> str:
    """?lang=, then Accept-Language, then the user's language, then English."""
    if "api_lang" in g:
        return g.api_lang
    known = known_languages()
    lang = None
    wanted = (request.args.get("lang") or "").strip()
    if wanted and LANG_RE.match(wanted):
        wanted = wanted.replace("-", "_").lower()
        lang = wanted if wanted in known else wanted.split("_")[0] if wanted.split("_")[0] in known else None
    if lang is None and request.headers.get("Accept-Language"):
        lang = request.accept_languages.best_match(sorted(known))
    if lang is None and getattr(current_user, "is_authenticated", False) and current_user.language in known:
        lang = current_user.language
    g.api_lang = lang or "en"
    return g.api_lang


def t(text: str, **params) -> str:
    """Interface text in the API's language (not the web session's)."""
    try:
        with force_locale(api_language()):
            return _(text, **params)
    except Exception:  # noqa: BLE001 - an unknown locale must not turn an error into a crash
        return _(text, **params)


# ---- responses ----------------------------------------------------------------------------


def error(status: int, code: str, message: str, **extra):
    response = jsonify({"error": {"status": status, "code": code, "message": message, **extra}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="openscheme"'
    return response


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 412: "precondition_failed", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid", 428: "precondition_required", 429: "too_many_requests", 500: "server_error"}


def http_error(e: HTTPException):
    status = e.code or 500
    messages = {
        401: lambda: t("Send a valid token in the header Authorization: Bearer <token>."),
        403: lambda: t("Your role does not allow this here."),
        404: lambda: t("There is nothing at this address."),
        405: lambda: t("This address does not accept the method %(method)s.", method=request.method),
        413: lambda: t("The file is too large."),
        500: lambda: t("The error was logged. Nothing you saved was lost."),
    }
    if status in messages:
        text = messages[status]()
    elif status == 400:
        text = t("The request could not be understood.")
    else:
        text = e.description or e.name
    response = error(status, HTTP_CODES.get(status, re.sub(r"\W+", "_", e.name.lower())), text)
    if status == 405 and getattr(e, "valid_methods", None):
        response.headers["Allow"] = ", ".join(e.valid_methods)
    return response


@bp.errorhandler(ApiError)
def _api_error(e: ApiError):
    return error(e.status, e.code, e.message, **e.extra)


@bp.errorhandler(HTTPException)
def _http_exception(e: HTTPException):
    return http_error(e)


@bp.errorhandler(Exception)
def _unexpected(e: Exception):
    if isinstance(e, HTTPException):
        return http_error(e)
    log.exception("API error on %s %s", request.method, request.path)
    try:
        _session().rollback()
    except Exception:  # noqa: BLE001
        log.exception("rollback failed")
    return error(500, "server_error", t("The error was logged. Nothing you saved was lost."))


def validation_error(errors):
    response = jsonify({"error": {"status": 422, "code": "invalid_record",
                                  "message": t("The record was not saved: correct the errors listed.")},
                        "errors": [asdict(e) for e in errors]})
    response.status_code = 422
    return response


def json_body(optional: bool = False):
    """The request's JSON (numbers with a fraction as Decimal, so money stays exact)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "empty_body", t("Send the record as JSON in the request body."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_json", t("The body is not UTF-8 text."), position=exc.start) from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", t("The body is not valid JSON: %(problem)s (line %(line)s, column %(column)s).",
                                          problem=exc.msg, line=exc.lineno, column=exc.colno),
                       line=exc.lineno, column=exc.colno, position=exc.pos) from None
    except (RecursionError, ValueError):
        raise ApiError(400, "bad_json", t("The body is not valid JSON: it is nested too deeply or a number is too long.")) from None
    if "\\u" in text:  # only a \u escape can make a NUL or half a surrogate pair (raw ones are refused above)
        _check_text(data)
    return data


BAD_CHAR_RE = re.compile("[\x00\ud800-\udfff]")


def _check_text(data) -> None:
    """400 naming the path of the first text (value or key) that holds U+0000 or half of a UTF-16 surrogate
    pair ("\\ud800" alone): neither can be stored (PostgreSQL refuses NUL, UTF-8 has no lone surrogate)."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in value:
                if BAD_CHAR_RE.search(key):
                    name = ascii(key)[1:-1]  # the key itself cannot be sent back as it is
                    _bad_text(f"{path}.{name}" if path else name, name, key)
            stack.extend((f"{path}.{key}" if path else key, v) for key, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str) and BAD_CHAR_RE.search(value):
            _bad_text(path, re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1]), value)


def _bad_text(path: str, field: str, text: str):
    char = BAD_CHAR_RE.search(text).group()
    where = path or t("the body")
    if char == "\x00":
        message = t("%(path)s holds the character U+0000 (NUL), which no text may hold.", path=where)
    else:
        message = t("%(path)s holds half of a UTF-16 surrogate pair (%(escape)s) without its other half: it is not "
                    "Unicode text.", path=where, escape=ascii(char)[1:-1])
    raise ApiError(400, "bad_text", message, path=path, field=field)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def record_json(registry: Registry, unit) -> dict:
    out = {"uid": unit.uid, "scheme": unit.scheme_code, "scheme_version_id": unit.scheme_version_id,
           "row_version": unit.row_version, "active": unit.active, "location_code": unit.location_code,
           "location_path": unit.location_path, "created_at": _iso(unit.created_at), "updated_at": _iso(unit.updated_at),
           "record": plain(registry.input_of(unit))}
    if isinstance(unit, Household):
        active = [m for m in unit.members if m.active]
        out["members"] = [{"uid": m.uid, "position": i, "roles": list(m.roles or [])} for i, m in enumerate(active)]
        for member, person in zip(out["record"].get("members") or [], active, strict=False):
            member[MEMBER_UID] = person.uid  # sent back on update: see `_member_uids`
    return out


# A member's uid inside `record.members` (a name no field can have: field names start with a letter)
MEMBER_UID = "_uid"


def _member_uids(data) -> list[str | None] | None:
    """The `_uid` of each member of an update (the record as GET returns it carries them), taken out of
    the values: the stored members are matched by it, so removing one in the middle does not move the
    others' data onto the wrong person; a member without one is new. None when no member has one:
    matched by position, as before."""
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(members, list):
        return None
    uids = [m.pop(MEMBER_UID, None) if isinstance(m, dict) else None for m in members]
    uids = [str(uid) if uid else None for uid in uids]
    return uids if any(uids) else None


def record_response(registry: Registry, unit, status: int = 200):
    response = jsonify(record_json(registry, unit))
    response.status_code = status
    response.headers["ETag"] = f'"{unit.row_version}"'
    return response


# ---- authentication -----------------------------------------------------------------------


def _set_user(user) -> None:
    manager = current_app.login_manager
    if user is None:
        user = manager.anonymous_user()
    updater = getattr(manager, "_update_request_context_with_user", None)
    if updater is not None:
        updater(user)
    else:  # pragma: no cover - older/newer flask-login
        g._login_user = user


def bearer_login() -> bool:
    """Log the request in from its `Authorization: Bearer` header, for every API (JSON, claims, FHIR).
    False when the header holds no valid token (the caller answers 401 in its own format); True
    otherwise - anonymous without a header, and @requires answers 401 where a user is needed.
    A session cookie never authenticates an API request (the APIs are CSRF-exempt)."""
    g.api_token = None
    header = request.headers.get("Authorization", "")
    if not header:
        _set_user(None)
        return True
    kind, _sep, value = header.strip().partition(" ")
    found = tokens.lookup(_session(), value.strip()) if kind.lower() == "bearer" else None
    if found is None:
        _set_user(None)
        return False
    user, g.api_token = found
    _set_user(user)
    return True


def check_address() -> None:
    """400 for a NUL character in the address or its query (?q=%00): no text may hold one, and PostgreSQL
    refuses it in a query - the parameter is named, like a field."""
    name = nul_in_request(form=False)  # (bodies: json_body, and the token route's form)
    if name is not None:
        raise ApiError(400, "bad_text", t("%(path)s holds the character U+0000 (NUL), which no text may hold.",
                                          path=name), path=name, field=name)


@bp.before_request
def _authenticate():
    """Bearer token or anonymous; asking for a token needs neither."""
    check_address()
    if request.endpoint == "api.token" and request.method == "POST":
        g.api_token = None
        _set_user(None)
        return None
    if not bearer_login():
        return error(401, "bad_token", t("The token is unknown or has expired: ask for a new one at /api/v1/token."))
    return None


def _registry() -> Registry:
    return Registry(_session(), _catalog(), current_user._get_current_object(), api_language(),
                    request.remote_addr or "")


def _scheme(code: str):
    scheme = _catalog().current(code)
    if scheme is None:
        raise ApiError(404, "unknown_scheme", t("There is no scheme %(code)s.", code=code))
    return scheme


def _unit(uid: str, permission: str, lock: bool = False):
    """The household or individual with this id, if the user may act on it there (404 / 403)."""
    uid = (uid or "").strip().upper()
    not_found = ApiError(404, "unknown_record", t("There is no record %(uid)s.", uid=uid))
    if not UID_RE.match(uid):
        raise not_found
    model = Household if uid.startswith("H") else Individual
    query = select(model).where(model.uid == uid)
    if lock:
        query = query.with_for_update()
    unit = _session().scalar(query)
    if unit is None:
        raise not_found
    if isinstance(unit, Individual) and (unit.household_id is not None or _catalog_is_household(unit.scheme_code)):
        household = _session().get(Household, unit.household_id) if unit.household_id else None
        if household is not None and can(current_user, "registry.view", household.scheme_code, household.location_path):
            raise ApiError(404, "member_not_record", t("%(uid)s is a member of household %(household)s: use the household's record.",
                                                        uid=uid, household=household.uid), household=household.uid)
        raise not_found
    if not can(current_user, permission, unit.scheme_code, unit.location_path):
        raise ApiError(403, "forbidden", t("Your role does not allow this here."))
    return unit


def _catalog_is_household(code: str) -> bool:
    scheme = _catalog().current(code)
    return bool(scheme is not None and scheme.is_household)


def _if_match(unit, required: bool = True) -> int | None:
    """The row_version the client last saw (If-Match: "3"); 428 without it, 412 when it is stale."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        if required:
            raise ApiError(428, "precondition_required", t("Send the record's version in the header If-Match (its ETag)."),
                           row_version=unit.row_version)
        return None
    if header == "*":
        return unit.row_version
    versions = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        part = part.strip('"')
        if VERSION_RE.match(part):  # ASCII digits only: "²".isdigit() is true, and int() refuses it
            versions.append(int(part))
    if unit.row_version not in versions:
        raise ApiError(412, "version_mismatch", t("Someone else changed this record meanwhile: read it again, then send your change."),
                       row_version=unit.row_version)
    return unit.row_version


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", t("%(name)s must be a whole number.", name=name), parameter=name) from None
    if not low <= value <= high:
        raise ApiError(400, "bad_parameter", t("%(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high),
                       parameter=name)
    return value


def _check_place(registry: Registry, scheme, data, permission: str) -> None:
    """403 before anything is written when a valid record would lie outside the user's locations.

    (Checked up front rather than undone afterwards: the record's place is known only once its
    location fields are validated, and a refused record must leave no trace.)
    """
    if not isinstance(data, dict) or scope_paths(current_user, permission, scheme.code) == ["/"] \
            or not location_fields(scheme):
        return  # not a record (the validation says so), a user who may act everywhere, or a record
        # of a scheme without places (it goes to the user's own area)
    _values, errors, _roles, path = registry.validate(scheme, data)
    if not errors and not can(current_user, permission, scheme.code, path):
        raise ApiError(403, "outside_area", t("You may not register or change records in this location."))


# ---- routes ------------------------------------------------------------------------------

_dummy_hash: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    """Spend the time of a password check for unknown users, so timing does not tell who exists."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hash:
        _dummy_hash[method] = generate_password_hash("not-a-password", method=method)
    check_password_hash(_dummy_hash[method], password)


@bp.post("/token")
def token():
    """Exchange a username and password for a bearer token (throttled like the web login, audited)."""
    body = json_body(optional=True) if not request.form else request.form.to_dict()
    if request.form:
        _check_text(body)  # (a form's text is checked like the JSON's: username=%00 was a 500 on PostgreSQL)
    if not isinstance(body, dict):
        body = {}
    username = str(body.get("username") or "").strip()[:64]
    password = str(body.get("password") or "")
    if not username or not password:
        raise ApiError(400, "missing_credentials", t("Send a username and a password."))
    s = _session()
    ip = request.remote_addr or ""
    minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    if recent_failures(s, username) >= current_app.config["LOGIN_MAX_FAILURES"]:
        response = error(429, "too_many_attempts", t("Too many failed attempts. Try again in %(minutes)s minutes.",
                                                     minutes=minutes))
        response.headers["Retry-After"] = str(minutes * 60)
        return response
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        _dummy_check(password)
    ok = user is not None and user.active and check_password_hash(user.password_hash, password)
    s.add(LoginAttempt(username=username, ip=ip, at=datetime.now(), success=ok))
    if not ok:
        s.commit()
        return error(401, "bad_credentials", t("Wrong username or password."))
    days = current_app.config.get("API_TOKEN_DAYS", 30)
    name = str(body.get("name") or request.user_agent.string or "")[:64]
    text, row = tokens.issue(s, user, days=days, name=name)
    audit.record(s, user=user, action="token", entity="api_token", entity_id=row.id, detail=name, ip=ip)
    s.commit()
    return jsonify({"token": text, "token_type": "Bearer", "expires_at": _iso(row.expires_at)}), 201


token.public = True  # the one route without @requires: it is how a client signs in


@bp.delete("/token")
@requires("schemes.view")
def token_revoke():
    """Revoke the token this request was sent with."""
    s = _session()
    row = g.api_token
    audit.record(s, user=current_user, action="token_revoke", entity="api_token", entity_id=row.id,
                 ip=request.remote_addr or "")
    tokens.revoke(s, row)
    s.commit()
    return "", 204


@bp.get("/openapi.json")
@requires("schemes.view")
def openapi():
    visible = schemes_visible(current_user, _catalog().codes())
    schemes = [s for s in (_catalog().current(c) for c in visible) if s is not None]
    return jsonify(build_document(schemes, api_language()))


@bp.get("/schemes")
@requires("schemes.view")
def schemes():
    lang = api_language()
    out = []
    for code in schemes_visible(current_user, _catalog().codes()):
        scheme = _catalog().current(code)
        if scheme is not None:
            out.append(scheme_summary(scheme, lang) | {"href": url_for("api.scheme", code=code)})
    return jsonify({"schemes": out})


@bp.get("/schemes/<code>")
@requires("schemes.view")
def scheme(code: str):
    return jsonify(scheme_description(_scheme(code), api_language()))


@bp.get("/schemes/<code>/records")
@requires("registry.view")
def records(code: str):
    scheme_ = _scheme(code)
    page = _int_arg("page", 1, 1, 1_000_000)
    size = _int_arg("page_size", current_app.config.get("PAGE_SIZE", 25), 1, 100)
    s = _session()
    result = search(s, scheme_, request.args.get("q", ""), scope_paths=scope_paths(current_user, "registry.view", code),
                    page=page, page_size=size)
    households = [r.id for r in result.rows if isinstance(r, Household)]
    if households:  # members of the whole page in one query
        s.scalars(select(Household).where(Household.id.in_(households)).options(selectinload(Household.members))).all()
    registry = _registry()
    return jsonify({"records": [record_json(registry, r) for r in result.rows], "page": result.page,
                    "page_size": size, "has_more": result.has_more,
                    "next": url_for("api.records", code=code, q=request.args.get("q") or None, page=page + 1,
                                    page_size=size) if result.has_more else None})


@bp.post("/schemes/<code>/records")
@requires("registry.edit")
def register(code: str):
    scheme_ = _scheme(code)
    data = json_body()
    registry = _registry()
    _check_place(registry, scheme_, data, "registry.edit")
    result = registry.register(code, data, alone=True,  # (this request's transaction writes nothing else)
                               place=home_place(registry.session, current_user, "registry.edit", scheme_))
    s = _session()
    if not result.ok:
        s.rollback()
        return validation_error(result.errors)
    unit = result.record
    s.commit()
    response = record_response(registry, unit, 201)
    response.headers["Location"] = url_for("api.record", uid=unit.uid)
    return response


@bp.get("/records/<uid>")
@requires("registry.view")
def record(uid: str):
    return record_response(_registry(), _unit(uid, "registry.view"))


@bp.put("/records/<uid>")
@requires("registry.edit")
def update(uid: str):
    unit = _unit(uid, "registry.edit", lock=True)
    expected = _if_match(unit)
    data = json_body()
    member_uids = _member_uids(data)  # taken out of the values before anything reads them
    registry = _registry()
    _check_place(registry, _scheme(unit.scheme_code), data, "registry.edit")
    result = registry.update(unit, data, expected, member_uids=member_uids)
    s = _session()
    if not result.ok:
        s.rollback()
        if any(e.code == "E812" for e in result.errors):
            raise ApiError(409, "conflict", result.errors[0].message)
        return validation_error(result.errors)
    s.commit()
    return record_response(registry, unit)


@bp.post("/records/<uid>/deactivate")
@requires("registry.deactivate")
def deactivate(uid: str):
    unit = _unit(uid, "registry.deactivate", lock=True)
    _if_match(unit, required=False)
    body = json_body(optional=True)
    reason = str(body.get("reason") or "")[:500] if isinstance(body, dict) else ""
    if not unit.active:
        raise ApiError(409, "already_inactive", t("The record is already inactive."))
    registry = _registry()
    registry.set_active(unit, False, reason)
    _session().commit()
    return record_response(registry, unit)


@bp.post("/schemes/<code>/import")
@requires("registry.import")
def import_file(code: str):
    """Bulk import of a CSV or XLSX file (multipart field `file`); the report comes back as JSON."""
    _scheme(code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "missing_file", t("Send the file in the multipart field “file”."))
    importer = Importer(_session(), _catalog(), code, user=current_user._get_current_object(), lang=api_language(),
                        ip=request.remote_addr or "", scope_paths=scope_paths(current_user, "registry.import", code))
    report = importer.run(upload.stream, upload.filename)
    return jsonify(report.as_dict()), (422 if report.file_error else 200)


# ---- registration ------------------------------------------------------------------------


def _api_http_error(e: HTTPException):
    """Errors raised before a blueprint is known (unknown method, unknown address): JSON under /api/."""
    if request.path.startswith("/api/"):
        return http_error(e)
    return e


for _status in HTTP_CODES:  # ahead of the application's own handlers for these codes
    bp.register_error_handler(_status, _http_exception)


def init_app(app) -> None:
    csrf.exempt(bp)  # bearer tokens, never cookies: there is no cross-site request to forge
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _api_http_error)
