"""The job runner: a row per long run, progress while it runs, the result or the error at the end."""

from __future__ import annotations

import threading

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
