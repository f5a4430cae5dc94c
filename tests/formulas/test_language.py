"""The formula language: functions, aggregates, membership, empty values, static errors
with their codes and positions, and the plain-language explanation.

Every value test runs both paths - the compiled function and the simpleeval reference
interpreter - and requires the same value of the same type from both.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from openscheme.formulas import FormulaError, FormulaRuntimeError, Scope, T, compile_formula

AS_OF = date(2024, 6, 15)

SCOPE = Scope(
    names={
        "income": T.NUMBER,
        "size": T.NUMBER,
        "dob": T.DATE,
        "start": T.DATE,
        "end": T.DATE,
        "flag": T.BOOL,
        "district": T.TEXT,
        "name": T.TEXT,
        "needs": T.LIST,
        "members": T.MEMBERS,
        "poorest": T.LIST,
        "pension_age": T.NUMBER,
        "rates": T.TABLE,
    },
    member_names={"dob": T.DATE, "sex": T.TEXT, "income": T.NUMBER, "disabled": T.BOOL},
    constants={
        "poorest": ("north", "east"),
        "pension_age": 60,
        "rates": {"north": {"amount": Decimal("12.50")}, "south": {"amount": 10}},
    },
    choices={
        "district": frozenset({"north", "south", "east", "west"}),
        "sex": frozenset({"male", "female"}),
        "needs": frozenset({"food", "water", "shelter"}),
    },
)

MEMBERS = [
    {"dob": date(1950, 3, 1), "sex": "female", "income": Decimal("100.50"), "disabled": False},
    {"dob": date(2022, 1, 10), "sex": "male", "income": 0, "disabled": False},
    {"dob": date(1990, 6, 15), "sex": "male", "income": Decimal("2000"), "disabled": True},
]


def run(text: str, values: dict | None = None, as_of: date = AS_OF):
    """The value of a formula; both paths must agree on value and type."""
    formula = compile_formula(text, SCOPE)
    values = values or {}
    compiled = formula.function(values, as_of)
    reference = formula.interpret(values, as_of)
    assert compiled == reference, (text, compiled, reference)
    assert type(compiled) is type(reference), (text, compiled, reference)
    assert formula.evaluate(values, as_of) == reference
    return compiled


def fails(text: str, values: dict | None = None, as_of: date = AS_OF) -> str:
    """A formula that cannot produce a value: both paths fail, `evaluate` with a clean error."""
    formula = compile_formula(text, SCOPE)
    values = values or {}
    with pytest.raises(Exception):  # noqa: B017 - the raw compiled function may raise anything
        formula.function(values, as_of)
    with pytest.raises(FormulaRuntimeError) as interpreted:
        formula.interpret(values, as_of)
    with pytest.raises(FormulaRuntimeError) as evaluated:
        formula.evaluate(values, as_of)
    assert evaluated.value.message == interpreted.value.message
    return interpreted.value.message


def refused(text: str, scope: Scope = SCOPE) -> FormulaError:
    with pytest.raises(FormulaError) as exc:
        compile_formula(text, scope)
    return exc.value


# ---- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "as_of", "expected"),
    [
        (date(2000, 6, 15), date(2024, 6, 15), 24),  # birthday on the day counts
        (date(2000, 6, 15), date(2024, 6, 14), 23),  # the day before
        (date(2000, 6, 15), date(2024, 6, 16), 24),
        (date(2000, 2, 29), date(2023, 2, 28), 22),  # leap-day birthday in a common year
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2024, 6, 15), date(2024, 6, 15), 0),
    ],
)
def test_age(born, as_of, expected):
    assert run("age(dob)", {"dob": born}, as_of) == expected


def test_age_at_a_given_date():
    assert run("age(dob, end)", {"dob": date(2000, 6, 15), "end": date(2010, 6, 15)}) == 10
    assert run('age(dob, date("2010-06-14"))', {"dob": date(2000, 6, 15)}) == 9


def test_age_at_an_empty_date_fails_instead_of_using_today():
    message = fails("age(dob, end)", {"dob": date(2000, 6, 15), "end": None})
    assert "'end' has no value" in message


def test_age_follows_the_evaluation_date():
    formula = compile_formula("age(dob) >= 18", SCOPE)
    record = {"dob": date(2006, 6, 15)}
    assert formula.evaluate(record, date(2024, 6, 15)) is True
    assert formula.evaluate(record, date(2024, 6, 14)) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('years_between(date("2000-01-31"), date("2001-01-30"))', 0),
        ('years_between(date("2000-01-31"), date("2001-01-31"))', 1),
        ('years_between(date("2001-01-31"), date("2000-01-31"))', -1),
        ('months_between(date("2024-01-15"), date("2024-03-15"))', 2),
        ('months_between(date("2024-01-15"), date("2024-03-14"))', 1),
        ('months_between(date("2024-01-31"), date("2024-02-29"))', 0),
        ('months_between(date("2023-11-01"), date("2024-02-01"))', 3),
        ('days_between(date("2024-02-28"), date("2024-03-01"))', 2),
        ('days_between(date("2023-02-28"), date("2023-03-01"))', 1),
        ('days_between(date("2024-03-01"), date("2024-02-28"))', -2),
        ('year(date("2024-02-29"))', 2024),
        ('month(date("2024-02-29"))', 2),
    ],
)
def test_date_differences(text, expected):
    result = run(text)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('add_months(date("2024-01-31"), 1)', date(2024, 2, 29)),  # end of month kept, leap year
        ('add_months(date("2023-01-31"), 1)', date(2023, 2, 28)),
        ('add_months(date("2024-03-31"), -1)', date(2024, 2, 29)),
        ('add_months(date("2024-11-30"), 3)', date(2025, 2, 28)),
        ('add_months(date("2024-12-15"), 1)', date(2025, 1, 15)),
        ('add_months(date("2024-01-15"), -13)', date(2022, 12, 15)),
        ('add_months(date("2024-05-31"), 0)', date(2024, 5, 31)),
        ('add_years(date("2024-02-29"), 1)', date(2025, 2, 28)),
        ('add_years(date("2024-02-29"), 4)', date(2028, 2, 29)),
        ('add_days(date("2024-02-28"), 1)', date(2024, 2, 29)),
        ('add_days(date("2024-03-01"), -1)', date(2024, 2, 29)),
    ],
)
def test_date_arithmetic_functions(text, expected):
    assert run(text) == expected


def test_date_plus_and_minus_days():
    record = {"start": date(2024, 2, 28), "end": date(2024, 3, 10)}
    assert run("start + 2", record) == date(2024, 3, 1)
    assert run("2 + start", record) == date(2024, 3, 1)
    assert run("start - 28", record) == date(2024, 1, 31)
    assert run("start + 1.9", record) == date(2024, 2, 29)  # whole days only


def test_date_minus_date_is_days():
    record = {"start": date(2024, 2, 28), "end": date(2024, 3, 10)}
    days = run("end - start", record)
    assert days == 11
    assert type(days) is int
    assert run("start - end", record) == -11
    assert run("end - start > 7", record) is True


def test_today_is_the_evaluation_date():
    assert run("today()") == AS_OF
    assert run("today() - 1") == date(2024, 6, 14)


def test_date_from_text_at_run_time():
    assert run("date(name)", {"name": "2024-01-02"}) == date(2024, 1, 2)
    assert "is not a date" in fails("date(name)", {"name": "2024-02-30"})


def test_dates_compare():
    assert run('dob < date("2000-01-01")', {"dob": date(1999, 12, 31)}) is True
    assert run('dob == date("2000-01-01")', {"dob": date(2000, 1, 1)}) is True


# ---- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("round(2.5)", 3),  # half up, not banker's rounding (Python's round(2.5) is 2)
        ("round(3.5)", 4),
        ("round(0.5)", 1),
        ("round(-2.5)", -3),  # half away from zero
        ("round(2.4999)", 2),
        ("round(7)", 7),
        ("round(10 / 4)", 3),
    ],
)
def test_round_half_up_to_whole_numbers(text, expected):
    result = run(text)
    assert result == expected
    assert type(result) is int


def test_round_to_decimal_places():
    assert run("round(2.345, 2)") == Decimal("2.35")
    assert run("round(2.344, 2)") == Decimal("2.34")
    assert run("round(1 / 3, 4)") == Decimal("0.3333")
    assert str(run("round(income, 2)", {"income": 7})) == "7.00"
    assert type(run("round(2.345, 2)")) is Decimal


def test_division_gives_an_exact_decimal():
    result = run("10 / 4")
    assert result == Decimal("2.5")
    assert type(result) is Decimal
    assert type(run("6 / 3")) is Decimal
    assert run("6 / 3") == 2
    assert run("income / size", {"income": Decimal("100"), "size": 3}) == Decimal(100) / Decimal(3)


def test_decimal_literals_are_exact():
    assert run("1.1 + 2.2 == 3.3") is True  # with floats this is false
    assert type(run("0.1 * 3")) is Decimal
    assert run("0.1 * 3") == Decimal("0.3")


def test_integers_stay_integers():
    for text, expected in [("2 + 3", 5), ("7 // 2", 3), ("7 % 3", 1), ("2 ** 10", 1024), ("-income", -5)]:
        result = run(text, {"income": 5})
        assert result == expected
        assert type(result) is int


def test_power_with_negative_exponent_is_decimal():
    assert run("2 ** -1") == Decimal("0.5")
    assert type(run("2 ** -1")) is Decimal


def test_division_by_zero():
    assert fails("income / size", {"income": 1, "size": 0}) == "division by zero"
    assert fails("income // size", {"income": 1, "size": 0}) == "division by zero"
    assert fails("income % size", {"income": 1, "size": 0}) == "division by zero"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("floor(2.7)", 2),
        ("floor(-2.5)", -3),
        ("ceil(2.1)", 3),
        ("ceil(-2.5)", -2),
        ("abs(-3)", 3),
        ("abs(3)", 3),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("min(2.5, 3)", Decimal("2.5")),
        ("max(income, 10)", 10),
    ],
)
def test_number_functions(text, expected):
    assert run(text, {"income": 4}) == expected


def test_text_joins_with_plus():
    assert run('name + "!"', {"name": "Ama"}) == "Ama!"


def test_lookup_reads_a_table():
    assert run('lookup(rates, district, "amount")', {"district": "north"}) == Decimal("12.50")
    assert run('lookup(rates, "south")') == {"amount": 10}
    assert "no row 'west'" in fails('lookup(rates, district, "amount")', {"district": "west"})
    assert "no column" in fails('lookup(rates, district, "other")', {"district": "north"})


def test_lookup_with_an_empty_column_fails_instead_of_returning_the_row():
    assert "has no value" in fails("lookup(rates, district, name)", {"district": "north", "name": None})


def test_present_and_coalesce():
    assert run("present(income)", {"income": 0}) is True
    assert run("present(income)", {"income": None}) is False
    assert run("present(income)", {}) is False
    assert run("present(name)", {"name": ""}) is False
    assert run("present(needs)", {"needs": []}) is False
    assert run("coalesce(income, 0) + 1", {}) == 1
    assert run("coalesce(income, 0) + 1", {"income": 4}) == 5


# ---- aggregates over members --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("count(members)", 3),
        ("count(members, age(dob) >= 60)", 1),
        ("count(members, age(dob) >= 60 or age(dob) < 5)", 2),
        ('count(members, sex == "male")', 2),
        ("count(members, disabled)", 1),
        ("sum(members, income)", Decimal("2100.50")),
        ("sum(members, age(dob))", 74 + 2 + 34),
        ('any(members, sex == "female")', True),
        ("any(members, age(dob) > 100)", False),
        ("all(members, income >= 0)", True),
        ('all(members, sex == "male")', False),
        ("count(members, age(dob) >= pension_age)", 1),  # a constant of the scheme inside
        ('count(members, district == "north")', 3),  # a household field inside
        ('count(members, sex == "male" and income > size)', 1),
    ],
)
def test_aggregates(text, expected):
    result = run(text, {"members": MEMBERS, "district": "north", "size": 1})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("members", [[], None, "missing"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("count(members)", 0),
        ("count(members, age(dob) >= 60)", 0),
        ("sum(members, income)", 0),
        ("any(members, age(dob) >= 60)", False),
        ("all(members, age(dob) >= 60)", True),
    ],
)
def test_aggregates_over_no_members(members, text, expected):
    values = {} if members == "missing" else {"members": members}
    assert run(text, values) == expected


def test_member_fields_shadow_household_fields_inside_aggregates():
    # `income` is both a household field and a member field: inside sum() it is the member's
    assert run("sum(members, income)", {"members": MEMBERS, "income": 999}) == Decimal("2100.50")
    assert run("income + sum(members, income)", {"members": MEMBERS, "income": 1}) == Decimal("2101.50")


def test_count_of_a_list():
    assert run("count(needs)", {"needs": ["food", "water"]}) == 2
    assert run("count(needs)", {"needs": None}) == 0


def test_a_member_without_the_field():
    members = [{"dob": date(1950, 1, 1)}, {"sex": "male"}]
    assert "'dob' has no value" in fails("count(members, age(dob) >= 60)", {"members": members})
    assert "has no value" in fails("sum(members, income)", {"members": members})
    assert run('count(members, sex == "male")', {"members": members}) == 1  # == is null-safe


def test_any_and_all_stop_at_the_first_decisive_member():
    members = [{"income": 100}, {"income": None}]
    assert run("any(members, income > 50)", {"members": members}) is True
    assert run("all(members, income < 50)", {"members": members}) is False


def test_a_member_that_is_not_a_record_fails_cleanly():
    assert "not a record" in fails("sum(members, income)", {"members": [1, 2]})


# ---- membership, conditions, names ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "district", "expected"),
    [
        ('district in ("north", "east")', "north", True),
        ('district in ("north", "east")', "south", False),
        ('district in ["north", "east"]', "east", True),
        ('district not in ["north", "east"]', "east", False),
        ("district in poorest", "east", True),
        ("district not in poorest", "west", True),
        ("district in poorest", None, False),  # an empty value is in no list
        ('"nor" in district', "north", True),  # text in text: a substring
    ],
)
def test_membership(text, district, expected):
    assert run(text, {"district": district}) is expected


def test_membership_in_a_multiple_choice_answer():
    assert run('"food" in needs', {"needs": ["food", "water"]}) is True
    assert run('"shelter" in needs', {"needs": ["food", "water"]}) is False
    assert run("3 in (1, 2, 3)") is True
    assert run("size in (1, 2.5)", {"size": Decimal("2.5")}) is True


def test_a_list_equals_a_list_answer():
    assert run('needs == ["food", "water"]', {"needs": ["food", "water"]}) is True
    assert run('needs != ["food"]', {"needs": ["food", "water"]}) is True


def test_if_else():
    assert run("100 if flag else 50", {"flag": True}) == 100
    assert run("100 if flag else 50", {"flag": False}) == 50
    assert run("100 if flag else 50", {"flag": None}) == 50  # an empty condition is not met
    assert run('"a" if size > 3 else "b" if size > 1 else "c"', {"size": 2}) == "b"
    assert run("start if flag else end", {"flag": True, "start": date(2024, 1, 1)}) == date(2024, 1, 1)


def test_true_and_false():
    assert run("true") is True
    assert run("false") is False
    assert run("true and not false") is True
    assert run("flag == true", {"flag": True}) is True
    assert run("flag == false", {"flag": True}) is False
    assert run("True or flag", {}) is True


def test_chained_comparison():
    assert run("0 < size <= 10", {"size": 10}) is True
    assert run("0 < size <= 10", {"size": 11}) is False


def test_multi_line_formula():
    assert run("size > 1 and\n    district in poorest", {"size": 2, "district": "north"}) is True


# ---- empty values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("income > 100", "income"),
        ("income + 1 > 100", "income"),
        ("100 < income", "income"),
        ("-income < 0", "income"),
        ("age(dob) >= 18", "dob"),
        ("end - start > 3", "start"),
        ("round(income)", "income"),
        ("income / 2 > 1", "income"),
        ("start + 1 > end", "start"),
    ],
)
def test_missing_values_fail_naming_the_field(text, field):
    message = fails(text, {"end": date(2024, 1, 1)})
    assert f"'{field}'" in message
    assert "has no value" in message


def test_equality_with_a_missing_value_is_false_not_an_error():
    assert run("income == 100", {}) is False
    assert run("income != 100", {}) is True
    assert run('district == "north"', {"district": None}) is False


def test_explain_reports_the_missing_field():
    explanation = compile_formula("income > 100", SCOPE).explain({}, AS_OF)
    assert explanation.value is None
    assert explanation.error == "'income' has no value"


# ---- static errors: codes, messages, positions -------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "line", "col", "in_message", "in_hint"),
    [
        # E400 syntax
        ("income +", "E400", 1, 8, "syntax error", ""),
        ("income = 3", "E400", 1, 0, "syntax error", "compare with '=='"),
        ("(income > 0", "E400", 1, 0, "unbalanced parentheses", ""),
        ("income > 0)", "E400", 1, 10, "unbalanced parentheses", ""),
        ("import os", "E400", 1, 0, "syntax error", ""),
        ("   ", "E400", 1, 0, "empty", ""),
        # E401 construct outside the language
        ("~size", "E401", 1, 0, "'~'", ""),
        ("size << 2", "E401", 1, 0, "'<<'", ""),
        ("size @ 2", "E401", 1, 0, "'@'", ""),
        ("None", "E401", 1, 0, "None", "present(x)"),
        ("flag is True", "E401", 1, 0, "'is'", "present(x)"),
        ("b'x' == name", "E401", 1, 0, "b'x'", ""),
        # E402 attribute, E403 subscript
        ("income.real", "E402", 1, 0, "'.real'", "declared names"),
        ("size > 1 and name.upper()", "E402", 1, 13, "'.upper'", ""),
        ("needs[0]", "E403", 1, 0, "indexing", "lookup(table, key)"),
        # E404 lambda/comprehensions, E405 f-string
        ("lambda: 1", "E404", 1, 0, "lambda", ""),
        ("count([c for c in needs])", "E404", 1, 6, "comprehension", "count/sum/any/all"),
        ("count(x for x in needs)", "E404", 1, 5, "generator", ""),
        ("{c for c in needs}", "E404", 1, 0, "comprehension", ""),
        ('f"{name}" == name', "E405", 1, 0, "f-string", ""),
        # E406-E408
        ("(size := 3) > 1", "E406", 1, 1, ":=", ""),
        ('{"a": 1}', "E407", 1, 0, "dictionaries", "table"),
        ('district in {"north"}', "E407", 1, 12, "sets", "tuple"),
        ("max(*needs)", "E408", 1, 4, "star", ""),
        # E409 too long / too large
        ("size ** 1000", "E409", 1, 0, "exponent 1000 is too large", "at most 100"),
        ("9 ** 9 ** 9", "E409", 1, 0, "too large", "at most 100"),
        ("size ** -101", "E409", 1, 0, "too large", ""),
        ("(10 ** 20) ** 2", "E409", 1, 0, "base", ""),
        ('name == "' + "x" * 1001 + '"', "E409", 1, 8, "text longer than 1000", ""),
        ("size + " * 700 + "size", "E409", 1, 0, "longer than 4000", "computed fields"),
        ("-" * 80 + "size", "E409", 1, 61, "deeply nested", ""),
        # E410 unknown name
        ("incme > 3", "E410", 1, 0, "unknown name 'incme'", "did you mean 'income'?"),
        ("size > 1 and\n  distrct == 'north'", "E410", 2, 2, "'distrct'", "did you mean 'district'?"),
        ("zzz", "E410", 1, 0, "unknown name 'zzz'", ""),
        ("count(members, sx == 'male')", "E410", 1, 15, "'sx'", "did you mean 'sex'?"),
        # E411 function used as a name
        ("size + age", "E411", 1, 7, "'age' is a function", "age(...)"),
        # E412 member field outside an aggregate
        ('size > 1 and sex == "male"', "E412", 1, 13, "'sex' is a member field", "any(members, sex"),
        # E413 unknown function
        ("agee(dob)", "E413", 1, 0, "unknown function 'agee'", "did you mean 'age'?"),
        ("size(3)", "E413", 1, 0, "unknown function 'size'", "is a value"),
        ("frobnicate(3)", "E413", 1, 0, "unknown function", "docs/definition-reference.md"),
        # E414 wrong argument count (or named arguments)
        ("age()", "E414", 1, 0, "takes 1 to 2 arguments, got 0", ""),
        ("year(dob, dob)", "E414", 1, 0, "takes 1 argument, got 2", ""),
        ("min(3)", "E414", 1, 0, "at least two", ""),
        ("sum(members)", "E414", 1, 0, "sum(members, income)", ""),
        ("any(members)", "E414", 1, 0, "any()", ""),
        ("age(born=dob)", "E414", 1, 0, "no named arguments", ""),
        # E415 nested aggregate
        ("count(members, any(members, disabled))", "E415", 1, 15, "cannot be nested", ""),
        # E501 comparisons
        ("dob > 60", "E501", 1, 0, "cannot compare a date with a number", "age()"),
        ("age(dob) > dob", "E501", 1, 0, "cannot compare a number with a date", "days_between()"),
        ('size > "3"', "E501", 1, 0, "cannot compare a number with a text", "without quotes"),
        ("flag > false", "E501", 1, 0, "no order", ""),
        ("1 if flag else dob", "E501", 1, 0, "branches", ""),
        ('size in (1, "a")', "E501", 1, 8, "mixes", ""),
        ("size in size", "E501", 1, 8, "needs a list", "tuple"),
        ('size in ("a", "b")', "E501", 1, 0, "the list holds text", ""),
        # E502 and/or/not/if on a non-condition
        ("size and flag", "E502", 1, 0, "'and' needs yes/no conditions, but 'size' is a number", "x > 0"),
        ("flag or size", "E502", 1, 8, "'or' needs", ""),
        ("not size", "E502", 1, 0, "'not' needs", ""),
        ("1 if size else 2", "E502", 1, 5, "condition after 'if'", ""),
        # E503 arithmetic types
        ("dob + dob", "E503", 1, 0, "cannot compute a date + a date", "age()"),
        ("dob * 2", "E503", 1, 0, "a date * a number", "days"),
        ('name * 3', "E503", 1, 0, "a text * a number", "joined with +"),
        ('name + 1', "E503", 1, 0, "a text + a number", ""),
        ("flag + 1", "E503", 1, 0, "a yes/no + a number", ""),
        ("-dob", "E503", 1, 0, "a sign needs a number", ""),
        # E504 argument types
        ("age(size)", "E504", 1, 4, "age() needs a date, but 'size' is a number", ""),
        ('age("2000-01-01")', "E504", 1, 4, "needs a date", 'date("2025-01-31")'),
        ("round(name)", "E504", 1, 6, "round() needs a number", ""),
        ("sum(members, sex)", "E504", 1, 13, "for each member", ""),
        ("any(members, income)", "E504", 1, 13, "yes/no for each member", ""),
        ("count(size)", "E504", 1, 6, "members or a list", ""),
        ("sum(needs, income)", "E504", 1, 4, "works over members", ""),
        # E505 bad date literal
        ('date("2024-02-30")', "E505", 1, 5, "'2024-02-30' is not a date", "YYYY-MM-DD"),
        ('dob > date("31/01/2024")', "E505", 1, 11, "is not a date", "YYYY-MM-DD"),
        # E310 unknown choice value
        ('district == "nort"', "E310", 1, 12, "'nort' is not a choice of 'district'", "did you mean 'north'?"),
        ('"nort" == district', "E310", 1, 0, "not a choice", "'north'"),
        ('district in ("north", "wst")', "E310", 1, 22, "'wst'", "did you mean 'west'?"),
        ('district == "zzzz"', "E310", 1, 12, "not a choice", "choices: east, north, south, west"),
        ('count(members, sex == "mal")', "E310", 1, 22, "not a choice of 'sex'", "'male'"),
        ('"fod" in needs', "E310", 1, 0, "'fod' is not a choice of 'needs'", "'food'"),
    ],
)
def test_static_errors(text, code, line, col, in_message, in_hint):
    error = refused(text)
    assert error.code == code, (error.code, str(error))
    assert in_message in error.message
    assert in_hint in error.hint
    assert (error.line, error.col) == (line, col), str(error)
    assert str(error).startswith(f"{code} ")


def test_columns_count_characters_not_bytes():
    error = refused('name == "é€" and incme > 1')
    assert (error.code, error.line, error.col) == ("E410", 1, 17)


def test_error_on_a_later_line_of_a_block():
    error = refused("size > 1 and\n  size < 10 and\n      dob > 3")
    assert (error.code, error.line, error.col) == ("E501", 3, 6)


def test_error_string_carries_the_hint():
    assert str(refused("dob > 60")) == (
        "E501 cannot compare a date with a number ('dob' and '60') "
        "(turn the date into a number with age(), years_between() or days_between())"
    )


def test_what_a_formula_reads():
    formula = compile_formula("district in poorest and count(members, age(dob) >= pension_age) >= 1", SCOPE)
    assert formula.names == {"district", "poorest", "members", "pension_age"}
    assert formula.member_names == {"dob"}
    assert formula.result_type is T.BOOL
    assert compile_formula("sum(members, income) / 2", SCOPE).result_type is T.NUMBER
    assert compile_formula("start + 2", SCOPE).result_type is T.DATE


# ---- explanations ----------------------------------------------------------------------


def test_explain_a_failed_condition():
    formula = compile_formula("age(dob) >= pension_age", SCOPE)
    explanation = formula.explain({"dob": date(1966, 1, 2)}, AS_OF)
    assert explanation.value is False
    assert explanation.error is None
    assert "age(dob) >= pension_age is false (58 < 60)" in explanation.steps
    assert "dob = 1966-01-02" in explanation.steps
    assert "age(dob) = 58" in explanation.steps
    assert "pension_age = 60" in explanation.steps


def test_explain_an_eligibility_rule():
    formula = compile_formula(
        "district in poorest and count(members, age(dob) >= 60 or age(dob) < 5) >= 2 "
        "and sum(members, income) < 50000",
        SCOPE,
    )
    explanation = formula.explain({"district": "north", "members": MEMBERS}, AS_OF)
    assert explanation.value is True
    steps = explanation.steps
    assert 'district in poorest is true ("north" in ("north", "east"))' in steps
    assert "count(members, age(dob) >= 60 or age(dob) < 5) >= 2 is true (2 ≥ 2)" in steps
    assert "sum(members, income) = 2,100.50" in steps
    assert "sum(members, income) < 50000 is true (2,100.50 < 50,000)" in steps
    assert steps[-1].endswith("is true")
    # member-level values are not listed one by one
    assert not any(step.startswith("sex") for step in steps)


def test_explain_stops_at_the_first_false_condition():
    formula = compile_formula("district in poorest and size > 2", SCOPE)
    explanation = formula.explain({"district": "west", "size": 5}, AS_OF)
    assert explanation.value is False
    assert 'district in poorest is false ("west" not in ("north", "east"))' in explanation.steps
    assert not any(step.startswith("size") for step in explanation.steps)


def test_explain_values_are_readable():
    formula = compile_formula("round(income / 3, 2) == 333.33 and flag", SCOPE)
    explanation = formula.explain({"income": 1000, "flag": True}, AS_OF)
    assert explanation.value is True
    assert "round(income / 3, 2) = 333.33" in explanation.steps
    assert "flag = yes" in explanation.steps
