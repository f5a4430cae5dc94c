"""Registry data shared by the analysis tests (impact, workbench, dashboard, reports, DHIS2)."""

from __future__ import annotations

import random
from datetime import date

NAFA = "gm-nafa-quick"
DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}


def nafa_household(rng: random.Random, i: int, size: int | None = None, district: str | None = None) -> dict:
    region = next((r for r, ds in DISTRICTS.items() if district in ds), None) if district else rng.choice(list(DISTRICTS))
    size = size or rng.randint(1, 8)
    members = [{"first_name": f"N{i}", "last_name": f"M{j}", "sex": rng.choice("FM"),
                "dob": date(rng.randint(1950, 2015), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(size)]
    channel = rng.choice(["cash_agent", "mobile_money"])
    data = {"region": region, "district": district or rng.choice(DISTRICTS[region]), "village": "V",
            "payment_channel": channel, "members": members}
    if channel == "mobile_money":
        data["phone"] = f"+220{7000000 + i}"
    return data


def register_nafa(app, session, n: int = 30, seed: int = 7) -> list:
    """n households of gm-nafa-quick; returns the Household rows."""
    from openscheme.registry.service import Registry

    catalog = app.extensions["openscheme"].catalog
    reg = Registry(session, catalog)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        result = reg.register(NAFA, nafa_household(rng, i))
        assert result.ok, result.errors
        out.append(result.record)
    session.commit()
    return out


def target_and_enrol(app, session, maker, checker, as_of=date(2020, 8, 1)):
    from openscheme.targeting.run import approve_run, run_targeting

    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    run = run_targeting(session, scheme, catalog.version_id(NAFA), as_of=as_of, user=maker)
    approve_run(session, run, checker, scheme=scheme)
    session.commit()
    return run
