"""The registry screens: search, register (full and quick), view, edit, deactivate, history.

Every write goes through `registry.service.Registry` (one validation, one audit
trail); the generated forms (`openscheme.forms`) only carry what was typed and show
the errors that come back next to their fields. Every route declares its permission
with @requires, and every record is checked against the user's area: an officer of
one district neither sees, opens nor saves a household elsewhere (403), and saving a
record into a place outside the area is refused and rolled back.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..evaluation.records import FieldError
from ..forms import (
    attach_errors,
    fill_calculated,
    form_class,
    new_form,
    record_from_form,
    set_location_choices,
)
from ..formulas.javascript import scheme_javascript
from ..registry.search import UID_RE, search
from ..registry.service import Registry, location_fields
from ..storage.models import AuditLog, Household, Individual, Location
from . import registry_display as display
from .i18n import current_language
from .permissions import can, home_place, require_location, requires, scope_paths

bp = Blueprint("registry", __name__)
PAGE_SIZE = 25
_javascript_cache: dict[str, str] = {}


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    # on each scheme's card of the home page, for those who hold the permission there
    add_scheme_link(app, "registry.search", _l("Registry"), "registry.view")
    add_scheme_link(app, "registry.register", _l("Register"), "registry.edit")
    add_scheme_link(app, "registry.quick", _l("Quick registration"), "registry.edit")


# ---- helpers ----------------------------------------------------------------------------


# shared with every screen: the compiled schemes, the request's session, a scheme or 404
from .app import catalog as _catalog  # noqa: E402
from .app import current_scheme  # noqa: E402,F401
from .app import db_session as _session  # noqa: E402


def registry() -> Registry:
    return Registry(_session(), _catalog(), current_user._get_current_object(), current_language(),
                    request.remote_addr or "")


def load_unit(uid: str, permission: str):
    """The household or individual with this uid, if the user holds the permission where it lives."""
    uid = (uid or "").strip().upper()
    if not UID_RE.match(uid):
        abort(404)
    unit = registry().get(uid)
    if unit is None:
        abort(404)
    require_location(permission, unit.scheme_code, unit.location_path)
    return unit


def form_layout(scheme) -> list[str]:
    """A scheme's own whole form if it has one, else the layout for its unit."""
    layout = "layouts/household.html" if scheme.is_household else "layouts/unit.html"
    return [f"schemes/{scheme.code}/form.html", layout]


def render_form(scheme, form, *, title: str, action: str, hidden: dict, cancel: str, status: int = 200,
                submit: str | None = None):
    return render_template("registry/form.html", scheme=scheme, form=form, title=title, form_action=action,
                           form_hidden=hidden, cancel_url=cancel, submit_label=submit,
                           layout=form_layout(scheme), lang=current_language()), status


def outside_area(service: Registry, scheme, data: dict, permission: str) -> list[FieldError]:
    """An error on the place field when the record would lie outside the user's area.

    Checked *before* saving: the place is computed as the service will compute it, so
    nothing has to be rolled back (on SQLite a released savepoint is already committed).
    A scheme without location fields puts a record in the officer's own area (`home_place`).
    """
    if not location_fields(scheme):
        return []
    values, errors, _roles, path = service.validate(scheme, data)
    if errors or can(current_user, permission, scheme.code, path):
        return []  # invalid records get their own errors from the service
    fields = location_fields(scheme)
    name = fields[0].name if fields else ""
    return [FieldError(name, name, "E403", _("You can only register and edit records in your own area."))]


def int_arg(value, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except (TypeError, ValueError):
        return default


# ---- search ----------------------------------------------------------------------------


def narrowed_scope(scope: list[str], place: Location | None) -> list[str]:
    """The user's area intersected with a chosen place."""
    if place is None:
        return scope
    if "/" in scope:
        return [place.path]
    inside = [place.path for p in scope if place.path.startswith(p)]
    below = [p for p in scope if p.startswith(place.path)]
    return sorted(set(inside + below))


def place_filter_options(session, scheme, scope: list[str]) -> list[Location]:
    """Places offered in the search filter: the first two levels the scheme's locations use."""
    levels = [lvl for lvl in scheme.location_levels
              if any(f.location_level == lvl for f in scheme.fields if f.type == "location")][:2]
    if not levels:
        return []
    from ..forms.locations import location_rows

    return location_rows(session, set(levels), None if "/" in scope else scope)


@bp.route("/s/<scheme>/", endpoint="search")
@requires("registry.view")
def search_view(scheme):
    s = current_scheme(scheme)
    session = _session()
    q = (request.args.get("q") or "").strip()[:100]
    page = int_arg(request.args.get("page"))
    inactive = request.args.get("inactive") == "1"
    scope = scope_paths(current_user, "registry.view", scheme)
    place_code = (request.args.get("place") or "").strip()[:32]
    place = session.scalar(select(Location).where(Location.code == place_code)) if place_code else None
    result = search(session, s, q, scope_paths=narrowed_scope(scope, place), page=page, page_size=PAGE_SIZE,
                    include_inactive=inactive)
    rows = display.list_rows(session, s, result.rows)
    return render_template("registry/search.html", scheme=s, rows=rows, q=q, page=result.page,
                           has_more=result.has_more, inactive=inactive, place_code=place_code,
                           places=place_filter_options(session, s, scope), lang=current_language())


# ---- register -------------------------------------------------------------------------


def register_page(code: str, variant: str):
    s = current_scheme(code)
    lang = current_language()
    session = _session()
    posting = request.method == "POST"
    form = new_form(form_class(s, lang, variant), request.form if posting else None)
    set_location_choices(form, session, scope_paths(current_user, "registry.edit", code))
    posted = record_from_form(form)
    endpoint = ".quick" if variant == "quick" else ".register"
    title = (_("Quick registration") if variant == "quick" else _("Register")) + " · " + s.title.get(lang, s.default_language)
    if posting:
        service = registry()
        errors = outside_area(service, s, posted.data, "registry.edit")
        if not errors:
            result = service.register(code, posted.data,
                                      place=home_place(session, current_user, "registry.edit", s))
            errors = list(result.errors)
        if not errors:
            session.commit()
            flash(_("Saved as %(uid)s.", uid=result.record.uid))
            if variant == "quick":
                flash(_("Ready for the next registration."))
                return redirect(url_for(".quick", scheme=code))
            return redirect(url_for(".view", uid=result.record.uid))
        session.rollback()
        attach_errors(form, errors, posted)
    fill_calculated(form, posted, lang)
    return render_form(s, form, title=title, action=url_for(endpoint, scheme=code), hidden={},
                       cancel=url_for(".search", scheme=code), status=422 if posting else 200)


@bp.route("/s/<scheme>/register", methods=["GET", "POST"])
@requires("registry.edit")
def register(scheme):
    return register_page(scheme, "full")


@bp.route("/s/<scheme>/quick", methods=["GET", "POST"])
@requires("registry.edit")
def quick(scheme):
    return register_page(scheme, "quick")


@bp.route("/s/<scheme>/formulas.js")
@requires("registry.view")
def formulas_js(scheme):
    """The scheme's relevance and calculations as a script (CSP forbids inline code and eval)."""
    s = current_scheme(scheme)
    text = _javascript_cache.get(s.content_hash)
    if text is None:
        text = _javascript_cache[s.content_hash] = scheme_javascript(s)
    response = Response(text, mimetype="text/javascript")
    if request.args.get("v") == s.content_hash:  # the URL names the version: cache it for good
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/s/<scheme>/places")
@requires("places.list")
def places(scheme):
    """The places a location field offers inside a chosen higher place (`?field=ward&parent=KONGWA_DC`),
    within the user's area, as JSON for the cascading selects (static/forms.js): [{code, name, path}]."""
    from ..forms.locations import location_rows

    s = current_scheme(scheme)
    name = (request.args.get("field") or "").strip()
    spec = next((f for f in s.fields + s.member_fields if f.name == name and f.type == "location"), None)
    parent = _session().scalar(select(Location).where(Location.code == (request.args.get("parent") or "").strip()[:64]))
    if spec is None or parent is None or not spec.location_level:
        abort(404)
    rows = location_rows(_session(), {spec.location_level}, scope_paths(current_user, "registry.edit", s.code), parent.path)
    response = jsonify([{"code": loc.code, "name": loc.name, "path": loc.path} for loc in rows])
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# ---- one record ------------------------------------------------------------------------


@bp.route("/r/<uid>")
@requires("registry.view")
def view(uid):
    unit = load_unit(uid, "registry.view")
    if isinstance(unit, Individual) and unit.household_id is not None:
        return redirect(url_for(".view", uid=unit.household.uid))
    session = _session()
    scheme = _catalog().by_version(unit.scheme_version_id) or current_scheme(unit.scheme_code)
    lang = current_language()
    data = dict(unit.data or {})
    members = [m for m in unit.members if m.active] if isinstance(unit, Household) else []
    places = display.location_names(session, display.location_codes(scheme, data, [m.data or {} for m in members]))
    member_rows = [{"uid": m.uid, "roles": display.role_labels(scheme, m.roles, lang),
                    "values": display.shown_fields(scheme, scheme.member_fields, m.data or {}, lang, places)}
                   for m in members]
    version = unit.scheme_version
    current_id = _catalog().version_id(unit.scheme_code)
    return render_template(
        "registry/view.html", unit=unit, scheme=scheme, lang=lang, version=version,
        outdated=current_id is not None and current_id != unit.scheme_version_id,
        values=display.shown_fields(scheme, scheme.fields, data, lang, places), members=member_rows,
        place=places.get(unit.location_code, unit.location_code or ""),
        may_edit=can(current_user, "registry.edit", unit.scheme_code, unit.location_path),
        may_deactivate=can(current_user, "registry.deactivate", unit.scheme_code, unit.location_path))


@bp.route("/r/<uid>/edit", methods=["GET", "POST"])
@requires("registry.edit")
def edit(uid):
    unit = load_unit(uid, "registry.edit")
    if isinstance(unit, Individual) and unit.household_id is not None:
        return redirect(url_for(".edit", uid=unit.household.uid))
    if not unit.active:
        flash(_("Reactivate the record before editing it."))
        return redirect(url_for(".view", uid=unit.uid))
    scheme = current_scheme(unit.scheme_code)
    lang = current_language()
    session = _session()
    service = registry()
    stored = service.input_of(unit)
    posting = request.method == "POST"
    shown = dict(stored)
    if isinstance(unit, Household):  # each row carries the uid of the member it shows
        people = [m for m in unit.members if m.active]
        shown["members"] = [m | {"_member": p.uid} for m, p in zip(stored["members"], people, strict=True)]
    form = new_form(form_class(scheme, lang, "full"), request.form if posting else None, shown)
    set_location_choices(form, session, scope_paths(current_user, "registry.edit", unit.scheme_code))
    posted = record_from_form(form)
    version = request.form.get("row_version") if posting else unit.row_version
    if posting:
        for f in scheme.fields:
            if f.read_only:  # shown, never changed through the form
                posted.data[f.name] = stored.get(f.name)
        try:
            expected = int(version)
        except (TypeError, ValueError):
            expected = -1
        errors = outside_area(service, scheme, posted.data, "registry.edit")
        if not errors:
            # rows say which member they are (a post without any, from elsewhere: by position)
            member_uids = posted.member_ids if any(posted.member_ids) else None
            errors = list(service.update(unit, posted.data, expected_version=expected,
                                         member_uids=member_uids).errors)
        if not errors:
            session.commit()
            flash(_("Changes saved."))
            return redirect(url_for(".view", uid=unit.uid))
        session.rollback()
        attach_errors(form, errors, posted)
    fill_calculated(form, posted, lang)
    title = _("Edit %(uid)s", uid=unit.uid)
    return render_form(scheme, form, title=title, action=url_for(".edit", uid=unit.uid),
                       hidden={"row_version": version}, cancel=url_for(".view", uid=unit.uid),
                       status=422 if posting else 200)


def set_active(uid: str, active: bool):
    unit = load_unit(uid, "registry.deactivate")
    if isinstance(unit, Individual) and unit.household_id is not None:
        abort(404)
    reason = (request.form.get("reason") or "").strip()[:500]
    if not reason:
        flash(_("Give a reason."))
        return redirect(url_for(".view", uid=unit.uid))
    if unit.active == active:
        flash(_("Nothing to change."))
        return redirect(url_for(".view", uid=unit.uid))
    registry().set_active(unit, active, reason)
    _session().commit()
    flash(_("Record reactivated.") if active else _("Record deactivated."))
    return redirect(url_for(".view", uid=unit.uid))


@bp.route("/r/<uid>/deactivate", methods=["POST"])
@requires("registry.deactivate")
def deactivate(uid):
    return set_active(uid, False)


@bp.route("/r/<uid>/reactivate", methods=["POST"])
@requires("registry.deactivate")
def reactivate(uid):
    return set_active(uid, True)


@bp.route("/r/<uid>/history")
@requires("registry.view")
def history(uid):
    unit = load_unit(uid, "registry.view")
    if isinstance(unit, Individual) and unit.household_id is not None:
        return redirect(url_for(".history", uid=unit.household.uid))
    session = _session()
    scheme = _catalog().by_version(unit.scheme_version_id) or current_scheme(unit.scheme_code)
    lang = current_language()
    entity = "household" if isinstance(unit, Household) else "individual"
    entries = list(session.scalars(select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id == unit.id)
                                   .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(200)))
    codes: set[str] = set()
    for e in entries:
        codes |= display.snapshot_codes(scheme, e.before, e.after)
    places = display.location_names(session, codes)
    shown = [{"entry": e, "changes": display.changes(scheme, e.before, e.after, lang, places)} for e in entries]
    return render_template("registry/history.html", unit=unit, scheme=scheme, entries=shown, lang=lang)
