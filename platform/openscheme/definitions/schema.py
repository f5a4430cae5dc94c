"""The JSON Schema of the definition format.

It checks structure only (keys, types, enumerations); meaning - names that
exist, formulas that type-check, reachable states - is checked afterwards in
`checks/`. `openscheme schema` prints it so editors (VS Code's YAML extension,
via `# yaml-language-server: $schema=...`) autocomplete and check definitions.
Every object forbids unknown keys: a typo like `tilte:` is reported, with a
did-you-mean, instead of being silently ignored.
"""

from __future__ import annotations

FIELD_TYPES = [
    "text", "integer", "decimal", "money", "date", "boolean", "select_one", "select_multiple",
    "location", "phone", "email", "national_id", "gps", "calculate",
]
BENEFIT_KINDS = ["insurance", "voucher", "cash"]
STAFF_ROLES = [
    "administrator", "implementer", "enrolment_officer", "facility_clerk", "claims_reviewer",
    "payment_officer", "analyst", "auditor",
]
SERVICE_CATEGORIES = ["consultation", "admission", "delivery", "antenatal", "postnatal", "surgery",
                      "laboratory", "imaging", "medicine", "emergency", "other"]
CARE_TYPES = ["out_patient", "in_patient", "both"]
FREQUENCIES = ["once", "weekly", "monthly", "bimonthly", "quarterly", "termly", "half_yearly", "yearly"]

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$",
        "description": "a lower-case name: letters, digits and _"}
CODE = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD"}
FORMULA = {"type": "string", "minLength": 1, "description": "a formula (see the reference)"}
NUMBER = {"type": "number"}
NON_NEG = {"type": "number", "minimum": 0}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
COUNT = {"type": "integer", "minimum": 0}
TEXT_I18N = {
    "description": "text, or text per language code: {en: ..., fr: ...}",
    "anyOf": [
        {"type": "string"},
        {"type": "object", "propertyNames": {"pattern": "^[a-z]{2,3}(_[A-Z]{2})?$"},
         "additionalProperties": {"type": "string"}, "minProperties": 1},
    ],
}
BOOL_OR_FORMULA = {"anyOf": [{"type": "boolean"}, FORMULA]}
NAME_LIST = {"type": "array", "items": NAME}


def obj(properties: dict, required: list[str] | None = None, description: str = "") -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


CHOICE = obj({"value": {"type": ["string", "integer"]}, "label": TEXT_I18N},
             ["value"])
CHOICE["additionalProperties"] = {"type": ["string", "integer", "number", "boolean"]}
CHOICE["description"] = "a choice; extra keys (e.g. region: R1) are columns for choice_filter"

FIELD_PROPERTIES = {
    "name": NAME,
    "type": {"enum": FIELD_TYPES},
    "preset": NAME,
    "label": TEXT_I18N,
    "hint": TEXT_I18N,
    "required": BOOL_OR_FORMULA,
    "required_message": TEXT_I18N,
    "relevant": FORMULA,
    "constraint": FORMULA,
    "constraint_message": TEXT_I18N,
    "calculate": FORMULA,
    "default": {"type": ["string", "number", "boolean", "array"]},
    "min": {"type": ["number", "string"]},
    "max": {"type": ["number", "string"]},
    "min_length": COUNT,
    "max_length": COUNT,
    "decimals": {"type": "integer", "minimum": 0, "maximum": 6},
    "pattern": {"type": "string"},
    "pattern_message": TEXT_I18N,
    "choices": {"anyOf": [NAME, {"type": "array", "items": CHOICE, "minItems": 1}]},
    "choice_filter": obj({"column": NAME, "field": NAME}, ["column", "field"],
                         "cascading select: keep choices whose column equals the field's value"),
    "level": NAME,
    "unique": {"type": "boolean", "description": "a de-duplication key: no two records share a value"},
    "searchable": {"type": "boolean"},
    "read_only": {"type": "boolean"},
    "widget": NAME,
    "template": {"type": "string"},
}
FIELD = obj(FIELD_PROPERTIES, description="a beneficiary field")
FIELD["anyOf"] = [{"required": ["name", "type"]}, {"required": ["preset"]}]
PRESET = obj({k: v for k, v in FIELD_PROPERTIES.items() if k != "preset"}, ["type"])

METADATA = obj({
    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{1,40}$",
             "description": "the scheme's code: lower-case letters, digits, - and _"},
    "version": {"type": ["string", "integer", "number"]},
    "title": TEXT_I18N,
    "description": TEXT_I18N,
    "country": {"type": "string"},
    "operator": TEXT_I18N,
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, e.g. TZS"},
    "languages": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2,3}(_[A-Z]{2})?$"},
                  "minItems": 1, "uniqueItems": True},
    "benefit_kinds": {"type": "array", "items": {"enum": BENEFIT_KINDS}, "minItems": 1, "uniqueItems": True},
    "unit": {"enum": ["individual", "household", "group"]},
    "period": obj({"start": DATE, "end": DATE, "months": {"type": "integer", "minimum": 1}}),
    "location_levels": {"type": "array", "items": NAME, "minItems": 1, "uniqueItems": True},
    "illustrative": {"type": "boolean", "description": "figures are illustrative, not official"},
    "source": {"type": "string"},
}, ["code", "version", "title", "currency", "languages", "benefit_kinds", "unit"])

ROLE = obj({"label": TEXT_I18N, "min": COUNT, "max": COUNT})

MEMBERS = obj({
    "label": TEXT_I18N,
    "min": COUNT,
    "max": {"type": "integer", "minimum": 1, "maximum": 200},
    "fields": {"type": "array", "items": FIELD, "minItems": 1},
}, ["fields"])

TABLE = obj({
    "key": NAME,
    "description": TEXT_I18N,
    "rows": {"type": "array", "minItems": 1, "items": {"type": "object"}},
}, ["key", "rows"])

CONSTANT = {"anyOf": [
    {"type": ["number", "string", "boolean"]},
    {"type": "array", "items": {"type": ["string", "number"]}},
]}

RULE = obj({"name": NAME, "label": TEXT_I18N, "formula": FORMULA, "reason": TEXT_I18N},
           ["name", "formula", "reason"])

PREMIUM = obj({
    "formula": FORMULA,
    "lump_sum": NON_NEG,
    "members_covered": {"type": "integer", "minimum": 1},
    "per_member": NON_NEG,
    "extra_adult": NON_NEG,
    "extra_child": NON_NEG,
    "child_age_below": {"type": "integer", "minimum": 1},
    "birth_date_field": NAME,
    "registration_fee": NON_NEG,
    "assembly_fee": NON_NEG,
    "enrolment_discount": obj({"percent": PERCENT, "within_days": COUNT}, ["percent"]),
    "renewal_discount": obj({"percent": PERCENT}, ["percent"]),
}, description="what a household or person pays; a formula, or the openIMIS-style structure")

WAGE = obj({
    "field": NAME,
    "employer_percent": PERCENT,
    "employee_percent": PERCENT,
    "minimum_wage": NON_NEG,
    "wage_ceiling": NON_NEG,
}, ["field", "employer_percent", "employee_percent"])

CONTRIBUTIONS = obj({
    "frequency": {"enum": FREQUENCIES},
    "premium": PREMIUM,
    "wage": WAGE,
    "due": obj({"days_after_enrolment": COUNT, "day_of_month": {"type": "integer", "minimum": 1, "maximum": 28}}),
    "grace_period_days": COUNT,
    "payment_methods": {"type": "array", "items": NAME},
})

LIMITS = obj({
    "per_visit": COUNT, "per_day": COUNT, "per_month": COUNT, "per_year": COUNT, "per_policy": COUNT,
    "min_days_between": COUNT,
})

SERVICE = obj({
    "code": CODE,
    "label": TEXT_I18N,
    "category": {"enum": SERVICE_CATEGORIES},
    "care_type": {"enum": CARE_TYPES},
    "price": NON_NEG,
    "price_from": obj({"table": NAME, "column": NAME}, ["table", "column"]),
    "limits": LIMITS,
    "age": obj({"min": COUNT, "max": COUNT}),
    "gender": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "waiting_period_days": COUNT,
    "co_payment_percent": PERCENT,
    "ceiling": NON_NEG,
}, ["code", "label"])

MONEY_LEVELS = obj({"per_person": NON_NEG, "per_household": NON_NEG, "per_admission": NON_NEG,
                    "per_visit": NON_NEG, "per_year": NON_NEG})

VOUCHER = obj({
    "type": NAME,
    "label": TEXT_I18N,
    "count": {"type": "integer", "minimum": 1, "maximum": 100},
    "services": {"type": "array", "items": CODE, "minItems": 1},
    "reimbursement": NON_NEG,
    "valid_from_days": COUNT,
    "validity_days": {"type": "integer", "minimum": 1},
}, ["type", "count", "services"])

SCHEDULE = obj({
    "frequency": {"enum": FREQUENCIES},
    "cycles": {"type": "integer", "minimum": 1, "maximum": 1000},
    "start": DATE,
}, ["frequency", "cycles"])

CONDITION = obj({"name": NAME, "label": TEXT_I18N, "formula": FORMULA, "reason": TEXT_I18N},
                ["name", "formula", "reason"])

BENEFIT = obj({
    "code": CODE,
    "kind": {"enum": BENEFIT_KINDS},
    "label": TEXT_I18N,
    "description": TEXT_I18N,
    "eligible_when": FORMULA,
    # insurance
    "waiting_period_days": COUNT,
    "co_payment_percent": PERCENT,
    "ceilings": MONEY_LEVELS,
    "deductibles": MONEY_LEVELS,
    "category_limits": {"type": "object", "propertyNames": {"enum": SERVICE_CATEGORIES},
                        "additionalProperties": COUNT},
    "services": {"type": "array", "items": SERVICE},
    "items": {"type": "array", "items": SERVICE},
    "facility_levels": {"type": "array", "items": NAME},
    "review": obj({"sample_percent": PERCENT, "amount_above": NON_NEG},
                  description="claims sent to manual review: a random share, and every claim above an amount"),
    # voucher
    "price": NON_NEG,
    "validity_days": {"type": "integer", "minimum": 1},
    "vouchers": {"type": "array", "items": VOUCHER, "minItems": 1},
    # cash
    "amount": {"anyOf": [NON_NEG, FORMULA]},
    "cap": NON_NEG,
    "schedule": SCHEDULE,
    "conditions": {"type": "array", "items": CONDITION},
}, ["code", "kind", "label"])

PAYMENTS = obj({
    "recipient": NAME,
    "channel_field": NAME,
    "channels": {"type": "array", "items": NAME, "minItems": 1},
    "rounding": obj({"to": {"type": "number", "exclusiveMinimum": 0},
                     "mode": {"enum": ["half_up", "down", "up"]}}, ["to"]),
    "key": {"type": "array", "items": {"enum": ["beneficiary", "scheme", "benefit", "cycle"]}, "minItems": 2,
            "uniqueItems": True},
    "payer": {"type": "string"},
})

TRANSITION = obj({
    "name": NAME,
    "label": TEXT_I18N,
    "from": {"anyOf": [NAME, {"type": "array", "items": NAME, "minItems": 1}, {"const": "*"}]},
    "to": NAME,
    "roles": {"type": "array", "items": NAME, "minItems": 1},
}, ["name", "from", "to", "roles"])

WORKFLOW = obj({
    "initial": NAME,
    "states": {"type": "array", "items": NAME, "minItems": 1, "uniqueItems": True},
    "final": {"type": "array", "items": NAME},
    "transitions": {"type": "array", "items": TRANSITION, "minItems": 1},
}, ["initial", "states", "transitions"])

INDICATOR = obj({
    "name": NAME,
    "label": TEXT_I18N,
    "formula": {**FORMULA, "description": "over the unit: a yes/no is counted, a number is summed"},
    "data_element": {**CODE, "description": "the DHIS2 data element code"},
    "category_option_combo": {**CODE, "description": "the DHIS2 category option combo code (default: none)"},
    "disaggregate_by": obj({
        "field": NAME,
        "combos": {"type": "object", "additionalProperties": CODE, "minProperties": 1,
                   "description": "choice value: DHIS2 category option combo code"},
    }, ["field", "combos"], "one value per choice of a unit select_one field"),
    "org_unit_field": {**NAME, "description": "a unit field holding the DHIS2 org unit code "
                                              "(default: the unit's location code)"},
    "population": {"enum": ["registered", "enrolled"],
                   "description": "registered units (default) or units with an active enrolment"},
}, ["name", "formula", "data_element"], "an aggregate indicator exported to DHIS2 (dataValueSets)")

TEST_CASE = obj({
    "name": {"type": "string"},
    "as_of": DATE,
    "renewal": {"type": "boolean"},
    "enrolment_date": DATE,
    "data": {"type": "object"},
    "expect": obj({
        "eligible": {"type": "boolean"},
        "failed_rules": NAME_LIST,
        "premium": NON_NEG,
        "contribution": obj({"employer": NON_NEG, "employee": NON_NEG, "total": NON_NEG}),
        "amounts": {"type": "object", "additionalProperties": NON_NEG},
        "vouchers": {"type": "object", "additionalProperties": COUNT},
        "entitled": {"type": "object", "additionalProperties": {"type": "boolean"},
                     "description": "benefit code: whether the beneficiary is entitled to it"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    }),
}, ["name", "data", "expect"])

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://openscheme.org/schema/scheme-definition.json",
    "title": "openscheme scheme definition",
    "type": "object",
    "additionalProperties": False,
    "required": ["scheme", "fields"],
    "properties": {
        "scheme": METADATA,
        "roles": {"type": "object", "propertyNames": NAME, "additionalProperties": ROLE},
        "presets": {"type": "object", "propertyNames": NAME, "additionalProperties": PRESET},
        "choices": {"type": "object", "propertyNames": NAME,
                    "additionalProperties": {"type": "array", "items": CHOICE, "minItems": 1}},
        "fields": {"type": "array", "items": FIELD, "minItems": 1},
        "members": MEMBERS,
        "constants": {"type": "object", "propertyNames": NAME, "additionalProperties": CONSTANT},
        "tables": {"type": "object", "propertyNames": NAME, "additionalProperties": TABLE},
        "eligibility": {"type": "array", "items": RULE},
        "contributions": CONTRIBUTIONS,
        "benefits": {"type": "array", "items": BENEFIT},
        "payments": PAYMENTS,
        "workflows": {"type": "object", "propertyNames": {"enum": ["enrolment", "claims", "payments", "vouchers"]},
                      "additionalProperties": WORKFLOW},
        "tests": {"type": "array", "items": TEST_CASE},
        "indicators": {"type": "array", "items": INDICATOR},
    },
}
