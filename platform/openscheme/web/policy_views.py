"""Policies and contributions in the browser: enrol a household or person (the premium computed from
the definition, with its explanation), record payments (cash receipt or mobile-money reference, partial
payments, a receipt page), the policy's lifecycle steps, the renewal list, and for wage schemes the
employers, each employee's monthly schedule and the arrears. Everything is written by
`policies.service.Policies` (audited, through the scheme's enrolment workflow); every route declares its
permission and checks that the household or person lies in the user's area."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ..claims.people import display_name, uid_in
from ..evaluation import explanations
from ..policies import formal, terms
from ..policies.models import Employer
from ..policies.service import ALL, Policies, PolicyError, insurance_benefits, unit_of
from ..policies.workflow import available, roles_of
from ..registry.search import scope_filter
from ..storage.models import Household, Individual
from ..storage.workflow_models import Contribution, Policy
from .app import add_scheme_link, has_benefit
from .i18n import current_language
from .insurance import catalog, insurance_scheme, int_arg, render, session
from .permissions import can, require_location, requires, scope_paths

bp = Blueprint("policies", __name__)
PAGE_SIZE = 50
# who paid a contribution, and payment methods a scheme names without labelling them (a choice list)
PAYERS = {"employer": _l("Employer"), "employee": _l("Employee"), "household": _l("Household"), "member": _l("Member")}
METHODS = {"cash": _l("Cash"), "mobile_money": _l("Mobile money"), "mobile_wallet": _l("Mobile wallet"),
           "bank_deposit": _l("Bank deposit"), "bank_transfer": _l("Bank transfer"), "cheque": _l("Cheque"),
           "control_number": _l("Control number"), "connect_ips": _l("connectIPS")}


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_scheme_link(app, "policies.index", _l("Policies"), "policies.view", has_benefit("insurance"))


def policies() -> Policies:
    return Policies(session(), catalog(), current_user._get_current_object(), request.remote_addr or "",
                    current_language())


def load_policy(policy_id: int, permission: str):
    policy = session().get(Policy, policy_id) or abort(404)
    unit = unit_of(session(), policy) or abort(404)
    require_location(permission, policy.scheme_code, unit.location_path)
    return policy, unit


def unit_model(scheme):
    return Household if scheme.is_household else Individual


def parse_date(value: str | None, default: date | None = None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else default
    except ValueError:
        return None


def unit_label(unit) -> str:
    if isinstance(unit, Household):
        head = next((m for m in unit.members if "head" in (m.roles or [])), unit.members[0] if unit.members else None)
        return f"{display_name(head) if head else ''} ({unit.uid})"
    return f"{display_name(unit)} ({unit.uid})"


# ---- lists ------------------------------------------------------------------------------



def policies_page(template: str, http_status: int = 200, **context):
    """A policies page; `monthly` (a scheme paid by monthly contributions) decides its menu and words."""
    context.setdefault("monthly", terms.is_monthly(context["scheme"]))
    return render(template, http_status, **context)


@bp.route("/s/<scheme>/policies/")
@requires("policies.view")
def index(scheme: str):
    sch = insurance_scheme(scheme)
    model = unit_model(sch)
    q = (select(Policy, model).join(model, model.id == Policy.unit_id)
         .where(Policy.scheme_code == sch.code, scope_filter(model.location_path, scope_paths(current_user, "policies.view", sch.code))))
    status = request.args.get("status") or ""
    if status:
        q = q.where(Policy.status == status)
    uid = uid_in(request.args.get("q") or "")
    if uid:
        q = q.where(model.uid == uid)
    page = int_arg("page", 1)
    rows = session().execute(q.order_by(Policy.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return policies_page("policies/index.html", scheme=sch, rows=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE, page=page,
                  status=status, q=request.args.get("q") or "", states=sch.workflows["enrolment"].states,
                  monthly=terms.is_monthly(sch), unit_label=unit_label)


@bp.route("/s/<scheme>/renewals")
@requires("policies.view")
def renewals(scheme: str):
    sch = insurance_scheme(scheme)
    days = int_arg("days", 30, 1, 366)
    rows = policies().renewals_due(sch.code, days, scope_paths=scope_paths(current_user, "policies.view", sch.code))
    return policies_page("policies/renewals.html", scheme=sch, rows=rows, days=days, unit_label=unit_label)


@bp.route("/s/<scheme>/policies/expire", methods=["POST"])
@requires("policies.manage")
def expire(scheme: str):
    sch = insurance_scheme(scheme)
    count = policies().expire_due(sch.code)
    session().commit()
    flash(_("%(n)s policy(ies) expired.", n=count))
    return redirect(url_for("policies.index", scheme=sch.code))


@bp.route("/s/<scheme>/arrears")
@requires("policies.view")
def arrears(scheme: str):
    sch = insurance_scheme(scheme)
    if not terms.is_monthly(sch):
        abort(404)
    employer = (request.args.get("employer") or "").strip() or None
    rows = formal.arrears(session(), sch, date.today(), employer, scope_paths(current_user, "policies.view", sch.code))
    return policies_page("policies/arrears.html", scheme=sch, rows=rows, employer=employer, name=display_name)


@bp.route("/s/<scheme>/employers")
@requires("policies.view")
def employers(scheme: str):
    sch = insurance_scheme(scheme)
    if not terms.is_monthly(sch):
        abort(404)
    rows = session().scalars(select(Employer).where(Employer.scheme_code == sch.code).order_by(Employer.name)).all()
    field = formal.employer_field(sch)
    counts = {}
    if field:
        from ..storage.jsonpath import field_column

        column = field_column("individuals", field, session().get_bind().dialect.name)
        counts = dict(session().execute(select(column, func.count()).where(Individual.scheme_code == sch.code,
                                                                           Individual.active.is_(True))
                                        .group_by(column)).all())
    return policies_page("policies/employers.html", scheme=sch, rows=rows, counts=counts)


# ---- enrolment ---------------------------------------------------------------------------


@bp.route("/s/<scheme>/policies/new", methods=["GET", "POST"])
@requires("policies.manage")
def new(scheme: str):
    sch = insurance_scheme(scheme)
    uid = uid_in(request.values.get("unit") or "")
    model = unit_model(sch)
    unit = session().scalar(select(model).where(model.uid == uid, model.scheme_code == sch.code)) if uid else None
    if unit is not None:
        require_location("policies.manage", sch.code, unit.location_path)
    benefits = insurance_benefits(sch)
    benefit_code = request.values.get("benefit") or (benefits[0].code if len(benefits) == 1 else ALL)
    on = parse_date(request.values.get("enrol_date"), date.today())
    svc = policies()
    error = None
    if request.method == "POST":
        if unit is None:
            abort(404)
        if on is None or on > date.today():
            error = _("Give the enrolment date as YYYY-MM-DD, not in the future.")
        else:
            try:
                policy = svc.enrol(sch.code, unit, benefit_code, on)
            except PolicyError as exc:
                session().rollback()
                error = exc.message
            else:
                session().commit()
                flash(_("Enrolled: policy #%(id)s.", id=policy.id))
                return redirect(url_for("policies.view", policy_id=policy.id))
    quote = None
    existing = []
    if unit is not None and on is not None:
        try:
            benefit = svc.benefit(sch, benefit_code) if benefit_code != ALL else None
            quote = svc.quote(sch, unit, benefit, on)
        except PolicyError as exc:
            error = exc.message
        existing = svc.policies_of(unit)
    return policies_page("policies/new.html", 422 if error else 200, scheme=sch, unit=unit, uid=uid or "",
                  benefits=benefits, benefit_code=benefit_code, on=on or date.today(), quote=quote, error=error,
                  existing=existing, unit_label=unit_label)


# ---- one policy --------------------------------------------------------------------------


@bp.route("/policies/<int:policy_id>")
@requires("policies.view")
def view(policy_id: int):
    policy, unit = load_policy(policy_id, "policies.view")
    sch = catalog().by_version(policy.scheme_version_id) or insurance_scheme(policy.scheme_code)
    svc = policies()
    wf = sch.workflows["enrolment"]
    steps = [t for t in available(wf, policy.status, roles_of(current_user, sch.code) - {"system"})
             if t.name not in ("renew", "expire")] if can(current_user, "policies.manage", sch.code) else []
    monthly = terms.is_monthly(sch)
    schedule = formal.policy_schedule(session(), sch, policy) if monthly else []
    shares = formal.shares(sch, unit) if monthly else None
    renewal = session().scalar(select(Policy).where(Policy.renewal_of_id == policy.id))
    return policies_page("policies/view.html", scheme=sch, policy=policy, unit=unit, unit_label=unit_label(unit),
                  contributions=svc.contributions(policy), paid=svc.paid(policy), balance=svc.balance(policy),
                  steps=steps, monthly=monthly, schedule=schedule, shares=shares, today=date.today(),
                  explanation=explanations.lines(policy.premium_explanation, current_language()), payers=PAYERS,
                  methods=sch.contributions.payment_methods if sch.contributions else (),
                  method_labels=method_labels(sch), renewal=renewal,
                  can_pay=can(current_user, "contributions.record", sch.code),
                  can_renew=can(current_user, "policies.manage", sch.code) and not monthly and renewal is None
                  and policy.status in ("active", "expired"),
                  period=terms.period_of(date.today()))


def method_labels(scheme) -> dict[str, str]:
    """The payment methods' labels: the scheme's when it lists them as a choice list (payment_methods),
    else ours for the usual ones (cash, mobile money, bank transfer...)."""
    lang = current_language()
    choices = scheme.choices.get("payment_methods") or ()
    methods = scheme.contributions.payment_methods if scheme.contributions else ()
    return {m: str(METHODS[m]) for m in methods if m in METHODS} | {
        c.value: c.label.get(lang, scheme.default_language) for c in choices}


@bp.route("/policies/<int:policy_id>/payments", methods=["POST"])
@requires("contributions.record")
def pay(policy_id: int):
    policy, unit = load_policy(policy_id, "contributions.record")
    f = request.form
    paid_on = parse_date(f.get("paid_on"), date.today())
    try:
        if paid_on is None:
            raise PolicyError("bad_date", _("Give the payment date as YYYY-MM-DD."))
        contribution = policies().record_payment(policy, f.get("amount", ""), f.get("method", ""), f.get("reference", ""),
                                                 paid_on, payer=f.get("payer") or None, period=f.get("period") or None)
    except PolicyError as exc:
        session().rollback()
        flash(_("The payment was not recorded: %(why)s", why=exc.message))
        return redirect(url_for("policies.view", policy_id=policy_id))
    session().commit()
    return redirect(url_for("policies.receipt", contribution_id=contribution.id))


@bp.route("/contributions/<int:contribution_id>/receipt")
@requires("policies.view")
def receipt(contribution_id: int):
    contribution = session().get(Contribution, contribution_id) or abort(404)
    policy, unit = load_policy(contribution.policy_id, "policies.view")
    sch = catalog().by_version(policy.scheme_version_id) or insurance_scheme(policy.scheme_code)
    svc = policies()
    return policies_page("policies/receipt.html", scheme=sch, c=contribution, policy=policy, unit_label=unit_label(unit),
                  paid=svc.paid(policy), balance=svc.balance(policy), method_labels=method_labels(sch), payers=PAYERS)


@bp.route("/policies/<int:policy_id>/step", methods=["POST"])
@requires("policies.manage")
def step(policy_id: int):
    policy, _unit = load_policy(policy_id, "policies.manage")
    try:
        policies().transition(policy, request.form.get("transition", ""), request.form.get("note", "")[:500])
    except PolicyError as exc:
        session().rollback()
        flash(exc.message)
        return redirect(url_for("policies.view", policy_id=policy_id))
    session().commit()
    return redirect(url_for("policies.view", policy_id=policy_id))


@bp.route("/policies/<int:policy_id>/renew", methods=["POST"])
@requires("policies.manage")
def renew(policy_id: int):
    policy, _unit = load_policy(policy_id, "policies.manage")
    try:
        new_policy = policies().renew(policy, date.today())
    except PolicyError as exc:
        session().rollback()
        flash(exc.message)
        return redirect(url_for("policies.view", policy_id=policy_id))
    session().commit()
    flash(_("Renewal created: policy #%(id)s, to be paid.", id=new_policy.id))
    return redirect(url_for("policies.view", policy_id=new_policy.id))
