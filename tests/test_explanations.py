"""The engine's explanation lines (premiums, contributions, benefits, formula steps) in English and
French, and numbers written the way each language writes them (`numformat`)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from openscheme import numformat
from openscheme.definitions import load_scheme
from openscheme.evaluation import explanations as ex
from openscheme.evaluation.engine import evaluate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NNBSP = "\u202f"  # the narrow no-break space French groups digits with


def case(code: str, name_part: str = ""):
    scheme = load_scheme(EXAMPLES / f"{code}.yaml")
    t = next(t for t in scheme.tests if name_part in t.name)
    return scheme, t


def english_words(lines: list[str]) -> list[str]:
    words = {"lump sum", "extra", "child", "adult", "registration fee", "premium", "discount", "employer",
             "employee", "contribution", "covers", "item(s)", "waiting period", "ceiling", "per household",
             "vouchers", "price to", "per cycle", " is true", " is false", " yes", " no", "(empty)", "entitled", "capped",
             "rounded", "total"}
    text = " | ".join(lines).lower()
    if re.search(r"\d members?\b", text):
        words.add("member")
    return sorted(w for w in words if re.search(r"(?<![a-zà-ÿ_])" + re.escape(w.strip()) + r"(?![a-zà-ÿ_])", text))


def test_numbers_as_each_language_writes_them():
    assert numformat.money(Decimal("1234567.5"), "en") == "1,234,567.50"
    assert numformat.money(Decimal("1234567.5"), "fr") == f"1{NNBSP}234{NNBSP}567,50"
    assert numformat.money(Decimal("2500.00"), "fr") == f"2{NNBSP}500" and numformat.money(Decimal("2500"), "en") == "2,500"
    assert numformat.money(None, "fr") == "" and numformat.money("n/a", "fr") == "n/a"
    assert numformat.decimal(Decimal("0.125"), "fr") == "0,125" and numformat.decimal(Decimal("1E+3"), "en") == "1,000"
    assert numformat.number(1234567, "fr") == f"1{NNBSP}234{NNBSP}567" and numformat.number(1234567, "en") == "1,234,567"
    assert numformat.number(Decimal("1.5"), "fr", places=2) == "1,50"
    assert numformat.money(Decimal("1234.5"), "fr_FR") == f"1{NNBSP}234,50"
    assert numformat.money(Decimal("1234.5"), "xx") == "1,234.50"  # a language Babel does not know


def test_a_premium_is_explained_in_english_as_before_and_in_french():
    scheme, t = case("tz_chf", "new household of 8")
    premium = evaluate(scheme, dict(t.data), as_of=t.as_of, enrolment_date=t.enrolment_date).premium
    assert premium.lines == ["lump sum 30,000 for up to 6 members", "2 extra child(ren) under 18 × 2,500 = 5,000",
                             "registration fee 2,000", "premium = 37,000 TZS"]
    assert premium.lines_in("en") == premium.lines
    french = premium.lines_in("fr")
    assert french == [f"forfait de 30{NNBSP}000 pour 6 membres au plus",
                      f"2 enfant(s) supplémentaire(s) de moins de 18 ans × 2{NNBSP}500 = 5{NNBSP}000",
                      f"frais d'inscription 2{NNBSP}000", f"prime = 37{NNBSP}000 TZS"]
    assert english_words(french) == []
    renewal = evaluate(scheme, dict(t.data), as_of=t.as_of, renewal=True).premium
    assert any(line.startswith("remise de renouvellement 10") for line in renewal.lines_in("fr"))


def test_a_premium_formula_and_its_steps_in_french():
    scheme, t = case("np_hib", "family of 8")
    premium = evaluate(scheme, dict(t.data), as_of=t.as_of, lang="fr").premium
    assert "ultra_poor = no" in premium.lines and "members: 8 members" in premium.lines
    french = premium.lines_in("fr")
    assert "ultra_poor = non" in french and "members : 8 membres" in french
    assert f"family_premium = 3{NNBSP}500" in french and french[-1] == f"prime = 5{NNBSP}600 NPR"
    assert english_words(french) == [], english_words(french)


def test_wage_contributions_and_benefits_in_french():
    scheme, t = case("np_ssf", "earning 50,000")
    ev = evaluate(scheme, dict(t.data), as_of=t.as_of, lang="fr")
    assert ev.contribution["employee"].lines == ["monthly_wage = 50,000", "employee 11% = 5,500"]
    assert ev.contribution["employee"].lines_in("fr") == [f"Salaire de base mensuel (NPR) = 50{NNBSP}000",
                                                          f"part du salarié 11{NNBSP}% = 5{NNBSP}500"]
    assert ev.contribution["total"].lines_in("fr") == [f"cotisation mensuelle totale = 15{NNBSP}500 NPR"]
    low = evaluate(scheme, dict(t.data, monthly_wage=9000), as_of=t.as_of)
    assert low.contribution["employer"].lines[0] == "monthly_wage = 9,000, raised to the minimum wage 17,300"
    assert low.contribution["employer"].lines_in("fr")[0] == \
        f"Salaire de base mensuel (NPR) = 9{NNBSP}000, porté au salaire minimum 17{NNBSP}300"
    lines = [line for b in ev.benefits for line in b.lines_in("fr")]
    assert f"plafond 100{NNBSP}000 par personne" in lines and "délai de carence de 90 jours" in lines
    assert english_words(lines) == [], english_words(lines)


def test_vouchers_and_cash_lines_in_french():
    scheme, t = case("cm_cheque_sante")
    b = evaluate(scheme, dict(t.data), as_of=t.as_of, lang="en").benefits[0]
    assert b.lines[0].startswith("vouchers: 4 × ") and b.lines_in("fr")[0].startswith("bons : 4 × Consultation prénatale")
    scheme, t = case("gm_nafa_quick")
    cash = evaluate(scheme, dict(t.data), as_of=t.as_of).benefits[0].amount
    assert cash.lines[-1].endswith("per cycle, 3 monthly cycle(s)")
    assert cash.lines_in("fr")[-1] == f"2{NNBSP}200 GMD par cycle, 3 cycle(s) mensuel(s)"
    assert english_words(cash.lines_in("fr")) == []


def test_a_benefit_not_applying_is_said_in_french_with_the_schemes_reason():
    scheme, t = case("np_ssf", "earning 50,000")
    ev = evaluate(scheme, dict(t.data, employment_status="paid_leave"), as_of=t.as_of, lang="en")
    accident = ev.benefit("ssf_accident")
    assert not accident.entitled and accident.lines[0].startswith("not entitled: ")
    french = accident.lines_in("fr")
    assert french[0].startswith("pas de droit : ") and french[0].endswith("n'est pas rempli")
    assert any(line.endswith(" est faux") or " est faux (" in line for line in french), french


def test_stored_lines_are_read_in_either_language():
    scheme, t = case("tz_chf", "new household of 8")
    premium = evaluate(scheme, dict(t.data), as_of=t.as_of, enrolment_date=t.enrolment_date).premium
    stored = ex.stored(premium.parts)
    assert [s[0] for s in stored] == premium.lines
    assert ex.lines(stored, "fr") == premium.lines_in("fr")
    assert ex.lines(["an old line, kept as written"], "fr") == ["an old line, kept as written"]
    assert ex.text(["premium = 5 TZS", "a key of a later version", {}], "fr") == "premium = 5 TZS"


def test_every_explanation_has_english_and_french_with_the_same_placeholders():
    for key, texts in ex.TEXTS.items():
        assert set(texts) >= {"en", "fr"}, key
        names = [sorted(re.findall(r"\{(\w+)", texts[lang])) for lang in ("en", "fr")]
        assert names[0] == names[1], key


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_steps_of_every_kind_of_value(lang):
    from openscheme.formulas.explain import encode, show, shown

    for value in (True, False, None, 10**31, date(2025, 1, 2), Decimal("1234.50"), Decimal("1E+3"), 12345, "x",
                  [1, Decimal("2.5"), "a"], list(range(10)), {"a": 1}, frozenset({3})):
        assert shown(encode(value), lang) == show(value, lang)
