"""A semantic diff of two compiled schemes, in the scheme's own terms.

    eligibility rule poorest_district: formula `district in poorest_districts` → `... and count(members) >= 3`
    constant per_member: 100 → 120
    new field disability_level (select_one, member)
    benefit nafa_quick: cap none → 2,500

A line diff of the YAML says which characters moved; this says what the change means for
the programme: a threshold, an amount, a field, a service, a transition. Objects are matched
by their names (field name, rule name, benefit and service code, choice value), so reordering
a list is not a change. Pure: compiled `Scheme`s in, `Change`s out; a change is said in English
(`str(change)`, as `openscheme diff` prints it) or in French (`change.text("fr")`: the web pages),
its words from `messages.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..definitions.model import Scheme, Text
from ..formulas import Formula, show
from .messages import ATTRIBUTES_FR, Join, Msg, added, base_language, msg, removed


@dataclass(frozen=True)
class Change:
    """One change: `what` names the object (outermost first: benefit, then its service), `how`
    says what happened to it; both are messages, said in any language by `text(lang)`."""
    kind: str  # added | removed | changed
    area: str  # scheme, role, members, choices, constant, table, field, rule, contributions, benefit, payments, workflow, indicator, test
    what: tuple[Msg, ...]  # (benefit nafa_quick, condition school)
    how: Msg | Join | None = None  # formula `a` → `b`

    @property
    def subject(self) -> str:
        """In English: "eligibility rule poorest_district"."""
        return ": ".join(m.text("en") for m in self.what)

    @property
    def detail(self) -> str:
        """In English: "formula `a` → `b`"."""
        return self.how.text("en") if self.how is not None else ""

    def text(self, lang: str | None = "en") -> str:
        lang = base_language(lang)
        sep = " : " if lang == "fr" else ": "
        if self.kind in ("added", "removed"):
            head = sep.join(m.text(lang) for m in self.what[:-1])
            what = (added if self.kind == "added" else removed)(self.what[-1], lang)
            if self.how is not None:
                form = "added_equals" if getattr(self.how, "key", "") == "equals" else "added_detail"
                what = msg(form, what=what, detail=self.how).text(lang)
            return f"{head}{sep}{what}" if head else what
        subject = sep.join(m.text(lang) for m in self.what)
        return msg("line", subject=subject, detail=self.how).text(lang) if self.how is not None else subject

    def __str__(self) -> str:
        return self.text("en")


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
    "valid_from_days": "valid_from_days", "is_item": "item", "initial": "initial state", "final": "final states",
}
SKIP = {"path", "value_type", "scope", "choices", "declared", "label", "file", "text", "content_hash", "tests",
        "fields", "members", "roles", "constants", "tables", "eligibility", "contributions", "benefits", "payments",
        "workflows", "indicators", "premium", "wage", "services", "items", "vouchers", "conditions", "transitions", "formula"}


@dataclass(frozen=True)
class Attribute:
    """An attribute by its names in the model, outermost first: ("limits", "per_visit")."""
    names: tuple[str, ...]

    def text(self, lang: str | None = "en") -> str:
        if base_language(lang) != "fr":
            return " ".join(WORDS.get(n, n) for n in self.names)
        words = [ATTRIBUTES_FR.get(n, n) for n in self.names]
        return words[0] + (f" ({', '.join(words[1:])})" if len(words) > 1 else "")


@dataclass(frozen=True)
class Value:
    """A value of the definition, shown in the reader's language (`fmt`)."""
    value: object

    def text(self, lang: str | None = "en") -> str:
        return fmt(self.value, lang)


@dataclass(frozen=True)
class Quoted:
    """A label: "Bank transfer" / « Virement »."""
    value: object  # Text or str

    def text(self, lang: str | None = "en") -> str:
        lang = base_language(lang)
        words = self.value.get(lang) if isinstance(self.value, Text) else str(self.value)
        return f"« {words} »" if lang == "fr" else f'"{words}"'


def fmt(value, lang: str | None = "en") -> str:
    if value is None:
        return msg("none").text(lang)
    if isinstance(value, bool):
        return msg("yes" if value else "no").text(lang)
    if isinstance(value, Formula):
        return f"`{value.text.strip()}`"
    if isinstance(value, Text):
        return Quoted(value).text(lang)
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list, frozenset)):
        return "[" + ", ".join(fmt(v, lang) for v in value) + "]" if value else msg("none").text(lang)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {fmt(v, lang)}" for k, v in value.items()) + "}" if value else msg("none").text(lang)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # e.g. a choice filter: {column: .., field: ..}
        return fmt({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, lang)
    return show(value, base_language(lang))


def same(a, b) -> bool:
    if isinstance(a, Formula) or isinstance(b, Formula):
        return (a.text.strip() if a else None) == (b.text.strip() if b else None)
    return a == b


def _what(subject) -> tuple[Msg, ...]:
    return subject if isinstance(subject, tuple) else (subject,)


def _attribute(what) -> Attribute:
    return what if isinstance(what, Attribute) else Attribute((what,))


class Differ:
    def __init__(self):
        self.changes: list[Change] = []

    def add(self, kind: str, area: str, subject, detail: Msg | None = None) -> None:
        self.changes.append(Change(kind, area, _what(subject), detail))

    def value(self, area: str, subject, what, old, new) -> None:
        if not same(old, new):
            self.add("changed", area, subject, msg("value", what=_attribute(what), old=Value(old), new=Value(new)))

    def text(self, area: str, subject, what, old: Text, new: Text) -> None:
        """Per language: `label (fr) "Région" → "Région administrative"`."""
        what = _attribute(what)
        old_v, new_v = dict(old.values if old else {}), dict(new.values if new else {})
        for lang in list(old_v) + [k for k in new_v if k not in old_v]:
            a, b = old_v.get(lang), new_v.get(lang)
            if a == b:
                continue
            if a is None:
                self.add("changed", area, subject, msg("text_added", what=what, lang=lang, new=b))
            elif b is None:
                self.add("changed", area, subject, msg("text_removed", what=what, lang=lang, old=a))
            else:
                self.add("changed", area, subject, msg("text_changed", what=what, lang=lang, old=a, new=b))

    def attrs(self, area: str, subject, old, new, prefix: tuple = ()) -> None:
        """Every plain attribute of two dataclasses; nested ones (limits, ceilings) flattened."""
        for f in dataclasses.fields(old):
            if f.name in SKIP:
                continue
            a, b = getattr(old, f.name), getattr(new, f.name)
            what = Attribute(prefix + (f.name,))
            if isinstance(a, Text) or isinstance(b, Text):
                self.text(area, subject, what, a, b)
            elif dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b) and not isinstance(a, Formula):
                self.attrs(area, subject, a, b, prefix=what.names)
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


def _choice_label(c) -> Msg | str:
    """A choice with its label, when the label says more than the value."""
    if c.label and c.label.get() != c.value:
        return msg("choice_labelled", value=c.value, label=Quoted(c.label))
    return c.value


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
    s = msg("scheme")
    d.value("scheme", s, "code", old.code, new.code)
    d.value("scheme", s, "version", old.version, new.version)
    d.text("scheme", s, "title", old.title, new.title)
    d.text("scheme", s, "description", old.description, new.description)
    d.text("scheme", s, "operator", old.operator, new.operator)
    for name in ("currency", "country", "unit", "languages", "benefit_kinds", "location_levels", "period_start",
                 "period_end", "period_months", "illustrative", "source"):
        d.value("scheme", s, name, getattr(old, name), getattr(new, name))


def _roles(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = msg("role", name=b.name)
        d.value("role", s, "min", a.min, b.min)
        d.value("role", s, "max", a.max, b.max)
        d.text("role", s, "label", a.label, b.label)

    d.keyed("role", old.roles, new.roles, lambda r: r.name, lambda r: msg("role", name=r.name),
            lambda r: None, compare)
    if old.members and new.members:
        s = msg("members")
        d.value("members", s, "min", old.members.min, new.members.min)
        d.value("members", s, "max", old.members.max, new.members.max)
        d.text("members", s, "label", old.members.label, new.members.label)


def _choice_items(d: Differ, area: str, subject: Msg, old_items, new_items) -> None:
    def compare(a, b):
        cs = (subject, msg("choice", value=b.value))
        d.text(area, cs, "label", a.label, b.label)
        if dict(a.columns) != dict(b.columns):
            d.value(area, cs, "columns", dict(a.columns), dict(b.columns))

    old = {c.value: c for c in old_items}
    new = {c.value: c for c in new_items}
    added_ = [c for v, c in new.items() if v not in old]
    removed_ = [c for v, c in old.items() if v not in new]
    if added_:
        d.add("changed", area, subject, msg("choices_added", items=Join(tuple(_choice_label(c) for c in added_))))
    if removed_:
        d.add("changed", area, subject, msg("choices_removed", items=Join(tuple(c.value for c in removed_))))
    for v, c in new.items():
        if v in old:
            compare(old[v], c)


def _choices(d: Differ, old: Scheme, new: Scheme) -> None:
    used = {f.choice_list for f in old.fields + old.member_fields + new.fields + new.member_fields if f.choice_list}
    for name in list(old.choices) + [n for n in new.choices if n not in old.choices]:
        if name not in used and (name not in old.choices or name not in new.choices):
            continue  # built-in lists nobody uses
        s = msg("choice_list", name=name)
        if name not in old.choices:
            d.add("added", "choices", s, msg("choices_count", n=len(new.choices[name])))
        elif name not in new.choices:
            d.add("removed", "choices", s)
        else:
            _choice_items(d, "choices", s, old.choices[name], new.choices[name])


def _constants(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, value in new.constants.items():
        s = msg("constant", name=name)
        if name not in old.constants:
            d.add("added", "constant", s, msg("equals", value=Value(value)))
        elif old.constants[name] != value:
            a, b = old.constants[name], value
            if isinstance(a, tuple) and isinstance(b, tuple):
                plus = [v for v in b if v not in a]
                minus = [v for v in a if v not in b]
                parts = (([msg("values_added", values=Value(tuple(plus)))] if plus else [])
                         + ([msg("values_removed", values=Value(tuple(minus)))] if minus else []))
                d.add("changed", "constant", s, msg("arrow", old=Value(a), new=Value(b)) if not parts
                      else parts[0] if len(parts) == 1 else Join(tuple(parts), "; "))
            else:
                d.add("changed", "constant", s, msg("arrow", old=Value(a), new=Value(b)))
    for name, value in old.constants.items():
        if name not in new.constants:
            d.add("removed", "constant", msg("constant", name=name), msg("was", value=Value(value)))


def _tables(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, t in new.tables.items():
        subject = msg("table", name=name)
        if name not in old.tables:
            d.add("added", "table", subject, msg("table_rows", n=len(t.rows), key=t.key))
            continue
        o = old.tables[name]
        d.value("table", subject, "key", o.key, t.key)
        for key, row in t.rows.items():
            if key not in o.rows:
                d.add("changed", "table", subject, msg("row_added", key=key))
                continue
            for col in list(o.rows[key]) + [c for c in row if c not in o.rows[key]]:
                a, b = o.rows[key].get(col), row.get(col)
                if a != b:
                    d.add("changed", "table", msg("table_row", name=name, key=key),
                          msg("value", what=col, old=Value(a), new=Value(b)))
        for key in o.rows:
            if key not in t.rows:
                d.add("changed", "table", subject, msg("row_removed", key=key))
    for name in old.tables:
        if name not in new.tables:
            d.add("removed", "table", msg("table", name=name))


def _fields(d: Differ, old: Scheme, new: Scheme) -> None:
    old_fields = {f.name: f for f in old.fields + old.member_fields}
    new_fields = {f.name: f for f in new.fields + new.member_fields}

    def where(f) -> Msg:
        return msg("where_member" if f.scope == "member" else
                   ("where_household" if new.is_household or old.is_household else "where_unit"))

    for name, f in new_fields.items():
        if name not in old_fields:
            d.add("added", "field", msg("field_typed", name=name, type=f.type, where=where(f)))
    for name, f in old_fields.items():
        if name not in new_fields:
            d.add("removed", "field", msg("field_typed", name=name, type=f.type, where=where(f)))
    for name, f in new_fields.items():
        o = old_fields.get(name)
        if o is None:
            continue
        subject = msg("field", name=name)
        if o.scope != f.scope:
            d.add("changed", "field", subject, msg("moved", old=where(o), new=where(f)))
        d.text("field", subject, "label", o.label, f.label)
        d.attrs("field", subject, o, f)
        if not o.choice_list and not f.choice_list:
            _choice_items(d, "field", subject, o.choices, f.choices)


def _rules(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = msg("rule", name=b.name)
        d.value("rule", s, "formula", a.formula, b.formula)
        d.text("rule", s, "label", a.label, b.label)

    d.keyed("rule", old.eligibility, new.eligibility, lambda r: r.name, lambda r: msg("rule", name=r.name),
            lambda r: msg("formula_of", formula=Value(r.formula)), compare)


def _contributions(d: Differ, old: Scheme, new: Scheme) -> None:
    a, b = old.contributions, new.contributions
    if a is None and b is None:
        return
    if a is None or b is None:
        d.add("added" if a is None else "removed", "contributions", msg("contributions"))
        return
    d.attrs("contributions", msg("contributions"), a, b)
    for part in ("premium", "wage"):
        pa, pb = getattr(a, part), getattr(b, part)
        if pa is None and pb is None:
            continue
        if pa is None or pb is None:
            d.add("added" if pa is None else "removed", "contributions", msg(f"{part}_contribution"))
            continue
        subject = msg(f"contributions_{part}")
        if part == "premium":
            d.value("contributions", subject, "formula", pa.formula, pb.formula)
        d.attrs("contributions", subject, pa, pb)


def _service_detail(s, currency: str) -> Msg:
    price = (msg("money", amount=Value(s.price), currency=currency) if s.price is not None
             else msg("price_from", table=s.price_table, column=s.price_column))
    return msg("service_detail", label=Quoted(s.label), category=s.category, price=price)


def _benefits(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = msg("benefit", code=b.code)
        d.text("benefit", s, "label", a.label, b.label)
        d.attrs("benefit", s, a, b)
        for attr, word in (("services", "service"), ("items", "item")):
            def compare_service(x, y, word=word):
                ss = (s, msg(word, code=y.code))
                d.text("benefit", ss, "label", x.label, y.label)
                d.attrs("benefit", ss, x, y)

            d.keyed("benefit", getattr(a, attr), getattr(b, attr), lambda x: x.code,
                    lambda x, word=word: (s, msg(word, code=x.code)), lambda x: _service_detail(x, new.currency),
                    compare_service)

        def compare_voucher(x, y):
            vs = (s, msg("voucher", type=y.type))
            d.text("benefit", vs, "label", x.label, y.label)
            d.attrs("benefit", vs, x, y)

        d.keyed("benefit", a.vouchers, b.vouchers, lambda v: v.type, lambda v: (s, msg("voucher", type=v.type)),
                lambda v: msg("voucher_detail", count=v.count, services=Join(tuple(v.services))), compare_voucher)

        def compare_condition(x, y):
            cs = (s, msg("condition", name=y.name))
            d.value("benefit", cs, "formula", x.formula, y.formula)
            d.text("benefit", cs, "reason", x.reason, y.reason)

        d.keyed("benefit", a.conditions, b.conditions, lambda c: c.name, lambda c: (s, msg("condition", name=c.name)),
                lambda c: msg("formula_of", formula=Value(c.formula)), compare_condition)

    d.keyed("benefit", old.benefits, new.benefits, lambda b: b.code, lambda b: msg("benefit", code=b.code),
            lambda b: msg("benefit_detail", kind=b.kind, label=Quoted(b.label)), compare)


def _payments(d: Differ, old: Scheme, new: Scheme) -> None:
    a, b = old.payments, new.payments
    if a is None and b is None:
        return
    if a is None or b is None:
        d.add("added" if a is None else "removed", "payments", msg("payment_rules"))
        return
    d.attrs("payments", msg("payments"), a, b)


def _transition_detail(t) -> Msg:
    return msg("transition_detail", sources=Join(tuple(t.sources), " / "), target=t.target, roles=Join(tuple(t.roles)))


def _workflows(d: Differ, old: Scheme, new: Scheme) -> None:
    for name, w in new.workflows.items():
        o = old.workflows.get(name)
        s = msg("workflow", name=name)
        if o is None:
            d.add("added", "workflow", s)
            continue
        if o.declared != w.declared:
            d.add("changed", "workflow", s, msg("declared" if w.declared else "default_workflow"))
        d.value("workflow", s, "initial", o.initial, w.initial)
        added_ = [x for x in w.states if x not in o.states]
        removed_ = [x for x in o.states if x not in w.states]
        if added_:
            d.add("changed", "workflow", s, msg("states_added", states=Join(tuple(added_))))
        if removed_:
            d.add("changed", "workflow", s, msg("states_removed", states=Join(tuple(removed_))))
        d.value("workflow", s, "final", o.final, w.final)

        def compare(x, y, s=s):
            ts = (s, msg("transition", name=y.name))
            if (x.sources, x.target, x.roles) != (y.sources, y.target, y.roles):
                d.add("changed", "workflow", ts, msg("arrow", old=_transition_detail(x), new=_transition_detail(y)))
            d.text("workflow", ts, "label", x.label, y.label)

        d.keyed("workflow", o.transitions, w.transitions, lambda t: t.name,
                lambda t, s=s: (s, msg("transition", name=t.name)), _transition_detail, compare)
    for name in old.workflows:
        if name not in new.workflows:
            d.add("removed", "workflow", msg("workflow", name=name))


def _indicators(d: Differ, old: Scheme, new: Scheme) -> None:
    def compare(a, b):
        s = msg("indicator", name=b.name)
        d.value("indicator", s, "formula", a.formula, b.formula)
        d.text("indicator", s, "label", a.label, b.label)
        d.attrs("indicator", s, a, b)

    d.keyed("indicator", old.indicators, new.indicators, lambda x: x.name, lambda x: msg("indicator", name=x.name),
            lambda x: msg("indicator_detail", element=x.data_element, formula=Value(x.formula)), compare)


def _tests(d: Differ, old: Scheme, new: Scheme) -> None:
    names_old = [t.name for t in old.tests]
    names_new = [t.name for t in new.tests]
    for n in names_new:
        if n not in names_old:
            d.add("added", "test", msg("test", name=n))
    for n in names_old:
        if n not in names_new:
            d.add("removed", "test", msg("test", name=n))
    old_by = {t.name: t for t in old.tests}
    for t in new.tests:
        o = old_by.get(t.name)
        if o is not None and (dict(o.data) != dict(t.data) or dict(o.expect) != dict(t.expect)
                              or (o.as_of, o.renewal, o.enrolment_date) != (t.as_of, t.renewal, t.enrolment_date)):
            d.add("changed", "test", msg("test", name=t.name), msg("test_changed"))


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
