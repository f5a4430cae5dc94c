"""Targeting runs and payment cycles in the browser.

    /s/<scheme>/payments                      targeting runs and the cycles of each cash benefit
    /s/<scheme>/targeting            POST     run targeting (a job with a progress bar)
    /targeting/<run>                          eligible count, exclusions with their reasons, method per rule
    /targeting/<run>/approve|reject  POST     a second officer decides (maker-checker); approving enrols
    /s/<scheme>/payments/<benefit>/<n>        a cycle: state, counts, the actions its state allows
        .../dry-run                           compute without writing anything, diffed with cycle n-1
        .../prepare | approve        POST     prepare (a job) / approve (not by the preparer)
        .../payroll                  POST     the payroll CSV of a channel (its payments become "sent")
        .../payrolls/<id>            POST     that payroll again, the same file (audited; nothing else changes)
        .../reconcile                POST     the agent's result file -> report with line numbers
        .../list                              payments with their status; failed ones can be retried
    /payments/<id>                            a payment explained from the values stored with it
    /payments/<id>/retry             POST     only a failed payment, with the same reference

Every rule of the work lives in `targeting/` and `payments/`; these views only
ask, show and translate. Every POST carries the CSRF token (Flask-WTF).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, literal, select, text
from werkzeug.routing import BuildError

from .. import numformat
from ..definitions.model import Scheme
from ..evaluation import explanations as ex
from ..payments import cycles
from ..payments import entitlements as ent
from ..storage.models import Household, Individual, User
from ..storage.workflow_models import Payment, PaymentCycle, Payroll, TargetingResult, TargetingRun
from ..targeting.loading import unit_table
from ..targeting.run import TargetingError, approve_run, reject_run, run_targeting
from .i18n import current_language
from .job_views import own_result, register_kind, start_job
from .permissions import can, requires

bp = Blueprint("payments", __name__)
PAGE = 50
SHOWN = 100  # rows of each list of a dry run's diff
DRY_RUN_INLINE = 20_000  # enrolled units a dry run computes within the request; above, a background job


# ---- helpers ------------------------------------------------------------------------------


# shared with every screen: the app's state, the request's session, a scheme or 404
from .app import current_scheme  # noqa: E402,F401
from .app import db_session as _session  # noqa: E402
from .app import state as _state  # noqa: E402


def cash_benefit(scheme: Scheme, code: str):
    b = scheme.benefit(code)
    if b is None or b.kind != "cash":
        abort(404)
    return b


def cycle_count(benefit) -> int:
    return benefit.schedule.cycles if benefit.schedule else 1


def check_cycle(benefit, n: int) -> None:
    if not 1 <= n <= cycle_count(benefit):
        abort(404)


def get_cycle(session, scheme_code: str, benefit_code: str, n: int) -> PaymentCycle | None:
    return session.scalar(select(PaymentCycle).where(PaymentCycle.scheme_code == scheme_code,
                                                     PaymentCycle.benefit_code == benefit_code,
                                                     PaymentCycle.cycle_no == n))


def usernames(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def unit_model(scheme: Scheme):
    return Household if scheme.is_household else Individual


def person_name(data: dict | None) -> str:
    data = data or {}
    return " ".join(str(data[k]) for k in ("first_name", "last_name") if data.get(k)).strip()


def unit_rows(session, scheme: Scheme, ids) -> dict[int, dict]:
    """uid, place and a name (the first member of a household) of a page of units: two queries."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    model = unit_model(scheme)
    out = {uid_id: {"uid": uid, "place": place or "", "name": person_name(data) if not scheme.is_household else ""}
           for uid_id, uid, place, data in session.execute(
               select(model.id, model.uid, model.location_code, model.data).where(model.id.in_(ids)))}
    if scheme.is_household:
        for hid, data in session.execute(select(Individual.household_id, Individual.data).where(
                Individual.household_id.in_(ids), Individual.position == 0)):
            if hid in out:
                out[hid]["name"] = person_name(data)
    return out


def record_url(uid: str) -> str | None:
    try:
        return url_for("registry.view", uid=uid)
    except BuildError:  # the registry screens are not installed
        return None


def money(value) -> str:
    """An amount in the page's language (1,234.50 / 1 234,50; no decimals when whole)."""
    return numformat.money(value, current_language())


def count_text(value) -> str:
    return numformat.number(value or 0, current_language())


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def rule_text(scheme: Scheme | None, name: str, lang: str) -> str:
    rule = scheme.rule(name) if scheme else None
    if rule is None:
        return name
    return rule.reason.get(lang, scheme.default_language) or rule.label.get(lang, scheme.default_language) or name


def rule_label(scheme: Scheme | None, name: str, lang: str) -> str:
    rule = scheme.rule(name) if scheme else None
    if rule is None or not rule.label:
        return name
    return rule.label.get(lang, scheme.default_language)


# ---- the hub: targeting runs and cycles ---------------------------------------------------------


@bp.get("/s/<scheme>/payments")
@requires("payments.view")
def index(scheme):
    s = current_scheme(scheme)
    session = _session()
    runs = list(session.scalars(select(TargetingRun).where(TargetingRun.scheme_code == s.code)
                                .order_by(TargetingRun.id.desc()).limit(20)))
    existing = {(c.benefit_code, c.cycle_no): c for c in session.scalars(
        select(PaymentCycle).where(PaymentCycle.scheme_code == s.code))}
    benefits = []
    for b in s.benefits:
        if b.kind != "cash":
            continue
        rows = [(n, cycles.cycle_start(b, n), existing.get((b.code, n))) for n in range(1, cycle_count(b) + 1)]
        benefits.append((b, rows))
    names = usernames(session, [r.created_by for r in runs] + [r.approved_by for r in runs])
    return render_template("payments/index.html", scheme=s, runs=runs, benefits=benefits, names=names,
                           today=date.today().isoformat(), lang=current_language(), money=money)


# ---- targeting --------------------------------------------------------------------------------


def _targeting_summary(result: dict) -> str:
    return _("%(eligible)s eligible, %(excluded)s excluded.", eligible=count_text(result.get("eligible", 0)),
             excluded=count_text(result.get("excluded", 0)))


def _prepare_summary(result: dict) -> str:
    return _("%(count)s payments, total %(total)s; %(new)s created by this run.",
             count=count_text(result.get("payments", 0)), total=money(result.get("total", 0)),
             new=count_text(result.get("created", 0)))


def _dry_run_summary(result: dict) -> str:
    return _("%(count)s payments would be made, total %(total)s; nothing was written.",
             count=count_text(result.get("payments", 0)), total=money(result.get("total", 0)))


def count_units(session, scheme: Scheme, ids_sql: str | None = None) -> int:
    where = "u.scheme_code = :code AND u.active = TRUE" + ("" if scheme.is_household else " AND u.household_id IS NULL")
    if ids_sql:
        where += f" AND u.id IN ({ids_sql})"
    return session.scalar(text(f"SELECT count(*) FROM {unit_table(scheme)} u WHERE {where}"), {"code": scheme.code})


@bp.post("/s/<scheme>/targeting")
@requires("targeting.run")
def start_targeting(scheme):
    s = current_scheme(scheme)
    try:
        as_of = date.fromisoformat(request.form.get("as_of") or date.today().isoformat())
    except ValueError:
        flash(_("Give the date as YYYY-MM-DD."))
        return redirect(url_for(".index", scheme=s.code))
    state = _state()
    factory, version_id, user_id = state.db.session_factory, state.catalog.version_id(s.code), current_user.id

    def work(progress):
        with factory() as session:
            progress.set_total(count_units(session, s))
            run = run_targeting(session, s, version_id, as_of=as_of, user=session.get(User, user_id),
                                progress=progress)
            session.commit()
            progress(progress.total or 0)
            return {"run_id": run.id, "eligible": run.eligible_count, "excluded": run.excluded_count,
                    "link": {"endpoint": "payments.targeting_run", "values": {"run_id": run.id}}}

    # a Python rule keeps a SQLite write lock for the whole run: report progress from memory only
    job_id = start_job("targeting", work, scheme_code=s.code, persist_progress=state.db.dialect != "sqlite",
                       rerun={"endpoint": "payments.start_targeting", "values": {"scheme": s.code},
                              "form": {"as_of": as_of.isoformat()}})
    return redirect(url_for("jobs.job_page", job_id=job_id))


def _row_or_404(model, row_id: int, permission: str):
    """A targeting run or a payment by id: 404 if there is none, 403 without the permission in its scheme."""
    row = _session().get(model, row_id)
    if row is None:
        abort(404)
    if not can(current_user, permission, row.scheme_code):
        abort(403)
    return row


def _run_or_404(run_id: int, permission: str) -> TargetingRun:
    return _row_or_404(TargetingRun, run_id, permission)


@bp.get("/targeting/<int:run_id>")
@requires("payments.view")
def targeting_run(run_id: int):
    run = _run_or_404(run_id, "payments.view")
    session = _session()
    scheme = _state().catalog.by_version(run.scheme_version_id) or current_scheme(run.scheme_code)
    lang = current_language()
    show = "eligible" if request.args.get("show") == "eligible" else "excluded"
    rule = request.args.get("rule") or ""
    rules = list((run.method or {}).keys())
    if rule not in rules:
        rule = ""
    where = [TargetingResult.run_id == run.id, TargetingResult.eligible.is_(show == "eligible")]
    if rule and show == "excluded":
        where.append(_failed_rule(rule))
    page = page_number()
    total = session.scalar(select(func.count()).select_from(TargetingResult).where(*where))
    rows = session.execute(select(TargetingResult.unit_id, TargetingResult.failed_rules).where(*where)
                           .order_by(TargetingResult.unit_id).offset((page - 1) * PAGE).limit(PAGE)).all()
    units = unit_rows(session, scheme, [r[0] for r in rows])
    results = [{"unit": units.get(uid, {"uid": f"#{uid}", "place": "", "name": ""}),
                "reasons": [(n, rule_text(scheme, n, lang)) for n in failed.split(",") if n]}
               for uid, failed in rows]
    for r in results:
        r["url"] = record_url(r["unit"]["uid"])
    per_rule = {n: session.scalar(select(func.count()).select_from(TargetingResult).where(
        TargetingResult.run_id == run.id, TargetingResult.eligible.is_(False), _failed_rule(n))) for n in rules}
    methods = [{"name": n, "label": rule_label(scheme, n, lang), "sql": m == "sql",
                "why": m[len("python ("):-1] if m.startswith("python (") else "", "excluded": per_rule[n]}
               for n, m in (run.method or {}).items()]
    names = usernames(session, [run.created_by, run.approved_by])
    return render_template("payments/targeting_run.html", run=run, scheme=scheme, results=results, methods=methods,
                           show=show, rule=rule, page=page, pages=max(1, -(-total // PAGE)), total=total,
                           names=names, mine=run.created_by == current_user.id)


def _failed_rule(name: str):
    pattern = "%," + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"
    return (literal(",") + TargetingResult.failed_rules + literal(",")).like(pattern, escape="\\")


@bp.post("/targeting/<int:run_id>/approve")
@requires("targeting.approve")
def approve_targeting(run_id: int):
    run = _run_or_404(run_id, "targeting.approve")
    session = _session()
    scheme = _state().catalog.by_version(run.scheme_version_id) or current_scheme(run.scheme_code)
    if run.created_by == current_user.id:
        flash(_("You ran this targeting: another officer must approve it."))
        return redirect(url_for(".targeting_run", run_id=run.id)), 303
    try:
        enrolled = approve_run(session, run, current_user._get_current_object(), scheme=scheme)
    except TargetingError as exc:
        session.rollback()
        flash(_("Not approved: %(reason)s", reason=str(exc)))
        return redirect(url_for(".targeting_run", run_id=run.id)), 303
    session.commit()
    flash(_("Approved: %(n)s households or people enrolled.", n=count_text(enrolled)))
    return redirect(url_for(".targeting_run", run_id=run.id)), 303


@bp.post("/targeting/<int:run_id>/reject")
@requires("targeting.approve")
def reject_targeting(run_id: int):
    run = _run_or_404(run_id, "targeting.approve")
    session = _session()
    try:
        reject_run(session, run, current_user._get_current_object(), (request.form.get("reason") or "")[:500])
    except TargetingError as exc:
        session.rollback()
        flash(_("Not rejected: %(reason)s", reason=str(exc)))
        return redirect(url_for(".targeting_run", run_id=run.id)), 303
    session.commit()
    flash(_("Rejected: nobody was enrolled."))
    return redirect(url_for(".targeting_run", run_id=run.id)), 303


# ---- a payment cycle ------------------------------------------------------------------------


def _cycle_context(scheme, benefit, n):
    s = current_scheme(scheme)
    b = cash_benefit(s, benefit)
    check_cycle(b, n)
    return s, b


@bp.get("/s/<scheme>/payments/<benefit>/<int:n>")
@requires("payments.view")
def cycle(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    by_status, by_channel = {}, {}
    if c is not None:
        for status, count, total in session.execute(select(Payment.status, func.count(), func.sum(Payment.amount))
                                                    .where(Payment.cycle_id == c.id).group_by(Payment.status)):
            by_status[status] = (count, total)
        for channel, count in session.execute(select(Payment.channel, func.count()).where(
                Payment.cycle_id == c.id, Payment.status == "pending").group_by(Payment.channel)):
            by_channel[channel] = count
    channels = list(s.payments.channels) if s.payments else ["cash"]
    payrolls = session.execute(select(Payroll.id, Payroll.channel, Payroll.payment_count, Payroll.total,
                                      Payroll.created_by, Payroll.created_at)
                               .where(Payroll.cycle_id == c.id).order_by(Payroll.id)).all() if c else []
    names = usernames(session, ([c.prepared_by, c.approved_by] if c else []) + [p.created_by for p in payrolls])
    return render_template("payments/cycle.html", scheme=s, benefit=b, n=n, cycle=c, by_status=by_status,
                           by_channel=by_channel, channels=channels, names=names, money=money, payrolls=payrolls,
                           start=cycles.cycle_start(b, n), cycles=cycle_count(b), lang=current_language(),
                           mine=c is not None and c.prepared_by == current_user.id)


@bp.get("/s/<scheme>/payments/<benefit>/<int:n>/dry-run")
@requires("payments.prepare")
def dry_run(scheme, benefit, n):
    """The cycle computed now, nothing written, against the previous one. Up to DRY_RUN_INLINE units
    it is computed in the request; a larger registry (a million households take minutes) is
    computed as a job, whose result keeps the digest the page shows (`?job=<id>`)."""
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    if request.args.get("job"):
        digest = _dry_run_of_job(request.args.get("job"), s, b, n)
    elif count_units(session, s, ent.enrolled_units_sql(s)) > current_app.config.get("DRY_RUN_INLINE", DRY_RUN_INLINE):
        return redirect(url_for("jobs.job_page", job_id=_start_dry_run(s, b, n)))
    else:
        digest = cycles.DiffDigest.of(cycles.dry_run(session, s, b, n), SHOWN)
    session.rollback()  # nothing was written; end the read transaction
    shown = [row[0] for row in digest.added + digest.removed + digest.changed]
    lang = current_language()

    def reason_text(reason: str) -> str:  # an unknown reason (kept by an older dry run): as it is
        return ex.text(cycles.reason_part(s, b, reason, digest.errors), lang)

    return render_template("payments/dry_run.html", scheme=s, benefit=b, n=n, diff=digest,
                           units=unit_rows(session, s, shown), shown=SHOWN, money=money, lang=lang,
                           reason_text=reason_text)


def _start_dry_run(s: Scheme, b, n: int) -> int:
    factory = _state().db.session_factory

    def work(progress):
        with factory() as session:
            progress.set_total(count_units(session, s, ent.enrolled_units_sql(s)))
            digest = cycles.DiffDigest.of(cycles.dry_run(session, s, b, n, progress=progress), SHOWN)
            session.rollback()
        return {"dry_run": digest.as_json(), "payments": digest.count, "total": str(digest.total),
                "link": {"endpoint": "payments.dry_run", "values": {"scheme": s.code, "benefit": b.code, "n": n},
                         "job_id_as": "job"}}

    return start_job("cycle.dry_run", work, scheme_code=s.code)


def _dry_run_of_job(job_id: str, s: Scheme, b, n: int) -> cycles.DiffDigest:
    """The digest a dry-run job of this cycle kept; 404 for any other job, or another user's."""
    result = own_result(job_id, "cycle.dry_run", s.code) or {}
    link = (result.get("link") or {}).get("values") or {}
    if "dry_run" not in result or link != {"scheme": s.code, "benefit": b.code, "n": n}:
        abort(404)
    return cycles.DiffDigest.from_json(result["dry_run"])


@bp.post("/s/<scheme>/payments/<benefit>/<int:n>/prepare")
@requires("payments.prepare")
def prepare(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    existing = get_cycle(_session(), s.code, b.code, n)
    if existing is not None and existing.status not in ("draft", "prepared"):
        flash(_("This cycle is %(status)s: its payments can no longer change.", status=status_label(existing.status)))
        return redirect(url_for(".cycle", scheme=s.code, benefit=b.code, n=n)), 303
    state = _state()
    factory, version_id, user_id = state.db.session_factory, state.catalog.version_id(s.code), current_user.id

    def work(progress):
        with factory() as session:
            progress.set_total(count_units(session, s, ent.enrolled_units_sql(s)))
            user = session.get(User, user_id)
            before = session.scalar(select(func.count()).select_from(Payment).where(
                Payment.scheme_code == s.code, Payment.benefit_code == b.code, Payment.cycle_no == n))
        prepared = cycles.prepare(factory, s, version_id, b, n, user, progress=progress)
        return {"cycle_id": prepared.id, "payments": prepared.payment_count, "total": str(prepared.total),
                "created": prepared.payment_count - before,
                "link": {"endpoint": "payments.cycle", "values": {"scheme": s.code, "benefit": b.code, "n": n}}}

    job_id = start_job("cycle.prepare", work, scheme_code=s.code,
                       rerun={"endpoint": "payments.prepare", "values": {"scheme": s.code, "benefit": b.code, "n": n}})
    return redirect(url_for("jobs.job_page", job_id=job_id))


@bp.post("/s/<scheme>/payments/<benefit>/<int:n>/approve")
@requires("payments.approve")
def approve(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    back = redirect(url_for(".cycle", scheme=s.code, benefit=b.code, n=n)), 303
    if c is None:
        abort(404)
    if c.prepared_by == current_user.id:
        flash(_("You prepared this cycle: another officer must approve it."))
        return back
    try:
        cycles.approve(session, c, current_user._get_current_object())
    except cycles.CycleError as exc:
        session.rollback()
        flash(_("Not approved: %(reason)s", reason=str(exc)))
        return back
    session.commit()
    flash(_("Cycle %(n)s approved: %(count)s payments, total %(total)s %(currency)s.", n=n,
            count=count_text(c.payment_count), total=money(c.total), currency=s.currency))
    return back


@bp.post("/s/<scheme>/payments/<benefit>/<int:n>/payroll")
@requires("payments.prepare")
def payroll(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    channel = request.form.get("channel", "")
    channels = list(s.payments.channels) if s.payments else ["cash"]
    if c is None or channel not in channels:
        abort(404)
    back = redirect(url_for(".cycle", scheme=s.code, benefit=b.code, n=n)), 303
    if c.status in ("approved", "sent") and not session.scalar(select(func.count()).select_from(Payment).where(
            Payment.cycle_id == c.id, Payment.channel == channel, Payment.status == "pending")):
        # an empty file helps nobody; the officer who clicks again most likely lost the first one
        flash(_("No payment of %(channel)s is waiting for a payroll: a payroll already produced can be "
                "downloaded again below.", channel=channel))
        return back
    try:
        body = cycles.payroll(session, s, c, channel, current_user._get_current_object())
    except cycles.CycleError:
        session.rollback()
        flash(_("A payroll is produced only for an approved cycle."))
        return back
    session.commit()
    return payroll_file(body, s, b, n, channel, date.today())


def payroll_file(body: str, s: Scheme, b, n: int, channel: str, day: date) -> Response:
    name = f"{s.code}-{b.code}-cycle{n}-{channel}-{day.isoformat()}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})


@bp.post("/s/<scheme>/payments/<benefit>/<int:n>/payrolls/<int:payroll_id>")
@requires("payments.prepare")
def payroll_again(scheme, benefit, n, payroll_id: int):
    """A payroll already produced, again: the same file under the same name, audited as a re-download."""
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    kept = session.get(Payroll, payroll_id)
    if c is None or kept is None or kept.cycle_id != c.id:
        abort(404)
    body = cycles.payroll_again(session, kept, current_user._get_current_object(), ip=request.remote_addr or "")
    session.commit()
    return payroll_file(body, s, b, n, kept.channel, kept.created_at.date())


RECONCILE_MESSAGES = {
    "missing_columns": _l("missing column(s): %(columns)s"),
    "unknown_reference": _l("unknown reference %(reference)s in this cycle"),
    "bad_status": _l("the status must be paid or failed, not “%(status)s”"),
    "not_sent": _l("%(reference)s is %(status)s, not sent: ignored"),
}


@bp.post("/s/<scheme>/payments/<benefit>/<int:n>/reconcile")
@requires("payments.prepare")
def reconcile(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    if c is None:
        abort(404)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the agent's result file (CSV)."))
        return redirect(url_for(".cycle", scheme=s.code, benefit=b.code, n=n)), 303
    try:
        content = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(_("The file is not UTF-8 text: save it as CSV (UTF-8) and try again."))
        return redirect(url_for(".cycle", scheme=s.code, benefit=b.code, n=n)), 303
    report = cycles.reconcile(session, c, content, current_user._get_current_object())
    session.commit()
    problems = []
    for line, kind, values in report.issues:
        values = dict(values)
        if "status" in values and kind == "not_sent":
            values["status"] = status_label(values["status"])
        problems.append((line, RECONCILE_MESSAGES[kind] % values if kind in RECONCILE_MESSAGES else kind))
    return render_template("payments/reconciled.html", scheme=s, benefit=b, n=n, cycle=c, report=report,
                           problems=problems, file_name=upload.filename[-200:])


STATUSES = ("pending", "sent", "paid", "failed")
STATUS_LABELS = {"pending": _l("pending"), "sent": _l("sent"), "paid": _l("paid"), "failed": _l("failed"),
                 "draft": _l("draft"), "prepared": _l("prepared"), "approved": _l("approved"),
                 "reconciled": _l("reconciled"), "computed": _l("awaiting approval"), "rejected": _l("rejected")}


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status, status or ""))


@bp.get("/s/<scheme>/payments/<benefit>/<int:n>/list")
@requires("payments.view")
def payments(scheme, benefit, n):
    s, b = _cycle_context(scheme, benefit, n)
    session = _session()
    c = get_cycle(session, s.code, b.code, n)
    if c is None:
        abort(404)
    status = request.args.get("status", "")
    channel = request.args.get("channel", "")
    where = [Payment.cycle_id == c.id]
    if status in STATUSES:
        where.append(Payment.status == status)
    else:
        status = ""
    if channel:
        where.append(Payment.channel == channel)
    page = page_number()
    total = session.scalar(select(func.count()).select_from(Payment).where(*where))
    rows = list(session.execute(select(Payment, Individual.uid, Individual.data)
                                .outerjoin(Individual, Individual.id == Payment.recipient_id).where(*where)
                                .order_by(Payment.id).offset((page - 1) * PAGE).limit(PAGE)))
    units = unit_rows(session, s, [p.unit_id for p, _uid, _data in rows])
    items = [{"p": p, "recipient": person_name(data), "recipient_uid": uid, "unit": units.get(p.unit_id, {})}
             for p, uid, data in rows]
    channels = list(s.payments.channels) if s.payments else ["cash"]
    return render_template("payments/list.html", scheme=s, benefit=b, n=n, cycle=c, items=items, status=status,
                           channel=channel, channels=channels, statuses=STATUSES, page=page,
                           pages=max(1, -(-total // PAGE)), total=total, money=money, status_label=status_label)


def _payment_or_404(payment_id: int, permission: str) -> Payment:
    return _row_or_404(Payment, payment_id, permission)


def _input_text(value, lang: str) -> str:
    """A value a payment's formulas read, as the page shows it: yes/no and numbers in the reader's language."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float, Decimal)):
        return numformat.decimal(value, lang)
    return "" if value is None else str(value)


@bp.get("/payments/<int:payment_id>")
@requires("payments.view")
def payment(payment_id: int):
    p = _payment_or_404(payment_id, "payments.view")
    session = _session()
    c = session.get(PaymentCycle, p.cycle_id)
    scheme = _state().catalog.by_version(c.scheme_version_id) or current_scheme(p.scheme_code)
    b = scheme.benefit(p.benefit_code)
    inputs = (p.explanation or [{}])[0] or {}
    as_of = cycles.cycle_start(b, p.cycle_no) or (c.created_at.date() if c.created_at else date.today())
    lang = current_language()
    lines = ex.lines(ent.explain_parts(scheme, b, inputs, as_of), lang) if b is not None else []
    shown = []
    typed = ent.decode_inputs(scheme, inputs)
    for name, value in inputs.items():
        value = typed.get(name, value)
        if name == "members":
            shown.append((_("Members"), numformat.number(len(value), lang)))
            continue
        f = scheme.field(name)
        label = f.label.get(lang, scheme.default_language) if f is not None else name
        if f is not None and f.choices:
            choice = f.choice(str(value))
            value = choice.label.get(lang, scheme.default_language) if choice else value
        shown.append((label, _input_text(value, lang)))
    unit = unit_rows(session, scheme, [p.unit_id]).get(p.unit_id, {})
    recipient = session.get(Individual, p.recipient_id) if p.recipient_id else None
    channel_field = scheme.field(scheme.payments.channel_field) if scheme.payments and scheme.payments.channel_field else None
    channel = channel_field.choice(p.channel) if channel_field is not None and channel_field.choices else None
    return render_template("payments/payment.html", scheme=scheme, benefit=b, p=p, cycle=c, lines=lines,
                           inputs=shown, unit=unit, recipient=recipient, person_name=person_name, money=money,
                           status_label=status_label, record_url=record_url, as_of=as_of,
                           channel=channel.label.get(lang, scheme.default_language) if channel else p.channel)


@bp.post("/payments/<int:payment_id>/retry")
@requires("payments.prepare")
def retry(payment_id: int):
    p = _payment_or_404(payment_id, "payments.prepare")
    session = _session()
    c = session.get(PaymentCycle, p.cycle_id)
    try:
        cycles.retry(session, p, current_user._get_current_object())
    except cycles.CycleError:
        session.rollback()
        flash(_("Only a failed payment can be retried; %(reference)s is %(status)s.", reference=p.reference,
                status=status_label(p.status)))
    else:
        session.commit()
        flash(_("%(reference)s will be in the next payroll of %(channel)s, with the same reference.",
                reference=p.reference, channel=p.channel))
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:  # local paths only
        target = url_for(".payments", scheme=p.scheme_code, benefit=p.benefit_code, n=c.cycle_no, status="failed")
    return redirect(target), 303


def init_app(app) -> None:
    from .app import add_scheme_link, has_benefit

    app.register_blueprint(bp)
    register_kind("targeting", _l("Targeting run"), _targeting_summary)
    register_kind("cycle.prepare", _l("Preparing a payment cycle"), _prepare_summary)
    register_kind("cycle.dry_run", _l("Dry run of a payment cycle"), _dry_run_summary)
    add_scheme_link(app, "payments.index", _l("Targeting and payments"), "payments.view", has_benefit("cash"))
