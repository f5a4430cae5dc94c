"""Vouchers: the declared set is issued, each is redeemed once, checks refuse with reasons, facilities are reimbursed."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from openscheme.registry.service import Registry
from openscheme.storage.models import Facility
from openscheme.storage.workflow_models import VoucherRedemption
from openscheme.vouchers import service as vs

CODE = "cm-cheque-sante"
WOMAN = {"cheque_number": "CS00012345", "first_name": "Aissatou", "last_name": "Bouba", "sex": "F",
         "dob": "1998-06-10", "phone": "+237690000001", "region": "EN", "health_district": "MOKOLO", "parity": 1,
         "lmp_known": True}
ISSUED = date.today()  # the registry validates against today: the pregnancy must be current


def day(n: int) -> date:
    return ISSUED + timedelta(days=n)


@pytest.fixture
def ctx(app, session):
    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(CODE)
    saved = Registry(session, catalog).register(CODE, WOMAN | {"lmp": day(-60).isoformat()})
    assert saved.ok, saved.errors
    centre = Facility(code="HC1", name="CSI Mokolo", level="health_centre", care_type="both")
    pharmacy = Facility(code="PH1", name="Pharmacie", level="pharmacy", care_type="out_patient")
    session.add_all([centre, pharmacy])
    session.flush()
    vouchers = vs.issue(session, scheme, scheme.benefit("cheque_sante"), saved.record, ISSUED)
    session.commit()
    return {"scheme": scheme, "person": saved.record, "centre": centre, "pharmacy": pharmacy, "vouchers": vouchers,
            "factory": app.extensions["openscheme"].db.session_factory}


def of_type(ctx, t):
    return [v for v in ctx["vouchers"] if v.type == t]


def test_the_declared_set_is_issued_once(session, ctx):
    counts = {}
    for v in ctx["vouchers"]:
        counts[v.type] = counts.get(v.type, 0) + 1
        assert vs.valid_code(v.code)
    assert counts == {"antenatal": 4, "delivery": 1, "complication": 1, "postnatal": 2}
    assert len({v.code for v in ctx["vouchers"]}) == 8
    again = vs.issue(session, ctx["scheme"], ctx["scheme"].benefit("cheque_sante"), ctx["person"], ISSUED)
    assert [v.id for v in again] == [v.id for v in ctx["vouchers"]]
    assert vs.balance(session, ctx["person"].id) == counts


def test_redeem_once_then_refused(session, ctx):
    v = of_type(ctx, "antenatal")[0]
    kwargs = {"facility": ctx["centre"], "service_code": "CPN1", "holder_uid": ctx["person"].uid, "on": day(10)}
    vs.redeem(session, ctx["scheme"], v.code, **kwargs)
    with pytest.raises(vs.VoucherRefused) as refused:
        vs.redeem(session, ctx["scheme"], v.code, **kwargs)
    assert refused.value.code == "V02"
    assert vs.balance(session, ctx["person"].id)["antenatal"] == 3


@pytest.mark.parametrize("change, code", [
    ({"service_code": "ACC-NORMAL"}, "V04"),
    ({"on": day(-30)}, "V03"),
    ({"holder_uid": "P0000000000"}, "V06"),
    ({"facility": "pharmacy"}, "V05"),
])
def test_checks_refuse_with_a_reason(session, ctx, change, code):
    v = of_type(ctx, "antenatal")[0]
    kwargs = {"facility": ctx["centre"], "service_code": "CPN1", "holder_uid": ctx["person"].uid, "on": day(10)}
    kwargs |= {k: (ctx["pharmacy"] if val == "pharmacy" else val) for k, val in change.items()}
    with pytest.raises(vs.VoucherRefused) as refused:
        vs.redeem(session, ctx["scheme"], v.code, **kwargs)
    assert refused.value.code == code and refused.value.message


def test_a_mistyped_code_is_recognised(session, ctx):
    with pytest.raises(vs.VoucherRefused, match="not well formed"):
        vs.redeem(session, ctx["scheme"], "VABC", facility=ctx["centre"], service_code="CPN1",
                  holder_uid=ctx["person"].uid, on=day(10))


def test_two_clerks_redeeming_the_same_voucher_at_once(session, ctx):
    v = of_type(ctx, "delivery")[0]
    outcomes = []
    barrier = threading.Barrier(2)

    def clerk():
        with ctx["factory"]() as s:
            scheme, centre = ctx["scheme"], s.get(Facility, ctx["centre"].id)
            barrier.wait()
            try:
                vs.redeem(s, scheme, v.code, facility=centre, service_code="ACC-NORMAL",
                          holder_uid=ctx["person"].uid, on=day(200))
                s.commit()
                outcomes.append("ok")
            except vs.VoucherRefused as exc:
                s.rollback()
                outcomes.append(exc.code)
            except Exception as exc:  # noqa: BLE001 - SQLite may report the lock itself
                s.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    session.rollback()  # end the read transaction: see what other sessions committed
    assert session.scalar(select(func.count()).select_from(VoucherRedemption).where(
        VoucherRedemption.voucher_id == v.id)) == 1


def test_the_database_refuses_a_second_redemption_row(session, ctx):
    from sqlalchemy.exc import IntegrityError

    v = of_type(ctx, "postnatal")[0]
    for _ in range(2):
        session.add(VoucherRedemption(voucher_id=v.id, facility_id=ctx["centre"].id, service_code="CPON1",
                                      redeemed_on=day(250)))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_facility_is_reimbursed_per_period_once(session, ctx):
    kwargs = {"facility": ctx["centre"], "holder_uid": ctx["person"].uid}
    a1, a2 = of_type(ctx, "antenatal")[:2]
    vs.redeem(session, ctx["scheme"], a1.code, service_code="CPN1", on=day(10), **kwargs)
    vs.redeem(session, ctx["scheme"], a2.code, service_code="CPN2", on=day(11), **kwargs)
    vs.redeem(session, ctx["scheme"], of_type(ctx, "antenatal")[2].code, service_code="CPN3", on=day(45),
              **kwargs)
    periods = sorted({day(10).strftime("%Y-%m"), day(11).strftime("%Y-%m"), day(45).strftime("%Y-%m")})
    reimbursed = [vs.reimburse(session, CODE, ctx["centre"], p) for p in periods]
    assert sum(r.count for r in reimbursed) == 3
    assert sum((r.total for r in reimbursed), Decimal(0)) == Decimal(7500)
    assert all(vs.reimburse(session, CODE, ctx["centre"], p).count == 0 for p in periods)
