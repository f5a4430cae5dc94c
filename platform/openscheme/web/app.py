"""The Flask application factory.

    app = create_app({"DATABASE_URL": "sqlite:///..."})

Configuration comes from `config.load_config` (environment variables) and the
mapping given here. On start the database schema is migrated (AUTO_MIGRATE) and
the scheme definitions are compiled and stored as versions; a definition with
errors is reported in the log and skipped, the previous version stays current.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..config import load_config
from ..locate import PROJECT_ROOT
from ..storage.db import Database
from ..storage.migrate import upgrade
from ..storage.schemes import SchemeCatalog
from . import auth
from .i18n import current_language, init_babel
from .permissions import can, schemes_visible
from .static_cache import init_static_cache

log = logging.getLogger("openscheme")
csrf = CSRFProtect()


@dataclass
class State:
    db: Database
    catalog: SchemeCatalog


def state() -> State:
    return current_app.extensions["openscheme"]


def db_session():
    return state().db.session()


def catalog() -> SchemeCatalog:
    return state().catalog


def current_scheme(code: str):
    """The current compiled scheme with this code, or a 404 page."""
    from flask import abort

    scheme = catalog().current(code)
    if scheme is None:
        abort(404)
    return scheme


def form_template_dirs(app: Flask) -> list[str]:
    dirs = []
    custom = app.config.get("FORM_TEMPLATES_DIR")
    if custom:
        dirs.append(custom)
    local = Path.cwd() / "form_templates"
    if local.is_dir():
        dirs.append(str(local))
    dirs.append(str(PROJECT_ROOT / "form_templates"))
    return dirs


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    database = Database(app.config["DATABASE_URL"])
    if app.config.get("AUTO_MIGRATE", True):
        upgrade(database.engine)
    schemes = SchemeCatalog(database)
    app.extensions["openscheme"] = State(database, schemes)
    paths = [Path(p) for p in app.config.get("SCHEME_PATHS") or [app.config["DEFINITIONS_DIR"]]]
    report = schemes.load_paths([p for p in paths if p.exists()])
    for file, errors in report.failed.items():
        log.error("scheme definition %s has %d error(s), not loaded:\n%s", file, len(errors),
                  "\n".join(str(e) for e in errors))
    app.extensions["openscheme_load_report"] = report

    from jinja2 import ChoiceLoader, FileSystemLoader

    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(form_template_dirs(app))])
    csrf.init_app(app)
    auth.login_manager.init_app(app)
    init_babel(app)
    register_blueprints(app)
    register_handlers(app)
    init_static_cache(app)

    @app.teardown_appcontext
    def _remove_session(_exc=None):
        database.session.remove()

    @app.context_processor
    def _globals():
        from flask_login import current_user

        return {"lang": current_language(), "can": lambda perm, scheme=None: can(current_user, perm, scheme),
                "languages": app.config["LANGUAGES"], "scheme_links": app.extensions.get("scheme_links", [])}

    return app


def register_blueprints(app: Flask) -> None:
    """Core blueprints, then every feature module: any module of openscheme.web or openscheme.api
    whose name ends in "views" (or is admin) and defines init_app(app). A new workflow adds its
    own module; nothing here changes."""
    import importlib
    import pkgutil

    from . import main

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    for package in ("openscheme.web", "openscheme.api"):
        try:
            pkg = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not (info.name.endswith("views") or info.name == "admin"):
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            if hasattr(module, "init_app"):
                module.init_app(app)


def add_scheme_link(app: Flask, endpoint: str, label, permission: str, applies=None) -> None:
    """A link on each scheme's card of the home page (label: a lazy_gettext string), for those who
    hold the permission there; `applies(scheme)` says which schemes have the page (default: all)."""
    app.extensions.setdefault("scheme_links", []).append((endpoint, label, permission, applies))


def has_benefit(kind: str):
    """For add_scheme_link: the schemes with a benefit of this kind (insurance, voucher, cash)."""
    return lambda scheme: any(b.kind == kind for b in scheme.benefits)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def nul_in_request(form: bool = True) -> str | None:
    """The name of the first address part, query parameter or (with `form`) form field (name or value)
    of this request that holds U+0000 (NUL), else None. No text may hold it: PostgreSQL refuses it in a
    query or a row, so without this check it would surface as a server error. Uploaded files are the
    importer's. The pages answer 400 (below), the APIs in their own format (`api.views.check_address`)."""
    values = [(k, v) for k, v in (request.view_args or {}).items() if isinstance(v, str)]
    for source in (request.args, request.form) if form and request.method != "GET" else (request.args,):
        values += [(k, k) for k in source] + list(source.items(multi=True))
    return next((ascii(k)[1:-1] for k, v in values if "\x00" in v), None)


def register_handlers(app: Flask) -> None:
    @app.before_request
    def _no_nul():
        # the APIs answer in their own formats (api.views.check_address, json_body)
        if not request.path.startswith(("/api/", "/fhir/")):
            name = nul_in_request()
            if name is not None:
                from flask import abort

                abort(400, description=_("%(path)s holds the character U+0000 (NUL), which no text may hold.",
                                         path=name))

    @app.after_request
    def _security_headers(response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.path.startswith("/admin"):
            # Flask-Admin's pages use inline scripts; they are reachable by administrators only
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline' https:; "
                "script-src 'self' 'unsafe-inline' https:; font-src 'self' https: data:; frame-ancestors 'none'")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    def _error(status: int, title: str, text: str):
        if request.path.startswith("/api/"):
            from flask import jsonify

            return jsonify({"error": {"status": status, "message": text}}), status
        return render_template("error.html", status=status, title=title, text=text), status

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _error(400, _("Form expired"), _("The form expired or was sent from elsewhere. Go back, reload the page and try again."))

    @app.errorhandler(400)
    def _bad(e):
        return _error(400, _("Bad request"), getattr(e, "description", "") or _("The request could not be understood."))

    @app.errorhandler(401)
    def _unauth(e):
        return _error(401, _("Sign in required"), _("Sign in to continue."))

    @app.errorhandler(403)
    def _forbidden(e):
        return _error(403, _("Not allowed"), _("Your role does not allow this here."))

    @app.errorhandler(404)
    def _missing(e):
        return _error(404, _("Not found"), _("There is nothing at this address."))

    @app.errorhandler(413)
    def _too_large(e):
        return _error(413, _("Too large"), _("The file is too large."))

    @app.errorhandler(500)
    def _server(e):
        log.exception("server error")
        return _error(500, _("Something went wrong"), _("The error was logged. Nothing you saved was lost."))


__all__ = ["catalog", "create_app", "db_session", "schemes_visible", "state"]
