"""Verification at the facility: look a person up by insurance number (typed, or the text a scanner
reads from the card's QR code) or national ID and see at once whether they are covered today, for
which services, the waiting periods left and the limits and ceilings that remain. The membership
card (PDF with the QR code) is printed from here too."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..claims.card import CardData, card_pdf
from ..claims.coverage import coverage
from ..claims.people import display_name, find_people, uid_in
from ..policies.service import Policies
from ..registry import audit
from ..storage.models import Household, Individual
from .app import add_scheme_link, has_benefit
from .i18n import current_language
from .insurance import catalog, insurance_schemes, render, session
from .permissions import can, requires

bp = Blueprint("verify", __name__)


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_scheme_link(app, "verify.lookup", _l("Verify cover"), "coverage.verify", has_benefit("insurance"))


def people_for(q: str, scheme_code: str | None = None):
    schemes = insurance_schemes("coverage.verify")
    if scheme_code:
        schemes = [s for s in schemes if s.code == scheme_code] or schemes
    return [(s, p) for s, p in find_people(session(), schemes, q)
            if can(current_user, "coverage.verify", s.code, p.location_path)]


@bp.route("/verify")
@requires("coverage.verify")
def lookup():
    q = " ".join((request.args.get("q") or "").split())[:100]
    scheme_code = request.args.get("scheme") or None
    results = []
    if q:
        lang = current_language()
        for scheme, person in people_for(q, scheme_code):
            results.append({"scheme": scheme, "person": person, "name": display_name(person),
                             "household": session().get(Household, person.household_id) if person.household_id else None,
                             "covers": coverage(session(), scheme, person, date.today(), lang)})
        audit.record(session(), user=current_user, action="verify", entity="individual",
                     entity_id=results[0]["person"].id if len(results) == 1 else None,
                     detail=f"{q} -> {len(results)} found", ip=request.remote_addr or "")
        session().commit()
    return render("verify/lookup.html", q=q, scheme_code=scheme_code, results=results, today=date.today(),
                  can_claim=lambda code: can(current_user, "claims.submit", code))


@bp.route("/verify/card/<uid>.pdf")
@requires("coverage.verify")
def card(uid: str):
    """Membership cards: one for a person, one per member for a household."""
    uid = uid_in(uid) or abort(404)
    s = session()
    if uid.startswith("H"):
        household = s.scalar(select(Household).where(Household.uid == uid)) or abort(404)
        people = [m for m in household.members if m.active]
        scheme_code, path = household.scheme_code, household.location_path
    else:
        person = s.scalar(select(Individual).where(Individual.uid == uid)) or abort(404)
        household = s.get(Household, person.household_id) if person.household_id else None
        people, scheme_code, path = [person], person.scheme_code, person.location_path
    if not can(current_user, "coverage.verify", scheme_code, path):
        abort(403)
    scheme = catalog().current(scheme_code) or abort(404)
    lang = current_language()
    unit = household or people[0]
    policy = next((p for p in Policies(s, catalog()).policies_of(unit) if p.status == "active"), None)
    birth = next((f for f in ("dob", "date_of_birth") if scheme.field(f)), None)
    labels = {"number": _("Insurance number"), "household": _("Household"), "born": _("Born"), "valid": _("Valid")}
    cards = [CardData(p.uid, display_name(p), scheme.title.get(lang), scheme.operator.get(lang) if scheme.operator else "",
                      household.uid if household else "", str((p.data or {}).get(birth) or "") if birth else "",
                      policy.start_date if policy else None, policy.expiry_date if policy else None, labels)
             for p in people]
    audit.record(s, user=current_user, action="print_card", entity="household" if household else "individual",
                 entity_id=unit.id, scheme_code=scheme.code, detail=", ".join(p.uid for p in people),
                 ip=request.remote_addr or "")
    s.commit()
    return Response(card_pdf(cards), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="card-{uid}.pdf"'})
