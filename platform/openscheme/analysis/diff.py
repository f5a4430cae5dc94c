"""A semantic diff of two compiled schemes, in the scheme's own terms.

    eligibility rule poorest_district: formula `district in poorest_districts` → `... and count(members) >= 3`
    constant per_member: 100 → 120
    new field disability_level (select_one, member)
    benefit nafa_quick: cap none → 2,500

A line diff of the YAML says which characters moved; this says what the change means for
the programme: a threshold, an amount, a field, a service, a transition. Objects are matched
by their names (field name, rule name, benefit and service code, choice value), so reordering
a list is not a change. Pure: compiled `Scheme`s in, `Change`s out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..definitions.model import Scheme, Text
from ..formulas import Formula, show


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    area: str  # scheme, role, members, choices, constant, table, field, rule, contributions, benefit, payments, workflow, indicator, test
    subject: str  # "eligibility rule poorest_district"
    detail: str = ""  # "formula `a` → `b`"

    def __str__(self) -> str:
        if self.kind in ("added", "removed"):
            head, _, tail = self.subject.rpartition(": ")
            what = f"new {tail}" if self.kind == "added" else f"{tail} removed"
            if self.detail:
                what += f" {self.detail}" if self.detail.startswith("=") else f" ({self.detail})"
            return f"{head}: {what}" if head else what
        return f"{self.subject}: {self.detail}" if self.detail else self.subject


# attribute names -> the words of the YAML format
WORDS = {
    "sources": "from", "target": "to", "price_table": "price_from table", "price_column": "price_from column",
    "min_age": "age min", "max_age": "age max", "genders": "gender", "review_sample_percent": "review sample_percent",
    "review_amount_above": "review amount_above", "required_when": "required (formula)", "choice_list": "choices",
    "location_level": "level", "period_start": "period start", "period_end": "period end",
    "period_months": "period months", "enrolment_discount_percent": "enrolment_discount percent",
    "enrolment_discount_within_days": "enrolment_discount within_days",
    "renewal_discount_percent": "renewal_discount percent", "due_days_after_enrolment": "due days_after_enrolment",
    "due_day_of_month": "due day_of_month", "rounding_to": "rounding to", "rounding_mode": "rounding mode",
    "valid_from_days": "valid_from_days", "is_item": "item",
}
SKIP = {"path", "value_type", "scope", "choices", "declared", "label", "file", "text", "content_hash", "tests",
        "fields", "members", "roles", "constants", "tables", "eligibility", "contributions", "benefits", "payments",
        "workflows", "indicators", "premium", "wage", "services", "items", "vouchers", "conditions", "transitions", "formula"}


def fmt(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, Formula):
        return f"`{value.text.strip()}`"
    if isinstance(value, Text):
        return f'"{value.get()}"'
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list, frozenset)):
        return "[" + ", ".join(fmt(v) for v in value) + "]" if value else "none"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in value.items()) + "}" if value else "none"
    return show(value)


def same(a, b) -> bool:
    if isinstance(a, Formula) or isinstance(b, Formula):
        return (a.text.strip() if a else None) == (b.text.strip() if b else None)
    return a == b


class Differ:
    def __init__(self):
        self.changes: list[Change] = []

    def add(self, kind: str, area: str, subject: str, detail: str = "") -> None:
        self.changes.append(Change(kind, area, subject, detail))

    def value(self, area: str, subject: str, what: str, old, new) -> None:
        if not same(old, new):
            self.add("changed", area, subject, f"{what} {fmt(old)} → {fmt(new)}")

    def text(self, area: str, subject: str, what: str, old: Text, new: Text) -> None:
        """Per language: `label (fr) "Région" → "Région administrative"`."""
        old_v, new_v = dict(old.values if old else {}), dict(new.values if new else {})
        for lang in list(old_v) + [k for k in new_v if k not in old_v]:
            a, b = old_v.get(lang), new_v.get(lang)
            if a == b:
                continue
            if a is None:
                self.add("changed", area, subject, f'{what} ({lang}) added: "{b}"')
            elif b is None:
                self.add("changed", area, subject, f'{what} ({lang}) removed (was "{a}")')
            else:
                self.add("changed", area, subject, f'{what} ({lang}) "{a}" → "{b}"')

    def attrs(self, area: str, subject: str, old, new, prefix: str = "") -> None:
        """Every plain attribute of two dataclasses; nested ones (limits, ceilings) flattened."""
        for f in dataclasses.fields(old):
            if f.name in SKIP:
                continue
            a, b = getattr(old, f.name), getattr(new, f.name)
            what = prefix + WORDS.get(f.name, f.name)
            if isinstance(a, Text) or isinstance(b, Text):
                self.text(area, subject, what, a, b)
            elif dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b) and not isinstance(a, Formula):
                self.attrs(area, subject, a, b, prefix=what + " ")
            else:
                self.value(area, subject, what, a, b)

    def keyed(self, area: str, old_items, new_items, key, subject_of, describe, compare) -> None:
        old = {key(x): x for x in old_items}
        new = {key(x): x for x in new_items}
        for k, x in new.items():
            if k not in old:
                self.add("added", area, subject_of(x), describe(x))
        for k, x in old.items():
            if k not in new:
                self.add("removed", area, subject_of(x), describe(x))
        for k, x in new.items():
            if k in old:
                compare(old[k], x)


def _choices_detail(c) -> str:
    return f'"{c.label.get()}"' if c.label and c.label.get() != c.value else ""


def diff_schemes(old: Scheme, new: Scheme) -> list[Change]:
    d = Differ()
    _metadata(d, old, new)
    _roles(d, old, new)
    _choices(d, old, new)
    _constants(d, old, new)
    _tables(d, old, new)
    _fields(d, old, new)
    _rules(d, old, new)
    _contributions(d, old, new)
    _benefits(d, old, new)
    _payments(d, old, new)
    _workflows(d, old, new)
    _indicators(d, old, new)
    _tests(d, old, new)
    return d.changes


def _metadata(d: Differ, old: Scheme, new: Scheme) -> None:
    s = "scheme"
    d.value("scheme", s, "code", old.code, new.code)
    d.value("scheme", s, "version", old.version, new.version)
    d.text("scheme", s, "title", old.title, new.title)
    d.text("scheme", s, "description", old.description, new.description)
    d.text("scheme", s, "operator", old.operator, new.operator)
    for name in ("currency", "country", "unit", "languages", "benefit_kinds", "location_levels", "period_start",
                 "period_end", "period_months", "illustrative", "source"):
        d.value("scheme", s, WORDS.get(name, name), getattr(old, name), getattr(new, name))


def _roles(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        d.value("role", f"role {b.name}", "min", a.min, b.min)
        d.value("role", f"role {b.name}", "max", a.max, b.max)
        d.text("role", f"role {b.name}", "label", a.label, b.label)

    d.keyed("role", old.roles, new.roles, lambda r: r.name, lambda r: f"role {r.name}",
            lambda r: "", compare)
    if old.members and new.members:
        d.value("members", "members", "min", old.members.min, new.members.min)
        d.value("members", "members", "max", old.members.max, new.members.max)
        d.text("members", "members", "label", old.members.label, new.members.label)


def _choice_items(d: Differ, area: str, subject: str, old_items, new_items) -> None:
    def compare(a, b):
        d.text(area, f"{subject}: choice {b.value}", "label", a.label, b.label)
        if dict(a.columns) != dict(b.columns):
            d.add("changed", area, f"{subject}: choice {b.value}", f"columns {fmt(dict(a.columns))} → {fmt(dict(b.columns))}")

    old = {c.value: c for c in old_items}
    new = {c.value: c for c in new_items}
    added = [c for v, c in new.items() if v not in old]
    removed = [c for v, c in old.items() if v not in new]
    if added:
        d.add("changed", area, subject, "choices added: " + ", ".join(
            c.value + (f" ({_choices_detail(c)})" if _choices_detail(c) else "") for c in added))
    if removed:
        d.add("changed", area, subject, "choices removed: " + ", ".join(c.value for c in removed))
    for v, c in new.items():
        if v in old:
            compare(old[v], c)


def _choices(d: Differ, old: Scheme, new: Scheme) -> None:
    used = {f.choice_list for f in old.fields + old.member_fields + new.fields + new.member_fields if f.choice_list}
    for name in list(old.choices) + [n for n in new.choices if n not in old.choices]:
        if name not in used and (name not in old.choices or name not in new.choices):
            continue  # built-in lists nobody uses
        if name not in old.choices:
            d.add("added", "choices", f"choice list {name}", f"{len(new.choices[name])} choices")
        elif name not in new.choices:
            d.add("removed", "choices", f"choice list {name}")
        else:
            _choice_items(d, "choices", f"choice list {name}", old.choices[name], new.choices[name])


def _constants(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, value in new.constants.items():
        if name not in old.constants:
            d.add("added", "constant", f"constant {name}", f"= {fmt(value)}")
        elif old.constants[name] != value:
            a, b = old.constants[name], value
            if isinstance(a, tuple) and isinstance(b, tuple):
                plus = [v for v in b if v not in a]
                minus = [v for v in a if v not in b]
                parts = ([f"added {fmt(tuple(plus))}"] if plus else []) + ([f"removed {fmt(tuple(minus))}"] if minus else [])
                d.add("changed", "constant", f"constant {name}", "; ".join(parts) or f"{fmt(a)} → {fmt(b)}")
            else:
                d.add("changed", "constant", f"constant {name}", f"{fmt(a)} → {fmt(b)}")
    for name, value in old.constants.items():
        if name not in new.constants:
            d.add("removed", "constant", f"constant {name}", f"was {fmt(value)}")


def _tables(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, t in new.tables.items():
        if name not in old.tables:
            d.add("added", "table", f"table {name}", f"{len(t.rows)} rows by {t.key}")
            continue
        o = old.tables[name]
        subject = f"table {name}"
        d.value("table", subject, "key", o.key, t.key)
        for key, row in t.rows.items():
            if key not in o.rows:
                d.add("changed", "table", subject, f"row {key} added")
                continue
            for col in list(o.rows[key]) + [c for c in row if c not in o.rows[key]]:
                a, b = o.rows[key].get(col), row.get(col)
                if a != b:
                    d.add("changed", "table", f"{subject} row {key}", f"{col} {fmt(a)} → {fmt(b)}")
        for key in o.rows:
            if key not in t.rows:
                d.add("changed", "table", subject, f"row {key} removed")
    for name in old.tables:
        if name not in new.tables:
            d.add("removed", "table", f"table {name}")


def _fields(d: Differ, old: Scheme, new: Scheme) -> None:
    old_fields = {f.name: f for f in old.fields + old.member_fields}
    new_fields = {f.name: f for f in new.fields + new.member_fields}

    def where(f) -> str:
        return "member" if f.scope == "member" else ("household" if new.is_household or old.is_household else "unit")

    for name, f in new_fields.items():
        if name not in old_fields:
            d.add("added", "field", f"field {name} ({f.type}, {where(f)})")
    for name, f in old_fields.items():
        if name not in new_fields:
            d.add("removed", "field", f"field {name} ({f.type}, {where(f)})")
    for name, f in new_fields.items():
        o = old_fields.get(name)
        if o is None:
            continue
        subject = f"field {name}"
        if o.scope != f.scope:
            d.add("changed", "field", subject, f"moved from the {where(o)} to the {where(f)} fields")
        d.text("field", subject, "label", o.label, f.label)
        d.attrs("field", subject, o, f)
        if not o.choice_list and not f.choice_list:
            _choice_items(d, "field", subject, o.choices, f.choices)


def _rules(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = f"eligibility rule {b.name}"
        d.value("rule", s, "formula", a.formula, b.formula)
        d.text("rule", s, "label", a.label, b.label)

    d.keyed("rule", old.eligibility, new.eligibility, lambda r: r.name, lambda r: f"eligibility rule {r.name}",
            lambda r: f"formula {fmt(r.formula)}", compare)


def _contributions(d: Differ, old: Scheme, new: Scheme) -> None:
    a, b = old.contributions, new.contributions
    if a is None and b is None:
        return
    if a is None or b is None:
        d.add("added" if a is None else "removed", "contributions", "contributions")
        return
    d.attrs("contributions", "contributions", a, b)
    for part in ("premium", "wage"):
        pa, pb = getattr(a, part), getattr(b, part)
        if pa is None and pb is None:
            continue
        if pa is None or pb is None:
            d.add("added" if pa is None else "removed", "contributions", f"{part} contribution")
            continue
        subject = f"contributions {part}"
        if part == "premium":
            d.value("contributions", subject, "formula", pa.formula, pb.formula)
        d.attrs("contributions", subject, pa, pb)


def _service_detail(s, currency: str) -> str:
    price = f"{fmt(s.price)} {currency}" if s.price is not None else f"price from {s.price_table}.{s.price_column}"
    return f'"{s.label.get()}", {s.category}, {price}'


def _benefits(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = f"benefit {b.code}"
        d.text("benefit", s, "label", a.label, b.label)
        d.attrs("benefit", s, a, b)
        for attr, word in (("services", "service"), ("items", "item")):
            def compare_service(x, y, word=word):
                ss = f"{s}: {word} {y.code}"
                d.text("benefit", ss, "label", x.label, y.label)
                d.attrs("benefit", ss, x, y)

            d.keyed("benefit", getattr(a, attr), getattr(b, attr), lambda x: x.code,
                    lambda x, word=word: f"{s}: {word} {x.code}", lambda x: _service_detail(x, new.currency),
                    compare_service)

        def compare_voucher(x, y):
            vs = f"{s}: voucher {y.type}"
            d.text("benefit", vs, "label", x.label, y.label)
            d.attrs("benefit", vs, x, y)

        d.keyed("benefit", a.vouchers, b.vouchers, lambda v: v.type, lambda v: f"{s}: voucher {v.type}",
                lambda v: f"{v.count} for {', '.join(v.services)}", compare_voucher)

        def compare_condition(x, y):
            cs = f"{s}: condition {y.name}"
            d.value("benefit", cs, "formula", x.formula, y.formula)
            d.text("benefit", cs, "reason", x.reason, y.reason)

        d.keyed("benefit", a.conditions, b.conditions, lambda c: c.name, lambda c: f"{s}: condition {c.name}",
                lambda c: f"formula {fmt(c.formula)}", compare_condition)

    d.keyed("benefit", old.benefits, new.benefits, lambda b: b.code, lambda b: f"benefit {b.code}",
            lambda b: f'({b.kind}) "{b.label.get()}"', compare)


def _payments(d: Differ, old: Scheme, new: Scheme) -> None:
    a, b = old.payments, new.payments
    if a is None and b is None:
        return
    if a is None or b is None:
        d.add("added" if a is None else "removed", "payments", "payment rules")
        return
    d.attrs("payments", "payments", a, b)


def _transition_detail(t) -> str:
    return f"{' / '.join(t.sources)} → {t.target}, by {', '.join(t.roles)}"


def _workflows(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, w in new.workflows.items():
        o = old.workflows.get(name)
        if o is None:
            d.add("added", "workflow", f"workflow {name}")
            continue
        s = f"workflow {name}"
        if o.declared != w.declared:
            d.add("changed", "workflow", s, "now declared in the file" if w.declared else "now the default")
        d.value("workflow", s, "initial state", o.initial, w.initial)
        added = [x for x in w.states if x not in o.states]
        removed = [x for x in o.states if x not in w.states]
        if added:
            d.add("changed", "workflow", s, "states added: " + ", ".join(added))
        if removed:
            d.add("changed", "workflow", s, "states removed: " + ", ".join(removed))
        d.value("workflow", s, "final states", o.final, w.final)

        def compare(x, y, s=s):
            ts = f"{s}: transition {y.name}"
            if (x.sources, x.target, x.roles) != (y.sources, y.target, y.roles):
                d.add("changed", "workflow", ts, f"{_transition_detail(x)} → {_transition_detail(y)}")
            d.text("workflow", ts, "label", x.label, y.label)

        d.keyed("workflow", o.transitions, w.transitions, lambda t: t.name,
                lambda t, s=s: f"{s}: transition {t.name}", _transition_detail, compare)
    for name in old.workflows:
        if name not in new.workflows:
            d.add("removed", "workflow", f"workflow {name}")


def _indicators(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = f"indicator {b.name}"
        d.value("indicator", s, "formula", a.formula, b.formula)
        d.text("indicator", s, "label", a.label, b.label)
        d.attrs("indicator", s, a, b)

    d.keyed("indicator", old.indicators, new.indicators, lambda x: x.name, lambda x: f"indicator {x.name}",
            lambda x: f"{x.data_element} = {fmt(x.formula)}", compare)


def _tests(d: Differ, old: Scheme, new: Scheme) -> None:
    names_old = [t.name for t in old.tests]
    names_new = [t.name for t in new.tests]
    for n in names_new:
        if n not in names_old:
            d.add("added", "test", f'test case "{n}"')
    for n in names_old:
        if n not in names_new:
            d.add("removed", "test", f'test case "{n}"')
    old_by = {t.name: t for t in old.tests}
    for t in new.tests:
        o = old_by.get(t.name)
        if o is not None and (dict(o.data) != dict(t.data) or dict(o.expect) != dict(t.expect)
                              or (o.as_of, o.renewal, o.enrolment_date) != (t.as_of, t.renewal, t.enrolment_date)):
            d.add("changed", "test", f'test case "{t.name}"', "data or expected outcome changed")


AREA_TITLES = {
    "scheme": "Scheme", "role": "Roles and members", "members": "Roles and members", "choices": "Choice lists",
    "constant": "Constants", "table": "Tables", "field": "Fields", "rule": "Eligibility",
    "contributions": "Contributions", "benefit": "Benefits", "payments": "Payments", "workflow": "Workflows",
    "indicator": "Indicators", "test": "Test cases",
}


def grouped(changes: list[Change]) -> list[tuple[str, list[Change]]]:
    """Changes under their section titles, in the order of the definition."""
    out: dict[str, list[Change]] = {}
    for c in changes:
        out.setdefault(AREA_TITLES.get(c.area, c.area), []).append(c)
    return list(out.items())


def render(changes: list[Change], old: Scheme | None = None, new: Scheme | None = None) -> str:
    lines = []
    if old is not None and new is not None:
        lines.append(f"{old.code} v{old.version} ({old.content_hash[:8]}) → {new.code} v{new.version} "
                     f"({new.content_hash[:8]})")
    if not changes:
        lines.append("no change in meaning" + (" (only comments or layout differ)"
                                                if old is not None and new is not None and old.text != new.text else ""))
        return "\n".join(lines)
    for title, items in grouped(changes):
        lines += ["", title.upper()]
        lines += [f"  - {c}" for c in items]
    lines += ["", f"{len(changes)} change(s)"]
    return "\n".join(lines)
