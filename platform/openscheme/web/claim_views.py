"""Claims in the browser: the claim form generated from the benefit and the facility's price list,
the automated decision with its reasons, the review queue (adjust a line's quantity or price with a
reason, take the workflow's steps), client feedback, payment batches with the provider payment file,
and the fraud signals. Every write goes through `claims.service.ClaimService`; every route declares
its permission; a clerk limited to a facility sees and submits only that facility's claims."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..claims import fraud
from ..claims.people import display_name
from ..claims.service import (
    MAX_LINES,
    ClaimError,
    ClaimService,
    insurance_benefit,
    submit_and_commit,
)
from ..policies import terms
from ..policies.workflow import available, roles_of
from ..storage.models import AuditLog, Facility, Icd10Code, Individual
from ..storage.workflow_models import ClaimBatch, ClaimRecord
from .app import add_scheme_link, has_benefit
from .i18n import current_language
from .insurance import (
    allowed_facility_ids,
    catalog,
    facilities_for,
    facility_allowed,
    insurance_scheme,
    int_arg,
    render,
    serving_facilities_for,
    session,
)
from .permissions import can, requires

bp = Blueprint("claims", __name__)
FORM_ROWS = 8
PAGE_SIZE = 50
SYSTEM_STEPS = ("check", "submit", "batch", "pay")


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_scheme_link(app, "claims.index", _l("Claims"), "claims.view", has_benefit("insurance"))
    add_scheme_link(app, "claims.batches", _l("Payment batches"), "claims.batch", has_benefit("insurance"))


def service() -> ClaimService:
    return ClaimService(session(), catalog(), current_user._get_current_object(), current_language(),
                        request.remote_addr or "")


def load_claim(claim_id: int, permission: str) -> ClaimRecord:
    claim = session().get(ClaimRecord, claim_id) or abort(404)
    facility = session().get(Facility, claim.facility_id)
    if not can(current_user, permission, claim.scheme_code) or not facility_allowed(permission, claim.scheme_code, facility):
        abort(403)
    return claim


def claim_form_data(form) -> dict:
    lines = []
    for i in range(MAX_LINES):
        code = (form.get(f"lines-{i}-code") or "").strip()
        if not code:
            continue
        lines.append({"code": code, "quantity": (form.get(f"lines-{i}-quantity") or "1").strip(),
                      "price": (form.get(f"lines-{i}-price") or "").strip() or None})
    return {"code": form.get("code", ""), "facility": form.get("facility", ""), "insuree": form.get("insuree", ""),
            "date_from": form.get("date_from", ""), "date_to": form.get("date_to", ""),
            "care_type": form.get("care_type", ""), "diagnosis": form.get("diagnosis", ""),
            "benefit": form.get("benefit", ""), "lines": lines}


# ---- the claim form --------------------------------------------------------------------


@bp.route("/s/<scheme>/claims/new", methods=["GET", "POST"])
@requires("claims.submit")
def new(scheme: str):
    sch = insurance_scheme(scheme)
    facilities = serving_facilities_for("claims.submit", sch)  # not another country's, nor another scheme's
    if not facilities:
        abort(403)
    chosen = request.values.get("facility") or (facilities[0].code if len(facilities) == 1 else "")
    facility = next((f for f in facilities if f.code == chosen), None)
    benefit = insurance_benefit(sch, request.values.get("benefit") or None)
    svc = service()
    errors, values = [], {"insuree": request.args.get("insuree", ""), "facility": chosen,
                          "date_from": date.today().isoformat(), "care_type": "out_patient", "lines": []}
    status = 200
    if request.method == "POST":
        values = claim_form_data(request.form)
        result = submit_and_commit(svc, sch.code, values, allowed_facilities={f.id for f in facilities})
        if result.ok:
            return redirect(url_for("claims.view", claim_id=result.claim.id))
        errors, status = result.errors, 422
        if result.duplicate_of:
            flash(_("This claim was already submitted: it is shown below."))
            return redirect(url_for("claims.view", claim_id=result.duplicate_of))
    services = svc.claimable(sch, benefit, facility) if benefit else []
    rows = max(FORM_ROWS, len(values.get("lines") or []))
    return render("claims/form.html", status, scheme=sch, benefit=benefit, facilities=facilities, facility=facility,
                  services=services, values=values, rows=rows, errors={e.path: e.message for e in errors},
                  error_list=errors, benefits=[b for b in sch.benefits if b.kind == "insurance"])


# ---- lists -----------------------------------------------------------------------------


def claims_query(sch, permission: str):
    q = select(ClaimRecord).where(ClaimRecord.scheme_code == sch.code)
    ids = allowed_facility_ids(permission, sch.code)
    if ids is not None:
        q = q.where(ClaimRecord.facility_id.in_(sorted(ids) or [-1]))
    return q


@bp.route("/s/<scheme>/claims/")
@requires("claims.view")
def index(scheme: str):
    sch = insurance_scheme(scheme)
    q = claims_query(sch, "claims.view")
    status = request.args.get("status") or ""
    if status:
        q = q.where(ClaimRecord.status == status)
    code = (request.args.get("q") or "").strip()
    if code:
        q = q.where(ClaimRecord.code == code)
    page = int_arg("page", 1)
    rows = session().scalars(q.order_by(ClaimRecord.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return render("claims/index.html", scheme=sch, claims=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE, page=page,
                  status=status, q=code, states=sch.workflows["claims"].states, facilities=_facility_names(rows),
                  title=_("Claims"))


@bp.route("/s/<scheme>/claims/review")
@requires("claims.review")
def queue(scheme: str):
    """Claims waiting for a person: states where one of the user's roles has a step to take."""
    sch = insurance_scheme(scheme)
    wf = sch.workflows["claims"]
    roles = roles_of(current_user, sch.code) - {"system"}
    states = [s for s in wf.states if any(t.name not in SYSTEM_STEPS for t in available(wf, s, roles))]
    states = [s for s in states if s != wf.initial]
    rows = session().scalars(claims_query(sch, "claims.review").where(ClaimRecord.status.in_(states or ["-"]))
                             .order_by(ClaimRecord.date_from, ClaimRecord.id).limit(500)).all()
    return render("claims/index.html", scheme=sch, claims=rows, has_more=False, page=1, status="", q="",
                  states=wf.states, facilities=_facility_names(rows), title=_("Review queue"), queue=True)


def _facility_names(claims) -> dict[int, str]:
    ids = {c.facility_id for c in claims}
    if not ids:
        return {}
    return dict(session().execute(select(Facility.id, Facility.name).where(Facility.id.in_(ids))).all())


# ---- one claim -------------------------------------------------------------------------


@bp.route("/claims/<int:claim_id>")
@requires("claims.view")
def view(claim_id: int):
    claim = load_claim(claim_id, "claims.view")
    sch = catalog().by_version(claim.scheme_version_id) or insurance_scheme(claim.scheme_code)
    benefit = sch.benefit(claim.benefit_code)
    labels = {s.code: s.label.get(current_language(), sch.default_language) for s in benefit.services + benefit.items}
    person = session().get(Individual, claim.individual_id)
    facility = session().get(Facility, claim.facility_id)
    diagnosis = session().get(Icd10Code, claim.diagnosis)
    svc = service()
    wf = sch.workflows["claims"]
    reviewer = can(current_user, "claims.review", sch.code)
    steps = [t for t in available(wf, claim.status, roles_of(current_user, sch.code) - {"system"})
             if t.name not in ("check", "batch", "pay")]
    if not reviewer:
        steps = [t for t in steps if t.name == "submit" and can(current_user, "claims.submit", sch.code)]
    history = session().scalars(select(AuditLog).where(AuditLog.entity == "claim", AuditLog.entity_id == claim.id)
                                .order_by(AuditLog.id)).all()
    batch = session().get(ClaimBatch, claim.batch_id) if claim.batch_id else None
    return render("claims/view.html", scheme=sch, claim=claim, labels=labels, person=person, name=display_name(person),
                  facility=facility, diagnosis=diagnosis, can_adjust=reviewer and svc.can_adjust(claim), steps=steps,
                  reviewer=reviewer, history=history, batch=batch)


@bp.route("/claims/<int:claim_id>/lines/<int:position>", methods=["POST"])
@requires("claims.review")
def adjust(claim_id: int, position: int):
    claim = load_claim(claim_id, "claims.review")
    try:
        service().adjust_line(claim, position, quantity=request.form.get("quantity"), price=request.form.get("price"),
                              reason=request.form.get("reason", ""))
    except ClaimError as exc:
        session().rollback()
        flash(_("Line %(n)s not changed: %(why)s", n=position + 1, why=exc.message))
        return redirect(url_for("claims.view", claim_id=claim_id))
    session().commit()
    flash(_("Line %(n)s changed; the claim was valued again.", n=position + 1))
    return redirect(url_for("claims.view", claim_id=claim_id))


@bp.route("/claims/<int:claim_id>/step", methods=["POST"])
@requires("claims.view")
def step(claim_id: int):
    claim = load_claim(claim_id, "claims.view")
    name = request.form.get("transition", "")
    needed = "claims.submit" if name == "submit" else "claims.review"
    if not can(current_user, needed, claim.scheme_code):
        abort(403)
    try:
        service().transition(claim, name, request.form.get("note", ""))
    except ClaimError as exc:
        session().rollback()
        flash(exc.message)
        return redirect(url_for("claims.view", claim_id=claim_id))
    session().commit()
    return redirect(url_for("claims.view", claim_id=claim_id))


@bp.route("/claims/<int:claim_id>/feedback", methods=["POST"])
@requires("claims.review")
def feedback(claim_id: int):
    claim = load_claim(claim_id, "claims.review")
    try:
        service().record_feedback(claim, request.form.to_dict())
    except ClaimError as exc:
        session().rollback()
        flash(_("Feedback not recorded: %(why)s", why=exc.message))
        return redirect(url_for("claims.view", claim_id=claim_id))
    session().commit()
    flash(_("Feedback recorded."))
    return redirect(url_for("claims.view", claim_id=claim_id))


# ---- payment batches ---------------------------------------------------------------------


@bp.route("/s/<scheme>/batches", methods=["GET", "POST"])
@requires("claims.batch")
def batches(scheme: str):
    sch = insurance_scheme(scheme)
    facilities = batchable_facilities(sch)
    if request.method == "POST":
        facility = next((f for f in facilities if f.code == request.form.get("facility")), None)
        if facility is None:
            abort(403)
        try:
            batch = service().batch(sch.code, facility, (request.form.get("period") or "").strip())
        except ClaimError as exc:
            session().rollback()
            flash(exc.message)
            return redirect(url_for("claims.batches", scheme=sch.code))
        session().commit()
        return redirect(url_for("claims.batch", batch_id=batch.id))
    rows = session().execute(select(ClaimBatch, Facility).join(Facility, Facility.id == ClaimBatch.facility_id)
                             .where(ClaimBatch.scheme_code == sch.code)
                             .order_by(ClaimBatch.period.desc(), Facility.name).limit(500)).all()
    allowed = {f.id for f in facilities}
    rows = [(b, f) for b, f in rows if f.id in allowed]
    return render("claims/batches.html", scheme=sch, rows=rows, facilities=facilities,
                  period=terms.period_of(date.today()))


def batchable_facilities(sch) -> list[Facility]:
    """The facilities (of those the user may batch for) with valued claims of the scheme waiting for a
    batch, or with a batch already: not every facility of every country. A facility that no longer
    serves the scheme keeps its waiting claims batchable."""
    valued = service().valued_state(sch)
    with_claims = set(session().scalars(select(ClaimRecord.facility_id).where(
        ClaimRecord.scheme_code == sch.code, ClaimRecord.status == valued).distinct()))
    with_claims |= set(session().scalars(select(ClaimBatch.facility_id).where(ClaimBatch.scheme_code == sch.code)
                                         .distinct()))
    return [f for f in facilities_for("claims.batch", sch.code) if f.id in with_claims]


def load_batch(batch_id: int) -> ClaimBatch:
    batch = session().get(ClaimBatch, batch_id) or abort(404)
    facility = session().get(Facility, batch.facility_id)
    if not can(current_user, "claims.batch", batch.scheme_code) or not facility_allowed("claims.batch", batch.scheme_code, facility):
        abort(403)
    return batch


@bp.route("/batches/<int:batch_id>")
@requires("claims.batch")
def batch(batch_id: int):
    b = load_batch(batch_id)
    sch = insurance_scheme(b.scheme_code)
    facility = session().get(Facility, b.facility_id)
    rows = session().execute(select(ClaimRecord, Individual.uid).join(Individual, Individual.id == ClaimRecord.individual_id)
                             .where(ClaimRecord.batch_id == b.id).order_by(ClaimRecord.date_from, ClaimRecord.id)).all()
    return render("claims/batch.html", scheme=sch, batch=b, facility=facility, rows=rows)


@bp.route("/batches/<int:batch_id>/payment.csv")
@requires("claims.batch")
def payment_file(batch_id: int):
    b = load_batch(batch_id)
    text = service().payment_file(b)
    from ..registry import audit

    audit.record(session(), user=current_user, action="download", entity="claim_batch", entity_id=b.id,
                 scheme_code=b.scheme_code, detail="provider payment file", ip=request.remote_addr or "")
    session().commit()
    facility = session().get(Facility, b.facility_id)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="payment-{b.scheme_code}-{facility.code}-{b.period}.csv"'})


@bp.route("/batches/<int:batch_id>/pay", methods=["POST"])
@requires("claims.batch")
def pay(batch_id: int):
    b = load_batch(batch_id)
    try:
        service().pay_batch(b, request.form.get("reference", ""))
    except ClaimError as exc:
        session().rollback()
        flash(exc.message)
        return redirect(url_for("claims.batch", batch_id=batch_id))
    session().commit()
    flash(_("The batch is marked paid."))
    return redirect(url_for("claims.batch", batch_id=batch_id))


# ---- fraud signals ------------------------------------------------------------------------


@bp.route("/s/<scheme>/claims/signals")
@requires("claims.review")
def signals(scheme: str):
    sch = insurance_scheme(scheme)
    days = int_arg("days", 365, 1, 3650)
    since = date.today() - timedelta(days=days)
    return render("claims/signals.html", scheme=sch, days=days,
                  duplicates=fraud.duplicates(session(), sch.code, since),
                  figures=fraud.facility_outliers(session(), sch.code, since))
