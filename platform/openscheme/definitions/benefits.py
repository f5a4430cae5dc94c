"""Building eligibility rules, contributions, benefit packages and payment rules."""

from __future__ import annotations

from decimal import Decimal

from ..formulas import T
from ..formulas.checker import suggest, suggestion
from ..formulas.messages import say
from .checks.names import check_unique
from .fields import parse_date, text_of
from .model import (
    Benefit,
    Condition,
    Contributions,
    Indicator,
    Limits,
    MoneyLevels,
    Payments,
    Premium,
    Rule,
    Schedule,
    Service,
    VoucherType,
    WageContribution,
)

KIND_KEYS = {
    "insurance": {"waiting_period_days", "co_payment_percent", "ceilings", "deductibles", "category_limits",
                  "services", "items", "facility_levels", "review"},
    "voucher": {"price", "validity_days", "vouchers", "facility_levels"},
    "cash": {"amount", "cap", "schedule", "conditions"},
}


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def build_rules(c, scope) -> list[Rule]:
    raw = c.data.get("eligibility") or []
    check_unique(c, [(r["name"], ("eligibility", i, "name")) for i, r in enumerate(raw)], "rule", "E306")
    rules = []
    for i, r in enumerate(raw):
        path = ("eligibility", i)
        formula = c.formula(r["formula"], path + ("formula",), scope, T.BOOL, "an eligibility rule")
        if formula:
            rules.append(Rule(r["name"], text_of(r.get("label", r["name"].replace("_", " "))), formula,
                              text_of(r["reason"]), path))
    return rules


def build_contributions(c, scope, fields_by_name: dict, household: bool) -> Contributions | None:
    spec = c.data.get("contributions")
    if spec is None:
        return None
    path = ("contributions",)
    premium = None
    if "premium" in spec:
        p = spec["premium"]
        ppath = path + ("premium",)
        structured = [k for k in ("lump_sum", "per_member") if k in p]
        if "formula" in p and structured:
            c.error("E361", "a premium has either a 'formula' or a lump_sum/per_member structure, not both", ppath,
                    said=say("n_premium_both"))
        if "formula" not in p and not structured:
            c.error("E360", "a premium needs a 'formula', a 'lump_sum' or a 'per_member' amount", ppath,
                    said=say("n_premium_nothing"))
        formula = c.formula(p["formula"], ppath + ("formula",), scope, T.NUMBER, "a premium") if "formula" in p else None
        birth = p.get("birth_date_field")
        needs_age = any(k in p for k in ("extra_adult", "extra_child"))
        if needs_age:
            if not household:
                c.error("E341", "extra_adult/extra_child apply to household schemes", ppath, said=say("n_extra_household"))
            birth = birth or "dob"
            f = fields_by_name.get(birth)
            if f is None or f.type != "date" or f.scope != "member":
                c.error("E341", f"extra adults and children are counted from a member date field: '{birth}' is not one",
                        ppath + (("birth_date_field",) if "birth_date_field" in p else ()),
                        "set birth_date_field: to the members' date of birth",
                        said=say("n_extra_birth_field", name=birth), hint_said=say("n_hint_birth_field"))
        if ("extra_adult" in p or "extra_child" in p) and "members_covered" not in p:
            c.error("E202", "extra_adult/extra_child need 'members_covered' (members included in the lump sum)", ppath,
                    said=say("n_members_covered"))
        ed = p.get("enrolment_discount") or {}
        premium = Premium(
            formula=formula, lump_sum=dec(p.get("lump_sum")), members_covered=p.get("members_covered"),
            per_member=dec(p.get("per_member")), extra_adult=dec(p.get("extra_adult")),
            extra_child=dec(p.get("extra_child")), child_age_below=p.get("child_age_below", 18),
            birth_date_field=birth, registration_fee=Decimal(p.get("registration_fee", 0)),
            assembly_fee=Decimal(p.get("assembly_fee", 0)),
            enrolment_discount_percent=Decimal(ed.get("percent", 0)),
            enrolment_discount_within_days=ed.get("within_days"),
            renewal_discount_percent=Decimal((p.get("renewal_discount") or {}).get("percent", 0)),
        )
    wage = None
    if "wage" in spec:
        w = spec["wage"]
        f = fields_by_name.get(w["field"])
        if f is None or f.value_type != T.NUMBER:
            hint = suggest(w["field"], fields_by_name) if f is None else f"it is a {f.type} field"
            hint_said = suggestion(w["field"], fields_by_name) if f is None else say("n_hint_field_type", type=f.type)
            c.error("E342", f"the wage field '{w['field']}' must be a declared number or money field",
                    path + ("wage", "field"), hint, said=say("n_wage_field", name=w["field"]), hint_said=hint_said)
        elif f.scope == "member":
            c.error("E342", f"the wage field '{w['field']}' is a member field; a wage contribution is computed "
                            "per enrolled person", path + ("wage", "field"),
                    "use an individual scheme (unit: individual) for formal-sector members",
                    said=say("n_wage_member_field", name=w["field"]), hint_said=say("n_hint_individual_scheme"))
        wage = WageContribution(w["field"], Decimal(w["employer_percent"]), Decimal(w["employee_percent"]),
                                dec(w.get("minimum_wage")), dec(w.get("wage_ceiling")))
    if premium is None and wage is None:
        c.error("E360", "contributions need a 'premium' or a 'wage' contribution", path, said=say("n_contributions_nothing"))
    due = spec.get("due") or {}
    return Contributions(spec.get("frequency", "yearly"), premium, wage, due.get("days_after_enrolment"),
                         due.get("day_of_month"), spec.get("grace_period_days", 0),
                         tuple(spec.get("payment_methods") or ()))


def build_service(c, s: dict, path: tuple, is_item: bool, tables) -> Service:
    pf = s.get("price_from")
    if pf:
        t = tables.get(pf["table"])
        if t is None:
            c.error("E343", f"unknown table '{pf['table']}'", path + ("price_from", "table"), suggest(pf["table"], tables),
                    said=say("n_unknown_table", name=pf["table"]), hint_said=suggestion(pf["table"], tables))
        elif pf["column"] not in t.columns:
            c.error("E343", f"the table '{pf['table']}' has no column '{pf['column']}'", path + ("price_from", "column"),
                    suggest(pf["column"], t.columns), said=say("n_no_column", table=pf["table"], column=pf["column"]),
                    hint_said=suggestion(pf["column"], t.columns))
    if "price" not in s and not pf:
        c.error("E344", f"'{s['code']}' needs a 'price' or a 'price_from' table", path, said=say("n_needs_price", code=s["code"]))
    age = s.get("age") or {}
    if age.get("min") is not None and age.get("max") is not None and age["min"] > age["max"]:
        c.error("E326", "the age range is empty (min > max)", path + ("age",), said=say("n_empty_age_range"))
    return Service(
        code=s["code"], label=text_of(s["label"]), is_item=is_item, category=s.get("category", "medicine" if is_item else "other"),
        care_type=s.get("care_type", "both"), price=dec(s.get("price")),
        price_table=pf["table"] if pf else None, price_column=pf["column"] if pf else None,
        limits=Limits(**(s.get("limits") or {})), min_age=age.get("min"), max_age=age.get("max"),
        genders=tuple(s.get("gender") or ()), waiting_period_days=s.get("waiting_period_days"),
        co_payment_percent=dec(s.get("co_payment_percent")), ceiling=dec(s.get("ceiling")),
    )


def build_benefits(c, scope, kinds: tuple[str, ...], tables) -> list[Benefit]:
    raw = c.data.get("benefits") or []
    check_unique(c, [(b["code"], ("benefits", i, "code")) for i, b in enumerate(raw)], "benefit code", "E305")
    out = []
    for i, b in enumerate(raw):
        path = ("benefits", i)
        kind = b["kind"]
        if kind not in kinds:
            c.error("E350", f"the benefit '{b['code']}' is {kind}, but scheme.benefit_kinds lists only {', '.join(kinds)}",
                    path + ("kind",), f"add {kind} to scheme.benefit_kinds",
                    said=say("n_kind_not_declared", code=b["code"], kind=kind, kinds=", ".join(kinds)),
                    hint_said=say("n_hint_add_kind", kind=kind))
        for key in b:
            for other, keys in KIND_KEYS.items():
                if other != kind and key in keys and key not in KIND_KEYS[kind]:
                    c.error("E355", f"'{key}' applies to {other} benefits, not to the {kind} benefit '{b['code']}'",
                            path + (key,), key=True, said=say("n_key_of_other_kind", key=key, other=other, kind=kind,
                                                              code=b["code"]))
        kw: dict = {}
        if "eligible_when" in b:
            kw["eligible_when"] = c.formula(b["eligible_when"], path + ("eligible_when",), scope, T.BOOL, "'eligible_when'")
        if kind == "insurance":
            services = b.get("services") or []
            if not services:
                c.error("E352", f"the insurance benefit '{b['code']}' lists no covered services", path, "add 'services:'",
                        said=say("n_no_services", code=b["code"]), hint_said=say("n_hint_add_services"))
            items = b.get("items") or []
            check_unique(c, [(s["code"], path + ("services", j, "code")) for j, s in enumerate(services)]
                         + [(s["code"], path + ("items", j, "code")) for j, s in enumerate(items)], "service or item code", "E304")
            kw["services"] = tuple(build_service(c, s, path + ("services", j), False, tables) for j, s in enumerate(services))
            kw["items"] = tuple(build_service(c, s, path + ("items", j), True, tables) for j, s in enumerate(items))
            kw["waiting_period_days"] = b.get("waiting_period_days", 0)
            kw["co_payment_percent"] = Decimal(b.get("co_payment_percent", 0))
            kw["ceilings"] = MoneyLevels(**{k: dec(v) for k, v in (b.get("ceilings") or {}).items()})
            kw["deductibles"] = MoneyLevels(**{k: dec(v) for k, v in (b.get("deductibles") or {}).items()})
            kw["category_limits"] = dict(b.get("category_limits") or {})
            kw["facility_levels"] = tuple(b.get("facility_levels") or ())
            review = b.get("review") or {}
            kw["review_sample_percent"] = Decimal(review.get("sample_percent", 0))
            kw["review_amount_above"] = dec(review.get("amount_above"))
        elif kind == "voucher":
            vouchers = b.get("vouchers") or []
            if not vouchers:
                c.error("E353", f"the voucher benefit '{b['code']}' lists no vouchers", path, "add 'vouchers:'",
                        said=say("n_no_vouchers", code=b["code"]), hint_said=say("n_hint_add_vouchers"))
            check_unique(c, [(v["type"], path + ("vouchers", j, "type")) for j, v in enumerate(vouchers)], "voucher type", "E307")
            kw["vouchers"] = tuple(VoucherType(v["type"], text_of(v.get("label", v["type"].replace("_", " "))), v["count"],
                                               tuple(v["services"]), dec(v.get("reimbursement")),
                                               v.get("valid_from_days", 0), v.get("validity_days"))
                                   for v in vouchers)
            kw["price"] = dec(b.get("price"))
            kw["validity_days"] = b.get("validity_days")
            kw["facility_levels"] = tuple(b.get("facility_levels") or ())
        else:  # cash
            if "amount" not in b:
                c.error("E354", f"the cash benefit '{b['code']}' needs an 'amount'", path,
                        said=say("n_cash_needs_amount", code=b["code"]))
            elif isinstance(b["amount"], str):
                kw["amount"] = c.formula(b["amount"], path + ("amount",), scope, T.NUMBER, "an amount")
            else:
                kw["amount"] = c.formula(str(b["amount"]), path + ("amount",), scope, T.NUMBER, "an amount")
            if "schedule" not in b:
                c.error("E354", f"the cash benefit '{b['code']}' needs a 'schedule'", path,
                        "e.g. schedule: {frequency: monthly, cycles: 3}",
                        said=say("n_cash_needs_schedule", code=b["code"]), hint_said=say("n_hint_schedule"))
            else:
                s = b["schedule"]
                kw["schedule"] = Schedule(s["frequency"], s["cycles"], parse_date(s.get("start")))
            kw["cap"] = dec(b.get("cap"))
            conds = b.get("conditions") or []
            check_unique(c, [(x["name"], path + ("conditions", j, "name")) for j, x in enumerate(conds)], "condition", "E306")
            built = []
            for j, x in enumerate(conds):
                f = c.formula(x["formula"], path + ("conditions", j, "formula"), scope, T.BOOL, "a condition")
                if f:
                    built.append(Condition(x["name"], text_of(x.get("label", x["name"])), f, text_of(x["reason"])))
            kw["conditions"] = tuple(built)
        out.append(Benefit(code=b["code"], kind=kind, label=text_of(b["label"]), path=path,
                           description=text_of(b.get("description")), **kw))
    for kind in kinds:
        if not any(x["kind"] == kind for x in raw):
            c.error("W351", f"scheme.benefit_kinds lists {kind}, but no benefit is of that kind",
                    ("scheme", "benefit_kinds"), severity="warning", said=say("n_kind_unused", kind=kind))
    return out


def build_payments(c, roles: dict, fields_by_name: dict, kinds) -> Payments | None:
    spec = c.data.get("payments")
    if spec is None:
        if "cash" in kinds:
            return Payments("head" if roles else "beneficiary", None, ("cash",), Decimal(1), "half_up",
                            ("beneficiary", "scheme", "benefit", "cycle"))
        return None
    path = ("payments",)
    recipient = spec.get("recipient", "beneficiary")
    valid = {"beneficiary", "head", "unit"} | set(roles)
    if recipient not in valid:
        c.error("E340", f"the payment recipient '{recipient}' is not a declared role", path + ("recipient",),
                suggest(recipient, valid) or "one of: " + ", ".join(sorted(valid)),
                said=say("n_unknown_recipient", name=recipient),
                hint_said=suggestion(recipient, valid) or say("n_hint_one_of", names=", ".join(sorted(valid))))
    channel_field = spec.get("channel_field")
    if channel_field and channel_field not in fields_by_name:
        c.error("E340", f"the channel field '{channel_field}' is not declared", path + ("channel_field",),
                suggest(channel_field, fields_by_name), said=say("n_unknown_channel_field", name=channel_field),
                hint_said=suggestion(channel_field, fields_by_name))
    key = tuple(spec.get("key") or ("beneficiary", "scheme", "benefit", "cycle"))
    for needed in ("beneficiary", "cycle"):
        if needed not in key:
            c.error("E370", f"the payment key must include '{needed}' so that no one is paid twice in a cycle",
                    path + ("key",), said=say("n_payment_key", needed=needed))
    rounding = spec.get("rounding") or {}
    return Payments(recipient, channel_field, tuple(spec.get("channels") or ("cash",)),
                    Decimal(rounding.get("to", 1)), rounding.get("mode", "half_up"), key, spec.get("payer"))


def build_indicators(c, scope, fields_by_name: dict) -> list[Indicator]:
    """DHIS2 indicators: a yes/no formula (counted) or a number (summed) over the unit, disaggregated
    by a unit select field whose every choice maps to a category option combo."""
    raw = c.data.get("indicators") or []
    check_unique(c, [(x["name"], ("indicators", i, "name")) for i, x in enumerate(raw)], "indicator", "E306")
    out = []
    for i, x in enumerate(raw):
        path = ("indicators", i)
        formula = c.formula(x["formula"], path + ("formula",), scope, None, "an indicator")
        if formula is not None and formula.result_type not in (T.BOOL, T.NUMBER, T.ANY):
            c.error("E506", f"an indicator must give a yes/no (counted) or a number (summed), not {formula.result_type}",
                    path + ("formula",), said=say("n_indicator_type", type=str(formula.result_type)))
            formula = None
        combos: dict = {}
        field_name = None
        if "disaggregate_by" in x:
            d = x["disaggregate_by"]
            field_name = d["field"]
            f = fields_by_name.get(field_name)
            units = {k: v for k, v in fields_by_name.items() if v.scope == "unit" and v.type == "select_one"}
            if f is None or f.scope != "unit" or f.type != "select_one":
                c.error("E327", f"an indicator is disaggregated by a household or individual select_one field; "
                                f"'{field_name}' is not one", path + ("disaggregate_by", "field"), suggest(field_name, units),
                        said=say("n_indicator_field", name=field_name), hint_said=suggestion(field_name, units))
            else:
                combos = {str(k): str(v) for k, v in d["combos"].items()}
                for value in combos:
                    if value not in f.choice_values:
                        c.error("E204", f"'{value}' is not a choice of '{field_name}'",
                                path + ("disaggregate_by", "combos", value), suggest(value, f.choice_values), key=True,
                                said=say("not_a_choice", value=value, name=field_name),
                                hint_said=suggestion(value, f.choice_values))
                missing = [v for v in sorted(f.choice_values) if v not in combos]
                if missing:
                    c.error("E202", f"no category option combo for the choice(s) {', '.join(missing)} of '{field_name}'",
                            path + ("disaggregate_by", "combos"), "map every choice, so that no unit is left out",
                            said=say("n_combo_missing", choices=", ".join(missing), name=field_name),
                            hint_said=say("n_hint_map_every_choice"))
        org = x.get("org_unit_field")
        if org is not None and (org not in fields_by_name or fields_by_name[org].scope != "unit"):
            c.error("E327", f"org_unit_field '{org}' is not a household or individual field",
                    path + ("org_unit_field",), suggest(org, fields_by_name), said=say("n_org_unit_field", name=org),
                    hint_said=suggestion(org, fields_by_name))
        if formula is not None:
            out.append(Indicator(x["name"], text_of(x.get("label", x["name"].replace("_", " "))), formula,
                                 str(x["data_element"]), path, x.get("category_option_combo"), field_name, combos,
                                 org, x.get("population", "registered")))
    return out
