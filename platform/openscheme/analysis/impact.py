"""What a change to a scheme would do to the live registry, before it goes live.

    report = impact(session, old_scheme, new_scheme, as_of=date.today())
    print(render(report))

For every active unit of the scheme: is it eligible under the old version and under the new
one? Counted set-based - one SQL statement with every rule of both versions translated by
`formulas.sql.to_sql` (same meaning as the interpreter; an error fails the rule), grouped by
area. A rule that has no exact SQL translation is evaluated in Python over batches of units
(`targeting.loading.iter_units`), never skipped and never assumed true.

Then the cost per cycle of each cash benefit, before and after, over the units eligible under
either version, computed exactly as a payment cycle computes it (`payments.entitlements`: the
amount formula, conditions, cap and rounding); and a sample of the units whose outcome changes,
each with the explanation of its result under both versions.

The area of a unit is the value of its district (a location field of the district level, or a
select field named like district), else its location code. `limit` bounds the number of units
read (the first N by id) so that a synchronous web preview stays fast; the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from ..definitions.model import Benefit, Field, Scheme
from ..evaluation import explanations as ex
from ..evaluation.engine import check_formula, evaluate_benefit
from ..formulas import FormulaRuntimeError, show
from ..formulas.sql import NotTranslatable, to_sql
from ..payments.entitlements import entitlement
from ..targeting.loading import iter_units, unit_table
from .diff import Change, diff_schemes
from .messages import base_language, frequency, msg
from .messages import text as say

NO_AREA = ""


@dataclass
class AreaRow:
    code: str
    label: str
    units: int = 0
    before: int = 0
    after: int = 0
    gained: int = 0
    lost: int = 0
    cost_before: Decimal = Decimal(0)
    cost_after: Decimal = Decimal(0)


@dataclass
class BenefitCost:
    code: str
    label: str
    frequency: str
    before_count: int = 0
    before_total: Decimal = Decimal(0)
    after_count: int = 0
    after_total: Decimal = Decimal(0)
    in_old: bool = True
    in_new: bool = True

    @property
    def saves(self) -> Decimal:
        return self.before_total - self.after_total

    def frequency_in(self, lang: str | None = "en") -> str:
        """"monthly" / "mensuel"."""
        return frequency(self.frequency, lang)


@dataclass
class Outcome:
    eligible: bool
    failed: list[str]
    amounts: dict[str, Decimal]
    lines: list[str]


@dataclass
class SampleUnit:
    unit_id: int
    uid: str
    area: str
    change: str  # loses | gains | amount | same
    before: Outcome
    after: Outcome


@dataclass
class ImpactReport:
    scheme_code: str
    old_label: str
    new_label: str
    as_of: date
    currency: str
    units: int = 0  # units read
    total_units: int = 0  # active units of the scheme
    eligible_before: int = 0
    eligible_after: int = 0
    gained: int = 0
    lost: int = 0
    areas: list[AreaRow] = field(default_factory=list)
    area_name: str = ""
    costs: list[BenefitCost] = field(default_factory=list)
    sample: list[SampleUnit] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # "old rule x" -> sql | python (why)
    python: list[tuple[str, str, str]] = field(default_factory=list)  # (old | new, rule, why) of the rules not in SQL
    changes: list[Change] = field(default_factory=list)
    limit: int | None = None
    seconds: float = 0.0

    @property
    def truncated(self) -> bool:
        return self.units < self.total_units

    def python_rules(self, lang: str | None = "en") -> list[str]:
        """The rules evaluated in Python, and why: "new rule x (python (a table in SQL))"."""
        return [say("python_rule", lang, rule=msg("method_rule", which=msg(which), name=name),
                    why=msg("python_because", reason=why)) for which, name, why in self.python]

    @property
    def cost_before(self) -> Decimal:
        return sum((c.before_total for c in self.costs), Decimal(0))

    @property
    def cost_after(self) -> Decimal:
        return sum((c.after_total for c in self.costs), Decimal(0))

    @property
    def saves(self) -> Decimal:
        return self.cost_before - self.cost_after

    def as_dict(self) -> dict:
        """A JSON-friendly summary (kept with a workbench proposal)."""
        return {
            "scheme": self.scheme_code, "old": self.old_label, "new": self.new_label, "as_of": self.as_of.isoformat(),
            "units": self.units, "total_units": self.total_units, "eligible_before": self.eligible_before,
            "eligible_after": self.eligible_after, "gained": self.gained, "lost": self.lost,
            "cost_before": str(self.cost_before), "cost_after": str(self.cost_after), "currency": self.currency,
            "areas": [{"code": a.code, "label": a.label, "before": a.before, "after": a.after, "gained": a.gained,
                       "lost": a.lost} for a in self.areas],
            "costs": [{"benefit": c.code, "before_count": c.before_count, "before_total": str(c.before_total),
                       "after_count": c.after_count, "after_total": str(c.after_total)} for c in self.costs],
            "truncated": self.truncated, "methods": self.methods,
        }


# ---- the area of a unit ----------------------------------------------------------------------


def area_field(scheme: Scheme) -> Field | None:
    """The field a breakdown by district uses: a district-level location field, a select field
    named like district, else the first location field."""
    unit_fields = [f for f in scheme.fields if f.type in ("location", "select_one")]
    for f in unit_fields:
        if f.type == "location" and (f.location_level == "district" or "district" in f.name):
            return f
    for f in unit_fields:
        if "district" in f.name:
            return f
    return next((f for f in unit_fields if f.type == "location"), None)


def area_sql(scheme: Scheme, dialect: str, alias: str = "x") -> str:
    f = area_field(scheme)
    if f is None:
        return f"COALESCE({alias}.location_code, '')"
    if dialect == "postgresql":
        return f"COALESCE({alias}.data->>'{f.name}', '')"
    return f"COALESCE(json_extract({alias}.data, '$.{f.name}'), '')"


def area_labels(session, scheme: Scheme, codes, lang: str | None = None) -> dict[str, str]:
    f = area_field(scheme)
    lang = lang or scheme.default_language
    if f is not None and f.type == "select_one":
        return {c.value: c.label.get(lang, scheme.default_language) for c in f.choices}
    wanted = [c for c in codes if c]
    if not wanted:
        return {}
    from sqlalchemy import select

    from ..storage.models import Location

    out = {}
    for i in range(0, len(wanted), 500):
        out |= dict(session.execute(select(Location.code, Location.name).where(
            Location.code.in_(wanted[i:i + 500]))).all())
    return out


# ---- eligibility as SQL ------------------------------------------------------------------------


def field_types(scheme: Scheme) -> dict[str, str]:
    return {f.name: f.type for f in scheme.fields + scheme.member_fields}


def eligibility_sql(scheme: Scheme, dialect: str, prefix: str, methods: dict, label: str,
                    alias: str = "x", python: list | None = None) -> tuple[str | None, dict]:
    """One SQL expression that is 1 when every rule passes, else 0; None if a rule needs Python."""
    parts, params, ok = [], {}, True
    for i, rule in enumerate(scheme.eligibility):
        try:
            compiled = to_sql(rule.formula, dialect, field_types(scheme), unit=alias,
                              household=scheme.is_household, param_prefix=f"{prefix}{i}_")
            parts.append(f"(CASE WHEN ({compiled.sql}) THEN 1 ELSE 0 END)")
            params |= compiled.params
            methods[f"{label} rule {rule.name}"] = "sql"
        except NotTranslatable as exc:
            methods[f"{label} rule {rule.name}"] = f"python ({exc})"
            if python is not None:
                python.append((label, rule.name, str(exc)))
            ok = False
    if not ok:
        return None, {}
    return (" * ".join(parts) if parts else "1"), params


def eligible_in_python(scheme: Scheme, values: dict, as_of: date) -> tuple[bool, list[str]]:
    failed = []
    for rule in scheme.eligibility:
        try:
            passed = bool(rule.formula.evaluate(values, as_of))
        except FormulaRuntimeError:
            passed = False  # fail closed
        if not passed:
            failed.append(rule.name)
    return not failed, failed


# ---- cash amounts ------------------------------------------------------------------------------


def _benefit_key(b: Benefit, scheme: Scheme) -> tuple:
    """Two benefits with the same key give the same amount for every unit."""
    p = scheme.payments
    return (b.amount.text.strip() if b.amount else None, b.cap,
            b.eligible_when.text.strip() if b.eligible_when else None,
            tuple((c.name, c.formula.text.strip()) for c in b.conditions),
            (p.rounding_to, p.rounding_mode, p.recipient) if p else None,
            tuple(sorted((k, repr(v)) for k, v in scheme.constants.items())),
            tuple(sorted((n, repr(t.rows)) for n, t in scheme.tables.items())))


def cash_benefits(old: Scheme, new: Scheme, lang: str | None = None) -> list[BenefitCost]:
    out: dict[str, BenefitCost] = {}
    for scheme, which in ((new, "new"), (old, "old")):
        for b in scheme.benefits:
            if b.kind != "cash":
                continue
            if b.code not in out:
                freq = b.schedule.frequency if b.schedule else "once"
                label = b.label.get(lang, scheme.default_language) if lang else b.label.get()
                out[b.code] = BenefitCost(b.code, label, freq, in_old=False, in_new=False)
            setattr(out[b.code], f"in_{which}", True)
    return list(out.values())


def amounts(scheme: Scheme, unit_id: int, values: dict, as_of: date, codes) -> dict[str, Decimal]:
    out = {}
    for code in codes:
        b = scheme.benefit(code)
        if b is None or b.kind != "cash" or b.amount is None:
            continue
        e = entitlement(scheme, b, unit_id, values, as_of)
        out[code] = e.amount if e.payable else Decimal(0)
    return out


# ---- explanations --------------------------------------------------------------------------------


def _said(outcome, words: str, text_lang: str) -> list[str]:
    """An engine outcome's lines (amount, benefit) in the reader's language."""
    parts = getattr(outcome, "parts", ())
    return ex.lines(parts, words, text_lang) if parts else list(outcome.lines)


def explain(scheme: Scheme, values: dict, as_of: date, codes, lang: str | None = None) -> Outcome:
    """Why one unit is (not) eligible and what it gets. `lang`: the reader's language (the words
    and the scheme's texts); none: English words, the scheme's texts in its default language."""
    words = lang or "en"
    lang = lang or scheme.default_language
    dl = scheme.default_language
    rules = [check_formula(r.name, r.formula, r.reason, values, as_of, lang, dl) for r in scheme.eligibility]
    eligible = all(r.passed for r in rules)
    lines = [say("eligible" if eligible else "not_eligible", words)]
    for r in rules:
        line = (say("rule_pass", words, name=r.name) if r.passed
                else say("rule_fail", words, name=r.name, reason=r.reason))
        lines.append(line + (f" ({r.error_text(words)})" if r.error else ""))
        steps = ex.lines(r.parts, words, lang) if r.parts else r.steps
        lines += [f"    {step}" for step in steps]
    got: dict[str, Decimal] = {}
    for code in codes:
        b = scheme.benefit(code)
        if b is None or b.kind != "cash":
            continue
        try:
            outcome = evaluate_benefit(scheme, b, values, as_of, eligible, lang)
        except FormulaRuntimeError as exc:
            lines.append(say("cannot_compute", words, code=code, error=exc.text(words)))
            got[code] = Decimal(0)
            continue
        value = outcome.amount.value if (outcome.entitled and outcome.amount) else Decimal(0)
        got[code] = value
        lines.append(say("benefit_amount" if outcome.entitled else "benefit_not_entitled", words, code=code,
                          amount=show(value, base_language(words)), currency=scheme.currency))
        lines += [f"    {line}" for line in (_said(outcome.amount, words, lang) if outcome.amount else [])
                  + _said(outcome, words, lang)]
    failed = [r.name for r in rules if not r.passed]
    return Outcome(eligible, failed, got, lines)


# ---- the report ------------------------------------------------------------------------------------


def _label(scheme: Scheme, label: str | None) -> str:
    return label or f"v{scheme.version} ({scheme.content_hash[:8]})"


def impact(session, old: Scheme, new: Scheme, *, as_of: date | None = None, limit: int | None = None,
           sample_size: int = 10, lang: str | None = None, old_label: str | None = None,
           new_label: str | None = None, batch: int = 5000,
           progress: Callable[[int], None] | None = None) -> ImpactReport:
    if old.code != new.code:
        raise ValueError(f"two different schemes: {old.code} and {new.code}")
    started = time.monotonic()
    as_of = as_of or date.today()
    dialect = session.get_bind().dialect.name
    table = unit_table(new)
    report = ImpactReport(new.code, _label(old, old_label), _label(new, new_label), as_of, new.currency, limit=limit,
                          changes=diff_schemes(old, new))
    f = area_field(new)
    report.area_name = f.label.get(lang or new.default_language) if f else say("location", lang or "en")
    base = "x.scheme_code = :code AND x.active = TRUE" + ("" if new.is_household else " AND x.household_id IS NULL")
    params: dict = {"code": new.code, "as_of": as_of.isoformat()}
    report.total_units = session.execute(text(f"SELECT COUNT(*) FROM {table} x WHERE {base}"), params).scalar_one()
    if limit is not None and report.total_units > limit:
        max_id = session.execute(text(f"SELECT x.id FROM {table} x WHERE {base} ORDER BY x.id LIMIT 1 OFFSET :k"),
                                 params | {"k": limit - 1}).scalar_one()
        base += " AND x.id <= :max_id"
        params["max_id"] = max_id
    old_sql, old_params = eligibility_sql(old, dialect, "o", report.methods, "old", python=report.python)
    new_sql, new_params = eligibility_sql(new, dialect, "n", report.methods, "new", python=report.python)
    report.costs = cash_benefits(old, new, lang)
    codes = [c.code for c in report.costs]
    areas: dict[str, AreaRow] = {}

    def area(code) -> AreaRow:
        code = code or NO_AREA
        if code not in areas:
            areas[code] = AreaRow(code, code)
        return areas[code]

    sample: dict[str, list[tuple[int, str, dict]]] = {"loses": [], "gains": [], "amount": []}
    reuse = {c.code: (old.benefit(c.code) is not None and new.benefit(c.code) is not None
                      and _benefit_key(old.benefit(c.code), old) == _benefit_key(new.benefit(c.code), new))
             for c in report.costs}

    def visit(unit_id: int, values: dict, area_code: str, ok_old: bool, ok_new: bool, count: bool) -> None:
        row = area(area_code)
        if count:
            row.units += 1
            row.before += ok_old
            row.after += ok_new
            row.gained += ok_new and not ok_old
            row.lost += ok_old and not ok_new
        change = "loses" if ok_old and not ok_new else "gains" if ok_new and not ok_old else None
        if codes and (ok_old or ok_new):
            got_new = amounts(new, unit_id, values, as_of, codes) if ok_new else {}
            if ok_old:
                got_old = {k: v for k, v in got_new.items() if reuse.get(k)} if ok_new else {}
                got_old |= amounts(old, unit_id, values, as_of, [c for c in codes if c not in got_old])
            else:
                got_old = {}
            for c in report.costs:
                a, b = got_old.get(c.code, Decimal(0)), got_new.get(c.code, Decimal(0))
                if a > 0:
                    c.before_count += 1
                    c.before_total += a
                    row.cost_before += a
                if b > 0:
                    c.after_count += 1
                    c.after_total += b
                    row.cost_after += b
                if change is None and a != b:
                    change = "amount"
        if change and len(sample[change]) < sample_size:
            sample[change].append((unit_id, area_code, values))

    af = area_field(new)
    location_area = af is None

    def unit_area(values: dict, unit_id: int, codes_by_id: dict) -> str:
        if location_area:
            return codes_by_id.get(unit_id) or NO_AREA
        v = values.get(af.name)
        return str(v) if v is not None else NO_AREA

    def location_codes(ids) -> dict:
        if not location_area or not ids:
            return {}
        return dict(session.execute(text(f"SELECT id, location_code FROM {table} WHERE id IN "
                                         f"({', '.join(str(int(i)) for i in ids)})")).all())

    if old_sql is not None and new_sql is not None:
        # set-based: one grouped statement for the counts
        all_params = params | old_params | new_params
        inner = (f"SELECT {area_sql(new, dialect)} AS area, ({old_sql}) AS o, ({new_sql}) AS n "
                 f"FROM {table} x WHERE {base}")
        rows = session.execute(text(
            f"SELECT s.area, COUNT(*), SUM(s.o), SUM(s.n), SUM(CASE WHEN s.n = 1 AND s.o = 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN s.o = 1 AND s.n = 0 THEN 1 ELSE 0 END) FROM ({inner}) s GROUP BY s.area"),
            all_params).all()
        for code, units, before, after, gained, lost in rows:
            row = area(code)
            row.units, row.before, row.after = int(units), int(before or 0), int(after or 0)
            row.gained, row.lost = int(gained or 0), int(lost or 0)
        # then Python only where amounts or explanations are needed
        where = "(({o}) = 1 OR ({n}) = 1)" if codes else "(({o}) <> ({n}))"
        ids_sql = f"SELECT x.id FROM {table} x WHERE {base} AND " + where.format(o=old_sql, n=new_sql)
        done = 0
        for units in iter_units(session, new, ids_sql=ids_sql, params=all_params, batch=batch):
            by_id = location_codes([u for u, _ in units])
            for unit_id, values in units:
                # the same answer as the SQL above (property-tested); per unit only for these few
                ok_old, _ = eligible_in_python(old, values, as_of)
                ok_new, _ = eligible_in_python(new, values, as_of)
                visit(unit_id, values, unit_area(values, unit_id, by_id), ok_old, ok_new, False)
            done += len(units)
            if progress:
                progress(done)
            if not codes and all(len(v) >= sample_size for v in sample.values()):
                break
    else:
        done = 0
        ids_sql = f"SELECT x.id FROM {table} x WHERE {base}"
        for units in iter_units(session, new, ids_sql=ids_sql, params=params, batch=batch):
            by_id = location_codes([u for u, _ in units])
            for unit_id, values in units:
                ok_old, _ = eligible_in_python(old, values, as_of)
                ok_new, _ = eligible_in_python(new, values, as_of)
                visit(unit_id, values, unit_area(values, unit_id, by_id), ok_old, ok_new, True)
            done += len(units)
            if progress:
                progress(done)
    _finish(session, report, areas, sample, old, new, as_of, codes, sample_size, lang)
    report.seconds = time.monotonic() - started
    return report


def _finish(session, report: ImpactReport, areas: dict, sample: dict, old: Scheme, new: Scheme, as_of: date,
            codes, sample_size: int, lang) -> None:
    labels = area_labels(session, new, list(areas), lang)
    for row in areas.values():
        row.label = labels.get(row.code, row.code) or say("no_area", lang or "en")
    report.areas = sorted(areas.values(), key=lambda r: (-(r.lost + r.gained), r.label))
    report.units = sum(r.units for r in areas.values())
    report.eligible_before = sum(r.before for r in areas.values())
    report.eligible_after = sum(r.after for r in areas.values())
    report.gained = sum(r.gained for r in areas.values())
    report.lost = sum(r.lost for r in areas.values())
    # a sample that shows every kind of change: losers, gainers, changed amounts, in turn
    picked: list[tuple[str, tuple]] = []
    queues = {k: list(v) for k, v in sample.items()}
    while len(picked) < sample_size and any(queues.values()):
        for kind in ("loses", "gains", "amount"):
            if queues[kind] and len(picked) < sample_size:
                picked.append((kind, queues[kind].pop(0)))
    if not picked:
        return
    table = unit_table(new)
    ids = [item[0] for _, item in picked]
    uids = dict(session.execute(text(f"SELECT id, uid FROM {table} WHERE id IN "
                                     f"({', '.join(str(int(i)) for i in ids)})")).all())
    for kind, (unit_id, area_code, values) in picked:
        report.sample.append(SampleUnit(unit_id, uids.get(unit_id, str(unit_id)), labels.get(area_code, area_code),
                                        kind, explain(old, values, as_of, codes, lang),
                                        explain(new, values, as_of, codes, lang)))


def money_text(value: Decimal, currency: str) -> str:
    return f"{show(value)} {currency}"


def render(report: ImpactReport, *, explanations: bool = True) -> str:
    r = report
    cur = r.currency
    lines = [f"IMPACT of {r.scheme_code} {r.old_label} → {r.new_label}, as of {r.as_of.isoformat()}"]
    if r.changes:
        lines += ["", "WHAT CHANGES"] + [f"  - {c}" for c in r.changes]
    scope = f"{r.units:,} of {r.total_units:,} units (the first {r.limit:,} by id)" if r.truncated else f"{r.units:,} units"
    lines += ["", f"REGISTRY: {scope}",
              f"  eligible before: {r.eligible_before:,}",
              f"  eligible after:  {r.eligible_after:,}  ({r.eligible_after - r.eligible_before:+,})",
              f"  gain eligibility: {r.gained:,}",
              f"  lose eligibility: {r.lost:,}"]
    if r.areas:
        width = max(len(a.label) for a in r.areas)
        width = max(width, len(r.area_name), 6)
        lines += ["", f"BY {r.area_name.upper()}",
                  f"  {'':<{width}}  {'before':>8}  {'after':>8}  {'gain':>6}  {'lose':>6}"]
        for a in r.areas:
            lines.append(f"  {a.label:<{width}}  {a.before:>8,}  {a.after:>8,}  {a.gained:>6,}  {a.lost:>6,}")
    if r.costs:
        lines += ["", "COST PER CYCLE (cash benefits; units eligible under each version)"]
        for c in r.costs:
            lines.append(f"  {c.code} ({c.frequency}): before {money_text(c.before_total, cur)} to {c.before_count:,}; "
                         f"after {money_text(c.after_total, cur)} to {c.after_count:,}")
        diff = r.cost_after - r.cost_before
        word = "saves" if diff < 0 else "costs"
        lines.append(f"  the change {word} {money_text(abs(diff), cur)} per cycle")
    if r.sample:
        lines += ["", f"SAMPLE ({len(r.sample)} of the units whose result changes)"]
        for s in r.sample:
            before = "eligible" if s.before.eligible else "not eligible"
            after = "eligible" if s.after.eligible else "not eligible"
            money = "".join(f"; {code} {show(s.before.amounts.get(code, 0))} → {show(s.after.amounts.get(code, 0))}"
                            for code in sorted(set(s.before.amounts) | set(s.after.amounts)))
            lines.append(f"  {s.uid} ({s.area}): {s.change}: {before} → {after}{money}")
            if explanations:
                lines += ["      before: " + s.before.lines[0]] + [f"        {x}" for x in s.before.lines[1:]]
                lines += ["      after: " + s.after.lines[0]] + [f"        {x}" for x in s.after.lines[1:]]
    python = {k: v for k, v in r.methods.items() if v != "sql"}
    lines += ["", "METHOD: " + ("every rule as SQL" if not python else
                               "; ".join(f"{k}: {v}" for k, v in python.items())) + f"; {r.seconds:.2f} s"]
    return "\n".join(lines)
