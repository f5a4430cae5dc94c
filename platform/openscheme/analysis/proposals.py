"""Formula change proposals: an analyst proposes, an implementer approves (maker-checker).

A proposal holds the complete new definition text. Approving it compiles that text again
(with the scheme's own test cases), stores it as a new scheme version - the current one for
the code - and, when the scheme's file lives in the deployment's scheme_definitions/ and still
holds the text the proposal started from, writes it there too, so the next restart or
`openscheme load` keeps it. A proposal made on a version that is no longer current is refused:
approving it would silently undo the change approved in between.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from ..definitions import compile_text
from ..definitions.model import Scheme
from ..registry import audit
from ..storage.analysis_models import FormulaProposal
from ..storage.models import SchemeVersion
from ..storage.schemes import LoadReport
from . import workbench
from .messages import Join, MessageError, msg


class ProposalError(MessageError):
    """str(error) in English; error.text(lang) in the reader's language."""


def _status(status: str):
    return msg(f"status_{status}") if status in ("proposed", "approved", "rejected") else status


def _errors(errors) -> Join:
    # the compiler's diagnostics: file:line:col CODE message (hint), each in the reader's language
    return Join(tuple(errors), "; ")


def create(session, scheme: Scheme, version_id: int, key: str, formula: str, *, user=None, note: str = "",
           impact: dict | None = None) -> FormulaProposal:
    t = workbench.target(scheme, key)
    if t is None:
        raise ProposalError("no_formula", key=key)
    checked = workbench.check(scheme, key, formula)
    if not checked.ok:
        raise ProposalError("formula_error", code=checked.code, message=checked.said or checked.message)
    try:
        new_text, result = workbench.apply(scheme, key, formula)
    except workbench.EditError as exc:
        raise ProposalError(exc.message) from exc
    if not result.ok:
        if not result.errors:
            raise ProposalError("does_not_compile_plain")
        raise ProposalError("does_not_compile", errors=_errors(result.errors))
    if result.scheme.content_hash == scheme.content_hash:
        raise ProposalError("unchanged")
    proposal = FormulaProposal(scheme_code=scheme.code, base_version_id=version_id, target=key,
                               old_formula=t.text, new_formula=formula, yaml_text=new_text, note=note or "",
                               impact=impact, status="proposed", created_by=getattr(user, "id", None),
                               decision_note="")
    session.add(proposal)
    session.flush()
    audit.record(session, user=user, action="propose", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=scheme.code, before={"formula": t.text},
                 after={"target": key, "formula": formula}, detail=note or "")
    return proposal


def approve(session, catalog, proposal: FormulaProposal, user, *, definitions_dir: Path | None = None,
            note: str = "") -> int:
    """Store the proposal as the new current version; returns its version id."""
    if proposal.status != "proposed":
        raise ProposalError("already_decided", status=_status(proposal.status))
    if proposal.created_by is not None and proposal.created_by == getattr(user, "id", None):
        raise ProposalError("own_proposal")
    current = catalog.version_id(proposal.scheme_code)
    if current != proposal.base_version_id:
        raise ProposalError("stale")
    base = session.get(SchemeVersion, proposal.base_version_id)
    result = compile_text(proposal.yaml_text, base.file_name)
    if not result.ok:
        raise ProposalError("does_not_compile", errors=_errors(result.errors))
    written = None
    if definitions_dir is not None:
        path = Path(definitions_dir) / base.file_name
        try:
            if path.is_file() and path.read_text("utf-8") == base.yaml_text:
                path.write_text(proposal.yaml_text, "utf-8")
                written = str(path)
        except OSError:
            written = None
    session.commit()  # the catalog stores the version in its own transaction
    catalog._store(result.scheme, base.file_name, LoadReport())
    catalog.refresh()
    version_id = catalog.version_id(proposal.scheme_code)
    proposal.status = "approved"
    proposal.decided_by = getattr(user, "id", None)
    proposal.decided_at = datetime.now()
    proposal.decision_note = note or ""
    proposal.result_version_id = version_id
    proposal.written_file = written
    proposal.row_version = (proposal.row_version or 1) + 1
    audit.record(session, user=user, action="approve", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=proposal.scheme_code, after={"version_id": version_id, "file": written},
                 detail=note or "")
    session.flush()
    return version_id


def reject(session, proposal: FormulaProposal, user, note: str = "") -> None:
    if proposal.status != "proposed":
        raise ProposalError("already_decided", status=_status(proposal.status))
    proposal.status = "rejected"
    proposal.decided_by = getattr(user, "id", None)
    proposal.decided_at = datetime.now()
    proposal.decision_note = note or ""
    audit.record(session, user=user, action="reject", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=proposal.scheme_code, detail=note or "")
    session.flush()


def pending(session, scheme_code: str) -> list[FormulaProposal]:
    return list(session.scalars(select(FormulaProposal).where(
        FormulaProposal.scheme_code == scheme_code).order_by(FormulaProposal.id.desc()).limit(50)))
