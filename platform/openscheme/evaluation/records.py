"""One validation for every path: a record checked against a scheme's fields.

The web form, the JSON API and the bulk import all hand their input to
`validate_record`, so the same bad value gets the same error wherever it comes
from. Input is JSON-like (dates as text, numbers as text or numbers); output is
typed values (Decimal, date, lists) and a list of `FieldError`s, each naming the
field path ("members[2].dob"), a code and a message in the user's language.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ..definitions.checks.cycles import topological_order
from ..definitions.model import Field, Scheme
from ..formulas import FormulaRuntimeError, T
from .messages import message

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE_WORDS = {"true", "yes", "1", "on", "oui", "y"}
FALSE_WORDS = {"false", "no", "0", "off", "non", "n"}
ROLE_KEYS = ("role", "roles")


@dataclass(frozen=True)
class FieldError:
    path: str
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.code} {self.message}"


@dataclass
class ValidatedRecord:
    values: dict
    errors: list[FieldError] = field(default_factory=list)
    member_roles: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Invalid(Exception):
    def __init__(self, code: str, key: str, **params):
        self.code, self.key, self.params = code, key, params


def _decimal(raw) -> Decimal:
    if isinstance(raw, bool):
        raise _Invalid("E802", "number")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip().replace(" ", ""))
        except InvalidOperation:
            raise _Invalid("E802", "number") from None
    else:
        raise _Invalid("E802", "number")
    if not value.is_finite():
        raise _Invalid("E802", "number")
    return value


def coerce(f: Field, raw):
    """Turn an input value into the field's Python type, or raise _Invalid."""
    if raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
        return None
    t = f.type
    if t in ("text", "phone", "email", "national_id", "location", "select_one"):
        if isinstance(raw, (dict, list, bool)):
            raise _Invalid("E802", "text")
        value = str(raw).strip() if not isinstance(raw, Decimal) else format(raw, "f")
        if t == "email" and not EMAIL_RE.match(value):
            raise _Invalid("E806", "email")
        return value
    if t == "integer":
        value = _decimal(raw)
        if value != value.to_integral_value():
            raise _Invalid("E802", "integer")
        return int(value)
    if t in ("decimal", "money"):
        value = _decimal(raw)
        places = f.decimals if f.decimals is not None else (2 if t == "money" else None)
        if places is not None and -value.as_tuple().exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
            raise _Invalid("E802", "decimals", n=places)
        return value
    if t == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str):
            text = raw.strip()
            if ISO_DATE.match(text) and (len(text) == 10 or text[10] in "T "):
                try:
                    return date.fromisoformat(text[:10])
                except ValueError:
                    pass
        raise _Invalid("E802", "date")
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise _Invalid("E802", "boolean")
    if t == "select_multiple":
        if isinstance(raw, str):
            items = [x for x in re.split(r"[\s,;]+", raw.strip()) if x]
        elif isinstance(raw, (list, tuple)):
            items = [str(x).strip() for x in raw if x is not None and str(x).strip()]
        else:
            raise _Invalid("E802", "list")
        return list(dict.fromkeys(items))
    if t == "gps":
        if isinstance(raw, Mapping):
            parts = [raw.get("lat", raw.get("latitude")), raw.get("lon", raw.get("lng", raw.get("longitude")))]
        elif isinstance(raw, (list, tuple)):
            parts = list(raw)
        elif isinstance(raw, str):
            parts = [p for p in re.split(r"[\s,;]+", raw.strip()) if p]
        else:
            raise _Invalid("E802", "gps")
        if len(parts) != 2:
            raise _Invalid("E802", "gps")
        try:
            lat, lon = _decimal(parts[0]), _decimal(parts[1])
        except _Invalid:
            raise _Invalid("E802", "gps") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _Invalid("E803", "gps")
        return {"lat": lat, "lon": lon}
    return raw  # calculate: computed, never typed in


def _show_limit(value) -> str:
    return value.isoformat() if isinstance(value, date) else f"{value:,}"


class RecordValidator:
    def __init__(self, scheme: Scheme, as_of: date, lang: str | None):
        self.scheme = scheme
        self.as_of = as_of
        self.lang = lang or scheme.default_language
        self.errors: list[FieldError] = []

    def add(self, path: str, f: str, code: str, key: str, **params) -> None:
        self.errors.append(FieldError(path, f, code, message(key, self.lang, **params)))

    def localized(self, text, fallback_key: str, **params) -> str:
        return text.get(self.lang, self.scheme.default_language) if text else message(fallback_key, self.lang, **params)

    def unknown_keys(self, data: Mapping, fields, prefix: str, allowed_extra=()) -> None:
        names = [f.name for f in fields]
        for key in data:
            if key in names or key in allowed_extra:
                continue
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            hint = message("did_you_mean", self.lang, name=close[0]) if close else ""
            self.add(prefix + str(key), str(key), "E809", "unknown_field", name=key, hint=hint)

    def coerce_all(self, data: Mapping, fields, prefix: str) -> dict:
        values = {}
        for f in fields:
            raw = data.get(f.name)
            if raw is None and f.default is not None:
                raw = f.default
            try:
                values[f.name] = coerce(f, raw)
            except _Invalid as bad:
                values[f.name] = None
                if bad.key == "email":
                    self.add(prefix + f.name, f.name, bad.code, "email")
                else:
                    self.add(prefix + f.name, f.name, bad.code, bad.key, **bad.params)
                values.setdefault("__invalid__", set()).add(f.name)
        return values

    def evaluate(self, formula, context, path, name, default=None):
        """A formula's value; `default` when it reads a field whose value was refused (that
        field carries the error already, a second one on this field would only confuse)."""
        if formula.names & getattr(self, "invalid", set()) or formula.member_names & getattr(self, "invalid", set()):
            return default
        try:
            return formula.evaluate(context, self.as_of)
        except FormulaRuntimeError as exc:
            self.add(path, name, "E810", "formula", detail=exc.message)
            return None

    def check_fields(self, fields, values: dict, context: dict, prefix: str) -> None:
        invalid = values.pop("__invalid__", set())
        self.invalid = invalid | getattr(self, "unit_invalid", set())
        calcs = {f.name: f for f in fields if f.calculate is not None}
        order = topological_order({n: set(f.calculate.names | f.calculate.member_names) & set(calcs) for n, f in calcs.items()})
        silent = RecordValidator(self.scheme, self.as_of, self.lang)  # first pass: errors come later
        silent.invalid = self.invalid
        for name in order:
            values[name] = context[name] = silent.evaluate(calcs[name].calculate, context, prefix + name, name)
        not_relevant = set()
        for f in fields:
            if f.relevant is not None and not silent.evaluate(f.relevant, context, prefix + f.name, f.name, default=True):
                not_relevant.add(f.name)
                values[f.name] = context[f.name] = None
        for name in order:  # computed again without the values that are not relevant
            if name not in not_relevant:
                values[name] = context[name] = self.evaluate(calcs[name].calculate, context, prefix + name, name)
        for f in fields:
            path = prefix + f.name
            if f.name in not_relevant:
                continue
            if f.relevant is not None and not self.evaluate(f.relevant, context, path, f.name, default=True):
                values[f.name] = context[f.name] = None
                continue
            if f.name in invalid or f.calculate is not None:
                continue
            value = values.get(f.name)
            required = f.required
            if f.required_when is not None:
                required = bool(self.evaluate(f.required_when, context, path, f.name))
            if value is None:
                if required:
                    self.errors.append(FieldError(path, f.name, "E801", self.localized(f.required_message, "required")))
                continue
            self.check_value(f, value, context, path)

    def check_value(self, f: Field, value, context: dict, path: str) -> None:
        if f.choices:
            allowed = f.choice_values
            for v in value if isinstance(value, list) else [value]:
                if v not in allowed:
                    self.add(path, f.name, "E807", "choice", value=v)
                    return
                if f.choice_filter is not None:
                    parent = context.get(f.choice_filter.field)
                    choice = f.choice(v)
                    if parent is not None and str(choice.columns.get(f.choice_filter.column)) != str(parent):
                        parent_field = self.scheme.field(f.choice_filter.field)
                        label = parent_field.label.get(self.lang) if parent_field else f.choice_filter.field
                        self.add(path, f.name, "E807", "filtered_choice", value=v, parent=label.lower())
                        return
        if f.min is not None and value < f.min:
            self.add(path, f.name, "E803", "min", limit=_show_limit(f.min))
            return
        if f.max is not None and value > f.max:
            self.add(path, f.name, "E803", "max", limit=_show_limit(f.max))
            return
        if isinstance(value, str):
            if f.min_length is not None and len(value) < f.min_length:
                self.add(path, f.name, "E804", "min_length", n=f.min_length)
                return
            if f.max_length is not None and len(value) > f.max_length:
                self.add(path, f.name, "E804", "max_length", n=f.max_length)
                return
            if f.pattern and not re.fullmatch(f.pattern, value):
                self.errors.append(FieldError(path, f.name, "E806", self.localized(f.pattern_message, "pattern")))
                return
        if f.constraint is not None:
            ok = self.evaluate(f.constraint, context, path, f.name)
            if ok is False:
                self.errors.append(FieldError(path, f.name, "E805", self.localized(f.constraint_message, "constraint")))

    def validate(self, data) -> ValidatedRecord:
        scheme = self.scheme
        if not isinstance(data, Mapping):
            self.add("", "", "E802", "record")
            return ValidatedRecord({}, self.errors)
        self.unknown_keys(data, scheme.fields, "", ("members",) if scheme.is_household else ())
        values = self.coerce_all(data, scheme.fields, "")
        member_values: list[dict] = []
        member_roles: list[tuple[str, ...]] = []
        raw_members = data.get("members") if scheme.is_household else None
        if scheme.is_household:
            if raw_members is None:
                raw_members = []
            if not isinstance(raw_members, list):
                self.add("members", "members", "E802", "members_list")
                raw_members = []
            for i, raw in enumerate(raw_members):
                prefix = f"members[{i}]."
                if not isinstance(raw, Mapping):
                    self.add(f"members[{i}]", "members", "E802", "member_object")
                    member_values.append({})
                    member_roles.append(())
                    continue
                self.unknown_keys(raw, scheme.member_fields, prefix, ROLE_KEYS)
                member_values.append(self.coerce_all(raw, scheme.member_fields, prefix))
                member_roles.append(self.roles_of(raw, prefix))
            m = scheme.members
            if len(raw_members) < m.min:
                self.add("members", "members", "E808", "min_members", n=m.min)
            if len(raw_members) > m.max:
                self.add("members", "members", "E808", "max_members", n=m.max)
            self.check_roles(member_roles)
        unit_invalid = values.get("__invalid__", set())
        self.unit_invalid = set(unit_invalid)
        context = {k: v for k, v in values.items() if k != "__invalid__"}
        if scheme.is_household:
            context["members"] = [{k: v for k, v in mv.items() if k != "__invalid__"} | {"roles": list(member_roles[i])}
                                  for i, mv in enumerate(member_values)]
        values["__invalid__"] = unit_invalid
        self.check_fields(scheme.fields, values, context, "")
        for i, mv in enumerate(member_values):
            roles = {"roles": list(member_roles[i])}
            member_context = dict(context) | {k: v for k, v in mv.items() if k != "__invalid__"} | roles
            self.check_fields(scheme.member_fields, mv, member_context, f"members[{i}].")
            context["members"][i] = {k: v for k, v in mv.items() if k != "__invalid__"} | roles
        result = {k: v for k, v in values.items() if k != "__invalid__"}
        if scheme.is_household:
            result["members"] = context["members"]
        return ValidatedRecord(result, self.errors, member_roles)

    def roles_of(self, raw: Mapping, prefix: str) -> tuple[str, ...]:
        roles = raw.get("roles", raw.get("role"))
        if roles is None:
            return ()
        if isinstance(roles, str):
            roles = roles.replace(",", " ").split()
        roles = list(roles) if isinstance(roles, list) else [roles]
        known = {r.name for r in self.scheme.roles}
        for r in roles:
            if not isinstance(r, str) or r not in known:
                self.add(prefix + "roles", "roles", "E807", "unknown_role", role=r)
        return tuple(r for r in roles if isinstance(r, str) and r in known)

    def check_roles(self, member_roles: list[tuple[str, ...]]) -> None:
        for role in self.scheme.roles:
            n = sum(1 for roles in member_roles if role.name in roles)
            label = role.label.get(self.lang)
            if n < role.min:
                self.add("members", "roles", "E808", "role_min", n=role.min, role=label)
            if role.max is not None and n > role.max:
                self.add("members", "roles", "E808", "role_max", n=role.max, role=label)


def validate_record(scheme: Scheme, data, *, as_of: date | None = None, lang: str | None = None) -> ValidatedRecord:
    """Check and type a record (a unit with its members) against the scheme's fields."""
    return RecordValidator(scheme, as_of or date.today(), lang).validate(data)


__all__ = ["FieldError", "T", "ValidatedRecord", "coerce", "validate_record"]
