"""Which health facilities can serve a scheme: the ones a clerk is offered in the claim form and the
voucher redemption form, and the only ones a claim or a redemption may name.

A facility serves a scheme when it is active and
  - lies in the scheme's country, when the scheme declares one that is a place of the reference
    data (`country: TZ` and the place TZ: the facilities under /TZ/); a facility without a place
    is then not offered;
  - for claims (insurance): has no price list (it is paid the benefit's own prices), or a price
    list with at least one of the services or items of the scheme's insurance benefits (a list of
    another scheme's services would leave nothing to claim).
Vouchers name services but no price list, so only the place counts for them (the facility level
a voucher needs is checked at redemption, with its own reason).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..definitions.model import Scheme
from ..storage.models import CatalogueEntry, Facility, Location, PriceListEntry


def insurance_codes(scheme: Scheme) -> set[str]:
    return {s.code for b in scheme.benefits if b.kind == "insurance" for s in list(b.services) + list(b.items)}


def serving(session, scheme: Scheme, kind: str = "insurance"):
    """A query of the active facilities that can serve the scheme, by name (`kind`: insurance or voucher)."""
    query = select(Facility).where(Facility.active.is_(True))
    country = session.scalar(select(Location.path).where(Location.code == scheme.country)) if scheme.country else None
    if country is not None:
        query = query.join(Location, Location.id == Facility.location_id).where(Location.path.startswith(country, autoescape=True))
    codes = insurance_codes(scheme) if kind == "insurance" else set()
    if codes:
        lists = (select(PriceListEntry.price_list_id).join(CatalogueEntry, CatalogueEntry.id == PriceListEntry.catalogue_id)
                 .where(CatalogueEntry.code.in_(sorted(codes))))
        query = query.where(or_(Facility.price_list_id.is_(None), Facility.price_list_id.in_(lists)))
    return query.order_by(Facility.name, Facility.id)


def serving_ids(session, scheme: Scheme, kind: str = "insurance") -> set[int]:
    return set(session.scalars(serving(session, scheme, kind).with_only_columns(Facility.id)))


def serves(session, scheme: Scheme, facility: Facility, kind: str = "insurance") -> bool:
    return session.scalar(serving(session, scheme, kind).with_only_columns(Facility.id)
                          .where(Facility.id == facility.id)) is not None
