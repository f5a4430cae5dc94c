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

The runner is deliberately small: no queue, no automatic retry. A job row
names the process running it (`owner`: host, pid, a token drawn when the
process starts and, on Linux, the process's start time from /proc/<pid>/stat)
and, on PostgreSQL, a heartbeat written every 30 seconds. When that process is
gone - its pid is dead on this host, or this host's pid now belongs to a new
process (a restarted container, or an unrelated process that got the pid: its
start time differs), or another host has not beaten for three minutes - the
job is marked "interrupted": at start-up
(`recover`) and whenever its state is read. Its page then offers to run it
again (`rerun`: the form that started it); the work itself is resumable
(targeting can simply be run again; cycle preparation adds only the missing
payments). SQLite gets no heartbeat thread: a write from another thread could
make the run's own read-then-write transaction fail at once, and an SQLite
database lives on one host, where the pid decides.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from .storage.job_models import Job

log = logging.getLogger("openscheme.jobs")

_live: dict[int, dict] = {}  # job id -> {"done", "total", "message"} while it runs in this process
_threads: dict[int, threading.Thread] = {}
_running: dict[int, object] = {}  # job id -> its session factory, from create() to the end of run(), here
_lock = threading.Lock()
_process: dict[str, object] = {}  # this process: its pid and token (drawn again after a fork)

ACTIVE = ("queued", "running")
HEARTBEAT = 30  # seconds between two heartbeats of the jobs this process runs (not on SQLite)
STALE = timedelta(minutes=3)  # a job of another host with no heartbeat for this long is interrupted


def owner() -> str:
    """This process as "host|pid|token|start": the token tells a restarted process that got the same
    pid; the start time (Linux: clock ticks since boot, see `started`) lets any process of this host
    tell an unrelated process that got the pid since. Without /proc: "host|pid|token"."""
    pid = os.getpid()
    if _process.get("pid") != pid:
        _process.update(pid=pid, token=secrets.token_hex(4), start=started(pid))
    start = _process["start"]
    return f"{socket.gethostname()}|{pid}|{_process['token']}" + (f"|{start}" if start is not None else "")


def started(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); None
    when that cannot be read (no /proc, no such process, or one hidden from this user)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")";
    # what follows starts at field 3, so field 22 is the 20th
    fields = stat[stat.rfind(b")") + 1:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would kill it on Windows: assume alive, the heartbeat decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. a process of another user: it exists
        return True
    return True


def gone(job_owner: str | None, heartbeat: datetime | None, *, here: bool, now: datetime | None = None) -> str | None:
    """Why the process that runs a job is no longer there (None while it may still be running).

    `here`: whether this process runs it now (what decides when the owner is this process).
    Also used by the bulk import page, whose jobs are small files."""
    host, pid_text, _token, start_text = ((job_owner or "").split("|") + ["", "", ""])[:4]
    if host and host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if job_owner == owner():
            return None if here else "its thread ended without saying how"
        if pid == os.getpid():
            return f"the server was restarted (pid {pid} is a new process)"
        if not _pid_alive(pid):
            return f"the process that ran it stopped (pid {pid} on {host})"
        # alive - but an unrelated process may have got the pid since: its start time tells
        now_started = started(pid) if start_text.isdigit() else None
        if now_started is not None and now_started != int(start_text):
            return f"the process that ran it stopped (pid {pid} on {host} is now another process)"
        return None
    # another host (or a row from before owners were recorded): only its heartbeat tells
    if heartbeat is None or (now or datetime.now()) - heartbeat > STALE:
        since = heartbeat.isoformat(sep=" ", timespec="seconds") if heartbeat else "ever"
        return f"no sign of life from {host or 'its process'} since {since}"
    return None


def _runs_here(job_id: int) -> bool:
    with _lock:
        return job_id in _running


def _interrupt(bind, job_id: int, job_owner: str | None, why: str) -> bool:
    """Mark the job interrupted unless it changed meanwhile (it finished, or a new owner took it).

    False when it had changed: whoever read it "running" read it before it finished."""
    message = f"interrupted: {why}"
    try:
        with Session(bind) as s, s.begin():
            changed = s.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE),
                                                  Job.owner.is_not_distinct_from(job_owner))
                                .values(status="interrupted", message=message, updated_at=datetime.now(),
                                        finished_at=datetime.now())).rowcount
    except OperationalError:  # a busy database: it stays as it is; the next reader tries again
        log.warning("job %s: %s (not saved: database busy)", job_id, message)
        return False
    if changed:
        log.warning("job %s %s", job_id, message)
    return bool(changed)


def recover(session_factory) -> int:
    """At start-up: mark every job whose process is gone as interrupted; returns how many."""
    with session_factory() as s:
        rows = s.execute(select(Job.id, Job.owner, Job.heartbeat_at, Job.updated_at)
                         .where(Job.status.in_(ACTIVE))).all()
        bind = s.get_bind()
    count = 0
    for job_id, job_owner, heartbeat, updated in rows:
        why = gone(job_owner, heartbeat or updated, here=_runs_here(job_id))
        if why and _interrupt(bind, job_id, job_owner, why):
            count += 1
    return count


def create(session, kind: str, *, user_id: int | None = None, scheme_code: str | None = None,
           total: int | None = None, message: str = "", rerun: dict | None = None) -> int:
    """A queued job, to be started by this process. `rerun` ({"endpoint", "values", "form"}) is the
    form that started it, offered again if it is interrupted or fails."""
    now = datetime.now()
    job = Job(kind=kind, scheme_code=scheme_code, status="queued", done=0, total=total, message=message,
              created_by=user_id, updated_at=now, owner=owner(), heartbeat_at=now, rerun=rerun)
    session.add(job)
    session.flush()
    with _lock:
        _running[job.id] = None
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
                now = datetime.now()
                s.execute(update(Job).where(Job.id == self.job_id).values(
                    done=self.done, total=self.total, message=self.message, updated_at=now, heartbeat_at=now))
        except OperationalError:  # a busy database: the next batch will report again
            log.warning("job %s: progress not saved (database busy)", self.job_id)


def _finish(session_factory, job_id: int, **values) -> None:
    with session_factory() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id).values(updated_at=datetime.now(), **values))


def run(session_factory, job_id: int, work: Callable[[Progress], dict | None], *,
        persist_progress: bool = True) -> None:
    """Run a job to its end in this thread; the outcome goes to the job row, never up the stack."""
    progress = Progress(session_factory, job_id, persist=persist_progress)
    with _lock:
        _running[job_id] = session_factory
    _finish(session_factory, job_id, status="running", owner=owner(), heartbeat_at=datetime.now())
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
            _running.pop(job_id, None)


def _beat() -> None:
    """This process's heartbeat: the jobs it runs say they are alive, every HEARTBEAT seconds."""
    while True:
        time.sleep(HEARTBEAT)
        with _lock:
            factories = {}
            for job_id, factory in _running.items():
                if factory is not None:
                    factories.setdefault(factory, []).append(job_id)
        for factory, ids in factories.items():
            try:
                with factory() as s, s.begin():
                    s.execute(update(Job).where(Job.id.in_(ids), Job.owner == owner()).values(
                        heartbeat_at=datetime.now()))
            except SQLAlchemyError:  # a busy or unreachable database: the next beat will tell
                log.warning("jobs %s: heartbeat not saved", ids)


def _start_heartbeat(session_factory) -> None:
    bind = session_factory.kw.get("bind")
    if bind is None or bind.dialect.name == "sqlite":
        return
    with _lock:
        if _process.get("heartbeat") == os.getpid():
            return
        _process["heartbeat"] = os.getpid()
    threading.Thread(target=_beat, daemon=True, name="jobs-heartbeat").start()


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
        _running[job_id] = session_factory
    _start_heartbeat(session_factory)
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
    """The job as plain data: the row, with the live progress of this process when it runs here.

    A queued or running job whose process is gone is marked interrupted here (any worker may
    be the one asked), then read again by a session of its own: the caller's may hold a
    snapshot taken before the job finished (SQLite), and a job of this process that finished
    since is no longer listed as running here."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    session.refresh(job)
    if job.status in ACTIVE:
        why = gone(job.owner, job.heartbeat_at or job.updated_at, here=_runs_here(job.id))
        if why:
            _interrupt(session.get_bind(), job.id, job.owner, why)
            with Session(session.get_bind()) as fresh:
                job = fresh.get(Job, job_id)
                return _as_dict(job) if job is not None else None
    out = _as_dict(job)
    with _lock:
        live = _live.get(job_id)
    if live is not None and out["status"] in ACTIVE:
        out |= {k: v for k, v in live.items() if v is not None}
    return out


def _as_dict(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "scheme": job.scheme_code, "status": job.status, "done": job.done,
            "total": job.total, "message": job.message, "result": job.result, "created_by": job.created_by,
            "created_at": job.created_at.isoformat(timespec="seconds") if job.created_at else None,
            "finished_at": job.finished_at.isoformat(timespec="seconds") if job.finished_at else None,
            "rerun": job.rerun}
