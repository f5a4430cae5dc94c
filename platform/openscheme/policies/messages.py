"""Messages of enrolment, premiums, payments and the policy workflow, in English and French.

The service layer runs outside requests too (the demo, the CLI), so it does not use Flask-Babel:
`Policies(..., lang=...)` says its refusals in that language (`msg`). Amounts are written as the
language writes them (French: 2 500,50); English keeps the figures as they always read (2500.50).
A state is said in words ("{status:state}"), a payer too ("{payer:payer}").

Pure: no Flask, no database.
"""

from __future__ import annotations

import string
from decimal import Decimal

from .. import numformat

MESSAGES = {
    # quotes
    "record_errors": {"en": "the record has errors; correct it first",
                      "fr": "l'enregistrement contient des erreurs ; corrigez-le d'abord"},
    "not_entitled": {"en": "not entitled to this benefit", "fr": "pas de droit à cette prestation"},
    "not_eligible": {"en": "not eligible", "fr": "non éligible"},
    "contribution_error": {"en": "the contribution cannot be computed: {error}",
                           "fr": "la cotisation ne peut pas être calculée : {error}"},
    "no_premium": {"en": "the scheme declares no premium", "fr": "le régime ne déclare aucune prime"},
    # the scheme, the benefit, the unit
    "unknown_scheme": {"en": "there is no scheme {code}", "fr": "il n'y a pas de régime {code}"},
    "no_insurance": {"en": "{code} has no insurance benefit", "fr": "{code} n'a pas de prestation d'assurance"},
    "unknown_benefit": {"en": "{code} has no insurance benefit {benefit}",
                        "fr": "{code} n'a pas de prestation d'assurance {benefit}"},
    "wrong_scheme": {"en": "{uid} is registered in {registered}, not {code}",
                     "fr": "{uid} est enregistré dans {registered}, pas dans {code}"},
    "member": {"en": "{uid} is a household member: enrol the household",
               "fr": "{uid} est membre d'un ménage : inscrivez le ménage"},
    "inactive": {"en": "{uid} is inactive", "fr": "{uid} est désactivé"},
    "already_enrolled": {"en": "{uid} already has policy #{id} ({status:state})",
                         "fr": "{uid} a déjà la police n° {id} ({status:state})"},
    # renewals
    "monthly": {"en": "a wage scheme's cover continues with the monthly contributions",
                "fr": "dans un régime sur salaire, la couverture continue avec les cotisations mensuelles"},
    "may_not_renew": {"en": "your role may not renew policies", "fr": "votre rôle ne permet pas de renouveler les polices"},
    "not_renewable": {"en": "a {status:state_a} policy cannot be renewed",
                      "fr": "une police {status:state} ne peut pas être renouvelée"},
    "already_renewed": {"en": "policy #{id} was already renewed as #{new}",
                        "fr": "la police n° {id} a déjà été renouvelée : n° {new}"},
    # payments
    "bad_amount_number": {"en": "the amount must be a number", "fr": "le montant doit être un nombre"},
    "bad_amount_positive": {"en": "the amount must be more than 0", "fr": "le montant doit être supérieur à 0"},
    "bad_amount_decimals": {"en": "the amount has more than 2 decimals", "fr": "le montant a plus de 2 décimales"},
    "future": {"en": "the payment date is in the future", "fr": "la date du paiement est dans le futur"},
    "bad_method": {"en": "the payment method must be one of: {methods}",
                   "fr": "le mode de paiement doit être l'un de : {methods}"},
    "bad_reference": {"en": "write the receipt number or the transaction reference (at most 64 characters)",
                      "fr": "écrivez le numéro du reçu ou la référence de la transaction (64 caractères au plus)"},
    "closed": {"en": "a {status:state_a} policy takes no payment",
               "fr": "une police {status:state} ne reçoit pas de paiement"},
    "paid": {"en": "this policy's premium is already paid", "fr": "la prime de cette police est déjà payée"},
    "too_much": {"en": "the balance due is {left:amount}", "fr": "le solde dû est de {left:amount}"},
    "duplicate_reference": {"en": "the {method} reference {reference} was already recorded",
                            "fr": "la référence {method} {reference} a déjà été enregistrée"},
    "duplicate_reference_at": {"en": "the {method} reference {reference} was already recorded (policy #{id}, {date})",
                               "fr": "la référence {method} {reference} a déjà été enregistrée (police n° {id}, {date})"},
    "bad_payer": {"en": "say who pays: the employer or the employee",
                  "fr": "indiquez qui paie : l'employeur ou le salarié"},
    "bad_period_format": {"en": "the month paid for, as YYYY-MM", "fr": "le mois payé, sous la forme AAAA-MM"},
    "bad_period_range": {"en": "the month must be between {first} and next month",
                         "fr": "le mois doit être compris entre {first} et le mois prochain"},
    "share_too_much": {"en": "the {payer} share due for {period} is {left:amount}",
                       "fr": "la part {payer:payer} due pour {period} est de {left:amount}"},
    # the lifecycle
    "unpaid": {"en": "the premium is not fully paid: {balance:amount} due",
               "fr": "la prime n'est pas entièrement payée : {balance:amount} dû"},
    "may_not_approve": {"en": "your role may not approve policies", "fr": "votre rôle ne permet pas d'approuver les polices"},
    # the workflow (policies.workflow.StepRefused; claims too)
    "step_refused": {"en": "“{transition}” is not possible from the state “{status}” for your role",
                     "fr": "« {transition} » n'est pas possible depuis l'état « {status:state} » pour votre rôle"},
    "no_workflow": {"en": "the scheme {code} has no {name} workflow", "fr": "le régime {code} n'a pas de circuit {name}"},
}

# states of a policy or a claim (both feminine in French: une police, une demande)
STATES = {
    "pending": {"en": "pending", "fr": "en attente"}, "active": {"en": "active", "fr": "active"},
    "suspended": {"en": "suspended", "fr": "suspendue"}, "expired": {"en": "expired", "fr": "expirée"},
    "rejected": {"en": "rejected", "fr": "rejetée"}, "cancelled": {"en": "cancelled", "fr": "annulée"},
    "entered": {"en": "entered", "fr": "saisie"}, "submitted": {"en": "submitted", "fr": "soumise"},
    "checked": {"en": "checked", "fr": "contrôlée"}, "review": {"en": "in review", "fr": "en revue"},
    "valuated": {"en": "valued", "fr": "valorisée"}, "batched": {"en": "in a payment batch", "fr": "dans un lot de paiement"},
    "paid": {"en": "paid", "fr": "payée"}, "medical_audit": {"en": "medical audit", "fr": "en audit médical"},
}
PAYERS = {"employer": {"en": "employer", "fr": "de l'employeur"}, "employee": {"en": "employee", "fr": "du salarié"}}


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def format_field(self, value, spec: str) -> str:
        if isinstance(value, dict):  # a scheme text (a transition's label) in its languages
            value = value.get(self.lang) or value.get("*") or next(iter(value.values()), "")
        if spec == "amount":
            if self.lang == "en":
                return str(value)
            return numformat.money(value if isinstance(value, Decimal) else str(value), self.lang)
        if spec == "state_a":  # English: the code, as it always read ("a pending policy")
            return str(value) if self.lang == "en" else state(value, self.lang)
        if spec == "state":
            return state(value, self.lang)
        if spec == "payer":
            return PAYERS.get(value, {}).get(self.lang) or str(value)
        return super().format_field(value, spec)


def state(code: str, lang: str = "en") -> str:
    """A state of a policy or a claim in words; English and unknown states as they are written."""
    if numformat.base(lang) == "en":
        return str(code)
    texts = STATES.get(code)
    return texts.get(numformat.base(lang), str(code)) if texts else str(code).replace("_", " ")


def msg(key: str, lang: str | None = "en", **params) -> str:
    texts = MESSAGES[key]
    lang = numformat.base(lang)
    return _Formatter(lang).format(texts.get(lang, texts["en"]), **params)
