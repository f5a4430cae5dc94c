"""InsurancePlan: a scheme's insurance benefit, read from its YAML.

coverage: one per service category, a benefit per service or item (with its limits: per visit, day,
month, year, policy; age, sex and waiting-period requirements) and the category's yearly limit;
plan.generalCost: the money ceilings (per person, household, admission...); plan.specificCost: the
co-payment percentages."""

from __future__ import annotations

from ..definitions.model import Benefit, Scheme
from .common import SID_CATEGORY, SID_SCHEME, SID_SERVICE, concept, fhir_id, money, number, payor

LIMITS = (("per_visit", "per visit"), ("per_day", "per day"), ("per_month", "per month"),
          ("per_year", "per year"), ("per_policy", "per policy"))
CEILINGS = (("per_person", "per person per year"), ("per_household", "per household per year"),
            ("per_admission", "per admission"), ("per_visit", "per visit"), ("per_year", "per year"))


def plan_id(scheme: Scheme, benefit: Benefit) -> str:
    return fhir_id(f"{scheme.code}.{benefit.code}")


def requirement(service, benefit: Benefit) -> str:
    parts = []
    if service.genders:
        parts.append("sex " + "/".join(service.genders))
    if service.min_age is not None or service.max_age is not None:
        parts.append(f"age {service.min_age if service.min_age is not None else 0}-"
                     f"{service.max_age if service.max_age is not None else ''}".rstrip("-"))
    waiting = service.waiting_period_days if service.waiting_period_days is not None else benefit.waiting_period_days
    if waiting:
        parts.append(f"waiting period {waiting} days")
    if service.limits.min_days_between:
        parts.append(f"at least {service.limits.min_days_between} days apart")
    return "; ".join(parts)


def service_benefit(scheme: Scheme, benefit: Benefit, service, lang: str) -> dict:
    out = {"type": concept(SID_SERVICE, service.code, service.label.get(lang, scheme.default_language))}
    req = requirement(service, benefit)
    if req:
        out["requirement"] = req
    limits = [{"value": {"value": getattr(service.limits, name), "unit": text},
               "code": {"text": f"at most {getattr(service.limits, name)} {text}"}}
              for name, text in LIMITS if getattr(service.limits, name) is not None]
    if limits:
        out["limit"] = limits
    return out


def insurance_plan(scheme: Scheme, benefit: Benefit, lang: str = "en") -> dict:
    label = benefit.label.get(lang, scheme.default_language)
    out = {"resourceType": "InsurancePlan", "id": plan_id(scheme, benefit),
           "identifier": [{"system": SID_SCHEME, "value": f"{scheme.code}/{benefit.code}"}],
           "status": "active", "type": [concept("http://terminology.hl7.org/CodeSystem/insurance-plan-type",
                                                "medical", "Medical")],
           "name": label, "alias": [scheme.title.get(lang, scheme.default_language)],
           "ownedBy": payor(scheme, lang), "administeredBy": payor(scheme, lang)}
    if scheme.period_start or scheme.period_end:
        out["period"] = {k: v.isoformat() for k, v in (("start", scheme.period_start), ("end", scheme.period_end)) if v}
    categories: dict[str, list] = {}
    for s in list(benefit.services) + list(benefit.items):
        categories.setdefault(s.category, []).append(s)
    coverage = []
    for category, services in categories.items():
        benefits = [service_benefit(scheme, benefit, s, lang) for s in services]
        if category in benefit.category_limits:
            limit = benefit.category_limits[category]
            benefits.append({"type": {"coding": [{"system": SID_CATEGORY, "code": category}],
                                      "text": f"all {category} services"},
                             "limit": [{"value": {"value": limit, "unit": "per year"},
                                        "code": {"text": f"at most {limit} {category} per year"}}]})
        coverage.append({"type": concept(SID_CATEGORY, category, text=category.replace("_", " ")),
                         "benefit": benefits})
    if coverage:
        out["coverage"] = coverage
    plan = {"type": concept(SID_SCHEME, benefit.code, text=label)}
    general = [{"type": {"text": f"ceiling {text}"}, "cost": money(getattr(benefit.ceilings, name), scheme.currency)}
               for name, text in CEILINGS if getattr(benefit.ceilings, name) is not None]
    general += [{"type": {"text": f"deductible {text}"}, "cost": money(getattr(benefit.deductibles, name), scheme.currency)}
                for name, text in CEILINGS if getattr(benefit.deductibles, name) is not None]
    if general:
        plan["generalCost"] = general
    specific = []
    for category, services in categories.items():
        costs = []
        for s in services:
            percent = s.co_payment_percent if s.co_payment_percent is not None else benefit.co_payment_percent
            if percent:
                costs.append({"type": concept(SID_SERVICE, s.code, s.label.get(lang, scheme.default_language)),
                              "cost": [{"type": concept("http://terminology.hl7.org/CodeSystem/benefit-type",
                                                        "copay", "Copayment per service"),
                                        "value": {"value": number(percent), "unit": "%",
                                                  "system": "http://unitsofmeasure.org", "code": "%"}}]})
        if costs:
            specific.append({"category": concept(SID_CATEGORY, category), "benefit": costs})
    if specific:
        plan["specificCost"] = specific
    out["plan"] = [plan]
    return out
