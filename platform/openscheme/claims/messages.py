"""Messages of claim submission, review and verification in the languages of the interface
(the service layer runs outside requests too, so it does not use Flask-Babel)."""

from __future__ import annotations

MESSAGES = {
    "required": {"en": "Required.", "fr": "Obligatoire."},
    "bad_date": {"en": "Write a date as YYYY-MM-DD.", "fr": "Écrivez une date sous la forme AAAA-MM-JJ."},
    "future": {"en": "The date cannot be in the future.", "fr": "La date ne peut pas être dans le futur."},
    "before_start": {"en": "The end date is before the start date.", "fr": "La date de fin précède la date de début."},
    "bad_code": {"en": "Letters, digits and - _ / . only, at most 64.",
                 "fr": "Lettres, chiffres et - _ / . uniquement, 64 au plus."},
    "icd10": {"en": "“%(code)s” is not an ICD-10 code.", "fr": "« %(code)s » n'est pas un code CIM-10."},
    "facility": {"en": "Unknown facility “%(code)s”.", "fr": "Formation sanitaire inconnue « %(code)s »."},
    "facility_scope": {"en": "You may not submit claims for this facility.",
                       "fr": "Vous ne pouvez pas soumettre de demandes pour cette formation sanitaire."},
    "insuree": {"en": "No insured person “%(number)s” in this scheme.",
                "fr": "Aucun assuré « %(number)s » dans ce régime."},
    "ambiguous": {"en": "“%(number)s” matches several people: use the insurance number on the card.",
                  "fr": "« %(number)s » correspond à plusieurs personnes : utilisez le numéro d'assurance de la carte."},
    "care_type": {"en": "Out-patient or in-patient.", "fr": "Ambulatoire ou hospitalisation."},
    "no_lines": {"en": "Add at least one service or item.", "fr": "Ajoutez au moins un service ou un produit."},
    "too_many_lines": {"en": "At most %(n)s lines.", "fr": "%(n)s lignes au plus."},
    "service": {"en": "“%(code)s” is neither a service nor an item of the catalogue.",
                "fr": "« %(code)s » n'est ni un service ni un produit du catalogue."},
    "quantity": {"en": "A quantity above 0 and at most 9999.", "fr": "Une quantité supérieure à 0 et au plus 9999."},
    "price": {"en": "A price of 0 or more, with at most 2 decimals.",
              "fr": "Un prix de 0 ou plus, avec 2 décimales au plus."},
    "duplicate": {"en": "This facility already submitted claim %(code)s (claim #%(id)s): it exists once.",
                  "fr": "Cette formation a déjà soumis la demande %(code)s (n° %(id)s) : elle n'existe qu'une fois."},
    "benefit": {"en": "Unknown benefit “%(code)s”.", "fr": "Prestation inconnue « %(code)s »."},
    "submit_role": {"en": "Your role may not submit claims in this scheme.",
                    "fr": "Votre rôle ne permet pas de soumettre des demandes dans ce régime."},
    "not_object": {"en": "Send the claim as a JSON object.", "fr": "Envoyez la demande sous forme d'objet JSON."},
    "too_much": {"en": "The lines add up to %(total)s: a claim can ask for %(max)s at most.",
                 "fr": "Les lignes totalisent %(total)s : une demande peut réclamer %(max)s au plus."},
    # verification (claims/coverage.py): the cover of a benefit today, and each service's
    "cover_no_policy": {"en": "no policy", "fr": "aucune police"},
    "cover_pending": {"en": "enrolled, premium not fully paid", "fr": "inscrit, prime pas entièrement payée"},
    "cover_suspended": {"en": "policy suspended", "fr": "police suspendue"},
    "cover_not_started": {"en": "cover starts on %(date)s", "fr": "la couverture commence le %(date)s"},
    "cover_ended": {"en": "cover ended on %(date)s", "fr": "la couverture a pris fin le %(date)s"},
    "cover_status": {"en": "policy %(status)s", "fr": "police : %(status)s"},
    "cover_grace": {"en": "covered (grace period until %(date)s)", "fr": "couvert (délai de grâce jusqu'au %(date)s)"},
    "cover_until": {"en": "covered until %(date)s", "fr": "couvert jusqu'au %(date)s"},
    "cover_not_applicable": {"en": "the benefit does not apply to this person today: %(detail)s",
                             "fr": "la prestation ne s'applique pas à cette personne aujourd'hui : %(detail)s"},
    "service_genders": {"en": "for %(genders)s only", "fr": "réservé au sexe %(genders)s"},
    "service_age": {"en": "age %(min)s–%(max)s only", "fr": "de %(min)s à %(max)s ans uniquement"},
    "service_age_from": {"en": "from age %(min)s only", "fr": "à partir de %(min)s ans uniquement"},
    "service_age_to": {"en": "up to age %(max)s only", "fr": "jusqu'à %(max)s ans uniquement"},
    "service_reached": {"en": "limit of %(limit)s %(period)s reached", "fr": "limite de %(limit)s %(period)s atteinte"},
    "service_left": {"en": "%(left)s of %(limit)s left %(period)s", "fr": "reste %(left)s sur %(limit)s %(period)s"},
    "service_next": {"en": "next from %(date)s", "fr": "prochain à partir du %(date)s"},
    "service_per_visit": {"en": "at most %(n)s per visit", "fr": "au plus %(n)s par visite"},
    # the same in FHIR's CoverageEligibilityResponse
    "fhir_waiting": {"en": "waiting period: %(days)s day(s) left", "fr": "délai de carence : encore %(days)s jour(s)"},
    "fhir_category": {"en": "%(category)s per year", "fr": "%(category)s par an"},
    "fhir_ceiling": {"en": "ceiling %(ceiling)s", "fr": "plafond %(ceiling)s"},
    # review, feedback and payment batches (ClaimError)
    "unknown_scheme": {"en": "there is no scheme %(code)s", "fr": "il n'y a pas de régime %(code)s"},
    "adjust_state": {"en": "a claim in the state “%(status)s” cannot be adjusted by your role",
                     "fr": "une demande à l'état « %(status)s » ne peut pas être modifiée par votre rôle"},
    "adjust_reason": {"en": "give the reason for the change", "fr": "indiquez la raison de la modification"},
    "unknown_line": {"en": "the claim has no line %(n)s", "fr": "la demande n'a pas de ligne %(n)s"},
    "adjust_quantity": {"en": "the approved quantity must be between 0 and %(max)s",
                        "fr": "la quantité approuvée doit être comprise entre 0 et %(max)s"},
    "adjust_price": {"en": "the price must be 0 or more, with at most 2 decimals",
                     "fr": "le prix doit être de 0 ou plus, avec 2 décimales au plus"},
    "adjust_price_max": {"en": "the price can be %(max)s at most", "fr": "le prix peut être de %(max)s au plus"},
    "adjust_too_much": {"en": "the claim would then be worth %(total)s: %(max)s at most",
                        "fr": "la demande vaudrait alors %(total)s : %(max)s au plus"},
    "adjust_number": {"en": "quantity and price must be numbers", "fr": "la quantité et le prix doivent être des nombres"},
    "adjust_nothing": {"en": "change the quantity or the price", "fr": "modifiez la quantité ou le prix"},
    "not_covered": {"en": "%(code)s is not covered by the benefit", "fr": "%(code)s n'est pas couvert par la prestation"},
    "use_batch": {"en": "claims are batched and paid with their facility's batch",
                  "fr": "les demandes sont mises en lot et payées avec le lot de leur formation sanitaire"},
    "feedback_yes_no": {"en": "%(name)s: yes or no", "fr": "%(name)s : oui ou non"},
    "feedback_satisfaction": {"en": "satisfaction: 1 (very poor) to 5 (very good)",
                              "fr": "satisfaction : de 1 (très mauvaise) à 5 (très bonne)"},
    "period": {"en": "the period is a month: YYYY-MM", "fr": "la période est un mois : AAAA-MM"},
    "may_not_batch": {"en": "your role may not batch claims", "fr": "votre rôle ne permet pas de mettre des demandes en lot"},
    "batch_paid_period": {"en": "the batch of %(period)s was already paid", "fr": "le lot de %(period)s a déjà été payé"},
    "may_not_pay": {"en": "your role may not pay batches", "fr": "votre rôle ne permet pas de payer les lots"},
    "batch_paid": {"en": "this batch was already paid", "fr": "ce lot a déjà été payé"},
    "facility_scheme": {"en": "“%(code)s” does not serve this scheme: choose one of the facilities offered.",
                        "fr": "« %(code)s » ne dessert pas ce régime : choisissez l'une des formations sanitaires proposées."},
}
# the questions of a client's feedback, named in a refusal (English: the field's name, as it always read)
FEEDBACK = {"care_received": {"en": "care_received", "fr": "soins reçus"},
            "asked_to_pay": {"en": "asked_to_pay", "fr": "paiement demandé"}}


def feedback_question(name: str, lang: str = "en") -> str:
    return FEEDBACK.get(name, {}).get((lang or "en")[:2], name)


def msg(key: str, lang: str = "en", **params) -> str:
    texts = MESSAGES[key]
    text = texts.get((lang or "en")[:2], texts["en"])
    return text % params if params else text
