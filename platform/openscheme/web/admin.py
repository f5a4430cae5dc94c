"""Reference data administration at /admin (Flask-Admin 2).

Locations (a hierarchy: the parent is chosen, the materialised path is computed on save and
moved with the subtree), facilities, users (a password field that is hashed, role
assignments inline), role assignments, price lists and their entries, the service and item
catalogue, ICD-10 codes, and scheme versions read-only with their YAML and what changed from
the version before: first in meaning (the semantic diff of `analysis.diff`, as the versions
page says it), then line by line.

Access: signed in and the `reference.manage` permission (administrators) for everything;
scheme versions also for the `schemes.versions` roles, limited to their schemes. Anyone else
gets 403. Every create, update and delete is written to the audit log with the values
before and after, in the same transaction. Forms are Flask-WTF forms, so they carry the
CSRF token that the application checks on every POST. Lists are built for large tables:
no row count (simple pager), 50 rows a page, exact-match or prefix filters rather than
ILIKE '%...%' scans, and related rows chosen by prefix look-ups instead of full drop-downs.
"""

from __future__ import annotations

import difflib
import re
import warnings
from datetime import date, datetime
from decimal import Decimal

from flask import abort, current_app, g, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter, FilterEqual
from flask_admin.menu import MenuLink
from flask_admin.model.form import InlineFormAdmin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import false, func, inspect, literal, or_, select, update
from sqlalchemy.orm import defer, joinedload, selectinload
from wtforms import PasswordField, SelectField
from wtforms.validators import Optional, ValidationError

from ..analysis.diff import diff_schemes, grouped
from ..definitions import compile_text
from ..definitions.model import Scheme
from ..registry import audit
from ..storage.models import (
    CatalogueEntry,
    Facility,
    Household,
    Icd10Code,
    Individual,
    Location,
    PriceList,
    PriceListEntry,
    RoleAssignment,
    SchemeVersion,
    User,
)
from .auth import hash_password
from .i18n import current_language
from .permissions import ROLES, assignments, can

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

PAGE_SIZE = 50
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def choices(pairs) -> list:
    pairs = [(p, p) if isinstance(p, str) else p for p in pairs]
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else pairs


CARE_TYPES = ["both", "out_patient", "in_patient"]


# ---- forms, filters, look-ups ------------------------------------------------------------------


class AdminForm(FlaskForm):
    """Flask-Admin's forms on Flask-WTF: the CSRF token is rendered and checked."""

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        self._obj = obj  # Flask-Admin's Unique validator reads it
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class WriteOnlyPasswordField(PasswordField):
    """A password input that never writes the plain text onto the model (the view hashes it)."""

    def populate_obj(self, obj, name):
        pass


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PrefixFilter(BaseSQLAFilter):
    """`column LIKE 'value%'`: uses the column's index, unlike a contains-search."""

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias).like(_like_prefix(value.strip()), escape="\\"))

    def operation(self):
        return _l("starts with")


class WithinLocationFilter(BaseSQLAFilter):
    """Rows whose materialised path lies within the location with the given code."""

    def apply(self, query, value, alias=None):
        path = query.session.scalar(select(Location.path).where(Location.code == value.strip()))
        if path is None:
            return query.filter(false())
        return query.filter(self.get_column(alias).like(_like_prefix(path), escape="\\"))

    def operation(self):
        return _l("within (location code)")


class PrefixLoader(QueryAjaxModelLoader):
    """Select look-ups by the start of a code or name, a few rows at a time."""

    def __init__(self, name, session, model, **options):
        options.setdefault("placeholder", _l("Type the first letters of a code or name"))
        super().__init__(name, session, model, **options)

    def get_list(self, term, offset=0, limit=10):
        term = (term or "").strip()
        query = self.get_query()
        if term:
            query = query.filter(or_(*(f.ilike(_like_prefix(term), escape="\\") for f in self._cached_fields)))
        query = query.order_by(self.order_by if self.order_by is not None else self._cached_fields[0])
        return query.offset(offset).limit(min(limit, 20)).all()


def _scheme_code_choices():
    from .app import db_session

    codes = db_session().scalars(select(SchemeVersion.code).distinct().order_by(SchemeVersion.code)).all()
    return choices([("", _("(every scheme)"))] + [(c, c) for c in codes])


# ---- snapshots for the audit log ---------------------------------------------------------------


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def columns_of(model, skip=("password_hash",)) -> dict:
    return {attr.key: _plain(getattr(model, attr.key)) for attr in inspect(model).mapper.column_attrs
            if attr.key not in skip}


# ---- access ------------------------------------------------------------------------------------


class Protected:
    permissions: tuple[str, ...] = ("reference.manage",)

    def is_accessible(self):
        return bool(current_user.is_authenticated and any(can(current_user, p) for p in self.permissions))

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class IndexView(Protected, AdminIndexView):
    permissions = ("reference.manage", "schemes.versions")

    @expose("/")
    def index(self):
        return self.render("openscheme_admin/index.html", manage=can(current_user, "reference.manage"))


class AuditedModelView(Protected, ModelView):
    """A ModelView whose every change is audited with the values before and after."""

    form_base_class = AdminForm
    page_size = PAGE_SIZE
    can_set_page_size = False
    simple_list_pager = True
    can_export = False
    can_view_details = True
    entity = ""
    related: tuple[str, ...] = ()  # relationships kept in the snapshot (inline rows)

    def snapshot(self, model) -> dict:
        snap = columns_of(model)
        for name in self.related:
            snap[name] = [columns_of(row) for row in getattr(model, name)]
        return snap

    def prepare(self, form, model, is_created: bool) -> None:
        """Checks and computed values before saving; raise ValidationError to refuse."""

    def update_model(self, form, model):
        g.admin_before = self.snapshot(model)
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        self.prepare(form, model, is_created)
        self.session.flush()
        after = self.snapshot(model)
        self.audit("create" if is_created else "update", model, None if is_created else g.pop("admin_before", None),
                   after)

    def on_model_delete(self, model):
        self.check_delete(model)
        self.audit("delete", model, self.snapshot(model), None)

    def check_delete(self, model) -> None:
        """Raise ValidationError to refuse a delete."""

    def audit(self, action: str, model, before, after) -> None:
        key = inspect(model).identity
        pk = key[0] if key else None
        audit.record(self.session, user=current_user, action=action, entity=self.entity,
                     entity_id=pk if isinstance(pk, int) else None,
                     detail="admin" + ("" if isinstance(pk, int) or pk is None else f" {pk}"),
                     before=before, after=after, ip=request.remote_addr or "")

    def loader(self, name, model, fields, order_by=None):
        return PrefixLoader(name, self.session, model, fields=fields, order_by=order_by)


# ---- the views --------------------------------------------------------------------------------


class LocationView(AuditedModelView):
    entity = "location"
    column_list = ("code", "name", "level", "parent", "path")
    column_details_list = ("code", "name", "level", "parent", "path")
    column_default_sort = "path"
    form_columns = ("code", "name", "level", "parent")
    column_labels = {"code": _l("Code"), "name": _l("Name"), "level": _l("Level"), "parent": _l("Parent"),
                     "path": _l("Path")}
    column_descriptions = {"path": _l("Computed from the parent on save")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(Location.code, _l("Code")), FilterEqual(Location.level, _l("Level")),
                               WithinLocationFilter(Location.path, _l("Location"))]
        self.form_ajax_refs = {"parent": PrefixLoader("parent", session, Location, fields=("code", "name"),
                                                      order_by=Location.path)}
        super().__init__(Location, session, **kwargs)

    def get_query(self):
        return super().get_query().options(joinedload(Location.parent))

    def prepare(self, form, model, is_created):
        model.code = (model.code or "").strip()
        model.level = (model.level or "").strip()
        if not CODE_RE.match(model.code):
            raise ValidationError(_("A code is 1 to 32 letters, digits and . _ -"))
        if not model.level:
            raise ValidationError(_("The level is required (e.g. region, district, village)."))
        before = None if is_created else g.get("admin_before")
        if before and before["code"] != model.code:
            raise ValidationError(_("A location's code cannot change: registered records refer to it. "
                                    "Create a new location instead."))
        old_path = before["path"] if before else None
        parent = model.parent
        if parent is not None and old_path and parent.path.startswith(old_path):
            raise ValidationError(_("A location cannot be placed under itself or under one of its sub-locations."))
        model.path = (parent.path if parent is not None else "/") + model.code + "/"
        if old_path and old_path != model.path:
            self._move_subtree(model, old_path, model.path)

    def _move_subtree(self, model, old: str, new: str) -> None:
        n = len(old) + 1
        for table, column in ((Location, Location.path), (Household, Household.location_path),
                              (Individual, Individual.location_path)):
            stmt = update(table).where(column.like(_like_prefix(old), escape="\\"))
            if table is Location:
                stmt = stmt.where(Location.id != model.id)
            self.session.execute(stmt.values({column.key: literal(new).concat(func.substr(column, n))}),
                                 execution_options={"synchronize_session": False})

    def check_delete(self, model):
        s = self.session
        if s.scalar(select(Location.id).where(Location.parent_id == model.id).limit(1)) is not None:
            raise ValidationError(_("This location has sub-locations: move or delete them first."))
        used = [s.scalar(select(t.id).where(t.location_code == model.code).limit(1)) for t in (Household, Individual)]
        if any(u is not None for u in used) or s.scalar(
                select(Facility.id).where(Facility.location_id == model.id).limit(1)) is not None or s.scalar(
                select(RoleAssignment.id).where(RoleAssignment.location_id == model.id).limit(1)) is not None:
            raise ValidationError(_("Records, facilities or role assignments refer to this location; it cannot be deleted."))


class FacilityView(AuditedModelView):
    entity = "facility"
    column_list = ("code", "name", "level", "care_type", "location", "price_list", "active")
    column_default_sort = "code"
    form_columns = ("code", "name", "level", "care_type", "location", "price_list", "active")
    form_overrides = {"care_type": SelectField}
    form_args = {"care_type": {"choices": choices(CARE_TYPES)}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "level": _l("Level"), "care_type": _l("Care type"),
                     "location": _l("Location"), "price_list": _l("Price list"), "active": _l("Active")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(Facility.code, _l("Code")), FilterEqual(Facility.level, _l("Level")),
                               WithinLocationFilter("location.path", _l("Location")),
                               BooleanEqualFilter(Facility.active, _l("Active"))]
        self.form_ajax_refs = {
            "location": PrefixLoader("location", session, Location, fields=("code", "name"), order_by=Location.path),
            "price_list": PrefixLoader("price_list", session, PriceList, fields=("name",), order_by=PriceList.name)}
        super().__init__(Facility, session, **kwargs)

    def get_query(self):
        return super().get_query().options(joinedload(Facility.location), joinedload(Facility.price_list))

    def prepare(self, form, model, is_created):
        model.code = (model.code or "").strip()
        if not CODE_RE.match(model.code):
            raise ValidationError(_("A code is 1 to 32 letters, digits and . _ -"))
        before = None if is_created else g.get("admin_before")
        if before and before["code"] != model.code:
            raise ValidationError(_("A facility's code cannot change: claims refer to it."))


class RoleInline(InlineFormAdmin):
    form_columns = ("id", "role", "scheme_code", "location", "facility")
    form_overrides = {"role": SelectField, "scheme_code": SelectField}
    form_args = {"role": {"choices": choices(ROLES), "label": _l("Role")},
                 "scheme_code": {"choices": _scheme_code_choices, "label": _l("Scheme"), "validators": [Optional()]},
                 "location": {"label": _l("Location (and below)")}, "facility": {"label": _l("Facility")}}


def _roles_formatter(view, context, model, name):
    return ", ".join(str(r) for r in model.roles)


class UserView(AuditedModelView):
    entity = "user"
    related = ("roles",)
    column_list = ("username", "full_name", "language", "active", "roles", "last_login_at")
    column_details_list = ("username", "full_name", "language", "active", "roles", "created_at", "last_login_at")
    column_default_sort = "username"
    column_formatters = {"roles": _roles_formatter}
    column_formatters_detail = {"roles": _roles_formatter}
    form_columns = ("username", "full_name", "language", "active", "password")
    form_overrides = {"language": SelectField}
    form_extra_fields = {"password": WriteOnlyPasswordField(
        _l("Password"), description=_l("At least 8 characters. Leave empty to keep the current password."))}
    column_labels = {"username": _l("Username"), "full_name": _l("Full name"), "language": _l("Language"),
                     "active": _l("Active"), "roles": _l("Roles"), "last_login_at": _l("Last sign-in"),
                     "created_at": _l("Created")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(User.username, _l("Username")), PrefixFilter(User.username, _l("Username")),
                               BooleanEqualFilter(User.active, _l("Active"))]
        role_inline = RoleInline(RoleAssignment)
        role_inline.form_ajax_refs = {
            "location": PrefixLoader("location", session, Location, fields=("code", "name"), order_by=Location.path),
            "facility": PrefixLoader("facility", session, Facility, fields=("code", "name"), order_by=Facility.code)}
        self.inline_models = (role_inline,)
        super().__init__(User, session, **kwargs)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.language.choices = choices(current_app.config["LANGUAGES"])
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.language.choices = choices(current_app.config["LANGUAGES"])
        return form

    def get_query(self):
        return super().get_query().options(selectinload(User.roles).joinedload(RoleAssignment.location))

    def prepare(self, form, model, is_created):
        model.username = (model.username or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", model.username):
            raise ValidationError(_("A username is 2 to 64 letters, digits and . _ @ -"))
        password = form.password.data or ""
        if is_created and not password:
            raise ValidationError(_("Set a password for the new user."))
        if password:
            if len(password) < 8:
                raise ValidationError(_("Use at least 8 characters for the password."))
            model.password_hash = hash_password(password)
            g.admin_password_changed = True
        if model.active is None:
            model.active = True
        for r in model.roles:
            r.scheme_code = r.scheme_code or None
        if not is_created and model.id == current_user.id and not can(model, "users.manage"):
            raise ValidationError(_("You cannot remove your own administrator role or deactivate yourself."))

    def snapshot(self, model):
        snap = super().snapshot(model)
        if g.pop("admin_password_changed", False):
            snap["password"] = "(changed)"
        return snap

    def check_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError(_("You cannot delete your own account."))


class RoleAssignmentView(AuditedModelView):
    entity = "role_assignment"
    column_list = ("user", "role", "scheme_code", "location", "facility")
    column_default_sort = ("id", True)
    form_columns = ("user", "role", "scheme_code", "location", "facility")
    form_overrides = {"role": SelectField, "scheme_code": SelectField}
    form_args = {"role": {"choices": choices(ROLES)},
                 "scheme_code": {"choices": _scheme_code_choices, "validators": [Optional()]}}
    column_labels = {"user": _l("User"), "role": _l("Role"), "scheme_code": _l("Scheme"),
                     "location": _l("Location (and below)"), "facility": _l("Facility")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(RoleAssignment.role, _l("Role"), options=[(r, r) for r in ROLES]),
                               FilterEqual(RoleAssignment.scheme_code, _l("Scheme")),
                               FilterEqual("user.username", _l("Username"))]
        self.form_ajax_refs = {
            "user": PrefixLoader("user", session, User, fields=("username",), order_by=User.username),
            "location": PrefixLoader("location", session, Location, fields=("code", "name"), order_by=Location.path),
            "facility": PrefixLoader("facility", session, Facility, fields=("code", "name"), order_by=Facility.code)}
        super().__init__(RoleAssignment, session, **kwargs)

    def get_query(self):
        return super().get_query().options(joinedload(RoleAssignment.user), joinedload(RoleAssignment.location),
                                           joinedload(RoleAssignment.facility))

    def prepare(self, form, model, is_created):
        model.scheme_code = model.scheme_code or None
        if model.user is None:
            raise ValidationError(_("Choose the user."))


class CatalogueView(AuditedModelView):
    entity = "catalogue_entry"
    column_list = ("code", "name", "kind", "category", "care_type")
    column_default_sort = "code"
    form_columns = ("code", "name", "kind", "category", "care_type")
    form_overrides = {"kind": SelectField, "care_type": SelectField}
    form_args = {"kind": {"choices": choices(["service", "item"])}, "care_type": {"choices": choices(CARE_TYPES)}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "kind": _l("Kind"), "category": _l("Category"),
                     "care_type": _l("Care type")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(CatalogueEntry.code, _l("Code")), PrefixFilter(CatalogueEntry.code, _l("Code")),
                               PrefixFilter(CatalogueEntry.name, _l("Name")),
                               FilterEqual(CatalogueEntry.kind, _l("Kind"), options=[("service", "service"), ("item", "item")]),
                               FilterEqual(CatalogueEntry.category, _l("Category"))]
        super().__init__(CatalogueEntry, session, **kwargs)

    def prepare(self, form, model, is_created):
        model.code = (model.code or "").strip()
        if not CODE_RE.match(model.code):
            raise ValidationError(_("A code is 1 to 32 letters, digits and . _ -"))


class PriceListView(AuditedModelView):
    entity = "price_list"
    related = ("entries",)
    column_list = ("name", "currency", "valid_from")
    column_default_sort = "name"
    form_columns = ("name", "currency", "valid_from")
    column_labels = {"name": _l("Name"), "currency": _l("Currency"), "valid_from": _l("Valid from"),
                     "entries": _l("Entries")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(PriceList.name, _l("Name")), PrefixFilter(PriceList.name, _l("Name")),
                               FilterEqual(PriceList.currency, _l("Currency"))]
        self.inline_models = ((PriceListEntry, {
            "form_columns": ("id", "entry", "price"),
            "form_ajax_refs": {"entry": PrefixLoader("entry", session, CatalogueEntry, fields=("code", "name"),
                                                     order_by=CatalogueEntry.code)},
            "column_labels": {"entry": _l("Service or item"), "price": _l("Price")}}),)
        super().__init__(PriceList, session, **kwargs)

    def prepare(self, form, model, is_created):
        model.currency = (model.currency or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", model.currency):
            raise ValidationError(_("The currency is a three-letter ISO 4217 code, e.g. TZS."))
        for entry in model.entries:
            if entry.price is None or entry.price < 0:
                raise ValidationError(_("Every entry needs a price of zero or more."))


class PriceListEntryView(AuditedModelView):
    entity = "price_list_entry"
    column_list = ("price_list", "entry", "price")
    column_default_sort = ("id", False)
    form_columns = ("price_list", "entry", "price")
    column_labels = {"price_list": _l("Price list"), "entry": _l("Service or item"), "price": _l("Price")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual("price_list.name", _l("Price list")),
                               FilterEqual("entry.code", _l("Service or item code"))]
        self.form_ajax_refs = {
            "price_list": PrefixLoader("price_list", session, PriceList, fields=("name",), order_by=PriceList.name),
            "entry": PrefixLoader("entry", session, CatalogueEntry, fields=("code", "name"), order_by=CatalogueEntry.code)}
        super().__init__(PriceListEntry, session, **kwargs)

    def get_query(self):
        return super().get_query().options(joinedload(PriceListEntry.price_list), joinedload(PriceListEntry.entry))

    def prepare(self, form, model, is_created):
        if model.price is None or model.price < 0:
            raise ValidationError(_("Every entry needs a price of zero or more."))


class Icd10View(AuditedModelView):
    entity = "icd10_code"
    column_list = ("code", "title", "chapter")
    column_default_sort = "code"
    form_columns = ("code", "title", "chapter")
    column_labels = {"code": _l("Code"), "title": _l("Title"), "chapter": _l("Chapter")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(Icd10Code.code, _l("Code")), PrefixFilter(Icd10Code.code, _l("Code")),
                               FilterEqual(Icd10Code.chapter, _l("Chapter"))]
        super().__init__(Icd10Code, session, **kwargs)

    def prepare(self, form, model, is_created):
        model.code = (model.code or "").strip().upper()
        if not re.fullmatch(r"[A-Z][0-9A-Z.\-]{1,7}", model.code):
            raise ValidationError(_("An ICD-10 code looks like A00 or A00.1."))
        before = None if is_created else g.get("admin_before")
        if before and before["code"] != model.code:
            raise ValidationError(_("A code cannot change: claims refer to it. Create a new code instead."))


def _hash_formatter(view, context, model, name):
    return model.content_hash[:12]


class SchemeVersionView(Protected, ModelView):
    """Read-only: versions are created by loading definitions, never edited here."""

    permissions = ("reference.manage", "schemes.versions")
    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = False
    page_size = PAGE_SIZE
    can_set_page_size = False
    simple_list_pager = True
    column_list = ("code", "version", "title", "file_name", "content_hash", "loaded_at", "is_current")
    column_details_list = ("code", "version", "title", "file_name", "content_hash", "loaded_at", "is_current")
    column_default_sort = ("id", True)
    column_formatters = {"content_hash": _hash_formatter}
    details_template = "openscheme_admin/scheme_version.html"
    column_labels = {"code": _l("Scheme"), "version": _l("Version"), "title": _l("Title"), "file_name": _l("File"),
                     "content_hash": _l("Content hash"), "loaded_at": _l("Loaded at"), "is_current": _l("Current")}

    def __init__(self, session, **kwargs):
        self.column_filters = [FilterEqual(SchemeVersion.code, _l("Scheme")),
                               BooleanEqualFilter(SchemeVersion.is_current, _l("Current"))]
        super().__init__(SchemeVersion, session, **kwargs)

    def allowed_codes(self) -> set[str] | None:
        """None: every scheme; else the codes the user's assignments name."""
        codes: set[str] = set()
        for permission in self.permissions:
            for a in assignments(current_user, permission):
                if a.scheme_code is None:
                    return None
                codes.add(a.scheme_code)
        return codes

    def _scoped(self, query):
        codes = self.allowed_codes()
        return query if codes is None else query.filter(SchemeVersion.code.in_(codes or {""}))

    def get_query(self):
        return self._scoped(super().get_query().options(defer(SchemeVersion.yaml_text)))

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        row = super().get_one(id)
        codes = self.allowed_codes()
        if row is not None and codes is not None and row.code not in codes:
            return None
        return row

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            previous = self.session.scalar(select(SchemeVersion).where(
                SchemeVersion.code == model.code, SchemeVersion.id < model.id).order_by(SchemeVersion.id.desc()).limit(1))
            kwargs["previous"] = previous
            kwargs["diff"] = version_diff(previous, model) if previous is not None else []
            kwargs["lang"] = lang = current_language()
            kwargs["changes"], kwargs["changes_note"] = (semantic_diff(previous, model, lang) if previous is not None
                                                         else (None, None))
        return super().render(template, **kwargs)


def compiled(row: SchemeVersion, lang: str) -> tuple[Scheme | None, str | None]:
    """The stored text compiled by today's compiler, or None and the first problem said in `lang` when
    it no longer compiles. The version being served comes from the catalogue; an older one is compiled
    here and not kept (a page seldom read; the catalogue keeps what records need)."""
    from .app import catalog

    if catalog().version_id(row.code) == row.id:
        scheme = catalog().current(row.code)
        if scheme is not None and scheme.text == row.yaml_text:
            return scheme, None
    result = compile_text(row.yaml_text, row.file_name, run_tests=False)
    if result.scheme is not None:
        return result.scheme, None
    problems = result.errors or result.diagnostics
    return None, problems[0].text(lang) if problems else _("it does not compile")


def semantic_diff(old: SchemeVersion, new: SchemeVersion, lang: str) -> tuple[list | None, str | None]:
    """(changes grouped by section, as the versions page shows them, None), or (None, a note saying
    which version cannot be compared and its first problem): the line diff is shown either way."""
    new_scheme, problem = compiled(new, lang)
    if new_scheme is None:
        return None, _("This version cannot be compared field by field: %(error)s", error=problem)
    old_scheme, problem = compiled(old, lang)
    if old_scheme is None:
        return None, _("The previous version (%(version)s) cannot be compared field by field: %(error)s",
                       version=old.version, error=problem)
    try:
        return grouped(diff_schemes(old_scheme, new_scheme)), None
    except Exception:  # noqa: BLE001 - a bug of the diff must not take the page (and its line diff) down
        current_app.logger.exception("semantic diff of scheme versions %s and %s", old.id, new.id)
        return None, _("This version cannot be compared field by field: %(error)s",
                       error=_("the comparison failed; the line diff below is complete"))


def version_diff(old: SchemeVersion, new: SchemeVersion) -> list[tuple[str, str]]:
    """(kind, line) of a unified line diff; the template escapes the text."""
    lines = difflib.unified_diff(old.yaml_text.splitlines(), new.yaml_text.splitlines(),
                                 fromfile=f"{old.code} v{old.version} ({old.content_hash[:8]})",
                                 tofile=f"{new.code} v{new.version} ({new.content_hash[:8]})", lineterm="", n=3)
    out = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


# ---- registration ---------------------------------------------------------------------------------


def init_app(app) -> Admin:
    with warnings.catch_warnings():
        # Flask-Admin 2 asks for a Flask-SQLAlchemy object; openscheme has none, and its
        # scoped_session (one session per request, removed at teardown) is what that object wraps
        warnings.filterwarnings("ignore", "Passing a session object directly is deprecated", DeprecationWarning)
        return _init_app(app)


def _init_app(app) -> Admin:
    session = app.extensions["openscheme"].db.session
    admin = Admin(app, name="openscheme", url="/admin", endpoint="admin",
                  theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "cerulean")),
                  index_view=IndexView(name=_l("Home"), url="/admin", endpoint="admin"))
    places, access, health, schemes = _l("Places"), _l("Users and roles"), _l("Health services"), _l("Schemes")
    admin.add_view(LocationView(session, name=_l("Locations"), category=places, endpoint="admin_locations", url="locations"))
    admin.add_view(FacilityView(session, name=_l("Facilities"), category=places, endpoint="admin_facilities", url="facilities"))
    admin.add_view(UserView(session, name=_l("Users"), category=access, endpoint="admin_users", url="users"))
    admin.add_view(RoleAssignmentView(session, name=_l("Role assignments"), category=access,
                                      endpoint="admin_role_assignments", url="role-assignments"))
    admin.add_view(CatalogueView(session, name=_l("Services and items"), category=health, endpoint="admin_catalogue",
                                 url="catalogue"))
    admin.add_view(PriceListView(session, name=_l("Price lists"), category=health, endpoint="admin_price_lists",
                                 url="price-lists"))
    admin.add_view(PriceListEntryView(session, name=_l("Price list entries"), category=health,
                                      endpoint="admin_price_list_entries", url="price-list-entries"))
    admin.add_view(Icd10View(session, name=_l("ICD-10 codes"), category=health, endpoint="admin_icd10", url="icd10"))
    admin.add_view(SchemeVersionView(session, name=_l("Scheme versions"), category=schemes,
                                     endpoint="admin_scheme_versions", url="scheme-versions"))
    admin.add_link(MenuLink(name=_l("Back to openscheme"), url="/"))
    app.extensions["openscheme_admin"] = admin
    return admin
