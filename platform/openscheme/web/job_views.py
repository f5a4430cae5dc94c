"""Following a long run: /jobs/<id> (JSON, polled by static/progress.js) and its page.

A feature module starts a job with `start_job` and registers how its kind is
titled and summed up (`register_kind`); the work returns a result dict whose
"link" ({"endpoint", "values"}) is where the officer goes when it is done.
Only the person who started a job (or an administrator) can follow it.
A job whose process stopped (a restart) is shown as interrupted, with a button
that posts the form that started it again (`rerun`), through the same view and
its permission; the work is resumable, so it finishes what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from .. import jobs
from .permissions import can, requires

bp = Blueprint("jobs", __name__)
KINDS: dict[str, tuple[object, Callable[[dict], str] | None]] = {}


def register_kind(kind: str, title, summary: Callable[[dict], str] | None = None) -> None:
    KINDS[kind] = (title, summary)


def start_job(kind: str, work, *, scheme_code: str | None = None, total: int | None = None,
              persist_progress: bool = True, rerun: dict | None = None) -> int:
    """Create the job row (committed), start the work, return the job id.

    `rerun` - {"endpoint", "values", "form"} - is the POST that started it, offered again if it
    is interrupted or fails."""
    from .app import db_session, state

    session = db_session()
    job_id = jobs.create(session, kind, user_id=current_user.id, scheme_code=scheme_code, total=total,
                         rerun=rerun)
    session.commit()
    jobs.start(state().db.session_factory, job_id, work, persist_progress=persist_progress,
               background=current_app.config.get("JOBS_IN_BACKGROUND", True))
    return job_id


def own_result(job_id, kind: str, scheme_code: str) -> dict | None:
    """The result of a finished job of this kind and scheme that the current user started (a page that
    shows what a job computed: a dry run, a formula measured on the whole registry); None for any
    other job, an unfinished one, another user's, or an id that is not a number."""
    from .app import db_session

    job = jobs.state(db_session(), int(job_id)) if str(job_id or "").isdigit() else None
    if (job is None or job["kind"] != kind or job["status"] != "done" or job["created_by"] != current_user.id
            or job["scheme"] != scheme_code):
        return None
    return job.get("result") or {}


def _job_or_404(job_id: int) -> dict:
    from .app import db_session

    job = jobs.state(db_session(), job_id)
    if job is None or (job["created_by"] != current_user.id and not can(current_user, "users.manage")):
        abort(404)
    return job


def result_url(job: dict) -> str | None:
    link = (job.get("result") or {}).get("link")
    if job["status"] != "done" or not link:
        return None
    # "job_id_as": the name of the query argument that gives the page this job (a page that shows
    # what the job computed, e.g. a dry run)
    extra = {link["job_id_as"]: job["id"]} if link.get("job_id_as") else {}
    try:
        return url_for(link["endpoint"], **link.get("values", {}), **extra)
    except BuildError:
        return None


def rerun_form(job: dict) -> dict | None:
    """{"url", "fields"} of the form that starts the job again, when it can be built."""
    rerun = job.get("rerun") or {}
    if not rerun.get("endpoint"):
        return None
    try:
        url = url_for(rerun["endpoint"], **rerun.get("values", {}))
    except BuildError:
        return None
    return {"url": url, "fields": {str(k): str(v) for k, v in (rerun.get("form") or {}).items()}}


def public(job: dict) -> dict:
    title, summary = KINDS.get(job["kind"], (job["kind"], None))
    out = {k: job[k] for k in ("id", "kind", "status", "done", "total", "message")}
    out["title"] = str(title)
    out["result_url"] = result_url(job)
    out["summary"] = summary(job["result"] or {}) if summary and job["status"] == "done" else ""
    out["percent"] = round(100 * job["done"] / job["total"]) if job["total"] else None
    return out


@bp.get("/jobs/<int:job_id>")
@requires("schemes.view")
def job_json(job_id: int):
    response = jsonify(public(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/page")
@requires("schemes.view")
def job_page(job_id: int):
    job = _job_or_404(job_id)
    return render_template("jobs/job.html", job=public(job), rerun=rerun_form(job))


def init_app(app) -> None:
    app.register_blueprint(bp)
    register_kind("import", _l("Import"))
    # jobs left running by a process that stopped (this server's last run, say) are interrupted
    try:
        jobs.recover(app.extensions["openscheme"].db.session_factory)
    except SQLAlchemyError:  # e.g. the database is not migrated yet (AUTO_MIGRATE off): the page tells later
        app.logger.warning("jobs: could not look for interrupted jobs", exc_info=True)
