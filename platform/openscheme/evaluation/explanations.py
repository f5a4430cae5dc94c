"""The lines that explain an amount or a benefit ("lump sum 30,000 for up to 6 members"), in
English and French.

The engine describes each line as data - a key and language-neutral params (numbers as
text, codes, the scheme's own texts in all their languages, formula steps) - and says it
in a language here: `text(part, lang)`. Its English is what `Amount.lines` always held (the
CLI, the JSON output and the logs read that); a page says the same parts in the reader's
language, numbers written the way that language writes them ("1 234,50" in French).
A policy keeps its premium explanation as `[English text, key, params]` per line (`stored`),
so that it can be read later in either language; lines stored before (plain text) stay as they
were written. A formula's runtime error in a line ("premium cannot be computed: {error}") is kept
as data too (`FormulaRuntimeError.as_param`: key, params and English), said in the reader's
language; a line stored before holds the English error text, shown as it was written.

Pure: no Flask, no database.
"""

from __future__ import annotations

import string
from decimal import Decimal, InvalidOperation

from .. import numformat
from ..formulas.explain import step_text
from ..formulas.messages import is_said, said_text

TEXTS = {
    # premiums (the openIMIS-style structure, or a formula)
    "premium_formula": {"en": "contribution = {formula}", "fr": "cotisation = {formula}"},
    "premium_formula_value": {"en": "contribution = {amount:n}", "fr": "cotisation = {amount:n}"},
    "per_member": {"en": "{rate:n} per member × {n} = {total:n}", "fr": "{rate:n} par membre × {n} = {total:n}"},
    "lump_sum": {"en": "lump sum {amount:n}", "fr": "forfait de {amount:n}"},
    "lump_sum_for": {"en": "lump sum {amount:n} for up to {members} members",
                     "fr": "forfait de {amount:n} pour {members} membres au plus"},
    "extra_adults": {"en": "{n} extra adult(s) × {rate:n} = {total:n}",
                     "fr": "{n} adulte(s) supplémentaire(s) × {rate:n} = {total:n}"},
    "extra_children": {"en": "{n} extra child(ren) under {age} × {rate:n} = {total:n}",
                       "fr": "{n} enfant(s) supplémentaire(s) de moins de {age} ans × {rate:n} = {total:n}"},
    "renewal_discount": {"en": "renewal discount {percent:n}% = −{amount:n}",
                         "fr": "remise de renouvellement {percent:n}\u202f% = −{amount:n}"},
    "early_discount": {"en": "early enrolment discount {percent:n}% = −{amount:n}",
                       "fr": "remise pour adhésion anticipée {percent:n}\u202f% = −{amount:n}"},
    "registration_fee": {"en": "registration fee {amount:n}", "fr": "frais d'inscription {amount:n}"},
    "assembly_fee": {"en": "assembly fee {amount:n}", "fr": "frais d'assemblée générale {amount:n}"},
    "premium": {"en": "premium = {amount:n} {currency}", "fr": "prime = {amount:n} {currency}"},
    "premium_error": {"en": "premium cannot be computed: {error}", "fr": "la prime ne peut pas être calculée : {error}"},
    # wage contributions
    "wage": {"en": "{field} = {wage:n}", "fr": "{field} = {wage:n}"},
    "wage_raised": {"en": ", raised to the minimum wage {minimum:n}", "fr": ", porté au salaire minimum {minimum:n}"},
    "wage_capped": {"en": ", capped at {ceiling:n}", "fr": ", plafonné à {ceiling:n}"},
    "employer_share": {"en": "employer {percent:n}% = {amount:n}",
                       "fr": "part de l'employeur {percent:n}\u202f% = {amount:n}"},
    "employee_share": {"en": "employee {percent:n}% = {amount:n}", "fr": "part du salarié {percent:n}\u202f% = {amount:n}"},
    "contribution_total": {"en": "total {frequency} contribution = {amount:n} {currency}",
                           "fr": "cotisation {frequency:frequency_f} totale = {amount:n} {currency}"},
    "contribution_error": {"en": "contribution cannot be computed: {error}",
                           "fr": "la cotisation ne peut pas être calculée : {error}"},
    # benefits
    "not_eligible": {"en": "not entitled: the beneficiary is not eligible for the scheme",
                     "fr": "pas de droit : le bénéficiaire n'est pas éligible au régime"},
    "eligible_when": {"en": "not entitled: {formula} is not met", "fr": "pas de droit : {formula} n'est pas rempli"},
    "eligible_when_error": {"en": "not entitled: {formula} is not met ({error})",
                            "fr": "pas de droit : {formula} n'est pas rempli ({error})"},
    "condition": {"en": "condition not met: {reason}", "fr": "condition non remplie : {reason}"},
    "amount_formula": {"en": "amount = {formula}", "fr": "montant = {formula}"},
    "capped": {"en": "capped at {cap:n} (was {amount:n})", "fr": "plafonné à {cap:n} (au lieu de {amount:n})"},
    "rounded": {"en": "rounded to {amount:n}", "fr": "arrondi à {amount:n}"},
    "per_cycle": {"en": "{amount:n} {currency} per cycle, {cycles} {frequency} cycle(s)",
                  "fr": "{amount:n} {currency} par cycle, {cycles} cycle(s) {frequency:frequency_m}"},
    "vouchers": {"en": "vouchers: {list}", "fr": "bons : {list}"},
    "voucher": {"en": "{count} × {label}", "fr": "{count} × {label}"},
    "voucher_price": {"en": "price to the beneficiary: {amount:n} {currency}",
                      "fr": "prix pour le bénéficiaire : {amount:n} {currency}"},
    "covers": {"en": "covers {services} service(s) and {items} item(s)",
               "fr": "couvre {services} service(s) et {items} produit(s)"},
    "waiting": {"en": "waiting period {days} days", "fr": "délai de carence de {days} jours"},
    "ceilings": {"en": "ceiling {list}", "fr": "plafond {list}"},
    "ceiling": {"en": "{amount:n} {kind:ceiling}", "fr": "{amount:n} {kind:ceiling}"},
    "benefit_error": {"en": "cannot be computed: {error}", "fr": "calcul impossible : {error}"},
    # a payment's explanation (payments/entitlements.py `explain_parts`) and why a unit is not paid
    "named_formula": {"en": "{name} = {formula}", "fr": "{name} = {formula}"},
    "payment_amount": {"en": "amount = {amount:n} {currency}", "fr": "montant = {amount:n} {currency}"},
    "error": {"en": "error: {message}", "fr": "erreur : {message}"},
    "negative_amount": {"en": "negative amount", "fr": "montant négatif"},
    "zero_amount": {"en": "zero amount", "fr": "montant nul"},
    "not_met": {"en": "{reason}", "fr": "{reason}"},  # a rule or condition not met: its declared text
}

# codes said in words, by the format spec that names their kind ("{frequency:frequency_f}");
# a code not listed (and any code in English) is written as it is
WORDS = {
    "frequency_f": {  # cotisation ... (feminine)
        "once": {"fr": "unique"}, "weekly": {"fr": "hebdomadaire"}, "monthly": {"fr": "mensuelle"},
        "bimonthly": {"fr": "bimestrielle"}, "quarterly": {"fr": "trimestrielle"},
        "termly": {"fr": "par trimestre scolaire"}, "half_yearly": {"fr": "semestrielle"},
        "yearly": {"fr": "annuelle"}},
    "frequency_m": {  # cycle(s) ... (masculine)
        "once": {"fr": "unique(s)"}, "weekly": {"fr": "hebdomadaire(s)"}, "monthly": {"fr": "mensuel(s)"},
        "bimonthly": {"fr": "bimestriel(s)"}, "quarterly": {"fr": "trimestriel(s)"},
        "termly": {"fr": "par trimestre scolaire"}, "half_yearly": {"fr": "semestriel(s)"},
        "yearly": {"fr": "annuel(s)"}},
    "ceiling": {
        "per_person": {"en": "per person", "fr": "par personne"},
        "per_household": {"en": "per household", "fr": "par ménage"},
        "per_admission": {"en": "per admission", "fr": "par hospitalisation"},
        "per_visit": {"en": "per visit", "fr": "par visite"}},
}


def number(value) -> str | int:
    """A number as a param: an int stays one, anything else is kept as its Decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(Decimal(value))


def text_param(text, fallback: str = "", default_lang: str | None = None) -> dict:
    """A scheme text (a `Text`) as a param: every language it has, and "*" for the others."""
    values = dict(getattr(text, "values", None) or {})
    if hasattr(text, "get"):
        values["*"] = text.get(default_lang) or fallback
    else:
        values["*"] = str(text or fallback)
    return values


def _base(lang: str | None) -> str:
    return numformat.base(lang)


class _Formatter(string.Formatter):
    def __init__(self, lang: str, text_lang: str | None = None):
        super().__init__()
        self.lang, self.text_lang = lang, text_lang or lang

    def format_field(self, value, spec: str) -> str:
        if is_said(value):  # a formula's runtime error as data (an older part holds its English text)
            return said_text(value, self.lang)
        if isinstance(value, dict):  # a scheme text in its languages
            value = value.get(self.text_lang) or value.get(_base(self.text_lang)) or value.get("*") or ""
        if spec == "n":
            return _number(value, self.lang)
        if spec in WORDS:
            said = WORDS[spec].get(str(value), {})
            return said.get(self.lang) or said.get("en") or (str(value).replace("_", " ") if spec == "ceiling"
                                                             else str(value))
        return super().format_field(value, spec)


def _number(value, lang: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if lang == "en" else numformat.number(value, lang)
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    d = d.normalize() if d == d.to_integral_value() else d
    return f"{d:,f}" if lang == "en" else numformat.decimal(d, lang)


def _template(key: str, lang: str) -> str:
    texts = TEXTS[key]
    return texts.get(lang, texts["en"])


def text(part, lang: str | None = "en", text_lang: str | None = None) -> str:
    """One line in a language: a part [key, params] (or a stored [English, key, params], or plain text);
    `text_lang`: the language of the scheme's own texts in it (default: `lang`)."""
    if isinstance(part, str):
        return part
    if len(part) == 3 and isinstance(part[0], str) and isinstance(part[1], str):  # stored
        english, key, params = part
    else:
        english, (key, params) = None, part
    lang = _base(lang)
    try:
        return _say(key, params or {}, lang, text_lang)
    except (KeyError, IndexError, TypeError, ValueError):  # a key or params of another version
        if english is not None:
            return english
        raise


def _say(key: str, params: dict, lang: str, text_lang: str | None) -> str:
    f = _Formatter(lang, text_lang)
    if key == "step":
        return step_text(params["s"], lang)
    if key == "wage":
        out = f.format(_template("wage", lang), **params)
        if params.get("minimum") is not None:
            out += f.format(_template("wage_raised", lang), **params)
        if params.get("ceiling") is not None:
            out += f.format(_template("wage_capped", lang), **params)
        return out
    if key == "vouchers":
        items = ", ".join(f.format(_template("voucher", lang), count=count, label=label)
                          for count, label in params["items"])
        return f.format(_template("vouchers", lang), list=items)
    if key == "ceilings":
        items = ", ".join(f.format(_template("ceiling", lang), amount=amount, kind=kind)
                          for amount, kind in params["items"])
        return f.format(_template("ceilings", lang), list=items)
    return f.format(_template(key, lang), **params)


def lines(parts, lang: str | None = "en", text_lang: str | None = None) -> list[str]:
    return [text(p, lang, text_lang) for p in parts or ()]


def english(parts, text_lang: str | None = None) -> list[str]:
    """The lines in English (the scheme's texts in `text_lang`, the language the evaluation asked for)."""
    return lines(parts, "en", text_lang)


def stored(parts) -> list[list]:
    """Parts as a policy keeps them: [English text, key, params] each (JSON)."""
    return [[text(p, "en"), p[0], p[1]] for p in parts]


def step(part) -> list:
    """A formula step (`formulas.explain.render_parts`) as a part."""
    return ["step", {"s": part}]
