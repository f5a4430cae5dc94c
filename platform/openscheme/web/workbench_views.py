"""The formula workbench: an analyst edits an eligibility or amount formula, sees it checked as
they type, previews its impact on the live registry, and proposes it; an implementer approves.

The check endpoint answers JSON (`static/workbench.js` calls it; the page works without
JavaScript too: the preview re-checks on the server). The preview runs the impact report
synchronously on at most WORKBENCH_ROW_LIMIT units (the report says when it read fewer than
all). Approval stores the new version through the scheme catalog (`analysis.proposals`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import numformat
from ..analysis import proposals as service
from ..analysis import workbench
from ..analysis.diff import diff_schemes, grouped
from ..analysis.impact import impact
from ..storage.analysis_models import FormulaProposal
from ..storage.models import SchemeVersion, User
from .i18n import current_language
from .permissions import can, requires

bp = Blueprint("workbench", __name__)
DEFAULT_ROW_LIMIT = 50_000


def money(value) -> str:
    """An amount of the analysis pages as the page's language writes it: 36,800 / 36 800."""
    return numformat.decimal(Decimal(value or 0), current_language())


def target_title(key: str) -> str:
    """A proposal's formula in plain words, in the page's language: "règle d'éligibilité x"."""
    return workbench.key_title(key).text(current_language())


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    app.jinja_env.globals.setdefault("an_money", money)
    app.jinja_env.globals.setdefault("an_target", target_title)
    from .job_views import register_kind

    register_kind("workbench.measure", _l("Measuring a formula on the whole registry"), _measure_summary)
    add_scheme_link(app, "workbench.index", _l("Formula workbench"), "workbench.propose")
    add_scheme_link(app, "workbench.proposals", _l("Formula proposals"), "workbench.approve")


# shared with every screen: the compiled schemes, the request's session, a scheme or 404
from .app import catalog as _catalog  # noqa: E402
from .app import current_scheme  # noqa: E402,F401
from .app import db_session as _session  # noqa: E402


def _measure_summary(result: dict) -> str:
    i = result.get("impact") or {}
    return _("%(before)s eligible now, %(after)s with the formula (%(units)s units read).",
             before=numformat.number(i.get("eligible_before", 0), current_language()),
             after=numformat.number(i.get("eligible_after", 0), current_language()),
             units=numformat.number(i.get("units", 0), current_language()))


def row_limit() -> int:
    return int(current_app.config.get("WORKBENCH_ROW_LIMIT", DEFAULT_ROW_LIMIT))


def _as_of(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        return date.today()


@bp.get("/s/<scheme>/workbench")
@requires("workbench.propose")
def index(scheme):
    s = current_scheme(scheme)
    targets = workbench.targets(s)
    key = request.args.get("target") or (targets[0].key if targets else None)
    selected = workbench.target(s, key) if key else None
    if key and selected is None:
        abort(404)
    open_proposals = [p for p in service.pending(_session(), s.code) if p.status == "proposed"]
    return render_template("analysis/workbench.html", scheme=s, targets=targets, selected=selected,
                           formula=selected.text if selected else "", check=None, compile_errors=[],
                           as_of=date.today().isoformat(), proposals=open_proposals, lang=current_language())


@bp.post("/s/<scheme>/workbench/check")
@requires("workbench.propose")
def check(scheme):
    s = current_scheme(scheme)
    payload = request.get_json(silent=True) or {}
    key, formula = str(payload.get("target") or ""), str(payload.get("formula") or "")
    if len(formula) > 5000:
        return jsonify({"ok": False, "code": "E207", "message": _("The formula is too long."), "hint": "",
                        "line": 1, "col": 1, "result_type": ""})
    return jsonify(workbench.check(s, key, formula).as_dict(current_language()))


def _applied(s, key: str, formula: str):
    """(check, compile errors, new scheme or None) of a formula typed in the workbench: checked, then
    written into the definition and compiled."""
    checked = workbench.check(s, key, formula)
    if not checked.ok:
        return checked, [], None
    try:
        _text, result = workbench.apply(s, key, formula)
    except workbench.EditError as exc:
        return checked, [exc.text(current_language())], None
    if not result.ok:
        return checked, [d.text(current_language()) for d in result.errors], None
    return checked, [], result.scheme


def _preview(s, key: str, formula: str, as_of: date):
    """(check, compile errors, new scheme, report) for a formula typed in the workbench: the report
    reads the first WORKBENCH_ROW_LIMIT units."""
    checked, errors, new = _applied(s, key, formula)
    if new is None:
        return checked, errors, None, None
    report = impact(_session(), s, new, as_of=as_of, limit=row_limit(), lang=current_language(),
                    old_label=_("current version"), new_label=_("with this formula"))
    _session().rollback()  # the preview reads only
    return checked, [], new, report


@bp.post("/s/<scheme>/workbench/preview")
@requires("workbench.propose")
def preview(scheme):
    s = current_scheme(scheme)
    key, formula = request.form.get("target", ""), request.form.get("formula", "")
    selected = workbench.target(s, key)
    if selected is None:
        abort(404)
    as_of = _as_of(request.form.get("as_of"))
    checked, errors, _new, report = _preview(s, key, formula, as_of)
    status = 200 if report is not None else 422
    return render_template("analysis/workbench.html", scheme=s, targets=workbench.targets(s), selected=selected,
                           formula=formula, check=checked, compile_errors=errors, report=report,
                           as_of=as_of.isoformat(), proposals=[], lang=current_language()), status


@bp.post("/s/<scheme>/workbench/measure")
@requires("workbench.propose")
def measure(scheme):
    """The impact of a typed formula on the whole registry, as a background job: the preview reads
    the first WORKBENCH_ROW_LIMIT units by id (a preview must answer at once); this reads them all
    (a million households take minutes) and keeps the figures (`ImpactReport.as_dict`) in the job."""
    from .job_views import start_job

    s = current_scheme(scheme)
    key, formula = request.form.get("target", ""), request.form.get("formula", "")
    if workbench.target(s, key) is None:
        abort(404)
    as_of = _as_of(request.form.get("as_of"))
    new = _applied(s, key, formula)[2]
    if new is None:
        flash(_("The formula has errors; fix them and preview again."))
        return redirect(url_for(".index", scheme=s.code, target=key)), 303
    factory, lang = current_app.extensions["openscheme"].db.session_factory, current_language()
    labels = (_("current version"), _("with this formula"))

    def work(progress):
        with factory() as session:
            report = impact(session, s, new, as_of=as_of, lang=lang, old_label=labels[0], new_label=labels[1],
                            progress=progress)
            session.rollback()
        return {"impact": report.as_dict(), "target": key, "formula": formula, "as_of": as_of.isoformat(),
                "eligible": report.eligible_after, "link": {"endpoint": "workbench.measured",
                                                            "values": {"scheme": s.code}, "job_id_as": "job"}}

    job_id = start_job("workbench.measure", work, scheme_code=s.code,
                       rerun={"endpoint": "workbench.measure", "values": {"scheme": s.code},
                              "form": {"target": key, "formula": formula, "as_of": as_of.isoformat()}})
    return redirect(url_for("jobs.job_page", job_id=job_id))


def _measured(job_id, s) -> dict | None:
    """A finished measure of this scheme started by this user (None for anything else)."""
    from .job_views import own_result

    result = own_result(job_id, "workbench.measure", s.code)
    return result if result and "impact" in result else None


@bp.get("/s/<scheme>/workbench/measured")
@requires("workbench.propose")
def measured(scheme):
    s = current_scheme(scheme)
    result = _measured(request.args.get("job"), s) or abort(404)
    selected = workbench.target(s, result["target"]) or abort(404)
    return render_template("analysis/workbench.html", scheme=s, targets=workbench.targets(s), selected=selected,
                           formula=result["formula"], check=workbench.check(s, selected.key, result["formula"]),
                           compile_errors=[], report=None, measured=result["impact"],
                           measured_job=request.args.get("job"), as_of=result["as_of"], proposals=[],
                           lang=current_language())


@bp.post("/s/<scheme>/workbench/propose")
@requires("workbench.propose")
def propose(scheme):
    s = current_scheme(scheme)
    key, formula = request.form.get("target", ""), request.form.get("formula", "")
    if workbench.target(s, key) is None:
        abort(404)
    as_of = _as_of(request.form.get("as_of"))
    # measured on the whole registry (the same formula, target and date): keep those figures
    whole = _measured(request.form.get("job"), s)
    if whole is not None and (whole["target"], whole["formula"], whole["as_of"]) != (key, formula, as_of.isoformat()):
        whole = None
    if whole is not None:  # the formula must still apply to the current version; its figures are known
        figures = whole["impact"] if _applied(s, key, formula)[2] is not None else None
    else:
        report = _preview(s, key, formula, as_of)[3]
        figures = report.as_dict() if report is not None else None
    session = _session()
    if figures is None:
        flash(_("The formula has errors; fix them and preview again."))
        return redirect(url_for(".index", scheme=s.code, target=key)), 303
    try:
        proposal = service.create(session, s, _catalog().version_id(s.code), key, formula,
                                  user=current_user._get_current_object(), note=request.form.get("note", "")[:2000],
                                  impact=figures)
        session.commit()
    except service.ProposalError as exc:
        session.rollback()
        flash(exc.text(current_language()))
        return redirect(url_for(".index", scheme=s.code, target=key)), 303
    flash(_("Proposal %(id)s saved: an implementer must approve it before it applies.", id=proposal.id))
    return redirect(url_for(".proposal", scheme=s.code, proposal_id=proposal.id)), 303


@bp.get("/s/<scheme>/proposals")
@requires("schemes.versions")
def proposals(scheme):
    s = current_scheme(scheme)
    session = _session()
    rows = service.pending(session, s.code)
    names = _usernames(session, [p.created_by for p in rows] + [p.decided_by for p in rows])
    return render_template("analysis/proposals.html", scheme=s, proposals=rows, names=names, lang=current_language())


def _usernames(session, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _load(scheme: str, proposal_id: int) -> FormulaProposal:
    p = _session().get(FormulaProposal, proposal_id)
    if p is None or p.scheme_code != scheme:
        abort(404)
    return p


@bp.get("/s/<scheme>/proposals/<int:proposal_id>")
@requires("schemes.versions")
def proposal(scheme, proposal_id):
    s = current_scheme(scheme)
    session = _session()
    p = _load(s.code, proposal_id)
    base = _catalog().by_version(p.base_version_id)
    from ..definitions import compile_text

    new = compile_text(p.yaml_text, base.file if base else "proposal", run_tests=False).scheme
    changes = grouped(diff_schemes(base, new)) if base is not None and new is not None else []
    names = _usernames(session, [p.created_by, p.decided_by])
    stale = p.status == "proposed" and _catalog().version_id(s.code) != p.base_version_id
    may_decide = (p.status == "proposed" and can(current_user, "workbench.approve", s.code)
                  and p.created_by != current_user.id)
    return render_template("analysis/proposal.html", scheme=s, p=p, changes=changes, names=names, stale=stale,
                           may_decide=may_decide, lang=current_language())


@bp.post("/s/<scheme>/proposals/<int:proposal_id>/approve")
@requires("workbench.approve")
def approve(scheme, proposal_id):
    s = current_scheme(scheme)
    session = _session()
    p = _load(s.code, proposal_id)
    try:
        version_id = service.approve(session, _catalog(), p, current_user._get_current_object(),
                                     definitions_dir=Path(current_app.config["DEFINITIONS_DIR"]), note=request.form.get("note", "")[:2000])
        session.commit()
    except service.ProposalError as exc:
        session.rollback()
        flash(exc.text(current_language()))
        return redirect(url_for(".proposal", scheme=s.code, proposal_id=proposal_id)), 303
    row = session.get(SchemeVersion, version_id)
    flash(_("Approved: %(scheme)s now runs version %(hash)s; the next dry run and payment cycle use it.",
            scheme=s.code, hash=row.content_hash[:8] if row else version_id))
    return redirect(url_for(".proposal", scheme=s.code, proposal_id=proposal_id)), 303


@bp.post("/s/<scheme>/proposals/<int:proposal_id>/reject")
@requires("workbench.approve")
def reject(scheme, proposal_id):
    s = current_scheme(scheme)
    session = _session()
    p = _load(s.code, proposal_id)
    try:
        service.reject(session, p, current_user._get_current_object(), request.form.get("note", "")[:2000])
        session.commit()
    except service.ProposalError as exc:
        session.rollback()
        flash(exc.text(current_language()))
    return redirect(url_for(".proposal", scheme=s.code, proposal_id=proposal_id)), 303
