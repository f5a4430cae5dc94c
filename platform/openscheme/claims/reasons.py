"""The reasons of a claim decision, in English and French.

A decision is read long after it was made, by people of either language: the clerk who
submitted it, the reviewer, the auditor. So a reason is stored as
`[code, English text, detail key, params]`: the English text for the logs, the FHIR
resources and older readers; the key and its language-neutral params (codes, numbers,
dates; a formula's runtime error as {"key", "params", "en"}) to say it again in the reader's
language. Reasons stored before the key existed (`[code, text]`) keep their English detail after
the translated title; an error stored as its English text stays as it was written.

Pure: no Flask, no database (the adjudicator builds reasons with `reason`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .. import numformat
from ..formulas.messages import is_said, said_text

TITLES = {
    "R01": {"en": "not covered by the benefit package", "fr": "non couvert par le panier de soins"},
    "R02": {"en": "not on the facility's price list", "fr": "absent du barème de la formation sanitaire"},
    "R03": {"en": "no active cover on the date of service", "fr": "pas de couverture active à la date des soins"},
    "R04": {"en": "not allowed for the patient's age or sex", "fr": "non autorisé pour l'âge ou le sexe du patient"},
    "R05": {"en": "too soon after the previous one", "fr": "trop tôt après le précédent"},
    "R06": {"en": "maximum number for the period reached", "fr": "nombre maximal pour la période atteint"},
    "R07": {"en": "quantity above the limit per visit", "fr": "quantité supérieure à la limite par visite"},
    "R08": {"en": "waiting period not over", "fr": "délai de carence non écoulé"},
    "R09": {"en": "care type not offered or not allowed", "fr": "type de soins non offert ou non autorisé"},
    "R10": {"en": "ceiling reached", "fr": "plafond atteint"},
    "R11": {"en": "duplicate of a service already claimed", "fr": "doublon d'un service déjà facturé"},
    "R12": {"en": "facility level not covered by the benefit", "fr": "niveau de formation sanitaire non couvert par la prestation"},
    "R13": {"en": "the benefit does not apply to the patient on the date of service",
            "fr": "la prestation ne s'applique pas au patient à la date des soins"},
    "REV": {"en": "changed by the reviewer", "fr": "modifié par le vérificateur"},
}

# details: %-templates over the params; a param named in WORDS is a code, said in the reader's language
DETAILS = {
    "code": {"en": "%(code)s", "fr": "%(code)s"},
    "level": {"en": "%(level)s", "fr": "%(level)s"},
    "facility_care": {"en": "the facility does not offer %(care)s care",
                      "fr": "la formation sanitaire n'assure pas les soins %(care)s"},
    "service_care": {"en": "%(code)s is %(care)s only", "fr": "%(code)s : soins %(care)s uniquement"},
    "genders": {"en": "%(code)s is for %(genders)s only", "fr": "%(code)s est réservé au sexe %(genders)s"},
    "no_birth_date": {"en": "the date of birth is unknown", "fr": "la date de naissance est inconnue"},
    "min_age": {"en": "%(code)s from age %(min)s, patient is %(age)s",
                "fr": "%(code)s à partir de %(min)s ans, le patient a %(age)s ans"},
    "max_age": {"en": "%(code)s up to age %(max)s, patient is %(age)s",
                "fr": "%(code)s jusqu'à %(max)s ans, le patient a %(age)s ans"},
    "waiting": {"en": "%(left)s day(s) left of %(days)s", "fr": "encore %(left)s jour(s) sur %(days)s"},
    "same_day": {"en": "%(code)s already claimed on %(date)s", "fr": "%(code)s déjà facturé le %(date)s"},
    "days_apart": {"en": "%(code)s at least %(days)s days apart; last on %(date)s",
                   "fr": "%(code)s : au moins %(days)s jours d'intervalle ; le dernier le %(date)s"},
    "per_visit": {"en": "%(code)s at most %(limit)s per visit, %(asked)s asked",
                  "fr": "%(code)s : au plus %(limit)s par visite, %(asked)s demandé(s)"},
    "limit_used": {"en": "%(code)s at most %(limit)s %(period)s, %(used)s already used",
                   "fr": "%(code)s : au plus %(limit)s %(period)s, %(used)s déjà utilisé(s)"},
    "limit_left": {"en": "%(code)s at most %(limit)s %(period)s; %(left)s left",
                   "fr": "%(code)s : au plus %(limit)s %(period)s ; reste %(left)s"},
    "category_used": {"en": "at most %(limit)s %(category)s per year, %(used)s already used",
                      "fr": "au plus %(limit)s par an dans la catégorie « %(category)s », %(used)s déjà utilisé(s)"},
    "service_ceiling": {"en": "%(code)s paid up to %(ceiling)s", "fr": "%(code)s payé jusqu'à %(ceiling)s"},
    "ceiling_left": {"en": "%(ceiling)s %(limit)s; %(left)s left", "fr": "%(ceiling)s %(limit)s ; reste %(left)s"},
    "eligible_when": {"en": "only when %(condition)s; here %(values)s",
                      "fr": "seulement si %(condition)s ; ici %(values)s"},
    "eligible_when_error": {"en": "only when %(condition)s, which cannot be checked: %(error)s",
                            "fr": "seulement si %(condition)s, qui ne peut pas être vérifié : %(error)s"},
    "reviewer": {"en": "%(reason)s", "fr": "%(reason)s"},
}

WORDS = {
    "care": {"out_patient": {"en": "out-patient", "fr": "ambulatoires"},
             "in_patient": {"en": "in-patient", "fr": "en hospitalisation"}},
    "period": {"day": {"en": "per day", "fr": "par jour"}, "month": {"en": "per month", "fr": "par mois"},
               "year": {"en": "per year", "fr": "par an"}, "policy": {"en": "per policy", "fr": "par police"},
               "this_month": {"en": "this month", "fr": "ce mois-ci"}, "this_year": {"en": "this year", "fr": "cette année"},
               "this_policy": {"en": "this policy", "fr": "pour cette police"}},
    "ceiling": {"per_person": {"en": "per person per year", "fr": "par personne et par an"},
                "per_household": {"en": "per household per year", "fr": "par ménage et par an"},
                "per_admission": {"en": "per admission", "fr": "par hospitalisation"},
                "per_visit": {"en": "per visit", "fr": "par visite"}},
    "category": {"consultation": {"en": "consultation", "fr": "consultation"},
                 "admission": {"en": "admission", "fr": "hospitalisation"},
                 "delivery": {"en": "delivery", "fr": "accouchement"},
                 "antenatal": {"en": "antenatal", "fr": "prénatal"},
                 "postnatal": {"en": "postnatal", "fr": "postnatal"},
                 "surgery": {"en": "surgery", "fr": "chirurgie"},
                 "laboratory": {"en": "laboratory", "fr": "laboratoire"},
                 "imaging": {"en": "imaging", "fr": "imagerie"},
                 "medicine": {"en": "medicine", "fr": "médicament"},
                 "emergency": {"en": "emergency", "fr": "urgence"},
                 "other": {"en": "other", "fr": "autre"}},
}
# "yes"/"no" of a condition's values (the rest - codes, numbers, dates - reads the same in both)
YES_NO = {True: {"en": "yes", "fr": "oui"}, False: {"en": "no", "fr": "non"}}
# params that are figures: written as the reader's language writes numbers (French: 1 500 000, 2,5);
# English keeps them as stored
FIGURES = frozenset({"ceiling", "limit", "left", "used", "asked", "min", "max", "age", "days"})


def _lang(lang: str | None) -> str:
    return (lang or "en")[:2]


def word(kind: str, value, lang: str = "en") -> str:
    """A code of a known kind (care type, period, ceiling, category) in words."""
    texts = WORDS.get(kind, {}).get(value)
    return texts.get(_lang(lang), texts["en"]) if texts else str(value)


def title(code: str, lang: str = "en") -> str | None:
    texts = TITLES.get(code)
    return texts.get(_lang(lang), texts["en"]) if texts else None


def detail(key: str, params: dict, lang: str = "en", labels=None) -> str:
    """A detail in words; `labels(name, value, lang)` may turn a condition's field and value into labels."""
    template = DETAILS[key]
    params = params or {}
    values = {k: (word(k, v, lang) if k in WORDS else v) for k, v in params.items()} \
        if not WORDS.keys().isdisjoint(params) else dict(params)
    if _lang(lang) != "en":
        for k in FIGURES.intersection(values):
            values[k] = _figure(values[k], lang)
    if is_said(values.get("error")):  # a formula's runtime error as data (older reasons: its English text)
        values["error"] = said_text(values["error"], lang)
    if key == "eligible_when":
        values["values"] = ", ".join(_read(name, value, lang, labels) for name, value in params.get("values") or ()) \
            or "-"
    return template.get(_lang(lang), template["en"]) % values


def _figure(value, lang: str):
    """A figure in the reader's language; anything else (a word, a code) as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        return value
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    return numformat.decimal(number, lang) if number.is_finite() else value


def _value(value, lang: str) -> str:
    if isinstance(value, bool):
        return YES_NO[value].get(_lang(lang), YES_NO[value]["en"])
    if value is None or value == "":
        return "-"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _read(name: str, value, lang: str, labels) -> str:
    found = labels(name, value, lang) if labels is not None else None
    if found is None:
        return f"{name} = {_value(value, lang)}"
    label, shown = found
    return f"{label} = {shown if shown is not None else _value(value, lang)}"


def field_labels(scheme):
    """`labels` for `detail`: a declared field's label and a choice's label, in the reader's language."""
    def labels(name: str, value, lang: str):
        f = scheme.field(name)
        if f is None:
            return None
        choice = next((c for c in f.choices if c.value == value), None)
        return (f.label.get(lang, scheme.default_language),
                choice.label.get(lang, scheme.default_language) if choice is not None else None)

    return labels


def reason(code: str, key: str | None = None, /, **params) -> tuple:
    """A reason as the adjudicator stores it: (code, English text, key, params)."""
    text = TITLES[code]["en"]
    if key is None:
        return (code, text, "", {})
    return (code, f"{text}: {detail(key, params)}", key, params)


def reason_text(stored, lang: str = "en", labels=None) -> str:
    """A stored reason ([code, text] or [code, text, key, params]) in the reader's language."""
    code = stored[0]
    text = stored[1] if len(stored) > 1 else ""
    head = title(code, lang)
    if head is None:
        return text
    key = stored[2] if len(stored) > 3 else ""
    if key in DETAILS:
        try:
            tail = detail(key, stored[3], lang, labels)
        except (KeyError, TypeError, ValueError):  # params of another version: the stored English detail
            tail = text.split(": ", 1)[1] if ": " in text else ""
    elif code == "REV":
        tail = text.split(": ", 1)[1] if ": " in text else text
    else:
        tail = text.split(": ", 1)[1] if ": " in text else ""
    return f"{head}{' : ' if _lang(lang) == 'fr' else ': '}{tail}" if tail else head
