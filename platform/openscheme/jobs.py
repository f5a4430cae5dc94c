"""A small job runner: long runs in a background thread, with progress the browser can follow.

    job_id = jobs.create(session, "targeting", user_id=user.id, scheme_code="gm-nafa-quick")
    session.commit()
    jobs.start(session_factory, job_id, work)   # work(progress) -> result dict

`work` opens its own sessions (the request's session is gone when it runs) and
calls `progress(done)` after each batch; `progress.set_total(n)` when it knows
how much there is. The job row (`storage/job_models.py`) holds the status, the
progress and, when finished, the result (or the error): any web worker can
answer `/jobs/<id>`. Progress is also kept in memory for the process running
the job, and written to the row at most twice a second; a run that holds a
SQLite write lock for its whole length (a targeting run evaluating rules in
Python) passes `persist_progress=False`, since a second connection could not
write the row before the run commits - the process that runs it still reports
live progress, and the final state is always written.

The runner is deliberately small: no queue, no retry. A job interrupted by a
restart stays "running" in the table; the work itself is resumable (targeting
can simply be run again; cycle preparation adds only the missing payments).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from .storage.job_models import Job

log = logging.getLogger("openscheme.jobs")

_live: dict[int, dict] = {}  # job id -> {"done", "total", "message"} while it runs in this process
_threads: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def create(session, kind: str, *, user_id: int | None = None, scheme_code: str | None = None,
           total: int | None = None, message: str = "") -> int:
    job = Job(kind=kind, scheme_code=scheme_code, status="queued", done=0, total=total, message=message,
              created_by=user_id, updated_at=datetime.now())
    session.add(job)
    session.flush()
    return job.id


class Progress:
    """The callback handed to the work: progress(done[, message]); set_total(n)."""

    def __init__(self, session_factory, job_id: int, *, persist: bool = True, every: float = 0.5):
        self.session_factory = session_factory
        self.job_id = job_id
        self.persist = persist
        self.every = every
        self.done = 0
        self.total: int | None = None
        self.message = ""
        self._last_write = 0.0

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._publish(force=True)

    def __call__(self, done: int, message: str | None = None) -> None:
        self.done = done
        if message is not None:
            self.message = message
        self._publish()

    def _publish(self, force: bool = False) -> None:
        with _lock:
            _live[self.job_id] = {"done": self.done, "total": self.total, "message": self.message}
        now = time.monotonic()
        if not self.persist or (not force and now - self._last_write < self.every):
            return
        self._last_write = now
        try:
            with self.session_factory() as s, s.begin():
                s.execute(update(Job).where(Job.id == self.job_id).values(
                    done=self.done, total=self.total, message=self.message, updated_at=datetime.now()))
        except OperationalError:  # a busy database: the next batch will report again
            log.warning("job %s: progress not saved (database busy)", self.job_id)


def _finish(session_factory, job_id: int, **values) -> None:
    with session_factory() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id).values(updated_at=datetime.now(), **values))


def run(session_factory, job_id: int, work: Callable[[Progress], dict | None], *,
        persist_progress: bool = True) -> None:
    """Run a job to its end in this thread; the outcome goes to the job row, never up the stack."""
    progress = Progress(session_factory, job_id, persist=persist_progress)
    _finish(session_factory, job_id, status="running")
    try:
        result = work(progress) or {}
    except Exception as exc:  # noqa: BLE001 - the job row must say why it stopped
        log.exception("job %s failed", job_id)
        _finish(session_factory, job_id, status="failed", done=progress.done, total=progress.total,
                message=str(exc)[:1000] or type(exc).__name__, finished_at=datetime.now())
    else:
        total = progress.total if progress.total is not None else progress.done
        _finish(session_factory, job_id, status="done", done=max(progress.done, total or 0), total=total,
                message=progress.message, result=result, finished_at=datetime.now())
    finally:
        with _lock:
            _live.pop(job_id, None)
            _threads.pop(job_id, None)


def start(session_factory, job_id: int, work: Callable[[Progress], dict | None], *, background: bool = True,
          persist_progress: bool = True) -> None:
    """Start the job in a daemon thread (or run it here when background is False: tests, CLI)."""
    if not background:
        run(session_factory, job_id, work, persist_progress=persist_progress)
        return
    thread = threading.Thread(target=run, args=(session_factory, job_id, work),
                              kwargs={"persist_progress": persist_progress}, daemon=True, name=f"job-{job_id}")
    with _lock:
        _threads[job_id] = thread
    thread.start()


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a job started in this process; True when it is no longer running here."""
    with _lock:
        thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def state(session, job_id: int) -> dict | None:
    """The job as plain data: the row, with the live progress of this process when it runs here."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    session.refresh(job)
    out = {"id": job.id, "kind": job.kind, "scheme": job.scheme_code, "status": job.status, "done": job.done,
           "total": job.total, "message": job.message, "result": job.result, "created_by": job.created_by,
           "created_at": job.created_at.isoformat(timespec="seconds") if job.created_at else None,
           "finished_at": job.finished_at.isoformat(timespec="seconds") if job.finished_at else None}
    with _lock:
        live = _live.get(job_id)
    if live is not None and out["status"] in ("queued", "running"):
        out |= {k: v for k, v in live.items() if v is not None}
    return out
