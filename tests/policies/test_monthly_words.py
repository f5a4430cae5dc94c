"""The policies pages of a scheme paid by monthly contributions (np-ssf) speak of contributions due, not
renewals, and show its Employers and Arrears pages on every page's menu; a yearly premium (np-hib) keeps
"Renewals due". In English and French."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "claims"))

from e2e_helpers import as_role, text  # noqa: E402

PAGES = ("/s/{code}/policies/", "/s/{code}/renewals")


@pytest.mark.parametrize("language, due, renewals, none_due, arrears", [
    ("en", "Contributions due", "Renewals due", "No contribution due.", "Arrears"),
    ("fr", "Cotisations dues", "Renouvellements à faire", "Aucune cotisation due.", "Arriérés"),
])
def test_monthly_contributions_are_due_yearly_premiums_are_renewed(app, client, language, due, renewals, none_due,
                                                                    arrears):
    as_role(app, client, "enrolment_officer", language=language)
    for url in PAGES:
        page = text(client.get(url.format(code="np-ssf")))
        assert due in page and renewals not in page, (url, page[:400])
        assert arrears in page, url  # the monthly scheme's menu, on every policies page
        page = text(client.get(url.format(code="np-hib")))
        assert renewals in page and due not in page, (url, page[:400])
        assert arrears not in page, url
    assert none_due in text(client.get("/s/np-ssf/renewals"))
