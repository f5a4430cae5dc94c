"""A compiled scheme as JSON: what a client needs to build the form and check a record.

`scheme_description` lists every field with its type, labels in every language,
choices, bounds, pattern and formulas (relevant, required, constraint, calculate:
their text, for clients that evaluate them; the server always re-checks).
`record_schema` turns the same declarations into a JSON Schema (draft 2020-12,
the dialect of OpenAPI 3.1) so a client can generate code for a scheme's record.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from ..definitions.model import Field, Scheme, Text


def plain(value):
    """Decimal, date and nested values as JSON-ready data (numbers stay numbers)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def texts(text: Text) -> dict:
    return dict(text.values)


def _formula(formula) -> str | None:
    return formula.text if formula is not None else None


def field_description(f: Field, lang: str, default_lang: str) -> dict:
    out = {
        "name": f.name,
        "type": f.type,
        "value_type": str(f.value_type),
        "scope": f.scope,
        "label": f.label.get(lang, default_lang),
        "labels": texts(f.label),
        "required": f.required,
    }
    optional = {
        "hint": f.hint.get(lang, default_lang) if f.hint else None,
        "hints": texts(f.hint) if f.hint else None,
        "required_when": _formula(f.required_when),
        "required_message": texts(f.required_message) if f.required_message else None,
        "relevant": _formula(f.relevant),
        "constraint": _formula(f.constraint),
        "constraint_message": texts(f.constraint_message) if f.constraint_message else None,
        "calculate": _formula(f.calculate),
        "default": plain(f.default),
        "min": plain(f.min),
        "max": plain(f.max),
        "min_length": f.min_length,
        "max_length": f.max_length,
        "decimals": f.decimals,
        "pattern": f.pattern,
        "pattern_message": texts(f.pattern_message) if f.pattern_message else None,
        "choice_list": f.choice_list,
        "choice_filter": {"column": f.choice_filter.column, "field": f.choice_filter.field} if f.choice_filter else None,
        "location_level": f.location_level,
        "widget": f.widget,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if f.choices:
        out["choices"] = [{"value": c.value, "label": c.label.get(lang, default_lang), "labels": texts(c.label),
                           **({"columns": plain(dict(c.columns))} if c.columns else {})} for c in f.choices]
    for flag in ("unique", "searchable", "read_only"):
        if getattr(f, flag):
            out[flag] = True
    return out


def scheme_summary(scheme: Scheme, lang: str) -> dict:
    d = scheme.default_language
    return {
        "code": scheme.code,
        "version": scheme.version,
        "content_hash": scheme.content_hash,
        "title": scheme.title.get(lang, d),
        "description": scheme.description.get(lang, d) if scheme.description else "",
        "unit": scheme.unit,
        "benefit_kinds": list(scheme.benefit_kinds),
        "languages": list(scheme.languages),
        "country": scheme.country,
        "currency": scheme.currency,
    }


def scheme_description(scheme: Scheme, lang: str) -> dict:
    d = scheme.default_language
    out = scheme_summary(scheme, lang) | {
        "lang": lang,
        "titles": texts(scheme.title),
        "location_levels": list(scheme.location_levels),
        "fields": [field_description(f, lang, d) for f in scheme.fields],
        "members": None,
        "roles": [{"name": r.name, "label": r.label.get(lang, d), "labels": texts(r.label), "min": r.min, "max": r.max}
                  for r in scheme.roles],
        "rules": [{"name": r.name, "label": r.label.get(lang, d), "labels": texts(r.label), "formula": r.formula.text,
                   "reason": r.reason.get(lang, d) if r.reason else "", "reasons": texts(r.reason)}
                  for r in scheme.eligibility],
        "period": {"start": plain(scheme.period_start), "end": plain(scheme.period_end), "months": scheme.period_months},
        "record_schema": f"#/components/schemas/{component_name(scheme.code)}Record",
    }
    if scheme.members is not None:
        m = scheme.members
        out["members"] = {"label": m.label.get(lang, d), "labels": texts(m.label), "min": m.min, "max": m.max,
                          "fields": [field_description(f, lang, d) for f in m.fields]}
    return out


# ---- JSON Schema of a record ---------------------------------------------------------------

TEXT_TYPES = ("text", "phone", "national_id", "location", "select_one", "email")


def component_name(code: str) -> str:
    """'tz-chf' -> 'TzChf' (a name code generators turn into a class)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", code) if part)


def _number(value):
    return plain(value) if isinstance(value, Decimal) else None


def _anchored(pattern: str) -> str:
    # the platform matches the whole value (re.fullmatch); JSON Schema patterns search
    return f"^(?:{pattern})$"


def always_required(f: Field) -> bool:
    return f.required and f.relevant is None and f.default is None and f.calculate is None


def field_schema(f: Field, lang: str = "en", default_lang: str = "en") -> dict:
    s: dict = {"title": f.label.get(lang, default_lang), "x-openscheme-type": f.type}
    if f.hint:
        s["description"] = f.hint.get(lang, default_lang)
    t = f.type
    if t == "calculate":
        s["readOnly"] = True
        s["description"] = (s.get("description", "") + " Computed by the platform: " + f.calculate.text).strip()
        return s
    if t in TEXT_TYPES:
        s["type"] = "string"
        if f.choices:
            s["enum"] = [c.value for c in f.choices]
        if f.pattern:
            s["pattern"] = _anchored(f.pattern)
        if t == "email":
            s["format"] = "email"
        if f.min_length is not None:
            s["minLength"] = f.min_length
        if f.max_length is not None:
            s["maxLength"] = f.max_length
        if t == "location" and f.location_level:
            s["x-location-level"] = f.location_level
    elif t == "integer":
        s["type"] = "integer"
    elif t in ("decimal", "money"):
        # sent as a JSON number or as exact decimal text ("1500.00"); stored and returned as text
        places = f.decimals if f.decimals is not None else (2 if t == "money" else None)
        s["type"] = ["number", "string"]
        if places is None:
            s["pattern"] = r"^-?[0-9]+(\.[0-9]+)?$"
        elif places == 0:
            s["pattern"] = r"^-?[0-9]+$"
        else:
            s["pattern"] = r"^-?[0-9]+(\.[0-9]{1," + str(places) + r"})?$"
    elif t == "date":
        s["type"] = "string"
        s["format"] = "date"
        if isinstance(f.min, date):
            s["x-minimum-date"] = f.min.isoformat()
        if isinstance(f.max, date):
            s["x-maximum-date"] = f.max.isoformat()
    elif t == "boolean":
        s["type"] = "boolean"
    elif t == "select_multiple":
        s["type"] = "array"
        s["items"] = {"type": "string", "enum": [c.value for c in f.choices]} if f.choices else {"type": "string"}
        s["uniqueItems"] = True
    elif t == "gps":
        s["type"] = "object"
        s["properties"] = {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}}
        s["required"] = ["lat", "lon"]
    if t in ("integer", "decimal", "money"):
        if _number(f.min) is not None:
            s["minimum"] = _number(f.min)
        if _number(f.max) is not None:
            s["maximum"] = _number(f.max)
    if f.choices and t != "select_multiple":
        s["x-enum-labels"] = {c.value: c.label.get(lang, default_lang) for c in f.choices}
    if f.default is not None:
        s["default"] = plain(f.default)
    if not always_required(f) and "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        s["type"] = types + ["null"]
        if "enum" in s:
            s["enum"] = s["enum"] + [None]
    return s


def object_schema(fields, title: str, extra: dict | None = None) -> dict:
    props = {f.name: field_schema(f) for f in fields}
    props.update(extra or {})
    required = [f.name for f in fields if always_required(f)]
    out = {"type": "object", "title": title, "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def record_schemas(scheme: Scheme) -> dict[str, dict]:
    """Component schemas of a scheme's record (and of its members): {name: schema}."""
    name = component_name(scheme.code)
    title = scheme.title.get("en", scheme.default_language)
    if scheme.members is None:
        record = object_schema(scheme.fields, f"{title}: record")
        record["x-scheme-code"] = scheme.code
        record["x-scheme-version"] = scheme.version
        return {f"{name}Record": record}
    roles = [r.name for r in scheme.roles]
    member = object_schema(scheme.member_fields, f"{title}: member", {
        "roles": {"type": "array", "items": {"type": "string", "enum": roles}, "uniqueItems": True,
                  "description": "Roles the member holds in the household."},
        "_uid": {"type": "string", "description": "The member's record uid, as a read gives it. Send it back on "
                                                  "update: the stored member is matched by it (without it: by "
                                                  "position); a member without it is new."}})
    members = {"type": "array", "items": {"$ref": f"#/components/schemas/{name}Member"},
               "minItems": scheme.members.min, "maxItems": scheme.members.max}
    record = object_schema(scheme.fields, f"{title}: record", {"members": members})
    if scheme.members.min > 0:
        record.setdefault("required", []).append("members")
    record["x-scheme-code"] = scheme.code
    record["x-scheme-version"] = scheme.version
    return {f"{name}Record": record, f"{name}Member": member}
