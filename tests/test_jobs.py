"""The job runner: a row per long run, progress while it runs, the result or the error at the end."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import login
from openscheme import jobs
from openscheme.storage.job_models import Job


@pytest.fixture
def factory(app):
    return app.extensions["openscheme"].db.session_factory


def new_job(factory, kind="test", **kw):
    with factory() as s, s.begin():
        return jobs.create(s, kind, **kw)


def row(factory, job_id) -> Job:
    with factory() as s:
        return s.get(Job, job_id)


def test_a_job_runs_to_its_result(factory):
    job_id = new_job(factory, scheme_code="gm-nafa-quick")
    assert row(factory, job_id).status == "queued"

    def work(progress):
        progress.set_total(3)
        for i in range(1, 4):
            progress(i)
        return {"answer": 42}

    jobs.start(factory, job_id, work, background=False)
    job = row(factory, job_id)
    assert (job.status, job.done, job.total, job.result) == ("done", 3, 3, {"answer": 42})
    assert job.finished_at is not None and job.scheme_code == "gm-nafa-quick"


def test_a_failing_job_keeps_its_error_and_its_progress(factory):
    job_id = new_job(factory)

    def work(progress):
        progress.set_total(10)
        progress(4)
        raise ValueError("the registry moved")

    jobs.start(factory, job_id, work, background=False)  # never raises
    job = row(factory, job_id)
    assert job.status == "failed" and job.message == "the registry moved" and job.done == 4 and job.total == 10
    assert job.result is None


def test_progress_is_visible_while_a_background_job_runs(factory):
    job_id = new_job(factory)
    halfway, release = threading.Event(), threading.Event()

    def work(progress):
        progress.set_total(100)
        progress(50, "half")
        halfway.set()
        assert release.wait(10)
        progress(100)
        return {"ok": True}

    jobs.start(factory, job_id, work)
    assert halfway.wait(10)
    with factory() as s:
        live = jobs.state(s, job_id)
    assert (live["status"], live["done"], live["total"], live["message"]) == ("running", 50, 100, "half")
    saved = row(factory, job_id)  # what another web worker would read: persisted as it goes
    assert saved.status == "running" and saved.total == 100
    release.set()
    assert jobs.wait(job_id, 10)
    with factory() as s:
        done = jobs.state(s, job_id)
    assert done["status"] == "done" and done["done"] == 100 and done["result"] == {"ok": True}


def test_progress_kept_in_memory_only_when_asked(factory):
    job_id = new_job(factory)
    seen = {}

    def work(progress):
        progress.set_total(7)
        progress(3)
        seen["row"] = row(factory, job_id).done
        with factory() as s:
            seen["state"] = jobs.state(s, job_id)["done"]
        return {}

    jobs.start(factory, job_id, work, background=False, persist_progress=False)
    assert seen == {"row": 0, "state": 3}
    assert row(factory, job_id).done == 7  # the end is always written


def test_unknown_job(factory):
    with factory() as s:
        assert jobs.state(s, 999_999) is None
    assert jobs.wait(999_999, 0.1)


def test_the_json_endpoint_and_the_page(app, client, users, factory):
    login(client, "payment_officer")
    job_id = new_job(factory, kind="targeting", user_id=users["payment_officer"])
    page = client.get(f"/jobs/{job_id}/page").get_data(as_text=True)
    assert f'data-job="/jobs/{job_id}"' in page and "progress.js" in page and "<progress" in page
    assert "<noscript><meta http-equiv=\"refresh\"" in page
    data = client.get(f"/jobs/{job_id}").get_json()
    assert data["status"] == "queued" and data["title"] == "Targeting run" and data["result_url"] is None

    def work(progress):
        progress.set_total(4)
        progress(4)
        return {"eligible": 3, "excluded": 1, "link": {"endpoint": "payments.targeting_run", "values": {"run_id": 9}}}

    jobs.start(factory, job_id, work, background=False)
    r = client.get(f"/jobs/{job_id}")
    data = r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    assert data == {"id": job_id, "kind": "targeting", "status": "done", "done": 4, "total": 4, "message": "",
                    "title": "Targeting run", "result_url": "/targeting/9", "summary": "3 eligible, 1 excluded.",
                    "percent": 100}
    fr = client.get(f"/jobs/{job_id}?lang=fr").get_json()
    assert fr["summary"] == "3 éligibles, 1 exclus." and fr["title"] == "Ciblage"
    page = client.get(f"/jobs/{job_id}/page").get_data(as_text=True)
    assert 'href="/targeting/9"' in page and "3 eligible, 1 excluded." in page
    assert client.get("/static/progress.js").status_code == 200


# ---- a job whose process stopped -------------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def left_running(factory, owner: str | None, heartbeat=None, **kw) -> int:
    """A job as a stopped process leaves it: running, its owner gone."""
    from datetime import datetime

    job_id = new_job(factory, **kw)
    with factory() as s, s.begin():
        job = s.get(Job, job_id)
        job.status, job.done, job.total = "running", 40, 100
        job.owner, job.heartbeat_at = owner, heartbeat or datetime.now()
    return job_id


def test_a_job_whose_process_stopped_is_interrupted_when_read(factory):
    import socket

    job_id = left_running(factory, f"{socket.gethostname()}|{dead_pid()}|0badc0de")
    with factory() as s:
        job = jobs.state(s, job_id)
    assert job["status"] == "interrupted" and "the process that ran it stopped" in job["message"]
    assert job["done"] == 40  # what was done is said, and kept
    saved = row(factory, job_id)
    assert saved.status == "interrupted" and saved.finished_at is not None and saved.message == job["message"]


def test_the_same_pid_in_a_restarted_server_is_another_process(factory):
    import os
    import socket

    job_id = left_running(factory, f"{socket.gethostname()}|{os.getpid()}|0badc0de")  # not this process's token
    with factory() as s:
        assert jobs.state(s, job_id)["status"] == "interrupted"
    assert "the server was restarted" in row(factory, job_id).message


linux_proc = pytest.mark.skipif(jobs.started(__import__("os").getpid()) is None,
                                reason="no /proc/<pid>/stat here: the pid alone decides")


@linux_proc
def test_the_owner_records_the_start_time_of_its_process():
    import os

    with open("/proc/self/stat") as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22
    assert jobs.started(os.getpid()) == start
    assert jobs.owner().split("|")[1:] == [str(os.getpid()), jobs.owner().split("|")[2], str(start)]
    assert jobs.started(dead_pid()) is None


@linux_proc
def test_a_pid_whose_start_time_differs_is_another_process(factory):
    """This test's own pid, recorded with another start time, is not this process: interrupted;
    with its own start time (and token) it is this process, running the job: left alone."""
    import os

    host, pid, token, start = jobs.owner().split("|")
    assert pid == str(os.getpid())
    other_start = left_running(factory, f"{host}|{pid}|{token}|{int(start) + 1}")
    same = new_job(factory)  # create(): owned by this process, which runs it until run() ends
    try:
        with factory() as s, s.begin():
            s.get(Job, same).status = "running"
        assert row(factory, same).owner == f"{host}|{pid}|{token}|{start}"
        with factory() as s:
            assert jobs.state(s, other_start)["status"] == "interrupted"
            assert jobs.state(s, same)["status"] == "running"
        assert jobs.gone(f"{host}|{pid}|{token}|{start}", None, here=True) is None
        assert jobs.gone(f"{host}|{pid}|{token}|{int(start) + 1}", None, here=True)
    finally:
        with jobs._lock:
            jobs._running.pop(same, None)


@linux_proc
def test_a_pid_reused_by_an_unrelated_process_is_not_the_job_owner(factory, tmp_path):
    """The known gap: the job's pid, dead, then given to an unrelated live process of this host.
    Its start time differs from the recorded one: interrupted. The recorded one matches: running.
    (The unrelated process runs a program named with ") " in it, as /proc/<pid>/stat's comm may be.)"""
    import socket
    import subprocess
    import sys

    program = tmp_path / "odd) name 1 2 3"
    program.symlink_to(sys.executable)
    other = subprocess.Popen([str(program), "-c", "import time; time.sleep(30)"])
    try:
        start = jobs.started(other.pid)
        assert start is not None
        host = socket.gethostname()
        reused = left_running(factory, f"{host}|{other.pid}|cafe|{start - 1}")
        same = left_running(factory, f"{host}|{other.pid}|cafe|{start}")
        assert jobs.recover(factory) == 1
        assert row(factory, same).status == "running"
        saved = row(factory, reused)
        assert saved.status == "interrupted"
        assert saved.message == f"interrupted: the process that ran it stopped (pid {other.pid} on {host} is now another process)"
    finally:
        other.kill()
        other.wait()


def test_without_a_start_time_a_live_pid_keeps_its_job(factory, monkeypatch):
    """Where /proc cannot be read (or a row recorded before start times), the pid alone decides."""
    import subprocess
    import sys

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import socket

        monkeypatch.setattr(jobs, "started", lambda pid: None)
        job_id = left_running(factory, f"{socket.gethostname()}|{other.pid}|cafe|12345")
        assert jobs.recover(factory) == 0 and row(factory, job_id).status == "running"
    finally:
        other.kill()
        other.wait()


def test_a_job_of_another_host_is_interrupted_when_its_heartbeat_is_stale(factory):
    from datetime import datetime, timedelta

    alive = left_running(factory, "web-2|123|aaaa", datetime.now() - timedelta(seconds=40))
    stale = left_running(factory, "web-3|123|bbbb", datetime.now() - jobs.STALE - timedelta(seconds=1))
    assert jobs.recover(factory) == 1
    assert row(factory, alive).status == "running"
    assert row(factory, stale).status == "interrupted" and "no sign of life from web-3" in row(factory, stale).message


def test_a_job_running_in_a_live_process_is_left_alone(factory):
    import subprocess
    import sys

    job_id = new_job(factory)
    release = threading.Event()
    jobs.start(factory, job_id, lambda progress: release.wait(10) and {})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import socket

        for _ in range(200):  # the job's thread marks it running once it has started (queued until then)
            with factory() as s:
                if jobs.state(s, job_id)["status"] == "running":
                    break
            time.sleep(0.025)

        theirs = left_running(factory, f"{socket.gethostname()}|{other.pid}|cafe")
        assert jobs.recover(factory) == 0
        with factory() as s:
            assert jobs.state(s, job_id)["status"] == "running" and jobs.state(s, theirs)["status"] == "running"
    finally:
        other.kill()
        other.wait()
        release.set()
        assert jobs.wait(job_id, 10)
    assert row(factory, job_id).status == "done"


def test_a_restart_marks_the_jobs_it_left_interrupted(app, factory):
    import socket

    from conftest import EXAMPLES
    from openscheme import create_app

    job_id = left_running(factory, f"{socket.gethostname()}|{dead_pid()}|0badc0de")
    create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SCHEME_PATHS": [str(EXAMPLES)], "TESTING": True,
                "SECRET_KEY": "x"}).extensions["openscheme"].db.dispose()
    assert row(factory, job_id).status == "interrupted"


def test_an_interrupted_job_page_says_so_in_english_and_french(app, client, users, factory):
    import socket

    login(client, "payment_officer")
    job_id = left_running(factory, f"{socket.gethostname()}|{dead_pid()}|0badc0de", kind="targeting",
                          user_id=users["payment_officer"])
    with factory() as s, s.begin():
        s.get(Job, job_id).rerun = {"endpoint": "payments.start_targeting", "values": {"scheme": "gm-nafa-quick"},
                                    "form": {"as_of": "2020-08-01"}}
    data = client.get(f"/jobs/{job_id}").get_json()
    assert data["status"] == "interrupted" and data["done"] == 40 and data["percent"] == 40
    page = client.get(f"/jobs/{job_id}/page").get_data(as_text=True)
    assert "It was interrupted: the server stopped while it was running." in page
    assert "What was done is kept: run it again to finish the rest." in page
    assert 'action="/s/gm-nafa-quick/targeting"' in page and 'name="as_of" value="2020-08-01"' in page
    assert "Run it again" in page and 'http-equiv="refresh"' not in page
    fr = client.get(f"/jobs/{job_id}/page?lang=fr").get_data(as_text=True)
    assert "Interrompu : le serveur s'est arrêté pendant le travail." in fr and "Relancer" in fr
    assert "Ce qui a été fait est conservé : relancez-le pour terminer le reste." in fr


def test_a_job_that_finished_after_the_reader_looked_is_not_interrupted(factory):
    """The web request's session read the job while it ran (SQLite keeps that snapshot); the job
    then finished and is no longer running here: it is done, not interrupted."""
    job_id = new_job(factory)
    with factory() as reader:
        assert reader.get(Job, job_id).status == "queued"  # the snapshot starts here (SQLite)
        jobs.start(factory, job_id, lambda progress: {"ok": True}, background=False)
        job = jobs.state(reader, job_id)
    assert job["status"] == "done" and job["result"] == {"ok": True}
    assert row(factory, job_id).status == "done"
