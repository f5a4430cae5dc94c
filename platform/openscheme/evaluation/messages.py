"""Messages shown to programme staff about field values, in English and French.

Scheme-specific messages (constraint_message, pattern_message, labels) come from
the YAML in every language it declares; these are the generic ones.
"""

from __future__ import annotations

MESSAGES = {
    "required": {"en": "This field is required.", "fr": "Ce champ est obligatoire."},
    "integer": {"en": "Enter a whole number.", "fr": "Saisissez un nombre entier."},
    "number": {"en": "Enter a number.", "fr": "Saisissez un nombre."},
    "decimals": {"en": "Use at most {n} decimal places.", "fr": "Utilisez au plus {n} décimales."},
    "date": {"en": "Enter a date as YYYY-MM-DD.", "fr": "Saisissez une date au format AAAA-MM-JJ."},
    "boolean": {"en": "Choose yes or no.", "fr": "Choisissez oui ou non."},
    "choice": {"en": "“{value}” is not one of the choices.", "fr": "« {value} » ne fait pas partie des choix."},
    "filtered_choice": {"en": "“{value}” does not belong to the chosen “{parent}”.",
                        "fr": "« {value} » ne correspond pas à la valeur choisie pour « {parent} »."},
    "min": {"en": "Must be at least {limit}.", "fr": "Doit être au moins {limit}."},
    "max": {"en": "Must be at most {limit}.", "fr": "Doit être au plus {limit}."},
    "min_length": {"en": "Enter at least {n} characters.", "fr": "Saisissez au moins {n} caractères."},
    "max_length": {"en": "Enter at most {n} characters.", "fr": "Saisissez au plus {n} caractères."},
    "pattern": {"en": "This is not in the expected format.", "fr": "Ce format n'est pas valide."},
    "email": {"en": "Enter a valid email address.", "fr": "Saisissez une adresse électronique valide."},
    "gps": {"en": "Enter a latitude and a longitude, e.g. -6.8 39.28.",
            "fr": "Saisissez une latitude et une longitude, par ex. -6.8 39.28."},
    "text": {"en": "Enter text.", "fr": "Saisissez du texte."},
    "nul": {"en": "This text holds a NUL character (\\0), which cannot be stored: type it again.",
            "fr": "Ce texte contient un caractère NUL (\\0), qui ne peut pas être enregistré : saisissez-le à nouveau."},
    "list": {"en": "Choose one or more values.", "fr": "Choisissez une ou plusieurs valeurs."},
    "constraint": {"en": "This value is not valid.", "fr": "Cette valeur n'est pas valide."},
    "unknown_field": {"en": "Unknown field “{name}”.{hint}", "fr": "Champ inconnu « {name} ».{hint}"},
    "min_members": {"en": "Register at least {n} member(s).", "fr": "Enregistrez au moins {n} membre(s)."},
    "max_members": {"en": "Register at most {n} members.", "fr": "Enregistrez au plus {n} membres."},
    "members_list": {"en": "Members must be a list.", "fr": "Les membres doivent être une liste."},
    "member_object": {"en": "Each member must be a set of fields.", "fr": "Chaque membre doit être un ensemble de champs."},
    "role_min": {"en": "At least {n} member(s) must have the role {role}.",
                 "fr": "Au moins {n} membre(s) doivent avoir le rôle {role}."},
    "role_max": {"en": "At most {n} member(s) may have the role {role}.",
                 "fr": "Au plus {n} membre(s) peuvent avoir le rôle {role}."},
    "unknown_role": {"en": "Unknown role “{role}”.", "fr": "Rôle inconnu « {role} »."},
    "formula": {"en": "Cannot be checked: {detail}.", "fr": "Vérification impossible : {detail}."},
    "record": {"en": "A record must be a set of fields.", "fr": "Un enregistrement doit être un ensemble de champs."},
    "did_you_mean": {"en": " Did you mean “{name}”?", "fr": " Vouliez-vous dire « {name} » ?"},
}


def message(key: str, lang: str | None = None, **params) -> str:
    texts = MESSAGES[key]
    base = (lang or "en").split("_")[0]
    return texts.get(base, texts["en"]).format(**params)
