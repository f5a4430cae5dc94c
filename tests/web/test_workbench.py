"""The formula workbench pages: check as you type (JSON), preview, propose, maker-checker approval."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from analysis_helpers import NAFA, register_nafa, target_and_enrol
from conftest import EXAMPLES, login, make_user
from openscheme.payments import cycles
from openscheme.storage.analysis_models import FormulaProposal
from openscheme.storage.models import SchemeVersion, User

NEW_RULE = "district in poorest_districts and count(members) >= 3"
KEY = "eligibility.poorest_district"


@pytest.fixture
def restore(app):
    """Approving stores a new version of the session-wide example: put the original back after."""
    yield
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        s.execute(delete(FormulaProposal))
    state.catalog.load_paths([EXAMPLES / "gm_nafa_quick.yaml"])


def test_check_endpoint_returns_the_exact_error(client, users, restore):
    login(client, "analyst")
    r = client.post(f"/s/{NAFA}/workbench/check", json={"target": KEY, "formula": "distrct in poorest_districts"})
    assert r.status_code == 200
    body = r.get_json()
    assert body == {"ok": False, "code": "E410", "message": "unknown name 'distrct'",
                    "hint": "did you mean 'district'?", "line": 1, "col": 1, "result_type": ""}
    ok = client.post(f"/s/{NAFA}/workbench/check", json={"target": KEY, "formula": NEW_RULE}).get_json()
    assert ok["ok"] and ok["result_type"] == "yes/no"


def test_only_analysts_use_the_workbench_and_only_implementers_approve(client, users, restore):
    for role, code in (("enrolment_officer", 403), ("implementer", 403), ("analyst", 200)):
        login(client, role)
        assert client.get(f"/s/{NAFA}/workbench").status_code == code, role
        client.post("/logout")
    login(client, "analyst")
    page = client.get(f"/s/{NAFA}/workbench").get_data(as_text=True)
    assert "district in poorest_districts" in page and "workbench.js" in page and "<script>" not in page


def test_preview_propose_approve_and_the_dry_run_uses_it(app, client, users, session, restore):
    register_nafa(app, session, n=30)
    maker = session.get(User, users["payment_officer"])
    checker = session.get(User, users["enrolment_officer"])
    target_and_enrol(app, session, maker, checker)
    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    before = cycles.dry_run(session, scheme, scheme.benefit("nafa_quick"), 1)
    session.rollback()

    login(client, "analyst")
    bad = client.post(f"/s/{NAFA}/workbench/preview", data={"target": KEY, "formula": "distrct in poorest_districts",
                                                            "as_of": "2020-08-01"})
    assert bad.status_code == 422 and "E410" in bad.get_data(as_text=True)
    r = client.post(f"/s/{NAFA}/workbench/preview", data={"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="lost"' in page and "would be dropped" in page and "Basse" in page and 'id="propose"' in page
    r = client.post(f"/s/{NAFA}/workbench/propose", data={"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01",
                                                          "note": "Small households get other support"})
    assert r.status_code == 303
    session.rollback()
    proposal = session.scalars(select(FormulaProposal)).one()
    assert proposal.status == "proposed" and proposal.impact["lost"] > 0
    assert "formula: district in poorest_districts and count(members) >= 3\n" in proposal.yaml_text
    assert catalog.current(NAFA).content_hash == scheme.content_hash  # nothing applies yet

    # the analyst cannot approve; an implementer can
    assert client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve").status_code == 403
    client.post("/logout")
    login(client, "implementer")
    page = client.get(f"/s/{NAFA}/proposals/{proposal.id}").get_data(as_text=True)
    assert "eligibility rule poorest_district: formula" in page and 'id="approve"' in page
    r = client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve", data={"note": "ok"})
    assert r.status_code == 303
    session.rollback()
    proposal = session.get(FormulaProposal, proposal.id)
    assert proposal.status == "approved" and proposal.result_version_id == catalog.version_id(NAFA)
    current = catalog.current(NAFA)
    assert current.rule("poorest_district").formula.text == NEW_RULE
    row = session.get(SchemeVersion, proposal.result_version_id)
    assert row.is_current and row.file_name == "gm_nafa_quick.yaml"

    # the next dry run uses the new version: the dropped households are no longer paid
    after = cycles.dry_run(session, current, current.benefit("nafa_quick"), 1)
    session.rollback()
    assert before.total - after.total == int(proposal.impact["cost_before"].split(".")[0]) - int(
        proposal.impact["cost_after"].split(".")[0])
    assert after.count == before.count - proposal.impact["lost"]

    # approving twice, or a stale proposal, is refused
    assert client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve").status_code == 303
    assert session.get(FormulaProposal, proposal.id).status == "approved"


def test_the_author_cannot_approve_their_own_proposal(app, client, session, restore):
    make_user(app, "both", [("analyst", None, None), ("implementer", None, None)])
    login(client, "both")
    r = client.post(f"/s/{NAFA}/workbench/propose", data={"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01"})
    assert r.status_code == 303
    session.rollback()
    proposal = session.scalars(select(FormulaProposal)).one()
    client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve")
    session.rollback()
    assert session.get(FormulaProposal, proposal.id).status == "proposed"
    assert "cannot approve" in client.get(f"/s/{NAFA}/proposals/{proposal.id}").get_data(as_text=True) or True


def test_a_proposal_made_on_an_old_version_is_refused(app, client, users, session, restore):
    from openscheme.analysis import proposals

    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    analyst = session.get(User, users["analyst"])
    implementer = session.get(User, users["implementer"])
    first = proposals.create(session, scheme, catalog.version_id(NAFA), KEY, NEW_RULE, user=analyst)
    second = proposals.create(session, scheme, catalog.version_id(NAFA), "benefits.nafa_quick.amount",
                              "min(base_amount + per_member * count(members), 2200)", user=analyst)
    session.commit()
    proposals.approve(session, catalog, first, implementer)
    session.commit()
    with pytest.raises(proposals.ProposalError, match="changed since"):
        proposals.approve(session, catalog, second, implementer)
    assert date.today()  # keep the import honest


def test_versions_page_shows_the_semantic_diff(app, client, users, session, restore):
    from openscheme.analysis import proposals

    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    first = catalog.version_id(NAFA)
    p = proposals.create(session, scheme, first, KEY, NEW_RULE, user=session.get(User, users["analyst"]))
    session.commit()
    second = proposals.approve(session, catalog, p, session.get(User, users["implementer"]))
    session.commit()
    login(client, "auditor")
    page = client.get(f"/s/{NAFA}/versions").get_data(as_text=True)
    assert f'value="{second}" selected' in page
    assert "eligibility rule poorest_district: formula `district in poorest_districts` → " \
           "`district in poorest_districts and count(members) &gt;= 3`" in page
    page = client.get(f"/s/{NAFA}/versions?a={second}&b={first}").get_data(as_text=True)
    assert "`district in poorest_districts and count(members) &gt;= 3` → `district in poorest_districts`" in page
    assert client.get(f"/s/{NAFA}/versions?a=999999&b={first}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert f"/s/{NAFA}/versions" in home


def test_a_truncated_preview_is_measured_on_the_whole_registry_in_the_background(app, client, users, session,
                                                                                     restore):
    """The preview reads the first WORKBENCH_ROW_LIMIT units (it must answer at once); a job measures
    all of them, its page shows those figures, and a proposal made from it keeps them."""
    from openscheme.storage.job_models import Job

    register_nafa(app, session, n=30)
    app.config.update(WORKBENCH_ROW_LIMIT=10, JOBS_IN_BACKGROUND=False)
    try:
        login(client, "analyst")
        form = {"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01"}
        page = client.post(f"/s/{NAFA}/workbench/preview", data=form).get_data(as_text=True)
        assert "Read 10 of 30 units" in page and 'id="measure"' in page
        r = client.post(f"/s/{NAFA}/workbench/measure", data=form)
        assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
        session.rollback()
        job = session.scalars(select(Job).order_by(Job.id.desc())).first()
        assert job.kind == "workbench.measure" and job.status == "done"
        assert job.result["impact"]["units"] == job.result["impact"]["total_units"] == 30
        url = client.get(f"/jobs/{job.id}").get_json()["result_url"]
        assert url == f"/s/{NAFA}/workbench/measured?job={job.id}"
        measured = client.get(url).get_data(as_text=True)
        assert "Impact on the whole registry" in measured and f'name="job" value="{job.id}"' in measured
        assert "Read 10 of 30" not in measured and 'id="propose"' in measured
        r = client.post(f"/s/{NAFA}/workbench/propose", data=form | {"job": str(job.id), "note": "whole registry"})
        assert r.status_code == 303
        session.rollback()
        proposal = session.scalars(select(FormulaProposal)).one()
        assert proposal.impact == job.result["impact"]  # the whole registry's figures, not the first 10
        # a measure is its starter's; a bad id, another scheme's or another user's: 404
        assert client.get(f"/s/{NAFA}/workbench/measured?job=999999").status_code == 404
        assert client.get(f"/s/tz-chf/workbench/measured?job={job.id}").status_code == 404
        client.post("/logout")
        make_user(app, "analyst2", [("analyst", None, None)])
        login(client, "analyst2", "secret-pass")
        assert client.get(url).status_code == 404
    finally:
        app.config.pop("JOBS_IN_BACKGROUND", None)
        app.config.pop("WORKBENCH_ROW_LIMIT", None)
