"""Building fields: presets, choice lists, constants, tables and field declarations."""

from __future__ import annotations

import ast
import re
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

import yaml

from ..formulas import Scope, T, type_of_value
from ..formulas.checker import suggestion
from ..formulas.messages import say
from .checks.cycles import find_cycle, topological_order
from .checks.names import check_reserved, check_unique
from .messages import Technical
from .model import Choice, ChoiceFilter, Field, Table, Text

VALUE_TYPES = {
    "text": T.TEXT, "phone": T.TEXT, "email": T.TEXT, "national_id": T.TEXT, "select_one": T.TEXT,
    "location": T.TEXT, "integer": T.NUMBER, "decimal": T.NUMBER, "money": T.NUMBER, "date": T.DATE,
    "boolean": T.BOOL, "select_multiple": T.LIST, "gps": T.GPS, "calculate": T.ANY,
}
DEFAULT_LOCATION_LEVELS = ("region", "district", "ward", "village")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def builtin_presets() -> dict:
    text = resources.files("openscheme.definitions").joinpath("presets.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def text_of(value) -> Text:
    if value is None:
        return Text({})
    if isinstance(value, dict):
        return Text(dict(value))
    return Text({"*": str(value)})


def parse_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def build_choices(compiler) -> dict[str, tuple[Choice, ...]]:
    lists: dict[str, tuple[Choice, ...]] = {}
    declared = compiler.data.get("choices") or {}
    for name, items in declared.items():
        lists[name] = build_choice_list(compiler, items, ("choices", name))
    return lists


def build_choice_list(compiler, items, path) -> tuple[Choice, ...]:
    check_unique(compiler, [(str(c.get("value")), path + (i, "value")) for i, c in enumerate(items)],
                 "choice value", "E302")
    out = []
    for item in items:
        columns = {k: v for k, v in item.items() if k not in ("value", "label")}
        out.append(Choice(str(item["value"]), text_of(item.get("label", str(item["value"]))), columns))
    return tuple(out)


def build_constants(compiler) -> dict[str, object]:
    constants = {}
    for name, value in (compiler.data.get("constants") or {}).items():
        path = ("constants", name)
        if not check_reserved(compiler, name, path, "constant"):
            continue
        if isinstance(value, str) and ISO_DATE.match(value):
            parsed = parse_date(value)
            if parsed is None:
                compiler.error("E326", f"constant '{name}': '{value}' is not a valid date", path,
                               said=say("n_constant_date", name=name, value=value))
                continue
            value = parsed
        elif isinstance(value, list):
            value = tuple(str(v) if isinstance(v, str) else v for v in value)
        constants[name] = value
    return constants


def build_tables(compiler) -> dict[str, Table]:
    tables = {}
    for name, spec in (compiler.data.get("tables") or {}).items():
        path = ("tables", name)
        if not check_reserved(compiler, name, path, "table"):
            continue
        key = spec["key"]
        rows: dict[str, dict] = {}
        columns: list[str] = []
        for i, row in enumerate(spec["rows"]):
            if key not in row:
                compiler.error("E202", f"row {i + 1} of table '{name}' has no '{key}' (the table's key)", path + ("rows", i),
                               said=say("n_row_without_key", row=i + 1, table=name, key=key))
                continue
            k = row[key]
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                compiler.error("E203", f"the key '{key}' of table '{name}' must be text or a whole number",
                               path + ("rows", i, key), said=say("n_table_key_type", key=key, table=name))
                continue
            k = str(k)  # keys are looked up with field values, which are text (select values)
            if k in rows:
                compiler.error("E302", f"duplicate key '{k}' in table '{name}'", path + ("rows", i, key),
                               said=say("n_table_key_twice", key=k, table=name))
                continue
            rows[k] = dict(row)
            columns += [c for c in row if c not in columns]
        tables[name] = Table(name, key, rows, tuple(columns))
    return tables


def resolve_presets(compiler, raw_fields: list, base_path: tuple) -> list[tuple[tuple, dict]]:
    """Expand `preset:` references into full field dicts, keeping each field's path."""
    local = compiler.data.get("presets") or {}
    builtin = builtin_presets()["presets"]
    out = []
    for i, raw in enumerate(raw_fields):
        path = base_path + (i,)
        if "preset" in raw:
            name = raw["preset"]
            preset = local.get(name) or builtin.get(name)
            if preset is None:
                from ..formulas.checker import suggest

                hint = suggest(name, list(local) + list(builtin)) or "built-in presets: " + ", ".join(builtin)
                hint_said = suggestion(name, list(local) + list(builtin)) or say("n_hint_builtin_presets",
                                                                                 names=", ".join(builtin))
                compiler.error("E311", f"unknown preset '{name}'", path + ("preset",), hint,
                               said=say("n_unknown_preset", name=name), hint_said=hint_said)
                continue
            merged = dict(preset)
            merged.setdefault("name", name)
            merged.update({k: v for k, v in raw.items() if k != "preset"})
            if isinstance(merged.get("choices"), str) and merged["choices"] not in (compiler.data.get("choices") or {}):
                builtin_list = builtin_presets()["choices"].get(merged["choices"])
                if builtin_list is not None:
                    compiler.extra_choices[merged["choices"]] = builtin_list
            out.append((path, merged))
        else:
            out.append((path, dict(raw)))
    return out


def referenced_names(text: str) -> set[str]:
    try:
        tree = ast.parse("(" + text + "\n)", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


class FieldBuilder:
    """Builds the unit's and the members' fields with their formulas checked."""

    def __init__(self, compiler, choices, constants, tables):
        self.c = compiler
        self.choices = choices
        self.constants = constants
        self.tables = tables
        self.levels = tuple(compiler.data["scheme"].get("location_levels") or DEFAULT_LOCATION_LEVELS)

    def scopes(self, unit: list, members: list, household: bool, calc_types: dict) -> tuple[Scope, Scope]:
        def types(raw_list):
            out = {}
            for _, f in raw_list:
                t = VALUE_TYPES.get(f.get("type"), T.ANY)
                if f.get("type") == "calculate":
                    t = calc_types.get(f["name"], T.ANY)
                out[f["name"]] = t
            return out

        unit_types, member_types = types(unit), types(members)
        role_names = frozenset(self.c.data.get("roles") or {})
        if household and role_names:
            # a member's roles are readable in formulas: any(members, "head" in roles and age(dob) >= 18)
            member_types["roles"] = T.LIST
        shared = {k: type_of_value(v) for k, v in self.constants.items()}
        shared.update({k: T.TABLE for k in self.tables})
        constants = dict(self.constants) | {k: {r: dict(row) for r, row in t.rows.items()} for k, t in self.tables.items()}
        choices = {}
        for _, f in unit + members:
            values = self.choice_values(f)
            if values:
                choices[f["name"]] = values
        if household and role_names:
            choices["roles"] = role_names
        top = dict(shared) | unit_types
        if household:
            top["members"] = T.MEMBERS
        unit_scope = Scope(names=top, member_names=member_types, constants=constants, choices=choices)
        member_scope = Scope(names=top | member_types, member_names=member_types, constants=constants, choices=choices)
        return unit_scope, member_scope

    def choice_values(self, f: dict) -> frozenset[str] | None:
        spec = f.get("choices")
        if isinstance(spec, str):
            items = self.choices.get(spec)
            return frozenset(c.value for c in items) if items else None
        if isinstance(spec, list):
            return frozenset(str(c.get("value")) for c in spec if isinstance(c, dict))
        return None

    def build_all(self, unit_raw: list, member_raw: list, household: bool) -> tuple[list[Field], list[Field]]:
        c = self.c
        every = unit_raw + member_raw
        check_unique(c, [(f.get("name"), p + ("name",)) for p, f in every], "field", "E301")
        for p, f in every:
            name = f.get("name")
            if name == "roles" and household:
                c.error("E303", "the name 'roles' is reserved: it holds a member's roles", p + ("name",),
                        "choose another name", said=say("n_roles_reserved"), hint_said=say("n_hint_other_name"))
                continue
            if name in self.constants or name in self.tables:
                c.error("E303", f"the field '{name}' has the same name as a constant or table", p + ("name",),
                        said=say("n_field_like_constant", name=name))
            else:
                check_reserved(c, name, p + ("name",), "field")
        # computed fields: order by dependency, refuse cycles, infer their types
        calc = {f["name"]: (p, f) for p, f in every if f.get("type") == "calculate"}
        graph = {n: referenced_names(f.get("calculate", "")) & set(calc) for n, (p, f) in calc.items()}
        cycle = find_cycle(graph)
        calc_types: dict[str, T] = {}
        if cycle:
            p, _ = calc[cycle[0]]
            c.error("E330", "computed fields depend on each other in a cycle: " + " -> ".join(cycle),
                    p + ("calculate",), "one of them must be computed from something else",
                    said=say("n_calculate_cycle", cycle=" -> ".join(cycle)), hint_said=say("n_hint_calculate_cycle"))
        else:
            for name in topological_order(graph):
                p, f = calc[name]
                unit_scope, member_scope = self.scopes(unit_raw, member_raw, household, calc_types)
                scope = member_scope if p[0] == "members" else unit_scope
                if "calculate" not in f:
                    c.error("E202", f"computed field '{name}' needs a 'calculate' formula", p,
                            said=say("n_calculate_missing", name=name))
                    continue
                formula = c.formula(f["calculate"], p + ("calculate",), scope, None, "a calculation")
                calc_types[name] = formula.result_type if formula else T.ANY
        unit_scope, member_scope = self.scopes(unit_raw, member_raw, household, calc_types)
        self.unit_scope, self.member_scope = unit_scope, member_scope
        unit = [x for x in (self.build(p, f, "unit", unit_scope, calc_types) for p, f in unit_raw) if x]
        members = [x for x in (self.build(p, f, "member", member_scope, calc_types) for p, f in member_raw) if x]
        self.check_relevance_cycles(unit + members)
        return unit, members

    def check_relevance_cycles(self, fields: list[Field]) -> None:
        graph = {f.name: set(f.relevant.names | f.relevant.member_names) if f.relevant else set() for f in fields}
        cycle = find_cycle(graph)
        if cycle:
            f = next(x for x in fields if x.name == cycle[0])
            self.c.error("E331", "fields are relevant only through each other: " + " -> ".join(cycle),
                         f.path + ("relevant",), "a field cannot decide its own relevance",
                         said=say("n_relevance_cycle", cycle=" -> ".join(cycle)), hint_said=say("n_hint_relevance_cycle"))

    def build(self, path, f: dict, scope_name: str, scope: Scope, calc_types: dict) -> Field | None:
        c = self.c
        name, ftype = f.get("name"), f.get("type")
        if not name or not ftype:
            c.error("E202", "a field needs 'name' and 'type'", path, said=say("n_field_needs_name_type"))
            return None
        value_type = calc_types.get(name, T.ANY) if ftype == "calculate" else VALUE_TYPES[ftype]
        kw: dict = {}
        # choices
        if ftype in ("select_one", "select_multiple"):
            spec = f.get("choices")
            if spec is None:
                c.error("E321", f"the {ftype} field '{name}' needs 'choices'", path,
                        "name a list from 'choices:' or list them inline",
                        said=say("n_needs_choices", type=ftype, name=name), hint_said=say("n_hint_name_a_list"))
            elif isinstance(spec, str):
                items = self.choices.get(spec)
                if items is None:
                    from ..formulas.checker import suggest

                    c.error("E322", f"unknown choice list '{spec}'", path + ("choices",),
                            suggest(spec, self.choices) or "declare it under 'choices:'",
                            said=say("n_unknown_choice_list", name=spec),
                            hint_said=suggestion(spec, self.choices) or say("n_hint_declare_choices"))
                else:
                    kw["choices"], kw["choice_list"] = items, spec
            else:
                kw["choices"] = build_choice_list(c, spec, path + ("choices",))
        elif "choices" in f:
            c.error("E327", f"'choices' applies to select_one and select_multiple fields, not {ftype}", path + ("choices",), key=True,
                    said=say("n_choices_not_select", type=ftype))
        if "choice_filter" in f:
            cf = f["choice_filter"]
            all_names = {x.get("name") for _, x in self.c.all_raw_fields}
            if cf["field"] not in all_names:
                from ..formulas.checker import suggest

                c.error("E323", f"choice_filter refers to an unknown field '{cf['field']}'",
                        path + ("choice_filter", "field"), suggest(cf["field"], all_names),
                        said=say("n_filter_unknown_field", name=cf["field"]), hint_said=suggestion(cf["field"], all_names))
            missing = [ch.value for ch in kw.get("choices", ()) if cf["column"] not in ch.columns]
            if missing:
                c.error("E324", f"choice_filter column '{cf['column']}' is missing from choice(s) {', '.join(missing[:5])}",
                        path + ("choice_filter", "column"), f"add '{cf['column']}:' to each choice",
                        said=say("n_filter_column_missing", column=cf["column"], choices=", ".join(missing[:5])),
                        hint_said=say("n_hint_add_column", column=cf["column"]))
            kw["choice_filter"] = ChoiceFilter(cf["column"], cf["field"])
        # location
        if ftype == "location":
            level = f.get("level")
            if level is None:
                c.error("E320", f"the location field '{name}' needs a 'level'", path, "one of: " + ", ".join(self.levels),
                        said=say("n_location_needs_level", name=name), hint_said=say("n_hint_one_of", names=", ".join(self.levels)))
            elif level not in self.levels:
                from ..formulas.checker import suggest

                c.error("E320", f"unknown location level '{level}'", path + ("level",),
                        suggest(level, self.levels) or "levels: " + ", ".join(self.levels),
                        said=say("n_unknown_level", level=level),
                        hint_said=suggestion(level, self.levels) or say("n_hint_levels", names=", ".join(self.levels)))
            kw["location_level"] = level
        elif "level" in f:
            c.error("E327", f"'level' applies to location fields, not {ftype}", path + ("level",), key=True,
                    said=say("n_level_not_location", type=ftype))
        # bounds
        for bound in ("min", "max"):
            if bound not in f:
                continue
            raw = f[bound]
            if value_type == T.NUMBER and isinstance(raw, (int, Decimal)):
                kw[bound] = Decimal(raw)
            elif value_type == T.DATE and parse_date(raw) is not None:
                kw[bound] = parse_date(raw)
            elif value_type in (T.NUMBER, T.DATE):
                c.error("E326", f"'{bound}' of the {ftype} field '{name}' must be {'a number' if value_type == T.NUMBER else 'a date YYYY-MM-DD'}",
                        path + (bound,), said=say("n_bound_number" if value_type == T.NUMBER else "n_bound_date",
                                                  bound=bound, type=ftype, name=name))
            else:
                c.error("E327", f"'{bound}' applies to numbers and dates, not to the {ftype} field '{name}'",
                        path + (bound,), "use min_length/max_length for text", key=True,
                        said=say("n_bound_not_here", bound=bound, type=ftype, name=name), hint_said=say("n_hint_text_length"))
        if "min" in kw and "max" in kw and kw["min"] > kw["max"]:
            c.error("E326", f"min is greater than max for '{name}'", path + ("min",), said=say("n_min_over_max", name=name))
        for key in ("min_length", "max_length", "pattern"):
            if key in f and value_type != T.TEXT:
                c.error("E327", f"'{key}' applies to text fields, not to the {ftype} field '{name}'", path + (key,), key=True,
                        said=say("n_text_only", key=key, type=ftype, name=name))
        if "pattern" in f:
            try:
                re.compile(f["pattern"])
                kw["pattern"] = f["pattern"]
            except re.error as exc:
                c.error("E328", f"the pattern of '{name}' is not a valid regular expression: {exc}", path + ("pattern",),
                        said=say("n_bad_pattern", name=name, error=Technical(str(exc))))
        if "decimals" in f and ftype not in ("decimal", "money"):
            c.error("E327", f"'decimals' applies to decimal and money fields, not {ftype}", path + ("decimals",), key=True,
                    said=say("n_decimals_not_here", type=ftype))
        # formulas
        required = f.get("required", False)
        if isinstance(required, str):
            kw["required_when"] = c.formula(required, path + ("required",), scope, T.BOOL, "'required'")
        else:
            kw["required"] = bool(required)
        if "relevant" in f:
            kw["relevant"] = c.formula(f["relevant"], path + ("relevant",), scope, T.BOOL, "'relevant'")
        if "constraint" in f:
            kw["constraint"] = c.formula(f["constraint"], path + ("constraint",), scope, T.BOOL, "a constraint")
        if "constraint_message" in f and "constraint" not in f:
            c.error("E327", "'constraint_message' without a 'constraint'", path + ("constraint_message",), key=True,
                    said=say("n_constraint_message_alone"))
        if ftype == "calculate":
            kw["calculate"] = c.formula(f.get("calculate", "0"), path + ("calculate",), scope, None, "a calculation")
        elif "calculate" in f:
            c.error("E327", f"'calculate' needs 'type: calculate' (the field '{name}' is {ftype})", path + ("calculate",), key=True,
                    said=say("n_calculate_needs_type", name=name, type=ftype))
        if "default" in f:
            kw["default"] = self.check_default(path, name, ftype, f["default"], kw.get("choices", ()))
        return Field(
            name=name, type=ftype, label=text_of(f.get("label", name.replace("_", " ").capitalize())),
            value_type=value_type, scope=scope_name, path=path, hint=text_of(f.get("hint")),
            required_message=text_of(f.get("required_message")),
            constraint_message=text_of(f.get("constraint_message")),
            min_length=f.get("min_length"), max_length=f.get("max_length"), decimals=f.get("decimals"),
            pattern_message=text_of(f.get("pattern_message")), unique=bool(f.get("unique")),
            searchable=bool(f.get("searchable") or f.get("unique")), read_only=bool(f.get("read_only")),
            widget=f.get("widget"), template=f.get("template"), **kw,
        )

    def check_default(self, path, name, ftype, value, choices):
        c = self.c
        allowed = {ch.value for ch in choices}
        if ftype == "select_one" and allowed and str(value) not in allowed:
            c.error("E325", f"the default '{value}' is not a choice of '{name}'", path + ("default",),
                    "choices: " + ", ".join(sorted(allowed)[:12]), said=say("n_default_not_choice", value=value, name=name),
                    hint_said=say("hint_choices", choices=", ".join(sorted(allowed)[:12])))
        if ftype == "select_multiple" and allowed:
            values = value if isinstance(value, list) else [value]
            for v in values:
                if str(v) not in allowed:
                    c.error("E325", f"the default '{v}' is not a choice of '{name}'", path + ("default",),
                            said=say("n_default_not_choice", value=v, name=name))
        if ftype == "date" and parse_date(value) is None:
            c.error("E325", f"the default of '{name}' must be a date YYYY-MM-DD", path + ("default",),
                    said=say("n_default_date", name=name))
            return None
        if ftype in ("integer", "decimal", "money") and (isinstance(value, bool) or not isinstance(value, (int, Decimal))):
            c.error("E325", f"the default of '{name}' must be a number", path + ("default",),
                    said=say("n_default_number", name=name))
            return None
        if ftype == "boolean" and not isinstance(value, bool):
            c.error("E325", f"the default of '{name}' must be true or false", path + ("default",),
                    said=say("n_default_boolean", name=name))
            return None
        return parse_date(value) if ftype == "date" else value
