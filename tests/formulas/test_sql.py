"""Formulas as SQL mean what the interpreter means, on random registries (SQLite, and PostgreSQL
when OPENSCHEME_TEST_DATABASE_URL is set).

A formula either translates - and then, for every household, SQL gives the
interpreter's value, with SQL NULL exactly where the interpreter raises (fail
closed) - or raises NotTranslatable and is evaluated in Python by the caller.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, text

from openscheme.formulas import FormulaRuntimeError, Scope, T, compile_formula
from openscheme.formulas.sql import NotTranslatable, to_sql
from openscheme.registry.values import to_storage
from openscheme.storage.models import Base, Household, Individual, SchemeVersion

FIELD_TYPES = {"n1": "integer", "m1": "money", "d1": "date", "t": "select_one", "b1": "boolean",
               "needs": "select_multiple", "dob": "date", "sex": "select_one", "income": "integer",
               "amt": "money", "enrolled": "boolean"}
SCOPE = Scope(
    names={"n1": T.NUMBER, "m1": T.NUMBER, "d1": T.DATE, "t": T.TEXT, "b1": T.BOOL, "needs": T.LIST,
           "members": T.MEMBERS, "k": T.NUMBER, "area": T.LIST},
    member_names={"dob": T.DATE, "sex": T.TEXT, "income": T.NUMBER, "amt": T.NUMBER, "enrolled": T.BOOL,
                  "roles": T.LIST},
    constants={"k": 60, "area": ("a", "b")},
    choices={"t": frozenset("abc"), "sex": frozenset({"F", "M"}), "needs": frozenset("xyz"),
             "roles": frozenset({"head", "recipient"})},
)
AS_OF = date(2024, 6, 15)

# ---- a grammar of formulas SQL may translate (and a few it must refuse) ------------------

ints = st.integers(-5, 120).map(str)


def p(*xs):
    return "(" + " ".join(xs) + ")"


def number(d, member):
    names = ["n1", "k"] + (["income"] if member else [])
    leaves = st.one_of(st.sampled_from(names), ints)
    if d == 0:
        return leaves
    n, b, dt = number(d - 1, member), boolean(d - 1, member), date_(member)
    opts = [leaves,
            st.tuples(n, st.sampled_from(["+", "-", "*"]), n).map(lambda x: p(*x)),
            dt.map(lambda x: f"age({x})"),
            st.tuples(dt, dt).map(lambda x: f"years_between({x[0]}, {x[1]})"),
            st.tuples(dt, dt).map(lambda x: f"days_between({x[0]}, {x[1]})"),
            st.tuples(st.sampled_from(["min", "max"]), n, n).map(lambda x: f"{x[0]}({x[1]}, {x[2]})"),
            n.map(lambda x: f"abs({x})"),
            n.map(lambda x: f"coalesce(n1, {x})"),
            st.tuples(n, b, n).map(lambda x: p(x[0], "if", x[1], "else", x[2])),
            st.just("(n1 / 2)")]  # refused: exact division
    if not member:
        bm, nm = boolean(d - 1, True), number(d - 1, True)
        opts += [st.just("count(members)"), bm.map(lambda x: f"count(members, {x})"),
                 nm.map(lambda x: f"sum(members, {x})")]
    return st.one_of(*opts)


def date_(member):
    return st.sampled_from(["d1", "today()", 'date("2000-02-29")', 'date("1964-06-15")']
                           + (["dob"] if member else []))


def boolean(d, member):
    leaves = [st.sampled_from(["b1", "true", "false"])]
    if member:
        leaves += [st.sampled_from(['(sex == "F")', '(sex != "M")', "enrolled", '("head" in roles)',
                                    '(sex in ("F",))', "present(dob)"])]
    if d == 0:
        return st.one_of(*leaves)
    n, b, dt = number(d - 1, member), boolean(d - 1, member), date_(member)
    cmp = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    opts = [*leaves,
            st.tuples(n, cmp, n).map(lambda x: p(*x)),
            st.tuples(n, cmp, n, cmp, n).map(lambda x: p(*x)),
            st.tuples(dt, cmp, dt).map(lambda x: p(*x)),
            st.tuples(st.sampled_from(["in", "not in"]), st.sampled_from(['("a", "b")', "area", "()"])).map(
                lambda x: p("t", *x)),
            st.sampled_from(['("x" in needs)', '("y" not in needs)', '(t == "a")', '(t != "c")',
                             "present(t)", "present(n1)", "(m1 >= 100)", "(m1 < 0.5)", "(m1 == 12.25)"]),
            st.tuples(b, st.sampled_from(["and", "or"]), b).map(lambda x: p(*x)),
            b.map(lambda x: p("not", x)),
            st.tuples(b, b, b).map(lambda x: p(x[0], "if", x[1], "else", x[2]))]
    if not member:
        bm = boolean(d - 1, True)
        opts += [st.tuples(st.sampled_from(["any", "all"]), bm).map(lambda x: f"{x[0]}(members, {x[1]})")]
    return st.one_of(*opts)


formulas = st.one_of(boolean(3, False), number(2, False))

# ---- random registries ----------------------------------------------------------------------

dates = st.one_of(st.none(), st.dates(date(1940, 1, 1), date(2030, 12, 31)), st.just(date(1964, 6, 15)))
money = st.one_of(st.none(), st.decimals(min_value=-1000, max_value=1000, places=2), st.just(Decimal("12.25")))


def maybe(fields):
    return st.fixed_dictionaries({}, optional=fields)


member_st = st.tuples(
    maybe({"dob": dates, "sex": st.sampled_from(["F", "M"]), "income": st.integers(-100, 10**6),
           "amt": money, "enrolled": st.booleans()}),
    st.lists(st.sampled_from(["head", "recipient"]), unique=True, max_size=2),
)
household_st = st.tuples(
    maybe({"n1": st.integers(-10, 150), "m1": money, "d1": dates, "t": st.sampled_from(["a", "b", "c"]),
           "b1": st.booleans(), "needs": st.lists(st.sampled_from("xyz"), unique=True, min_size=1, max_size=3)}),
    st.lists(member_st, max_size=4),
)
registries = st.lists(household_st, min_size=1, max_size=4)


# ---- databases ----------------------------------------------------------------------------


pytestmark = pytest.mark.db


def make_engine(kind: str, tmp_path_factory, database_url: str):
    if kind == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('sqlprop') / 'p.db'}")
    else:
        if not database_url.startswith("postgresql"):
            pytest.skip("PostgreSQL: set OPENSCHEME_TEST_DATABASE_URL")
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS sqlprop CASCADE"))
            conn.execute(text("CREATE SCHEMA sqlprop"))
        admin.dispose()
        engine = create_engine(database_url, connect_args={"options": "-csearch_path=sqlprop"})
    tables = [Base.metadata.tables[n] for n in ("users", "scheme_versions", "households", "individuals")]
    Base.metadata.create_all(engine, tables=tables)
    with engine.begin() as conn:
        conn.execute(insert(SchemeVersion).values(id=1, code="t", version="1", content_hash="x", title="t",
                                                  file_name="t", yaml_text="", is_current=True))
    return engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory, database_url):
    e = make_engine(request.param, tmp_path_factory, database_url)
    yield e
    e.dispose()


def load(conn, registry):
    conn.execute(text("DELETE FROM individuals"))
    conn.execute(text("DELETE FROM households"))
    records = []
    for i, (unit, members) in enumerate(registry, start=1):
        conn.execute(insert(Household).values(id=i, uid=f"H{i:010d}", scheme_code="t", scheme_version_id=1,
                                              data=to_storage(unit), location_path="/", active=True, row_version=1))
        for j, (m, roles) in enumerate(members):
            conn.execute(insert(Individual).values(uid=f"P{i:04d}{j:06d}", scheme_code="t", scheme_version_id=1,
                                                   household_id=i, position=j, roles=roles, data=to_storage(m),
                                                   location_path="/", active=True, row_version=1))
        records.append(dict(unit) | {"members": [dict(m) | {"roles": roles} for m, roles in members]})
    return records


def reference(formula, record):
    try:
        return ("value", formula.interpret(record, AS_OF))
    except FormulaRuntimeError:
        return ("error", None)


def same(sql_value, expected, result_type) -> bool:
    if result_type == T.BOOL:  # a rule holds when its value is truthy (an empty yes/no field is no)
        return bool(sql_value) == bool(expected)
    return Decimal(sql_value) == Decimal(expected)


SETTINGS = settings(max_examples=250, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(source=formulas, registry=registries)
def test_sql_means_what_the_interpreter_means(engine, source, registry):
    formula = compile_formula(source, SCOPE)
    try:
        compiled = to_sql(formula, engine.dialect.name, FIELD_TYPES)
    except NotTranslatable:
        return
    with engine.begin() as conn:
        records = load(conn, registry)
        rows = conn.execute(text(f"SELECT u.id, ({compiled.sql}) AS v FROM households u ORDER BY u.id"),
                            compiled.params | {"as_of": AS_OF.isoformat()}).all()
    for (_hid, value), record in zip(rows, records, strict=True):
        kind, expected = reference(formula, record)
        if kind == "error":
            assert value is None, (source, record, value)
        else:
            assert value is not None, (source, record, expected, compiled.sql)
            assert same(value, expected, formula.result_type), (source, record, value, expected)


def test_refused_constructs_say_why():
    for source in ("n1 / 2 > 1", "n1 ** 2 > 1", 't + "x" == "ax"', "add_days(d1, 3) > today()", "round(m1) > 1"):
        with pytest.raises(NotTranslatable):
            to_sql(compile_formula(source, SCOPE), "postgresql", FIELD_TYPES)


def test_decimal_arithmetic_is_refused_on_sqlite_only():
    f = compile_formula("m1 + 1 > 5", SCOPE)
    to_sql(f, "postgresql", FIELD_TYPES)
    with pytest.raises(NotTranslatable):
        to_sql(f, "sqlite", FIELD_TYPES)
