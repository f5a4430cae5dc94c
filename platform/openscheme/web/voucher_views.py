"""Vouchers in the browser: issue a booklet, print it with QR codes, redeem at a facility,
see a beneficiary's balance, reimburse a facility per month.

    /s/<scheme>/vouchers                         find a beneficiary; the other pages
    /s/<scheme>/vouchers/issue          GET/POST an enrolment officer issues the declared set
    /s/<scheme>/vouchers/person/<uid>            the balance: vouchers by type and status
    /s/<scheme>/vouchers/person/<uid>/booklet    printable, one QR code (the voucher code) per voucher
    /s/<scheme>/vouchers/redeem         GET/POST a facility clerk: code (typed or scanned), holder, service, date
    /s/<scheme>/vouchers/reimburse      GET/POST what each facility is owed per month; reimburse it
    /s/<scheme>/vouchers/statements/<facility>/<YYYY-MM>[/statement.csv]   a reimbursement's statement

The QR code holds only the voucher code, so a scanner that types what it reads
fills the code field. The checks (validity, service, facility level, holder,
never twice) live in `vouchers.service`; refusals are shown with their reason
in the user's language.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from .. import numformat
from ..definitions.model import Scheme
from ..evaluation import evaluate
from ..reference.facilities import serving
from ..registry.values import record_input
from ..storage.models import Facility, Individual
from ..storage.workflow_models import Voucher, VoucherRedemption
from ..vouchers import service as vs
from .i18n import current_language
from .permissions import assignments, can, requires

bp = Blueprint("vouchers", __name__)
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
REFUSALS = {
    "V01": _l("Unknown voucher code %(voucher_code)s."),
    "V02": _l("This voucher was already used."),
    "V03": _l("This voucher is not valid on this date (valid from %(valid_from)s to %(valid_until)s)."),
    "V04": _l("This service cannot be paid with this voucher: a %(type)s voucher pays for %(services)s."),
    "V05": _l("This facility cannot accept this voucher (its level, %(level)s, is not one of %(levels)s)."),
    "V06": _l("This voucher belongs to someone else: check the holder's ID."),
    "V07": _l("This voucher was cancelled or has expired."),
}
STATUS = {"issued": _l("available"), "redeemed": _l("used"), "reimbursed": _l("used and reimbursed"),
          "cancelled": _l("cancelled"), "expired": _l("expired")}


# shared with every screen: the app's state, the request's session, a scheme or 404
from .app import current_scheme  # noqa: E402,F401
from .app import db_session as _session  # noqa: E402
from .app import state as _state  # noqa: E402


def voucher_benefits(scheme: Scheme):
    return [b for b in scheme.benefits if b.kind == "voucher"]


def type_labels(scheme: Scheme, lang: str) -> dict[str, str]:
    return {v.type: v.label.get(lang, scheme.default_language) for b in voucher_benefits(scheme) for v in b.vouchers}


def refusal_text(exc: vs.VoucherRefused) -> str:
    values = {"voucher_code": "", "valid_from": "", "valid_until": "", "type": "", "services": "", "level": "",
              "levels": ""} | exc.values
    if exc.code == "V01" and not exc.values.get("well_formed", True):
        return _("%(code)s is not a voucher code: check it (a letter or digit may be mistyped).",
                 code=values["voucher_code"])
    return str(REFUSALS[exc.code] % values)


def person_or_404(scheme: Scheme, uid: str, permission: str) -> Individual:
    person = _session().scalar(select(Individual).where(Individual.uid == (uid or "").strip().upper(),
                                                        Individual.scheme_code == scheme.code))
    if person is None:
        abort(404)
    if not can(current_user, permission, scheme.code, person.location_path):
        abort(403)
    return person


def person_name(data: dict | None) -> str:
    data = data or {}
    return " ".join(str(data[k]) for k in ("first_name", "last_name") if data.get(k)).strip()


def money(value) -> str:
    """An amount as the page's language writes it (2,500 / 2 500; 2,500.50 / 2 500,50)."""
    return numformat.money(Decimal(value or 0), current_language())


# ---- find, balance ------------------------------------------------------------------------------


@bp.get("/s/<scheme>/vouchers")
@requires("vouchers.view")
def index(scheme):
    s = current_scheme(scheme)
    uid = (request.args.get("uid") or "").strip().upper()
    if uid:
        person = _session().scalar(select(Individual).where(Individual.uid == uid, Individual.scheme_code == s.code))
        if person is not None and can(current_user, "vouchers.view", s.code, person.location_path):
            return redirect(url_for(".person", scheme=s.code, uid=uid))
        flash(_("No beneficiary %(uid)s in this scheme.", uid=uid))
    return render_template("vouchers/index.html", scheme=s, benefits=voucher_benefits(s), uid=uid)


@bp.get("/s/<scheme>/vouchers/person/<uid>")
@requires("vouchers.view")
def person(scheme, uid):
    s = current_scheme(scheme)
    p = person_or_404(s, uid, "vouchers.view")
    session = _session()
    vouchers = list(session.scalars(select(Voucher).where(Voucher.individual_id == p.id, Voucher.scheme_code == s.code)
                                    .order_by(Voucher.id)))
    used = {r.voucher_id: (r, f) for r, f in session.execute(
        select(VoucherRedemption, Facility).join(Facility, Facility.id == VoucherRedemption.facility_id)
        .where(VoucherRedemption.voucher_id.in_([v.id for v in vouchers])))} if vouchers else {}
    lang = current_language()
    labels = type_labels(s, lang)
    balance = vs.balance(session, p.id)
    by_type = {}
    for v in vouchers:
        by_type.setdefault(v.type, {"label": labels.get(v.type, v.type), "issued": 0, "left": balance.get(v.type, 0)})
        by_type[v.type]["issued"] += 1
    return render_template("vouchers/person.html", scheme=s, person=p, name=person_name(p.data), vouchers=vouchers,
                           used=used, labels=labels, by_type=by_type, status=STATUS, today=date.today())


# ---- issue and print ----------------------------------------------------------------------------


def entitlement(scheme: Scheme, person: Individual, benefit, on: date, lang: str) -> list[str]:
    """Why the person may not get the benefit's vouchers today (empty: entitled), from the declarations."""
    session = _session()
    if scheme.is_household and person.household_id:
        from ..storage.models import Household

        household = session.get(Household, person.household_id)
        members = [(m.data, m.roles or []) for m in household.members if m.active]
        data = record_input(household.data, members, True)
    else:
        data = record_input(person.data, None, False)
    ev = evaluate(scheme, data, as_of=on, lang=lang, explain=False)
    if not ev.record.ok:
        return [f"{e.path}: {e.message}" for e in ev.record.errors]
    outcome = ev.benefit(benefit.code)
    if ev.eligible and outcome is not None and outcome.entitled:
        return []
    reasons = [r.reason or r.name for r in ev.rules if not r.passed]
    if outcome is not None:
        reasons += [c.reason or c.name for c in outcome.conditions if not c.passed]
    return reasons or [_("not entitled to this benefit")]


@bp.route("/s/<scheme>/vouchers/issue", methods=["GET", "POST"])
@requires("vouchers.issue")
def issue(scheme):
    s = current_scheme(scheme)
    benefits = voucher_benefits(s)
    if not benefits:
        abort(404)
    lang = current_language()
    form = {"uid": (request.values.get("uid") or "").strip().upper(),
            "benefit": request.values.get("benefit") or benefits[0].code,
            "issued_on": request.values.get("issued_on") or date.today().isoformat()}
    reasons, error = [], None
    if request.method == "POST":
        session = _session()
        b = s.benefit(form["benefit"])
        try:
            on = date.fromisoformat(form["issued_on"])
        except ValueError:
            on, error = None, _("Give the date as YYYY-MM-DD.")
        p = session.scalar(select(Individual).where(Individual.uid == form["uid"], Individual.scheme_code == s.code))
        if b is None or b.kind != "voucher":
            error = _("Choose a voucher benefit.")
        elif p is None or not p.active:
            error = _("No beneficiary %(uid)s in this scheme.", uid=form["uid"] or "…")
        elif not can(current_user, "vouchers.issue", s.code, p.location_path):
            abort(403)
        elif on is not None:
            reasons = entitlement(s, p, b, on, lang)
            if not reasons:
                vs.enrol(session, s, p, on, _state().catalog.version_id(s.code))
                vouchers = vs.issue(session, s, b, p, on, current_user._get_current_object())
                session.commit()
                flash(_("%(n)s vouchers issued to %(name)s.", n=len(vouchers), name=person_name(p.data) or p.uid))
                return redirect(url_for(".booklet", scheme=s.code, uid=p.uid)), 303
            error = _("%(uid)s cannot receive these vouchers:", uid=p.uid)
    return render_template("vouchers/issue.html", scheme=s, benefits=benefits, form=form, error=error,
                           reasons=reasons), (422 if error else 200)


def qr_data_uri(code: str) -> str:
    import segno

    return segno.make(code, error="m", micro=False).svg_data_uri(scale=4, border=2)


@bp.get("/s/<scheme>/vouchers/person/<uid>/booklet")
@requires("vouchers.view")
def booklet(scheme, uid):
    s = current_scheme(scheme)
    p = person_or_404(s, uid, "vouchers.view")
    lang = current_language()
    labels = type_labels(s, lang)
    services = {v.type: ", ".join(v.services) for b in voucher_benefits(s) for v in b.vouchers}
    vouchers = list(_session().scalars(select(Voucher).where(Voucher.individual_id == p.id,
                                                            Voucher.scheme_code == s.code,
                                                            Voucher.status != "cancelled").order_by(Voucher.id)))
    items = [{"v": v, "label": labels.get(v.type, v.type), "services": services.get(v.type, ""),
              "qr": qr_data_uri(v.code)} for v in vouchers]
    return render_template("vouchers/booklet.html", scheme=s, person=p, name=person_name(p.data), items=items,
                           status=STATUS)


# ---- redeem -------------------------------------------------------------------------------------


def clerk_facilities(session, scheme: Scheme) -> list[Facility]:
    """The facilities this clerk redeems for: those of their assignments, or all when not limited - of those,
    the ones that can serve the scheme (in its country: `reference.facilities`)."""
    mine = assignments(current_user, "vouchers.redeem", scheme.code)
    query = serving(session, scheme, "voucher")
    if mine and all(a.facility_id is not None for a in mine):
        query = query.where(Facility.id.in_({a.facility_id for a in mine}))
    return list(session.scalars(query))


@bp.route("/s/<scheme>/vouchers/redeem", methods=["GET", "POST"])
@requires("vouchers.redeem")
def redeem(scheme):
    s = current_scheme(scheme)
    session = _session()
    lang = current_language()
    facilities = clerk_facilities(session, s)
    services = [(svc, v.label.get(lang, s.default_language)) for b in voucher_benefits(s) for v in b.vouchers
                for svc in v.services]
    form = {"code": (request.form.get("code") or "").strip().upper(),
            "holder": (request.form.get("holder") or "").strip().upper(),
            "service": request.form.get("service") or "",
            "on": request.form.get("on") or date.today().isoformat(),
            "facility": request.form.get("facility") or (str(facilities[0].id) if len(facilities) == 1 else "")}
    refused = refused_code = accepted = None
    field_errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        facility = next((f for f in facilities if str(f.id) == form["facility"]), None)
        try:
            on = date.fromisoformat(form["on"])
        except ValueError:
            on = None
        if facility is None:  # none chosen, or one not offered (not theirs, another country's)
            refused, status = _("Choose your facility."), 422
            field_errors["facility"] = refused
        elif on is None:
            refused, status = _("Give the date as YYYY-MM-DD."), 422
        elif on > date.today():
            refused, status = _("The date of the service cannot be in the future."), 422
        elif not form["code"] or not form["holder"] or not form["service"]:
            refused, status = _("Give the voucher code, the holder's ID and the service."), 422
        else:
            try:
                done = vs.redeem(session, s, form["code"], facility=facility, service_code=form["service"],
                                 holder_uid=form["holder"], on=on, user=current_user._get_current_object())
            except vs.VoucherRefused as exc:
                session.rollback()
                refused, refused_code, status = refusal_text(exc), exc.code, 409
            else:
                session.commit()
                holder = session.get(Individual, done.voucher.individual_id)
                accepted = {"code": done.voucher.code, "type": type_labels(s, lang).get(done.voucher.type),
                            "service": form["service"], "facility": facility.name,
                            "amount": money(done.voucher.reimbursement), "holder": person_name(holder.data),
                            "left": vs.balance(session, holder.id)}
                form |= {"code": "", "service": ""}
    return render_template("vouchers/redeem.html", scheme=s, facilities=facilities, services=services, form=form,
                           refused=refused, refused_code=refused_code, accepted=accepted, errors=field_errors,
                           labels=type_labels(s, lang)), status


# ---- reimburse ----------------------------------------------------------------------------------


@bp.get("/s/<scheme>/vouchers/reimburse")
@requires("vouchers.reimburse")
def reimbursements(scheme):
    s = current_scheme(scheme)
    session = _session()
    rows = session.execute(
        select(Facility, VoucherRedemption.reimbursement_period, VoucherRedemption.reimbursed, func.count(),
               func.sum(Voucher.reimbursement))
        .join(VoucherRedemption, VoucherRedemption.facility_id == Facility.id)
        .join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
        .where(Voucher.scheme_code == s.code)
        .group_by(Facility.id, VoucherRedemption.reimbursement_period, VoucherRedemption.reimbursed)
        .order_by(VoucherRedemption.reimbursement_period.desc(), Facility.name)).all()
    owed = [(f, period, n, total) for f, period, paid, n, total in rows if not paid]
    done = [(f, period, n, total) for f, period, paid, n, total in rows if paid]
    return render_template("vouchers/reimburse.html", scheme=s, owed=owed, done=done, money=money,
                           this_month=date.today().strftime("%Y-%m"))


@bp.post("/s/<scheme>/vouchers/reimburse")
@requires("vouchers.reimburse")
def reimburse(scheme):
    s = current_scheme(scheme)
    session = _session()
    facility = session.scalar(select(Facility).where(Facility.code == request.form.get("facility", "")))
    period = request.form.get("period", "")
    if facility is None or not PERIOD_RE.match(period):
        abort(400)
    if period >= date.today().strftime("%Y-%m"):
        flash(_("A month is reimbursed once it is over."))
        return redirect(url_for(".reimbursements", scheme=s.code)), 303
    result = vs.reimburse(session, s.code, facility, period, current_user._get_current_object())
    session.commit()
    if result.count:
        flash(_("%(facility)s reimbursed for %(period)s: %(n)s vouchers, %(total)s %(currency)s.",
                facility=facility.name, period=period, n=result.count, total=money(result.total),
                currency=s.currency))
    else:
        flash(_("Nothing left to reimburse to %(facility)s for %(period)s.", facility=facility.name, period=period))
    return redirect(url_for(".statement", scheme=s.code, facility=facility.code, period=period)), 303


def statement_lines(session, scheme: Scheme, facility: Facility, period: str):
    return session.execute(
        select(Voucher.code, Voucher.type, VoucherRedemption.service_code, VoucherRedemption.redeemed_on,
               Voucher.reimbursement, Individual.uid)
        .join(VoucherRedemption, VoucherRedemption.voucher_id == Voucher.id)
        .join(Individual, Individual.id == Voucher.individual_id)
        .where(VoucherRedemption.facility_id == facility.id, VoucherRedemption.reimbursement_period == period,
               VoucherRedemption.reimbursed.is_(True), Voucher.scheme_code == scheme.code)
        .order_by(VoucherRedemption.redeemed_on, VoucherRedemption.id)).all()


def _statement_args(scheme, facility, period):
    s = current_scheme(scheme)
    if not PERIOD_RE.match(period):
        abort(404)
    f = _session().scalar(select(Facility).where(Facility.code == facility))
    if f is None:
        abort(404)
    return s, f


@bp.get("/s/<scheme>/vouchers/statements/<facility>/<period>")
@requires("vouchers.reimburse")
def statement(scheme, facility, period):
    s, f = _statement_args(scheme, facility, period)
    lines = statement_lines(_session(), s, f, period)
    total = sum((Decimal(x.reimbursement or 0) for x in lines), Decimal(0))
    return render_template("vouchers/statement.html", scheme=s, facility=f, period=period, lines=lines, total=total,
                           money=money, labels=type_labels(s, current_language()))


@bp.get("/s/<scheme>/vouchers/statements/<facility>/<period>/statement.csv")
@requires("vouchers.reimburse")
def statement_csv(scheme, facility, period):
    s, f = _statement_args(scheme, facility, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["facility", "period", "voucher_code", "type", "service", "redeemed_on", "holder", "amount",
                     "currency"])
    total = Decimal(0)
    for line in statement_lines(_session(), s, f, period):
        amount = Decimal(line.reimbursement or 0)
        total += amount
        writer.writerow([f.code, period, line.code, line.type, line.service_code, line.redeemed_on.isoformat(),
                         line.uid, format(amount, "f"), s.currency])
    writer.writerow([f.code, period, "TOTAL", "", "", "", "", format(total, "f"), s.currency])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={s.code}-{f.code}-{period}.csv"})


def init_app(app) -> None:
    from .app import add_scheme_link, has_benefit

    app.register_blueprint(bp)
    add_scheme_link(app, "vouchers.index", _l("Vouchers"), "vouchers.view", has_benefit("voucher"))
