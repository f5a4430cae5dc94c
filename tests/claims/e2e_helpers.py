"""What the end-to-end tests of the insurance examples share: signing in with one role, an API
token, the claim form as the browser posts it, and reading a claim's decision back."""

from __future__ import annotations

import html
import re

from conftest import login, make_user


def as_role(app, client, role: str, username: str | None = None, language: str = "en"):
    username = username or role
    make_user(app, username, [(role, None, None)], language=language)
    login(client, username)
    return client


def bearer(app, client, role: str, username: str) -> dict:
    make_user(app, username, [(role, None, None)])
    r = client.post("/api/v1/token", json={"username": username, "password": "secret-pass"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def text(r) -> str:
    """A page's text, tags removed, entities read and spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True))))


def claim_form(insuree: str, code: str, facility: str, lines, when: str, care: str = "out_patient",
               diagnosis: str = "B54", benefit: str = "") -> dict:
    data = {"code": code, "facility": facility, "insuree": insuree, "date_from": when, "care_type": care,
            "diagnosis": diagnosis, "benefit": benefit}
    for i, (service, quantity) in enumerate(lines):
        data[f"lines-{i}-code"], data[f"lines-{i}-quantity"] = service, quantity
    return data


def claim_id_of(url: str) -> int:
    return int(url.rstrip("/").rsplit("/", 1)[1])


def lines_of(app, claim_id: int) -> list[tuple]:
    """(status, reason codes, payable) of each line of a claim."""
    from openscheme.storage.workflow_models import ClaimRecord

    with app.extensions["openscheme"].db.session_factory() as s:
        claim = s.get(ClaimRecord, claim_id)
        return [(x.status, [r[0] for r in x.reasons or []], x.payable)
                for x in sorted(claim.lines, key=lambda x: x.position)]
