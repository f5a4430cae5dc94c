"""The words of the analysis screens in English and French: the workbench's formulas, the
semantic diff of two scheme versions, the impact report's explanations, proposal errors.

The analysis modules are pure (no Flask) and run from the CLI too, so they do not say things
in one language: they produce `Msg`s - a message key and its parameters - and whoever shows
them renders them in the reader's language (`msg.text("fr")`): the web pages in the interface
language, `openscheme diff` and `impact` in English. A parameter is a plain value (a name, a
code, a number: shown as it is) or anything with a `text(lang)` method (another `Msg`, a
scheme value formatted for the reader, a list), rendered in the same language.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formulas.messages import LANGUAGES, base_language  # noqa: F401 - the catalogues' languages, one rule


def render(value, lang: str) -> str:
    text = getattr(value, "text", None)
    if callable(text):
        return text(lang)
    return str(value)


@dataclass(frozen=True)
class Msg:
    key: str
    params: tuple = ()  # ((name, value), ...)

    def text(self, lang: str | None = "en") -> str:
        base = base_language(lang)
        texts = MESSAGES[self.key]
        template = texts.get(base, texts["en"])
        return template.format(**{k: render(v, base) for k, v in self.params}) if self.params else template

    def __str__(self) -> str:
        return self.text("en")

    def param(self, name: str, default=None):
        return next((v for k, v in self.params if k == name), default)


def msg(key: str, /, **params) -> Msg:
    if key not in MESSAGES:
        raise KeyError(key)
    return Msg(key, tuple(params.items()))


@dataclass(frozen=True)
class Join:
    """Items (plain or `text(lang)`) joined by a separator."""
    items: tuple
    sep: str = ", "

    def text(self, lang: str | None = "en") -> str:
        return self.sep.join(render(i, base_language(lang)) for i in self.items)


@dataclass(frozen=True)
class Word:
    """One word or phrase given in each language: {"en": ..., "fr": ...}."""
    en: str
    fr: str

    def text(self, lang: str | None = "en") -> str:
        return self.fr if base_language(lang) == "fr" else self.en


class MessageError(Exception):
    """An error whose message is a `Msg`: str(error) is English, error.text(lang) any language."""

    def __init__(self, key: str | Msg, /, **params):
        self.message = key if isinstance(key, Msg) else msg(key, **params)
        super().__init__(self.message.text("en"))

    def text(self, lang: str | None = "en") -> str:
        return self.message.text(lang)


def text(key: str, lang: str | None = "en", /, **params) -> str:
    return msg(key, **params).text(lang)


MESSAGES: dict[str, dict[str, str]] = {
    # ---- the formulas of the workbench (analysis/workbench.py) --------------------------------------
    "target_eligibility": {"en": "eligibility rule {name}", "fr": "règle d'éligibilité {name}"},
    "target_amount": {"en": "benefit {code}: amount", "fr": "prestation {code} : montant"},
    "target_eligible_when": {"en": "benefit {code}: eligible_when",
                             "fr": "prestation {code} : condition d'accès (eligible_when)"},
    "target_condition": {"en": "benefit {code}: condition {name}", "fr": "prestation {code} : condition {name}"},
    "target_other": {"en": "formula {key}", "fr": "formule {key}"},
    # errors of the workbench and of proposals (analysis/workbench.py, analysis/proposals.py)
    "no_formula": {"en": "there is no formula '{key}' in this scheme",
                   "fr": "ce régime n'a pas de formule « {key} »"},
    "nothing_at": {"en": "nothing at {path}", "fr": "rien à l'emplacement {path}"},
    "not_single_value": {"en": "the formula is not a single value", "fr": "la formule n'est pas une valeur simple"},
    "definition_does_not_load": {"en": "the definition does not load", "fr": "la définition ne se charge pas"},
    "cannot_write": {"en": "the formula could not be written into the definition without changing anything else",
                     "fr": "la formule ne peut pas être écrite dans la définition sans rien modifier d'autre"},
    "formula_error": {"en": "{code} {message}", "fr": "erreur dans la formule : {code} {message}"},
    "does_not_compile": {"en": "{errors}", "fr": "la nouvelle définition ne compile pas : {errors}"},
    "does_not_compile_plain": {"en": "the new definition does not compile",
                               "fr": "la nouvelle définition ne compile pas"},
    "unchanged": {"en": "the formula is unchanged", "fr": "la formule n'a pas changé"},
    "already_decided": {"en": "this proposal is {status} already", "fr": "cette proposition est déjà {status}"},
    "status_proposed": {"en": "proposed", "fr": "proposée"},
    "status_approved": {"en": "approved", "fr": "approuvée"},
    "status_rejected": {"en": "rejected", "fr": "rejetée"},
    "own_proposal": {"en": "the person who proposed a change cannot approve it",
                     "fr": "la personne qui a proposé une modification ne peut pas l'approuver"},
    "stale": {"en": "the scheme changed since this proposal was made; make the proposal again on the current version",
              "fr": "le régime a changé depuis cette proposition ; refaites-la sur la version en vigueur"},

    # ---- the semantic diff (analysis/diff.py) -------------------------------------------------------
    # what changed: one noun per kind of object (NOUNS below gives the French gender for "new"/"removed")
    "scheme": {"en": "scheme", "fr": "régime"},
    "role": {"en": "role {name}", "fr": "rôle {name}"},
    "members": {"en": "members", "fr": "membres"},
    "choice_list": {"en": "choice list {name}", "fr": "liste de choix {name}"},
    "choice": {"en": "choice {value}", "fr": "choix {value}"},
    "constant": {"en": "constant {name}", "fr": "constante {name}"},
    "table": {"en": "table {name}", "fr": "table {name}"},
    "table_row": {"en": "table {name} row {key}", "fr": "table {name}, ligne {key}"},
    "field": {"en": "field {name}", "fr": "champ {name}"},
    "field_typed": {"en": "field {name} ({type}, {where})", "fr": "champ {name} ({type}, {where})"},
    "rule": {"en": "eligibility rule {name}", "fr": "règle d'éligibilité {name}"},
    "contributions": {"en": "contributions", "fr": "cotisations"},
    "contributions_premium": {"en": "contributions premium", "fr": "prime des cotisations"},
    "contributions_wage": {"en": "contributions wage", "fr": "cotisation sur les salaires"},
    "premium_contribution": {"en": "premium contribution", "fr": "prime"},
    "wage_contribution": {"en": "wage contribution", "fr": "cotisation sur les salaires"},
    "benefit": {"en": "benefit {code}", "fr": "prestation {code}"},
    "service": {"en": "service {code}", "fr": "service {code}"},
    "item": {"en": "item {code}", "fr": "produit {code}"},
    "voucher": {"en": "voucher {type}", "fr": "bon {type}"},
    "condition": {"en": "condition {name}", "fr": "condition {name}"},
    "payments": {"en": "payments", "fr": "paiements"},
    "payment_rules": {"en": "payment rules", "fr": "règles de paiement"},
    "workflow": {"en": "workflow {name}", "fr": "circuit de traitement {name}"},
    "transition": {"en": "transition {name}", "fr": "transition {name}"},
    "indicator": {"en": "indicator {name}", "fr": "indicateur {name}"},
    "test": {"en": 'test case "{name}"', "fr": "cas de test « {name} »"},
    # where a field is
    "where_member": {"en": "member", "fr": "membre"},
    "where_household": {"en": "household", "fr": "ménage"},
    "where_unit": {"en": "unit", "fr": "unité"},
    # how it changed
    "value": {"en": "{what} {old} → {new}", "fr": "{what} {old} → {new}"},
    "arrow": {"en": "{old} → {new}", "fr": "{old} → {new}"},
    "text_added": {"en": '{what} ({lang}) added: "{new}"', "fr": "{what} ({lang}) : « {new} » ajouté"},
    "text_removed": {"en": '{what} ({lang}) removed (was "{old}")', "fr": "{what} ({lang}) : « {old} » supprimé"},
    "text_changed": {"en": '{what} ({lang}) "{old}" → "{new}"', "fr": "{what} ({lang}) « {old} » → « {new} »"},
    "choices_added": {"en": "choices added: {items}", "fr": "choix ajoutés : {items}"},
    "choices_removed": {"en": "choices removed: {items}", "fr": "choix supprimés : {items}"},
    "choice_labelled": {"en": "{value} ({label})", "fr": "{value} ({label})"},
    "choices_count": {"en": "{n} choices", "fr": "{n} choix"},
    "values_added": {"en": "added {values}", "fr": "ajout de {values}"},
    "values_removed": {"en": "removed {values}", "fr": "retrait de {values}"},
    "equals": {"en": "= {value}", "fr": "= {value}"},
    "was": {"en": "was {value}", "fr": "valait {value}"},
    "table_rows": {"en": "{n} rows by {key}", "fr": "{n} lignes, par {key}"},
    "row_added": {"en": "row {key} added", "fr": "ligne {key} ajoutée"},
    "row_removed": {"en": "row {key} removed", "fr": "ligne {key} supprimée"},
    "moved": {"en": "moved from the {old} to the {new} fields",
              "fr": "déplacé des champs « {old} » vers les champs « {new} »"},
    "formula_of": {"en": "formula {formula}", "fr": "formule {formula}"},
    "service_detail": {"en": "{label}, {category}, {price}", "fr": "{label}, {category}, {price}"},
    "money": {"en": "{amount} {currency}", "fr": "{amount} {currency}"},
    "price_from": {"en": "price from {table}.{column}", "fr": "prix selon {table}.{column}"},
    "voucher_detail": {"en": "{count} for {services}", "fr": "{count} pour {services}"},
    "benefit_detail": {"en": "({kind}) {label}", "fr": "({kind}) {label}"},
    "declared": {"en": "now declared in the file", "fr": "désormais déclaré dans le fichier"},
    "default_workflow": {"en": "now the default", "fr": "désormais celui par défaut"},
    "states_added": {"en": "states added: {states}", "fr": "états ajoutés : {states}"},
    "states_removed": {"en": "states removed: {states}", "fr": "états supprimés : {states}"},
    "transition_detail": {"en": "{sources} → {target}, by {roles}", "fr": "{sources} → {target}, par {roles}"},
    "indicator_detail": {"en": "{element} = {formula}", "fr": "{element} = {formula}"},
    "test_changed": {"en": "data or expected outcome changed", "fr": "données ou résultat attendu modifiés"},
    "none": {"en": "none", "fr": "aucun"},
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    # a change as one line: "<subject>: <detail>", "<parent>: new <thing> (<detail>)", "<thing> removed"
    "line": {"en": "{subject}: {detail}", "fr": "{subject} : {detail}"},
    "added_detail": {"en": "{what} ({detail})", "fr": "{what} ({detail})"},
    "added_equals": {"en": "{what} {detail}", "fr": "{what} {detail}"},

    # ---- the impact report (analysis/impact.py) -----------------------------------------------------
    "no_area": {"en": "(none)", "fr": "(aucune)"},
    "location": {"en": "location", "fr": "lieu"},
    "eligible": {"en": "eligible", "fr": "éligible"},
    "not_eligible": {"en": "not eligible", "fr": "non éligible"},
    "rule_pass": {"en": "[pass] {name}", "fr": "[remplie] {name}"},
    "rule_fail": {"en": "[FAIL] {name}: {reason}", "fr": "[NON REMPLIE] {name} : {reason}"},
    "cannot_compute": {"en": "{code}: cannot be computed ({error})", "fr": "{code} : calcul impossible ({error})"},
    "benefit_amount": {"en": "{code}: {amount} {currency}", "fr": "{code} : {amount} {currency}"},
    "benefit_not_entitled": {"en": "{code}: {amount} {currency} (not entitled)",
                             "fr": "{code} : {amount} {currency} (pas de droit)"},
    "method_rule": {"en": "{which} rule {name}", "fr": "règle {name} ({which})"},
    "old": {"en": "old", "fr": "ancienne version"},
    "new": {"en": "new", "fr": "nouvelle version"},
    "python_because": {"en": "python ({reason})", "fr": "Python ({reason})"},
    "python_rule": {"en": "{rule} ({why})", "fr": "{rule} ({why})"},
}

# French gender and number of each noun, for "nouvelle règle ..." and "... supprimée"
NOUNS_FR = {
    "scheme": "m", "role": "m", "members": "mp", "choice_list": "f", "choice": "m", "constant": "f", "table": "f",
    "table_row": "f", "field": "m", "field_typed": "m", "rule": "f", "contributions": "fp",
    "contributions_premium": "f", "contributions_wage": "f", "premium_contribution": "f", "wage_contribution": "f",
    "benefit": "f", "service": "m", "item": "m", "voucher": "m", "condition": "f", "payments": "mp",
    "payment_rules": "fp", "workflow": "m", "transition": "f", "indicator": "m", "test": "m",
}


def added(noun: Msg, lang: str | None) -> str:
    """'new rule x' / 'nouvelle règle x'."""
    words = noun.text(lang)
    if base_language(lang) != "fr":
        return f"new {words}"
    gender = NOUNS_FR.get(noun.key, "m")
    if gender == "m":
        adjective = "nouvel" if words[:1] in "aeiouéèêh" else "nouveau"
    else:
        adjective = {"f": "nouvelle", "mp": "nouveaux", "fp": "nouvelles"}[gender]
    return f"{adjective} {words}"


def removed(noun: Msg, lang: str | None) -> str:
    """'rule x removed' / 'règle x supprimée'."""
    words = noun.text(lang)
    if base_language(lang) != "fr":
        return f"{words} removed"
    ending = {"m": "", "f": "e", "mp": "s", "fp": "es"}[NOUNS_FR.get(noun.key, "m")]
    return f"{words} supprimé{ending}"


# the attributes of the definition's objects, as the diff names them: English is the word of the
# YAML format (diff.WORDS), French says what it is
ATTRIBUTES_FR = {
    "code": "code", "version": "version", "title": "titre", "description": "description", "operator": "opérateur",
    "currency": "monnaie", "country": "pays", "unit": "unité", "languages": "langues",
    "benefit_kinds": "types de prestations", "location_levels": "niveaux de lieux", "period_start": "début de période",
    "period_end": "fin de période", "period_months": "durée en mois", "illustrative": "illustratif", "source": "source",
    "min": "min", "max": "max", "label": "libellé", "key": "clé", "formula": "formule", "reason": "motif",
    "columns": "colonnes", "type": "type", "hint": "aide", "required": "obligatoire",
    "required_when": "obligatoire (formule)", "required_message": "message si absent", "relevant": "demandé si",
    "constraint": "contrainte", "constraint_message": "message de contrainte", "calculate": "calcul",
    "default": "valeur par défaut", "min_length": "longueur min", "max_length": "longueur max",
    "decimals": "décimales", "pattern": "format", "pattern_message": "message de format",
    "choice_list": "liste de choix", "choice_filter": "filtre des choix", "column": "colonne", "field": "champ",
    "location_level": "niveau", "unique": "unique", "searchable": "recherchable", "read_only": "lecture seule",
    "widget": "widget", "template": "modèle",
    "lump_sum": "forfait", "members_covered": "membres couverts", "per_member": "par membre",
    "extra_adult": "adulte supplémentaire", "extra_child": "enfant supplémentaire",
    "child_age_below": "âge des enfants en dessous de", "birth_date_field": "champ de la date de naissance",
    "registration_fee": "frais d'inscription", "assembly_fee": "frais d'assemblée",
    "enrolment_discount_percent": "remise à l'enrôlement (%)",
    "enrolment_discount_within_days": "remise à l'enrôlement (délai en jours)",
    "renewal_discount_percent": "remise au renouvellement (%)",
    "employer_percent": "part employeur (%)", "employee_percent": "part salarié (%)",
    "minimum_wage": "salaire minimum", "wage_ceiling": "plafond de salaire",
    "frequency": "fréquence", "due_days_after_enrolment": "échéance (jours après l'enrôlement)",
    "due_day_of_month": "échéance (jour du mois)", "grace_period_days": "délai de grâce (jours)",
    "payment_methods": "modes de paiement",
    "per_visit": "par visite", "per_day": "par jour", "per_month": "par mois", "per_year": "par an",
    "per_policy": "par police", "min_days_between": "jours minimum entre deux",
    "per_person": "par personne", "per_household": "par ménage", "per_admission": "par hospitalisation",
    "is_item": "produit", "category": "catégorie", "care_type": "type de soins", "price": "prix",
    "price_table": "prix selon la table", "price_column": "prix selon la colonne", "limits": "limites",
    "min_age": "âge min", "max_age": "âge max", "genders": "sexe", "waiting_period_days": "délai de carence (jours)",
    "co_payment_percent": "ticket modérateur (%)", "ceiling": "plafond",
    "count": "nombre", "services": "services", "reimbursement": "remboursement",
    "valid_from_days": "valable après (jours)", "validity_days": "validité (jours)",
    "cycles": "cycles", "start": "début",
    "kind": "type", "eligible_when": "condition d'accès", "ceilings": "plafonds", "deductibles": "franchises",
    "category_limits": "limites par catégorie", "facility_levels": "niveaux de formation sanitaire",
    "review_sample_percent": "contrôle : échantillon (%)", "review_amount_above": "contrôle au-delà de",
    "amount": "montant", "cap": "plafond", "schedule": "calendrier",
    "recipient": "destinataire", "channel_field": "champ du canal", "channels": "canaux",
    "rounding_to": "arrondi à", "rounding_mode": "mode d'arrondi", "payer": "payeur",
    "sources": "depuis", "target": "vers", "roles": "rôles", "initial": "état initial", "final": "états finaux",
    "data_element": "élément de données", "category_option_combo": "combinaison d'options",
    "disaggregate_by": "ventilé par", "combos": "combinaisons", "org_unit_field": "champ de l'unité d'organisation",
    "population": "population",
}

# the frequencies of the format (definitions/schema.py FREQUENCIES)
FREQUENCIES = {
    "once": Word("once", "une fois"), "weekly": Word("weekly", "hebdomadaire"),
    "monthly": Word("monthly", "mensuel"), "bimonthly": Word("bimonthly", "bimestriel"),
    "quarterly": Word("quarterly", "trimestriel"), "termly": Word("termly", "par trimestre scolaire"),
    "half_yearly": Word("half_yearly", "semestriel"), "yearly": Word("yearly", "annuel"),
}


def frequency(value: str, lang: str | None = "en") -> str:
    word = FREQUENCIES.get(value)
    return word.text(lang) if word else value


# the levels of places (a scheme's location_levels; the demo's places): English writes the code
LEVELS = {
    "country": "pays", "region": "région", "province": "province", "district": "district",
    "department": "département", "arrondissement": "arrondissement", "municipality": "municipalité",
    "ward": "quartier", "village": "village", "health_district": "district de santé", "health_area": "aire de santé",
    "council": "conseil", "sub_county": "sous-comté", "county": "comté", "commune": "commune",
}


def level(code: str, lang: str | None = "en") -> str:
    if base_language(lang) == "fr":
        return LEVELS.get(code, code.replace("_", " "))
    return code
