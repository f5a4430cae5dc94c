"""The catalogue of diagnostic codes: what each means and how to fix it.

docs/error-codes.md is generated from this table (`python -m openscheme.definitions.codes`)
and a test checks that every code the package emits is catalogued here.
"""

from __future__ import annotations

CODES: dict[str, tuple[str, str]] = {
    "E000": ("Internal error", "The compiler itself failed. Please report the file that caused it."),
    # E1xx loading
    "E100": ("File cannot be read", "The file is missing, unreadable or not UTF-8 text."),
    "E101": ("YAML syntax error", "The text is not valid YAML: check indentation (spaces, not tabs) and the ':' after keys."),
    "E102": ("Duplicate key", "A key appears twice in the same mapping; YAML would silently keep only the last one."),
    "E103": ("Unsupported YAML feature", "Tags (!!python/...) and merge keys (<<) are refused: definitions are plain data."),
    "E104": ("Invalid key", "Keys must be plain words, not lists or mappings."),
    "E105": ("Document too large or too deep", "Nesting, file size or alias expansion exceeds the limits (protects against 'billion laughs')."),
    "E106": ("Empty file", "Start from an example: openscheme clone EXAMPLE NEW_CODE."),
    # E2xx structure
    "E200": ("Structure error", "The document does not match the format (a case not covered by a more specific code)."),
    "E201": ("Unknown key", "The key is not part of the format here, often a typo; the hint suggests the closest key."),
    "E202": ("Missing key", "A required key is absent."),
    "E203": ("Wrong type", "The value has the wrong kind: text, number, true/false, list or mapping."),
    "E204": ("Not one of the allowed values", "The value must be one of a fixed list; the hint suggests the closest."),
    "E205": ("Wrong form", "The value does not have the expected form (a code, a currency, a name, a date)."),
    "E206": ("Out of range", "A number is below its minimum or above its maximum."),
    "E207": ("Empty or too long", "A list or text must not be empty, or is longer than allowed."),
    "E208": ("Repeated value", "A list that must hold distinct values repeats one."),
    # E3xx names and references
    "E301": ("Duplicate field", "Two fields (household or member) share a name."),
    "E302": ("Duplicate value", "A choice list or table repeats a value or key."),
    "E303": ("Reserved or clashing name", "The name is used by the formula language (a function, members, true, ...) or by a constant or table."),
    "E304": ("Duplicate service or item code", "Two services or items of a benefit share a code."),
    "E305": ("Duplicate benefit code", "Two benefits share a code."),
    "E306": ("Duplicate rule or condition", "Two eligibility rules or conditions share a name."),
    "E307": ("Duplicate voucher type", "Two vouchers of a package share a type."),
    "E310": ("Unknown choice value", "A formula compares a select field with a value that is not one of its choices."),
    "E311": ("Unknown preset", "The preset is neither built in nor declared under presets:."),
    "E320": ("Bad location level", "A location field needs a level declared in scheme.location_levels."),
    "E321": ("Missing choices", "A select_one or select_multiple field needs choices."),
    "E322": ("Unknown choice list", "The named list is not declared under choices:."),
    "E323": ("choice_filter: unknown field", "A cascading select must filter by a declared field."),
    "E324": ("choice_filter: missing column", "Every choice of a filtered list needs the filter column."),
    "E325": ("Bad default", "The default does not fit the field's type or choices."),
    "E326": ("Bad bound or date", "A min/max, period or date is invalid, or min exceeds max."),
    "E327": ("Key does not apply", "The key is valid in the format but not for this type of field, benefit or scheme."),
    "E328": ("Invalid pattern", "The regular expression does not compile."),
    "E330": ("Cycle between computed fields", "Computed fields depend on each other in a loop."),
    "E331": ("Cycle in relevance", "Fields are relevant only through each other."),
    "E340": ("Unknown payment recipient or channel field", "The recipient must be beneficiary, head, unit or a declared role."),
    "E341": ("Cannot count adults and children", "extra_adult/extra_child need a member date-of-birth field."),
    "E342": ("Bad wage field", "The wage contribution needs a declared number or money field."),
    "E343": ("Unknown price table or column", "price_from names a table or column that is not declared."),
    "E344": ("Service without a price", "A service or item needs price: or price_from:."),
    "E350": ("Benefit kind not declared", "The benefit's kind must be listed in scheme.benefit_kinds."),
    "W351": ("Declared kind without a benefit", "scheme.benefit_kinds lists a kind no benefit uses."),
    "W352": ("Text missing in a declared language", "A text given per language lacks one of the languages the scheme declares; that language falls back to another."),
    "E352": ("Insurance without services", "An insurance benefit must list covered services."),
    "E353": ("Voucher package without vouchers", "A voucher benefit must list its vouchers."),
    "E354": ("Cash benefit incomplete", "A cash benefit needs an amount and a schedule."),
    "E355": ("Key of another benefit kind", "The key applies to another kind of benefit."),
    "E360": ("No contribution amount", "A premium needs a formula, lump_sum or per_member; contributions need a premium or wage."),
    "E361": ("Formula and structure together", "A premium is either a formula or a structure, not both."),
    "E370": ("Payment key too weak", "The payment key must include beneficiary and cycle, so no one is paid twice."),
    # E4xx formula syntax and allow-list
    "E400": ("Formula syntax error", "The formula is not a valid expression (compare with ==, balance parentheses)."),
    "E401": ("Construct not allowed", "The formula uses something outside the language (e.g. 'is', '~', None, bit operators)."),
    "E402": ("Attribute access", "'.name' is not allowed: formulas only use declared names and functions."),
    "E403": ("Indexing", "x[...] is not allowed; use lookup(table, key) for tables."),
    "E404": ("Lambda or comprehension", "Use count/sum/any/all over members instead."),
    "E405": ("f-string", "Formatted strings are not allowed."),
    "E406": ("Assignment", "':=' is not allowed in formulas."),
    "E407": ("Dictionary or set literal", "Use a tuple (\"a\", \"b\") for membership or declare a table."),
    "E408": ("Star arguments", "*args and **kwargs are not allowed."),
    "E409": ("Too large", "The formula, a literal, the nesting or an exponent exceeds the limits."),
    "E410": ("Unknown name", "The name is not a field, constant or table; the hint suggests the closest."),
    "E411": ("Function used as a value", "Call it: age(dob), today()."),
    "E412": ("Member field outside an aggregate", "Member fields are read inside count/sum/any/all(members, ...)."),
    "E413": ("Unknown function", "Only the documented functions can be called."),
    "E414": ("Wrong number of arguments", "The function takes a different number of arguments, or named arguments were used."),
    "E415": ("Nested aggregate", "count/sum/any/all cannot be nested."),
    "E416": ("Comment inside a formula", "A '#' would silently drop the rest of a folded formula; comment outside it."),
    # E5xx formula types
    "E501": ("Incomparable values", "The two sides have different types (e.g. a date and a number)."),
    "E502": ("Not a yes/no condition", "and/or/not/if need conditions (comparisons, yes/no fields)."),
    "E503": ("Arithmetic on the wrong types", "Only numbers take * / ** ; dates take + or - days; text takes + text."),
    "E504": ("Wrong argument type", "A function received a value of the wrong type."),
    "E505": ("Invalid date literal", "Write dates as date(\"YYYY-MM-DD\")."),
    "E506": ("Formula gives the wrong type", "E.g. a rule or relevant must give yes/no, an amount a number."),
    # E6xx workflows
    "E602": ("Unknown state", "A workflow refers to a state it does not declare."),
    "E603": ("Unknown role", "Roles are the staff roles (administrator, enrolment_officer, ...) or system."),
    "E604": ("Unreachable state", "No sequence of transitions leads to the state from the initial one."),
    "E605": ("Duplicate transition", "Two transitions with one name leave the same state."),
    "W606": ("Dead-end state", "A state that is not final has no transition out."),
    "E607": ("Transition from a final state", "A final state cannot be left."),
    # E7xx embedded tests
    "E701": ("Test data invalid or unexpected errors", "The test's record fails validation differently from what it expects."),
    "E702": ("Eligibility differs", "The test expected the opposite eligibility."),
    "E703": ("Failed rules differ", "A different set of rules failed."),
    "E704": ("Premium differs", "The computed premium is not the expected one; the hint shows the computation."),
    "E705": ("Contribution differs", "The computed wage contribution is not the expected one."),
    "E706": ("Amount differs", "A cash amount is not the expected one; the hint shows the computation."),
    "E707": ("Unknown rule or benefit in a test", "The expectation names a rule or benefit that does not exist."),
    "E708": ("Voucher count differs", "The number of vouchers of a type is not the expected one."),
    "E709": ("Entitlement differs", "The beneficiary is (or is not) entitled to a benefit, unlike what the test expects."),
    # E8xx record values (forms, API, import)
    "E801": ("Required", "The field must be filled in."),
    "E802": ("Wrong type of value", "Not a number, date, yes/no, list or text as the field needs."),
    "E803": ("Out of range", "Below min or above max (or outside valid GPS coordinates)."),
    "E804": ("Wrong length", "Text shorter than min_length or longer than max_length."),
    "E805": ("Constraint not met", "The field's constraint formula is false; the message is the scheme's constraint_message."),
    "E806": ("Wrong format", "The value does not match the field's pattern (or is not an email address)."),
    "E807": ("Not a choice", "The value is not one of the field's choices, or not one allowed by the cascading filter, or an unknown role."),
    "E808": ("Members or roles", "Too few or too many members, or a role held by too few or too many members."),
    "E809": ("Unknown field", "The record has a field the scheme does not declare."),
    "E810": ("Cannot be checked", "A formula needed for the check could not be evaluated (e.g. a value it uses is empty)."),
    "E811": ("Duplicate record", "Another record already has this value of a unique field."),
    "E812": ("Changed meanwhile", "Someone else saved the record after you opened it; reload and apply your change again."),
}


def markdown() -> str:
    groups = [("E0", "Internal"), ("E1", "Loading YAML"), ("E2", "Structure"), ("E3", "Names and references"),
              ("E4", "Formula syntax and allowed constructs"), ("E5", "Formula types"), ("E6", "Workflows"),
              ("W6", "Workflows (warnings)"), ("E7", "Embedded test cases"), ("E8", "Record values (forms, API, import)"),
              ("W3", "Warnings")]
    lines = ["# Diagnostic codes", "",
             "Every problem prints as `file.yaml:LINE:COL: CODE message (hint)`. Codes starting with W are",
             "warnings (`openscheme validate --strict` treats them as errors). This page is generated from",
             "`platform/openscheme/definitions/codes.py`.", ""]
    for prefix, title in groups:
        codes = [c for c in CODES if c.startswith(prefix)]
        if not codes:
            continue
        lines += [f"## {title}", "", "| code | meaning | what to do |", "|---|---|---|"]
        lines += [f"| {c} | {CODES[c][0]} | {CODES[c][1]} |" for c in codes]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown())
