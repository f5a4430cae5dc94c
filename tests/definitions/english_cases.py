"""Broken definitions beyond tests/fixtures/invalid: one small change to a fixture each, so that every
English message the compiler can print (loading, names, fields, benefits, workflows, test cases) is
met by at least one case. test_english_unchanged.py compares what they print with english_before.json,
captured before these messages were given a French text.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from openscheme.definitions import compile_file, compile_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VALID = FIXTURES / "valid" / "gm_nafa_quick.yaml"


def fixture(name: str) -> str:
    path = VALID if name == "valid" else FIXTURES / "invalid" / f"{name}.yaml"
    return path.read_text("utf-8")


def sub(name: str, *changes: tuple[str, str]) -> str:
    """The fixture with each (old, new) replaced once; `old` must be there."""
    text = fixture(name)
    for old, new in changes:
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    return text


# a household template with a premium (tz), a voucher one (ke) and the cash one (gm, "valid")
TZ = "e704_wrong_premium"
KE = "e708_wrong_voucher_count"
GM = "valid"
WF = "e604_unreachable_state"

TEXTS: dict[str, str] = {
    # ---- loading (E1xx) ---------------------------------------------------------------------------
    "e101_several_documents": "a: 1\n---\nb: 2\n",
    "e101_tab": "scheme:\n\tcode: x\n",
    "e102_twice": "a: 1\nb: 2\na: 3\nb: 4\n",
    "e103_tag_on_mapping": "a: !!python/object {x: 1}\n",
    "e104_flow_key": "{[a]: 1}\n",
    "e105_recursive_alias": "a: &x [1, *x]\n",
    "e105_too_deep": "a: " + "[" * 120 + "]" * 120 + "\n",
    "e105_too_many": "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                     "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
    "e106_null_document": "~\n",
    "e106_only_comments": "# nothing here\n",
    "e105_too_large": "a: " + "x" * 5_000_001 + "\n",
    # ---- names, fields, references (E3xx and the E2xx found after the schema) ---------------------
    "e303_roles_field": sub(GM, ("    - preset: first_name\n", "    - preset: first_name\n    - {name: roles, type: text}\n")),
    "e303_reserved_constant": sub(GM, ("  base_amount: 1500", "  count: 1\n  base_amount: 1500")),
    "e303_reserved_table": sub(GM, ("constants:", "tables:\n  sum:\n    key: k\n    rows: [{k: a, v: 1}]\n\nconstants:")),
    "e326_constant_date": sub(GM, ("  base_amount: 1500", "  start_day: 2020-02-31\n  base_amount: 1500")),
    "e202_e203_e302_table_rows": sub(GM, ("constants:", "tables:\n  t:\n    key: k\n    rows: [{k: a, v: 1}, {v: 2}, "
                                                      "{k: [1], v: 3}, {k: a, v: 4}]\n\nconstants:")),
    "e311_preset_no_suggestion": sub(GM, ("    - preset: last_name", "    - preset: zzqqx")),
    "e311_preset_suggestion": sub(GM, ("    - preset: last_name", "    - preset: last_nme")),
    "e321_select_without_choices": sub(GM, ("    choices: channels\n", "")),
    "e322_unknown_list_suggestion": sub(GM, ("    choices: channels", "    choices: chanels")),
    "e322_unknown_list": sub(GM, ("    choices: channels", "    choices: zzqqx")),
    "e323_filter_field_no_suggestion": sub(GM, ("field: region}", "field: zzqqx}")),
    "e320_level_suggestion": sub(GM, ("    type: text\n    required: true\n    label: {en: Village",
                                      "    type: location\n    level: vilage\n    required: true\n    label: {en: Village")),
    "e327_level_on_text": sub(GM, ("    type: text\n    required: true\n    label: {en: Village",
                                   "    type: text\n    level: village\n    required: true\n    label: {en: Village")),
    "e326_bounds": sub(GM, ("    type: text\n    required: true\n    label: {en: Village",
                            "    type: text\n    min: 1\n    required: true\n    label: {en: Village"),
                       ("    - preset: date_of_birth", "    - {preset: date_of_birth, min: 1990-02-30, max: 5}\n"
                                                      "    - {name: size, type: integer, min: 9, max: 2, decimals: 1, "
                                                      "max_length: 3, calculate: '1', constraint_message: x}")),
    "e325_defaults": sub(GM, ("    choices: channels", "    choices: channels\n    default: cheque"),
                         ("    - preset: date_of_birth", "    - {preset: date_of_birth, default: soon}\n"
                                                      "    - {name: size, type: integer, default: many}\n"
                                                      "    - {name: ok, type: boolean, default: 'yes'}\n"
                                                      "    - {name: langs, type: select_multiple, default: [fr, xx], "
                                                      "choices: [{value: fr}, {value: en}]}")),
    "e327_roles_on_individual": sub(KE, ("fields:", "roles:\n  head: {min: 1}\n\nfields:")),
    "e326_period_and_roles": sub(GM, ("end: 2020-12-31}", "end: 2020-12-32}"),
                                 ("min: 1, max: 1}\n  primary", "min: 2, max: 1}\n  primary"),
                                 ("  min: 1\n  max: 30", "  min: 5\n  max: 3")),
    "e361_e341_e202_premium": sub(TZ, ("    lump_sum: 30000\n    members_covered: 6\n", "    formula: '1000'\n    lump_sum: 30000\n"),
                                  ("    - preset: date_of_birth", "    - preset: first_name")),
    "e341_individual": sub(KE, ("benefits:", "contributions:\n  premium: {lump_sum: 10, members_covered: 1, extra_adult: 5}\n\n"
                                             "benefits:")),
    "e342_wage": sub(TZ, ("  premium:\n    lump_sum: 30000\n    members_covered: 6\n    extra_adult: 5000\n    extra_child: 2500\n",
                          "  wage: {field: wages, employer_percent: 1, employee_percent: 1}\n")),
    "e342_wage_text": sub(TZ, ("  premium:\n    lump_sum: 30000\n    members_covered: 6\n    extra_adult: 5000\n    extra_child: 2500\n",
                               "  wage: {field: village, employer_percent: 1, employee_percent: 1}\n")),
    "e342_wage_member": sub(TZ, ("  premium:\n    lump_sum: 30000\n    members_covered: 6\n    extra_adult: 5000\n    extra_child: 2500\n",
                                 "  wage: {field: pay, employer_percent: 1, employee_percent: 1}\n"),
                            ("    - preset: date_of_birth", "    - preset: date_of_birth\n    - {name: pay, type: money}")),
    "e343_e344_e326_services": sub(TZ, ("category: delivery, price: 40000}",
                                        "category: delivery, price_from: {table: tarifs, column: x}, age: {min: 9, max: 2}}\n"
                                        "      - {code: XR1, label: X-ray, category: other}")),
    "e304_e350_e355_e352": sub(KE, ("    price: 200\n", "    price: 200\n    services: []\n    amount: 5\n"),
                               ("benefit_kinds: [voucher]", "benefit_kinds: [voucher, cash]")),
    "e350_e352_insurance": sub(KE, ("    kind: voucher", "    kind: insurance"),
                               ("    price: 200\n    vouchers:\n      - {type: antenatal, count: 4, services: [ANC1]}\n"
                                "      - {type: delivery, count: 1, services: [DEL1]}\n", ""),
                               ("      vouchers: {antenatal: 8, delivery: 1}", "")),
    "e340_recipient_and_channel": sub(GM, ("recipient: primary_recipient", "recipient: zzqqx"),
                                      ("channel_field: payment_channel", "channel_field: payment_chanel"),
                                      ("key: [beneficiary, scheme, benefit, cycle]", "key: [scheme, benefit]")),
    "e340_recipient_suggestion": sub(GM, ("recipient: primary_recipient", "recipient: primary_recipent"),
                                     ("channel_field: payment_channel", "channel_field: zzqqx")),
    "e506_e327_e204_e202_indicators": sub(GM, ("payments:", "indicators:\n"
                                               "  - {name: a, formula: village, data_element: x}\n"
                                               "  - {name: b, formula: 'true', data_element: y, org_unit_field: zzqqx,\n"
                                               "     disaggregate_by: {field: region, combos: {URR: u, XXX: x}}}\n"
                                               "  - {name: c, formula: 'true', data_element: z, org_unit_field: villag,\n"
                                               "     disaggregate_by: {field: villag, combos: {a: b}}}\n\npayments:")),
    "e326_e320_e360_more": sub(GM, ("    type: text\n    required: true\n    label: {en: Village",
                                    "    type: location\n    level: zzqqx\n    required: true\n    label: {en: Village"),
                               ("    - preset: date_of_birth", "    - {name: size, type: integer, min: abc}"),
                               ("payments:", "contributions: {frequency: yearly}\n\npayments:")),
    "e306_conditions_and_indicators": sub(GM, ("    schedule: {frequency: monthly, cycles: 3, start: 2020-08-01}",
                                               "    schedule: {frequency: monthly, cycles: 3, start: 2020-08-01}\n"
                                               "    conditions:\n      - {name: c, formula: 'true', reason: r}\n"
                                               "      - {name: c, formula: 'true', reason: r}"),
                                          ("payments:", "indicators:\n  - {name: a, formula: 'true', data_element: x}\n"
                                                        "  - {name: a, formula: 'true', data_element: y}\n\npayments:")),
    # ---- workflows (E6xx) -------------------------------------------------------------------------
    "e602_e603_e605_e607_w606": sub(WF, ("final: [paid, cancelled, on_hold]", "final: [paid, cancelled, gone]"),
                                    ("to: approved, roles: [payment_officer]}",
                                     "to: approved, roles: [zzqqx]}\n      - {name: approve, from: draft, to: nowhere, "
                                     "roles: [payment_oficer]}\n      - {name: reopen, from: paid, to: draft, roles: [system]}"),
                                    ("to: cancelled, roles: [payment_officer]}",
                                     "to: cancelled, roles: [payment_officer]}\n      - {name: hold, from: approved, "
                                     "to: on_hold, roles: [system]}"),
                                    ("final: [paid, cancelled, gone]", "final: [paid, cancelled, gone, tobe]"),
                                    ("states: [draft, approved, paid, cancelled, on_hold]",
                                     "states: [draft, approved, paid, cancelled, on_hold, tobe]"),
                                    ("final: [paid, cancelled, gone, tobe]", "final: [paid, cancelled, gone, tobe]\n"
                                     "    # on_hold is not final and has no way out")),
    "e602_unknown_initial": sub(WF, ("initial: draft", "initial: drafts")),
    # ---- the scheme's own test cases (E7xx) -------------------------------------------------------
    "e701_wrong_code_and_unexpected": sub(GM, ("errors: {district: E807}", "errors: {district: E801, village: E801}")),
    "e701_unexpected": sub(GM, ("errors: {district: E807}", "errors: {village: E801}")),
    "e707_rules_and_amounts": sub(GM, ("failed_rules: [poorest_district]", "failed_rules: [poorest_distric, zzqqx]"),
                                  ("amounts: {nafa_quick: 0}", "amounts: {nafa_quik: 0, zzqqx: 1}\n      entitled: "
                                   "{nafa_quic: true, zzqqx: false}")),
    "e707_voucher_types": sub(KE, ("vouchers: {antenatal: 8, delivery: 1}", "vouchers: {antenatl: 4, zzqqx: 1}")),
    "e704_no_premium": sub(GM, ("amounts: {nafa_quick: 2200}", "amounts: {nafa_quick: 2200}\n      premium: 10")),
}


def diagnostics_of(name: str) -> list:
    """The diagnostics of a case: a text above, or one of the few that need a file."""
    if name == "e100_missing_file":
        return compile_file(FIXTURES / "no-such-file.yaml", display_name="missing.yaml").diagnostics
    if name == "e100_not_utf8":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "latin1.yaml"
            path.write_bytes(b"scheme:\n  title: caf\xe9\n")
            return compile_file(path, display_name="latin1.yaml").diagnostics
    return compile_text(TEXTS[name], f"{name}.yaml").diagnostics


CASES = ["e100_missing_file", "e100_not_utf8", *TEXTS]
