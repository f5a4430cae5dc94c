"""The audit trail of a scheme, for auditors: who did what, when, and to which record.

Every change is written to `audit_log` by the services (registry, policies, claims, payments,
vouchers, the workbench); this page lists a scheme's entries, newest first, filtered by action,
user or kind of record, with a link to the record (and, for beneficiaries, to their history with
the values before and after).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..storage.models import AuditLog, Household, Individual
from .app import add_scheme_link, current_scheme, db_session
from .i18n import current_language
from .permissions import requires

bp = Blueprint("audit", __name__)
PAGE_SIZE = 50
ACTIONS = {
    "create": _l("registered"), "update": _l("changed"), "deactivate": _l("deactivated"),
    "activate": _l("reactivated"), "import": _l("imported"), "enrol": _l("enrolled"), "renew": _l("renewed"),
    "payment": _l("payment recorded"), "verify": _l("cover verified"), "print_card": _l("card printed"),
    "submit": _l("submitted"), "adjust": _l("adjusted"), "feedback": _l("feedback"), "batch": _l("batched"),
    "pay": _l("paid"), "approve": _l("approved"), "reject": _l("rejected"), "expire": _l("expired"),
    "issue": _l("vouchers issued"), "redeem": _l("voucher redeemed"), "reimburse": _l("reimbursed"),
    "targeting": _l("targeting run"), "prepare": _l("prepared"), "payroll": _l("payroll produced"),
    "redownload": _l("payroll downloaded again"), "reconcile": _l("reconciled"), "retry": _l("retried"),
    "propose": _l("proposed"), "download": _l("downloaded"),
}
ENTITIES = {
    "household": _l("household"), "individual": _l("person"), "policy": _l("policy"),
    "contribution": _l("contribution"), "claim": _l("claim"), "claim_batch": _l("payment batch"),
    "vouchers": _l("vouchers"), "voucher": _l("voucher"), "payment_cycle": _l("payment cycle"),
    "payment": _l("payment"), "targeting_run": _l("targeting run"), "formula_proposal": _l("formula proposal"),
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_scheme_link(app, "audit.index", _l("Audit trail"), "audit.view")


def record_links(session, entries) -> dict[tuple[str, int], str]:
    """uid of the households and people named by a page of entries (two queries)."""
    out = {}
    for entity, model in (("household", Household), ("individual", Individual)):
        ids = {e.entity_id for e in entries if e.entity == entity and e.entity_id}
        if ids:
            out |= {(entity, i): uid for i, uid in session.execute(select(model.id, model.uid).where(model.id.in_(ids)))}
    return out


@bp.route("/s/<scheme>/audit")
@requires("audit.view")
def index(scheme):
    s = current_scheme(scheme)
    session = db_session()
    action = (request.args.get("action") or "").strip()[:32]
    entity = (request.args.get("entity") or "").strip()[:32]
    user = (request.args.get("user") or "").strip()[:64]
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    query = select(AuditLog).where(AuditLog.scheme_code == s.code)
    if action:
        query = query.where(AuditLog.action == action)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if user:
        query = query.where(AuditLog.username == user)
    rows = list(session.scalars(query.order_by(AuditLog.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    entries = rows[:PAGE_SIZE]
    return render_template("audit/index.html", scheme=s, entries=entries, has_more=len(rows) > PAGE_SIZE, page=page,
                           action=action, entity=entity, user=user, actions=ACTIONS, entities=ENTITIES,
                           uids=record_links(session, entries), lang=current_language())
