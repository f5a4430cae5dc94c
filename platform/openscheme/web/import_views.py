"""The bulk import page: upload a CSV or XLSX file, follow its progress, download the report.

The file is saved under the instance folder and imported in a background thread
(`registry.importer`); the job's state - rows done, then the counts - lives in a
small JSON file next to it, so any web worker can show it. The job page reloads
itself every two seconds while the import runs (no script needed). The report -
one line per refused row or skipped record: row, column, path, code, message -
is written as the import goes and can be downloaded as CSV.

An import whose process stopped (a restart) would say "running" for ever: the
job names its process (`jobs.owner`) and is marked "interrupted" when that
process is gone (`jobs.gone`; the progress writes are its heartbeat). The
uploaded file is still there then, and the page offers to run it again: the
import is idempotent, records saved before are reported as already imported.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import jobs
from ..registry.importer import REPORT_COLUMNS, Importer, issue_row, template_header
from ..storage.models import User
from .i18n import current_language
from .permissions import can, requires, scope_paths

log = logging.getLogger("openscheme.import")
bp = Blueprint("imports", __name__)

JOB_RE = re.compile(r"^[0-9a-f]{16}$")
SUFFIXES = (".csv", ".xlsx")
SHOWN_ISSUES = 200
_importing: set[str] = set()  # ids of the imports running in this process
_lock = threading.Lock()  # an import's last write and its leaving _importing are one step for `checked`


def jobs_dir() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _job_path(folder: Path, job_id: str) -> Path:
    return folder / f"{job_id}.json"


def write_job(folder: Path, job: dict) -> None:
    target = _job_path(folder, job["id"])
    temp = target.with_suffix(".tmp")
    temp.write_text(json.dumps(job, ensure_ascii=False), "utf-8")
    os.replace(temp, target)


def read_job(folder: Path, job_id: str) -> dict | None:
    if not JOB_RE.match(job_id or ""):
        return None
    path = _job_path(folder, job_id)
    if not path.exists():
        return None
    return json.loads(path.read_text("utf-8"))


def _scheme_or_404(code: str):
    from .app import catalog

    scheme = catalog().current(code)
    if scheme is None:
        abort(404)
    return scheme


def _own_job(job_id: str) -> dict:
    job = read_job(jobs_dir(), job_id)
    if job is None:
        abort(404)
    if job.get("user_id") != current_user.id and not can(current_user, "users.manage"):
        abort(404)
    return job


@bp.route("/schemes/<scheme>/import", methods=["GET", "POST"])
@requires("registry.import")
def upload(scheme: str):
    s = _scheme_or_404(scheme)
    error = None
    if request.method == "POST":
        upload_ = request.files.get("file")
        suffix = Path(upload_.filename or "").suffix.lower() if upload_ else ""
        if upload_ is None or not upload_.filename:
            error = _("Choose a file to import.")
        elif suffix not in SUFFIXES:
            error = _("Upload a .csv or .xlsx file.")
        else:
            job_id = secrets.token_hex(8)
            folder = jobs_dir()
            upload_.save(folder / f"{job_id}{suffix}")
            job = {"id": job_id, "scheme": s.code, "user_id": current_user.id, "file_name": upload_.filename[-200:],
                   "suffix": suffix, "rows_done": 0, "lang": current_language(), "ip": request.remote_addr or "",
                   "scope_paths": scope_paths(current_user, "registry.import", s.code)}
            start(folder, job)
            return redirect(url_for("imports.job", job_id=job_id))
    return render_template("import.html", scheme=s, columns=template_header(s), error=error), (400 if error else 200)


def start(folder: Path, job: dict) -> None:
    """Record the job as running in this process, then run it (in a thread unless told not to)."""
    now = datetime.now().isoformat(timespec="seconds")
    job |= {"status": "running", "started_at": now, "heartbeat": now, "owner": jobs.owner()}
    write_job(folder, job)
    _importing.add(job["id"])
    app = current_app._get_current_object()
    if app.config.get("IMPORT_IN_BACKGROUND", True):
        threading.Thread(target=run_job, args=(app, folder, job["id"]), daemon=True,
                         name=f"import-{job['id']}").start()
    else:
        run_job(app, folder, job["id"])


def checked(folder: Path, job: dict) -> dict:
    """The job, marked interrupted (and saved so) if it says running but its process is gone.

    Read again under the lock: an import of this process may have finished since it was read."""
    if job.get("status") != "running":
        return job
    with _lock:
        job = read_job(folder, job["id"]) or job
        if job.get("status") != "running":
            return job
        try:
            heartbeat = datetime.fromisoformat(job.get("heartbeat") or job["started_at"])
        except (KeyError, ValueError):
            heartbeat = None
        why = jobs.gone(job.get("owner"), heartbeat, here=job["id"] in _importing)
        if why:
            job |= {"status": "interrupted", "error": f"interrupted: {why}",
                    "finished_at": datetime.now().isoformat(timespec="seconds")}
            write_job(folder, job)
            log.warning("import %s %s", job["id"], job["error"])
    return job


def run_job(app, folder: Path, job_id: str) -> None:
    """Run an uploaded import (in its own thread and database session) and record its outcome."""
    with app.app_context():
        from .app import state

        job = read_job(folder, job_id)
        source = folder / f"{job_id}{job['suffix']}"
        session = state().db.session_factory()
        last = [0.0]

        def progress(rows: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 1:
                last[0] = now
                write_job(folder, job | {"rows_done": rows, "heartbeat": datetime.now().isoformat(timespec="seconds")})

        try:
            user = session.get(User, job["user_id"])
            with (folder / f"{job_id}.report.csv").open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(REPORT_COLUMNS)
                importer = Importer(session, state().catalog, job["scheme"], user=user, lang=job["lang"],
                                    ip=job["ip"], scope_paths=job["scope_paths"], progress=progress,
                                    issue_sink=lambda issue: writer.writerow(issue_row(issue)),
                                    max_issues=SHOWN_ISSUES)
                if job["suffix"] == ".xlsx":
                    with source.open("rb") as f:
                        report = importer.run(f, job["file_name"])
                else:
                    with source.open("r", encoding="utf-8-sig", newline="") as f:
                        report = importer.run(f, job["file_name"])
            job |= {"status": "done", "rows_done": report.rows, "counts": report.counts(),
                    "file_error": report.file_error, "seconds": round(report.seconds, 1),
                    "issues": [i.as_dict() for i in report.issues]}
        except Exception as exc:  # noqa: BLE001 - the page must say the import stopped
            log.exception("import %s failed", job_id)
            session.rollback()
            job |= {"status": "failed", "error": str(exc)[:500]}
        finally:
            session.close()
            source.unlink(missing_ok=True)
            job["finished_at"] = datetime.now().isoformat(timespec="seconds")
            with _lock:
                write_job(folder, job)
                _importing.discard(job_id)


@bp.get("/imports/<job_id>")
@requires("registry.import")
def job(job_id: str):
    job_ = checked(jobs_dir(), _own_job(job_id))
    return render_template("import_job.html", job=job_, scheme=_scheme_or_404(job_["scheme"]),
                           running=job_["status"] == "running", again=_can_run_again(job_))


def _can_run_again(job_: dict) -> bool:
    return job_["status"] == "interrupted" and (jobs_dir() / f"{job_['id']}{job_['suffix']}").exists()


@bp.post("/imports/<job_id>/again")
@requires("registry.import")
def again(job_id: str):
    """Run an interrupted import again on the file it kept (records saved before are skipped)."""
    job_ = checked(jobs_dir(), _own_job(job_id))
    _scheme_or_404(job_["scheme"])
    if _can_run_again(job_):
        job_.pop("error", None)
        job_.pop("finished_at", None)
        start(jobs_dir(), job_ | {"rows_done": 0})
    return redirect(url_for("imports.job", job_id=job_id)), 303


@bp.get("/imports/<job_id>/report.csv")
@requires("registry.import")
def report(job_id: str):
    job_ = _own_job(job_id)
    path = jobs_dir() / f"{job_id}.report.csv"
    if not path.exists():
        abort(404)
    stem = Path(job_["file_name"]).stem or "import"
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"{stem}-report.csv")


@bp.get("/schemes/<scheme>/import/template.csv")
@requires("registry.import")
def template(scheme: str):
    s = _scheme_or_404(scheme)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(template_header(s))
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={s.code}-import.csv"})


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from .app import add_scheme_link

    app.register_blueprint(bp)
    add_scheme_link(app, "imports.upload", _l("Import a file"), "registry.import")
