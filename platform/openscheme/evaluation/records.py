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
        if "\x00" in value:
            raise _Invalid("E802", "nul")  # a database cannot store it (PostgreSQL refuses it in text and JSON)
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


# ---- the plan: what a scheme's declarations mean for validation, worked out once ----------------
#
# `validate_record` runs for every form post, API call and imported row: a million times for a big
# import. Everything that depends only on the scheme - which coercion a field needs, its choice set,
# its compiled pattern, the order of its computed fields, which phases have any formula at all - is
# worked out once per compiled scheme (`plan_for`) and reused. The checks themselves, their order,
# codes and messages are the ones below; there is no second validation.

TEXT_TYPES = frozenset(("text", "phone", "email", "national_id", "location", "select_one"))
WORDS = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
_DATES: dict[str, date] = {}  # input text -> date: a register holds a few tens of thousands of distinct dates
_DATES_MAX = 200_000
EMPTY: frozenset = frozenset()


def _coercer(f: Field):
    """`coerce(f, raw)` as a function of raw alone, with a fast path for text input (CSV cells,
    form posts, most JSON). Anything but an exact `str` goes through `coerce` itself."""
    t = f.type
    if t in TEXT_TYPES:
        email = t == "email"

        def text(raw):
            if type(raw) is str:
                value = raw.strip()
                if not value:
                    return None
                if "\x00" in value:
                    raise _Invalid("E802", "nul")
                if email and not EMAIL_RE.match(value):
                    raise _Invalid("E806", "email")
                return value
            return coerce(f, raw)

        return text
    if t == "integer":
        def integer(raw):
            if type(raw) is str:
                value = raw.strip()
                if not value:
                    return None
                if len(value) < 19 and value.isascii() and value.isdigit():
                    return int(value)  # what Decimal(value) -> int gives for plain digits
            return coerce(f, raw)

        return integer
    if t in ("decimal", "money"):
        places = f.decimals if f.decimals is not None else (2 if t == "money" else None)
        quantum = Decimal(1).scaleb(-places) if places is not None else None

        def number(raw):
            if type(raw) is str:
                text = raw.strip()
                if not text:
                    return None
                try:
                    value = Decimal(text.replace(" ", ""))
                except InvalidOperation:
                    raise _Invalid("E802", "number") from None
                if not value.is_finite():
                    raise _Invalid("E802", "number")
                if places is not None and -value.as_tuple().exponent > places and value != value.quantize(quantum):
                    raise _Invalid("E802", "decimals", n=places)
                return value
            return coerce(f, raw)

        return number
    if t == "date":
        def date_(raw):
            if type(raw) is str:
                hit = _DATES.get(raw)
                if hit is not None:
                    return hit
                value = coerce(f, raw)  # None, a date, or _Invalid
                if value is not None:
                    if len(_DATES) >= _DATES_MAX:
                        _DATES.clear()
                    _DATES[raw] = value
                return value
            return coerce(f, raw)

        return date_
    if t == "boolean":
        def boolean(raw):
            if type(raw) is str:
                word = raw.strip()
                if not word:
                    return None
                value = WORDS.get(word.lower())
                if value is None:
                    raise _Invalid("E802", "boolean")
                return value
            return coerce(f, raw)

        return boolean
    return lambda raw: coerce(f, raw)


class _FieldPlan:
    """One declared field, with what its checks need ready to use."""

    __slots__ = ("field", "name", "coerce", "default", "relevant", "calculate", "required", "required_when",
                 "choices", "choice_parent", "choice_column", "choice_columns", "min", "max", "min_length",
                 "max_length", "regex", "constraint", "check")

    def __init__(self, f: Field):
        self.field = f
        self.name = f.name
        self.coerce = _coercer(f)
        self.default = f.default
        self.relevant = f.relevant
        self.calculate = f.calculate
        self.required = f.required
        self.required_when = f.required_when
        self.choices = f.choice_values if f.choices else None
        self.choice_parent = self.choice_column = self.choice_columns = None
        if f.choices and f.choice_filter is not None:
            self.choice_parent = f.choice_filter.field
            self.choice_column = f.choice_filter.column
            columns: dict = {}
            for c in f.choices:  # as `f.choice(v)`: the first choice with that value
                columns.setdefault(c.value, str(c.columns.get(self.choice_column)))
            self.choice_columns = columns
        self.min, self.max = f.min, f.max
        self.min_length, self.max_length = f.min_length, f.max_length
        self.regex = re.compile(f.pattern) if f.pattern else None
        self.constraint = f.constraint
        self.check = _value_check(self)  # None when the field has no check of its value


def _value_check(p: _FieldPlan):
    """The checks of a present value of the field, in this order - choices (and their filter), min,
    max, then for text min_length, max_length, pattern, then the constraint - stopping at the first
    error, as a function `check(validator, value, context, prefix)` that contains only the checks
    the field declares. The code is put together from the fixed lines below; the field's own values
    (its choices, limits, pattern, formula) are globals of the function, never part of its text."""
    body: list[str] = []
    if p.choices is not None:
        body += ["for v in value if isinstance(value, list) else [value]:",
                 "    if v not in choices:",
                 "        self.add(prefix + name, name, 'E807', 'choice', value=v)",
                 "        return"]
        if p.choice_parent is not None:
            body += ["    parent = context.get(choice_parent)",
                     "    if parent is not None and choice_columns[v] != str(parent):",
                     "        self.filtered_choice(name, choice_parent, v, prefix)",
                     "        return"]
    if p.min is not None:
        body += ["if value < low:", "    self.add(prefix + name, name, 'E803', 'min', limit=_show_limit(low))", "    return"]
    if p.max is not None:
        body += ["if value > high:", "    self.add(prefix + name, name, 'E803', 'max', limit=_show_limit(high))", "    return"]
    text: list[str] = []
    if p.min_length is not None:
        text += ["if len(value) < min_length:", "    self.add(prefix + name, name, 'E804', 'min_length', n=min_length)",
                 "    return"]
    if p.max_length is not None:
        text += ["if len(value) > max_length:", "    self.add(prefix + name, name, 'E804', 'max_length', n=max_length)",
                 "    return"]
    if p.regex is not None:
        text += ["if not fullmatch(value):",
                 "    self.errors.append(FieldError(prefix + name, name, 'E806', self.localized(field.pattern_message, 'pattern')))",
                 "    return"]
    if text:
        body += ["if isinstance(value, str):"] + ["    " + line for line in text]
    if p.constraint is not None:
        body += ["if self.evaluate(constraint, context, prefix, name) is False:",
                 "    self.errors.append(FieldError(prefix + name, name, 'E805', self.localized(field.constraint_message, 'constraint')))"]
    if not body:
        return None
    namespace = {"name": p.name, "field": p.field, "choices": p.choices, "choice_parent": p.choice_parent,
                 "choice_columns": p.choice_columns, "low": p.min, "high": p.max, "min_length": p.min_length,
                 "max_length": p.max_length, "fullmatch": p.regex.fullmatch if p.regex else None,
                 "constraint": p.constraint, "FieldError": FieldError, "_show_limit": _show_limit}
    source = "def check(self, value, context, prefix):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<checks of {p.name}>", "exec"), namespace)  # noqa: S102 - fixed lines, see above
    return namespace["check"]


class _FieldsPlan:
    """A list of fields (the unit's, or a member's)."""

    __slots__ = ("fields", "names", "known", "calcs", "calc_names", "relevant", "first_pass", "inputs", "rows")

    def __init__(self, fields):
        self.fields = tuple(_FieldPlan(f) for f in fields)
        # the same, as tuples for the two loops every record goes through
        self.inputs = tuple((p.name, p.default, p.coerce) for p in self.fields)
        self.rows = tuple((p.name, p.relevant, p.calculate is not None, p.required, p.required_when, p.check, p)
                          for p in self.fields)
        self.names = [f.name for f in fields]
        self.known = frozenset(self.names)
        calcs = {f.name: f for f in fields if f.calculate is not None}
        order = topological_order({n: set(f.calculate.names | f.calculate.member_names) & set(calcs)
                                   for n, f in calcs.items()})
        self.calcs = tuple((name, calcs[name].calculate) for name in order)
        self.calc_names = frozenset(calcs)
        self.relevant = tuple(p for p in self.fields if p.relevant is not None)
        self.first_pass = bool(self.calcs or self.relevant)


class _Plan:
    """Everything validation needs to know about one compiled scheme."""

    __slots__ = ("scheme", "unit", "member", "household", "unit_extra", "min_members", "max_members", "roles",
                 "role_names", "default_language")

    def __init__(self, scheme: Scheme):
        self.scheme = scheme
        self.household = scheme.is_household
        self.unit = _FieldsPlan(scheme.fields)
        self.member = _FieldsPlan(scheme.member_fields) if self.household else None
        self.unit_extra = ("members",) if self.household else ()
        self.min_members = scheme.members.min if self.household else 0
        self.max_members = scheme.members.max if self.household else 0
        self.roles = tuple(scheme.roles)
        self.role_names = {r.name for r in scheme.roles}
        self.default_language = scheme.default_language


_PLANS: dict[int, _Plan] = {}
_PLANS_MAX = 256


def plan_for(scheme: Scheme) -> _Plan:
    """The scheme's validation plan, built on first use. Kept per compiled scheme object (a scheme
    version's compiled form: a new version, or a recompiled text, is a new object and gets its own);
    the plan holds the scheme, so an id is never reused while its entry lives."""
    plan = _PLANS.get(id(scheme))
    if plan is not None and plan.scheme is scheme:
        return plan
    plan = _Plan(scheme)
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[id(scheme)] = plan
    return plan


# ---- the validation --------------------------------------------------------------------------


class RecordValidator:
    """The checks of one record: errors in the order they are found."""

    __slots__ = ("scheme", "plan", "as_of", "lang", "errors", "invalid", "unit_invalid")

    def __init__(self, scheme: Scheme, as_of: date, lang: str | None, plan: _Plan | None = None):
        self.scheme = scheme
        self.plan = plan or plan_for(scheme)
        self.as_of = as_of
        self.lang = lang or self.plan.default_language
        self.errors: list[FieldError] = []
        self.invalid: frozenset | set = EMPTY  # fields (of this list, and of the unit) whose input was refused
        self.unit_invalid: frozenset | set = EMPTY

    def add(self, path: str, f: str, code: str, key: str, **params) -> None:
        self.errors.append(FieldError(path, f, code, message(key, self.lang, **params)))

    def localized(self, text, fallback_key: str, **params) -> str:
        return text.get(self.lang, self.plan.default_language) if text else message(fallback_key, self.lang, **params)

    def unknown_keys(self, data: Mapping, fields: _FieldsPlan, prefix: str, allowed_extra=()) -> None:
        known = fields.known
        for key in data:
            try:
                if key in known or key in allowed_extra:
                    continue
            except TypeError:  # an unhashable key of an exotic mapping: compare as a list would
                if key in fields.names or key in allowed_extra:
                    continue
            close = difflib.get_close_matches(str(key), fields.names, n=1, cutoff=0.6)
            hint = message("did_you_mean", self.lang, name=close[0]) if close else ""
            self.add(prefix + str(key), str(key), "E809", "unknown_field", name=key, hint=hint)

    def coerce_all(self, data: Mapping, fields: _FieldsPlan, prefix: str) -> tuple[dict, set | frozenset]:
        """Typed values of the fields (None for a refused one), and the names of the refused ones."""
        values = {}
        invalid = None
        get = data.get
        for name, default, convert in fields.inputs:
            raw = get(name)
            if raw is None:
                if default is None:
                    values[name] = None
                    continue
                raw = default
            try:
                values[name] = convert(raw)
            except _Invalid as bad:
                values[name] = None
                self.add(prefix + name, name, bad.code, bad.key, **bad.params)
                if invalid is None:
                    invalid = set()
                invalid.add(name)
        return values, invalid or EMPTY

    def evaluate(self, formula, context, prefix, name, default=None, silent=False):
        """A formula's value; `default` when it reads a field whose value was refused (that
        field carries the error already, a second one on this field would only confuse).
        An error of a silent evaluation (the first pass over computed fields and relevance)
        is dropped: the second pass reports it."""
        invalid = self.invalid
        if invalid and (formula.names & invalid or formula.member_names & invalid):
            return default
        try:
            return formula.evaluate(context, self.as_of)
        except FormulaRuntimeError as exc:
            if not silent:
                self.add(prefix + name, name, "E810", "formula", detail=exc.text(self.lang))
            return None

    def check_fields(self, fields: _FieldsPlan, values: dict, context: dict, prefix: str, invalid) -> None:
        """Computed fields, relevance, required, then each value's checks. `values` and `context`
        may be the same dict (the unit's); both get every computed or dropped value."""
        self.invalid = (invalid | self.unit_invalid) if (invalid or self.unit_invalid) else EMPTY
        evaluate = self.evaluate
        not_relevant: set | frozenset = EMPTY
        dirty: set | None = None  # what may read differently in the second pass than in the first
        if fields.first_pass:
            # first pass, silent: computed fields, then relevance (a dropped value is None from there on)
            failed = False
            for name, formula in fields.calcs:
                value = evaluate(formula, context, prefix, name, silent=True)
                if value is None:
                    failed = True  # an error, or no value: the second pass computes it again
                values[name] = context[name] = value
            for p in fields.relevant:
                if not evaluate(p.relevant, context, prefix, p.name, default=True, silent=True):
                    if not not_relevant:
                        not_relevant = set()
                    not_relevant.add(p.name)
                    values[p.name] = context[p.name] = None
            # second pass: computed fields again, without the values that are not relevant. With none
            # dropped and no error, they would come out the same (formulas are pure): not redone.
            dirty = set(not_relevant)
            if (not_relevant or failed) and fields.calcs:
                for name, formula in fields.calcs:
                    if name not in not_relevant:
                        values[name] = context[name] = evaluate(formula, context, prefix, name)
                dirty |= fields.calc_names
        for name, relevant, computed, required, required_when, check, p in fields.rows:
            if relevant is not None:
                if name in not_relevant:
                    continue
                # relevance again, with errors reported this time: only when something it reads may have
                # changed since the first pass found the field relevant (else it would be relevant again)
                if dirty and relevant.names & dirty and not evaluate(relevant, context, prefix, name, default=True):
                    values[name] = context[name] = None
                    dirty.add(name)
                    continue
            if computed or name in invalid:
                continue
            value = values.get(name)
            if required_when is not None:
                required = bool(evaluate(required_when, context, prefix, name))
            if value is None:
                if required:
                    self.errors.append(FieldError(prefix + name, name, "E801",
                                                  self.localized(p.field.required_message, "required")))
                continue
            if check is not None:
                check(self, value, context, prefix)

    def filtered_choice(self, name: str, parent_name: str, value, prefix: str) -> None:
        """E807: a choice that does not belong to the value chosen for the field it is filtered by."""
        parent_field = self.scheme.field(parent_name)
        label = parent_field.label.get(self.lang) if parent_field else parent_name
        self.add(prefix + name, name, "E807", "filtered_choice", value=value, parent=label.lower())

    def validate(self, data) -> ValidatedRecord:
        plan = self.plan
        if not isinstance(data, Mapping):
            self.add("", "", "E802", "record")
            return ValidatedRecord({}, self.errors)
        self.unknown_keys(data, plan.unit, "", plan.unit_extra)
        # the unit's values are also the context its formulas read (with "members" in a household)
        context, unit_invalid = self.coerce_all(data, plan.unit, "")
        if not plan.household:
            self.check_fields(plan.unit, context, context, "", unit_invalid)
            return ValidatedRecord(context, self.errors, [])
        member_values: list[tuple[dict, set | frozenset]] = []
        member_roles: list[tuple[str, ...]] = []
        raw_members = data.get("members")
        if raw_members is None:
            raw_members = []
        if not isinstance(raw_members, list):
            self.add("members", "members", "E802", "members_list")
            raw_members = []
        member_fields = plan.member
        for i, raw in enumerate(raw_members):
            prefix = f"members[{i}]."
            if not isinstance(raw, Mapping):
                self.add(f"members[{i}]", "members", "E802", "member_object")
                member_values.append(({}, EMPTY))
                member_roles.append(())
                continue
            self.unknown_keys(raw, member_fields, prefix, ROLE_KEYS)
            member_values.append(self.coerce_all(raw, member_fields, prefix))
            member_roles.append(self.roles_of(raw, prefix))
        if len(raw_members) < plan.min_members:
            self.add("members", "members", "E808", "min_members", n=plan.min_members)
        if len(raw_members) > plan.max_members:
            self.add("members", "members", "E808", "max_members", n=plan.max_members)
        self.check_roles(member_roles)
        self.unit_invalid = set(unit_invalid) if unit_invalid else EMPTY
        members = []
        for (mv, _invalid), roles in zip(member_values, member_roles, strict=True):
            seen = dict(mv)  # what the unit's formulas see of the member (a copy: the checks change mv)
            seen["roles"] = list(roles)
            members.append(seen)
        context["members"] = members
        self.check_fields(plan.unit, context, context, "", unit_invalid)
        for i, (mv, invalid) in enumerate(member_values):
            roles = list(member_roles[i])
            member_context = dict(context)
            member_context.update(mv)
            member_context["roles"] = roles
            self.check_fields(member_fields, mv, member_context, f"members[{i}].", invalid)
            mv["roles"] = roles
            members[i] = mv
        return ValidatedRecord(context, self.errors, member_roles)

    def roles_of(self, raw: Mapping, prefix: str) -> tuple[str, ...]:
        roles = raw.get("roles", raw.get("role"))
        if roles is None:
            return ()
        if isinstance(roles, str):
            roles = roles.replace(",", " ").split()
        roles = list(roles) if isinstance(roles, list) else [roles]
        known = self.plan.role_names
        for r in roles:
            if not isinstance(r, str) or r not in known:
                self.add(prefix + "roles", "roles", "E807", "unknown_role", role=r)
        return tuple(r for r in roles if isinstance(r, str) and r in known)

    def check_roles(self, member_roles: list[tuple[str, ...]]) -> None:
        for role in self.plan.roles:
            n = sum(1 for roles in member_roles if role.name in roles)
            if n < role.min:
                self.add("members", "roles", "E808", "role_min", n=role.min, role=role.label.get(self.lang))
            if role.max is not None and n > role.max:
                self.add("members", "roles", "E808", "role_max", n=role.max, role=role.label.get(self.lang))


def validate_record(scheme: Scheme, data, *, as_of: date | None = None, lang: str | None = None) -> ValidatedRecord:
    """Check and type a record (a unit with its members) against the scheme's fields."""
    return RecordValidator(scheme, as_of or date.today(), lang).validate(data)


__all__ = ["FieldError", "T", "ValidatedRecord", "coerce", "plan_for", "validate_record"]
