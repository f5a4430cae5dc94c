"""Between a generated form and the record shape `validate_record` takes.

The form never validates: what the officer posted becomes the JSON-like record
(unit fields, `members` with `roles`) that the registry service checks with the one
shared validation, and the `FieldError`s that come back are put next to the fields
they name - "members[2].dob" is the date of birth of the third row on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext

from ..definitions.model import Scheme
from ..evaluation.records import FieldError, validate_record
from .builder import ATTR, MEMBER_ATTR, ROLES_ATTR, UnitForm

# rendered as a fieldset (id "<id>-group"): the error summary links to the group
GROUPS = ("boolean", "select_multiple", "gps")
GROUP_WIDGETS = ("radio",)
MEMBER_PATH = re.compile(r"^members\[(\d+)\](?:\.(\w+))?$")


@dataclass
class Posted:
    """The record built from a form, and which form row each member came from."""

    data: dict
    rows: list[int] = field(default_factory=list)  # record member index -> form row index
    member_ids: list[str | None] = field(default_factory=list)  # record member index -> stored member uid


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def record_from_form(form: UnitForm) -> Posted:
    """The record posted through a form. A member row left entirely blank is ignored."""
    data = {}
    for f in form.declared_fields():
        if f.spec.calculate is None:
            data[f.spec.name] = f.record_value()
    rows: list[int] = []
    member_ids: list[str | None] = []
    if form.scheme.is_household:
        members = []
        for i, entry in enumerate(form.members.entries):
            row = entry.form
            values = {f.spec.name: f.record_value() for f in row.declared_fields() if f.spec.calculate is None}
            roles = list(row.roles_field.data or []) if row.roles_field is not None else []
            if all(_blank(v) for v in values.values()) and not roles:
                continue
            if roles:
                values["roles"] = roles
            members.append(values)
            rows.append(i)
            member_id = row.member_id_field.data if row.member_id_field is not None else None
            member_ids.append((member_id or "").strip().upper() or None)
        data["members"] = members
    return Posted(data, rows, member_ids)


def _attr_keys(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        out[ROLES_ATTR if key in ("roles", "role") else MEMBER_ATTR if key == "_member" else ATTR + key] = value
    return out


def initial_data(scheme: Scheme, record: dict | None) -> dict:
    """Keyword data for a new form: a stored record (edit), or the declared defaults (register)."""
    if record is None:
        record = {f.name: f.default for f in scheme.fields if f.default is not None}
        if scheme.is_household:
            defaults = {f.name: f.default for f in scheme.member_fields if f.default is not None}
            record["members"] = [dict(defaults) for _ in range(max(scheme.members.min, 1))]
    data = _attr_keys({k: v for k, v in record.items() if k != "members"})
    if scheme.is_household:
        data["members"] = [_attr_keys(m) for m in record.get("members") or []]
    return data


def new_form(form_cls: type[UnitForm], formdata=None, record: dict | None = None) -> UnitForm:
    """A form filled from the posted data, or else from a record (or the defaults)."""
    if formdata is not None:
        return form_cls(formdata=formdata)
    return form_cls(**initial_data(form_cls.scheme, record))


def _add(form: UnitForm, field_obj, message: str, row: int | None = None) -> None:
    field_obj.errors = list(field_obj.errors or []) + [message]
    label = field_obj.label.text if field_obj.short_name != "roles" else gettext("Roles")
    if row is not None:
        label = gettext("Member %(n)s", n=row + 1) + " · " + label
    spec = getattr(field_obj, "spec", None)
    grouped = spec is None or spec.type in GROUPS or spec.widget in GROUP_WIDGETS
    target = field_obj.id + "-group" if grouped else field_obj.id
    form.error_list.append((target, label, message))


def attach_errors(form: UnitForm, errors: list[FieldError], posted: Posted | None = None) -> list[str]:
    """Put each error next to its field; returns the errors that belong to no field shown."""
    general: list[str] = []
    form.members_errors = []
    form.error_list = []
    rows = posted.rows if posted is not None else None
    for error in errors:
        path = error.path or ""
        match = MEMBER_PATH.match(path)
        if match and form.scheme.is_household:
            index = int(match.group(1))
            row_index = rows[index] if rows is not None and index < len(rows) else index
            name = match.group(2)
            entries = form.members.entries
            if row_index < len(entries):
                row = entries[row_index].form
                target = row.roles_field if name == "roles" else row.field_for(name) if name else None
                if target is not None:
                    _add(form, target, error.message, row_index)
                    continue
                row.row_errors = list(getattr(row, "row_errors", [])) + [error.message]
                continue
        elif path == "members":
            form.members_errors.append(error.message)
            general.append(error.message)
            continue
        elif path and form.field_for(path) is not None:
            _add(form, form.field_for(path), error.message)
            continue
        spec = form.scheme.field(error.field) if error.field else None
        label = spec.label.get(form.lang, form.scheme.default_language) if spec else ""
        general.append(f"{label}: {error.message}" if label else error.message)
    form.general_errors = general
    return general


def fill_calculated(form: UnitForm, posted: Posted, lang: str) -> None:
    """Show computed fields with the server's value for what is on the page."""
    calcs = [f for f in form.declared_fields() if f.spec.calculate is not None]
    member_calcs = form.scheme.is_household and any(f.calculate is not None for f in form.scheme.member_fields)
    if not calcs and not member_calcs:
        return
    values = validate_record(form.scheme, posted.data, lang=lang).values
    for f in calcs:
        f.data = values.get(f.spec.name)
    if member_calcs:
        for index, row_index in enumerate(posted.rows):
            member = (values.get("members") or [])[index] if index < len(values.get("members") or []) else {}
            for f in form.members.entries[row_index].form.declared_fields():
                if f.spec.calculate is not None:
                    f.data = member.get(f.spec.name)
