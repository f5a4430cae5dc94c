"""Issuing, redeeming and reimbursing vouchers.

A beneficiary entitled to a voucher benefit receives the declared set (e.g. 4
antenatal, 1 delivery, 2 post-natal), each voucher with a unique, checkable code.
Redemption checks validity dates, that the service matches the voucher type, that
the facility's level may redeem it and that the person presenting it is its
holder; the `voucher_redemptions` row has a unique voucher_id, so a voucher can
never be redeemed twice, even by two clerks at the same moment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..definitions.model import Benefit, Scheme
from ..registry import audit
from ..storage.models import Enrolment, Facility, Individual
from ..storage.workflow_models import Voucher, VoucherRedemption

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFUSALS = {
    "V01": "unknown voucher code",
    "V02": "the voucher was already used",
    "V03": "the voucher is not valid on this date",
    "V04": "this service cannot be paid with this voucher",
    "V05": "this facility cannot accept this voucher",
    "V06": "the voucher belongs to someone else",
    "V07": "the voucher was cancelled or has expired",
}


class VoucherRefused(Exception):
    def __init__(self, code: str, detail: str = "", **values):
        self.code = code
        self.values = values  # what the detail says, for a message in the user's language
        self.message = REFUSALS[code] + (f": {detail}" if detail else "")
        super().__init__(self.message)


def check_char(body: str) -> str:
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    """10 random Crockford characters and a check character: a mistyped code is caught at once."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"V{body}{check_char(body)}"


def valid_code(code: str) -> bool:
    code = code.strip().upper()
    return (len(code) == 12 and code[0] == "V" and all(c in ALPHABET for c in code[1:])
            and check_char(code[1:11]) == code[11])


def issue(session, scheme: Scheme, benefit: Benefit, person: Individual, issued_on: date, user=None) -> list[Voucher]:
    """Issue the benefit's voucher set to a person; issuing again returns the same set."""
    if benefit.kind != "voucher":
        raise ValueError(f"{benefit.code} is not a voucher benefit")
    existing = list(session.scalars(select(Voucher).where(
        Voucher.individual_id == person.id, Voucher.benefit_code == benefit.code,
        Voucher.status != "cancelled").order_by(Voucher.id)))
    if existing:
        return existing
    vouchers = []
    for vt in benefit.vouchers:
        validity = vt.validity_days or benefit.validity_days
        for _ in range(vt.count):
            valid_from = issued_on + timedelta(days=vt.valid_from_days)
            vouchers.append(Voucher(
                code=new_code(), scheme_code=scheme.code, benefit_code=benefit.code, type=vt.type,
                individual_id=person.id, status="issued", issued_on=issued_on, valid_from=valid_from,
                valid_until=issued_on + timedelta(days=validity) if validity else None,
                reimbursement=vt.reimbursement))
    session.add_all(vouchers)
    session.flush()
    audit.record(session, user=user, action="issue", entity="vouchers", entity_id=person.id, scheme_code=scheme.code,
                 after={"benefit": benefit.code, "codes": [v.code for v in vouchers]})
    return vouchers


def enrol(session, scheme: Scheme, person: Individual, on: date, version_id: int) -> None:
    """Issuing (selling) the vouchers enrols the person (or their household), if not enrolled already."""
    column = Enrolment.household_id if scheme.is_household and person.household_id else Enrolment.individual_id
    unit_id = person.household_id if column is Enrolment.household_id else person.id
    active = session.scalar(select(Enrolment.id).where(Enrolment.scheme_code == scheme.code, column == unit_id,
                                                       Enrolment.status.in_(("pending", "active", "suspended"))))
    if active is None:
        values = {"household_id": unit_id} if column is Enrolment.household_id else {"individual_id": unit_id}
        session.add(Enrolment(scheme_code=scheme.code, scheme_version_id=version_id, status="active", start_date=on,
                              **values))
        session.flush()


@dataclass
class Redeemed:
    voucher: Voucher
    redemption: VoucherRedemption


def redeem(session, scheme: Scheme, code: str, *, facility: Facility, service_code: str, holder_uid: str,
           on: date, user=None) -> Redeemed:
    code = (code or "").strip().upper()
    voucher = session.scalar(select(Voucher).where(Voucher.code == code))
    if voucher is None or voucher.scheme_code != scheme.code:
        raise VoucherRefused("V01", code if valid_code(code) else f"{code} (check the code: it is not well formed)",
                             voucher_code=code, well_formed=valid_code(code))
    if voucher.status == "redeemed":
        raise VoucherRefused("V02")
    if voucher.status != "issued":
        raise VoucherRefused("V07")
    holder = session.get(Individual, voucher.individual_id)
    if holder is None or holder.uid != (holder_uid or "").strip().upper():
        raise VoucherRefused("V06")
    if on < voucher.valid_from or (voucher.valid_until is not None and on > voucher.valid_until):
        until = voucher.valid_until.isoformat() if voucher.valid_until else "…"
        raise VoucherRefused("V03", f"valid {voucher.valid_from.isoformat()} to {until}",
                             valid_from=voucher.valid_from.isoformat(), valid_until=until)
    benefit = scheme.benefit(voucher.benefit_code)
    vtype = next((v for v in benefit.vouchers if v.type == voucher.type), None) if benefit else None
    if vtype is None or service_code not in vtype.services:
        allowed = ", ".join(vtype.services) if vtype else ""
        raise VoucherRefused("V04", f"a {voucher.type} voucher pays for {allowed}", type=voucher.type,
                             services=allowed)
    if benefit.facility_levels and facility.level not in benefit.facility_levels:
        raise VoucherRefused("V05", f"{facility.level} is not one of {', '.join(benefit.facility_levels)}",
                             level=facility.level, levels=", ".join(benefit.facility_levels))
    redemption = VoucherRedemption(voucher_id=voucher.id, facility_id=facility.id, service_code=service_code,
                                   redeemed_on=on, redeemed_by=getattr(user, "id", None),
                                   reimbursement_period=on.strftime("%Y-%m"))
    try:
        with session.begin_nested():
            session.add(redemption)
            session.flush()
    except IntegrityError:
        raise VoucherRefused("V02") from None
    voucher.status = "redeemed"
    audit.record(session, user=user, action="redeem", entity="voucher", entity_id=voucher.id, scheme_code=scheme.code,
                 after={"code": code, "facility": facility.code, "service": service_code, "on": on.isoformat()})
    return Redeemed(voucher, redemption)


def balance(session, person_id: int) -> dict[str, int]:
    """Vouchers a person can still use, by type."""
    rows = session.execute(select(Voucher.type, func.count()).where(
        Voucher.individual_id == person_id, Voucher.status == "issued").group_by(Voucher.type)).all()
    return dict(rows)


@dataclass
class Reimbursement:
    facility_id: int
    period: str
    count: int
    total: Decimal
    lines: list[tuple[str, str, str, Decimal]]  # voucher code, type, service, amount


def reimburse(session, scheme_code: str, facility: Facility, period: str, user=None) -> Reimbursement:
    """Reimburse a facility for the vouchers it redeemed in a month (YYYY-MM); each only once."""
    rows = session.execute(select(VoucherRedemption, Voucher).join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
                           .where(VoucherRedemption.facility_id == facility.id,
                                  VoucherRedemption.reimbursement_period == period,
                                  VoucherRedemption.reimbursed.is_(False), Voucher.scheme_code == scheme_code)
                           .order_by(VoucherRedemption.id)).all()
    lines = []
    for redemption, voucher in rows:
        redemption.reimbursed = True
        voucher.status = "reimbursed"
        lines.append((voucher.code, voucher.type, redemption.service_code, voucher.reimbursement or Decimal(0)))
    total = sum((x[3] for x in lines), Decimal(0))
    audit.record(session, user=user, action="reimburse", entity="facility", entity_id=facility.id,
                 scheme_code=scheme_code, after={"period": period, "vouchers": len(lines), "total": str(total),
                                                 "at": datetime.now().isoformat(timespec="seconds")})
    session.flush()
    return Reimbursement(facility.id, period, len(lines), total, lines)
