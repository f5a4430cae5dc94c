"""`openscheme demo`: a database with every example scheme, reference data, users and beneficiaries.

Steps (each idempotent, so a second run adds nothing):
 1. migrate the database (SQLite under instance/ unless OPENSCHEME_DATABASE_URL says otherwise);
 2. compile and store every definition of examples/ and scheme_definitions/;
 3. seed the illustrative location hierarchies (data/locations.csv), the catalogue and price
    lists of the insurance schemes, facilities (data/facilities.csv), ICD-10, demo users;
 4. register synthetic beneficiaries for every scheme through the registry (`synthetic.py`);
 5. insure half of them in the insurance schemes and give vouchers to half of the entitled people of
    the voucher schemes (`activity.py`), so that clerks, reviewers and payment officers find work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..storage.db import Database
from ..storage.migrate import upgrade
from ..storage.schemes import LoadReport, SchemeCatalog
from .activity import ActivityReport, seed_activity
from .icd10 import Icd10LoadResult, load_icd10, who_icd10_rows
from .seed import DemoUser, seed_catalogue, seed_facilities, seed_locations, seed_users
from .synthetic import GenerationReport, generate, load_names


@dataclass
class DemoReport:
    load: LoadReport | None = None
    locations_added: int = 0
    facilities_added: int = 0
    catalogue_added: int = 0
    price_lists_added: int = 0
    icd10: Icd10LoadResult | None = None
    users: list[DemoUser] = field(default_factory=list)
    beneficiaries: list[GenerationReport] = field(default_factory=list)
    activity: list[ActivityReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def units_added(self) -> int:
        return sum(g.added for g in self.beneficiaries)

    @property
    def people_added(self) -> int:
        return sum(g.people for g in self.beneficiaries)


def run_demo(database_url: str, paths: list[Path], per_scheme: int = 400, hash_method: str = "scrypt",
             echo: Callable[[str], None] = print) -> DemoReport:
    started = time.perf_counter()
    report = DemoReport()
    database = Database(database_url)
    try:
        upgrade(database.engine)
        catalog = SchemeCatalog(database)
        report.load = catalog.load_paths([p for p in paths if p.exists()])
        schemes = catalog.all_current()
        echo(f"schemes: {len(report.load.loaded)} new, {len(report.load.unchanged)} unchanged, "
             f"{len(report.load.failed)} failed; serving {', '.join(s.code for s in schemes)}")
        for file, errors in report.load.failed.items():
            echo(f"  {file}: not loaded")
            for e in errors:
                echo(f"    {e}")
        with database.session_factory() as session, session.begin():
            report.locations_added = seed_locations(session)
            catalogue = seed_catalogue(session, schemes)
            report.catalogue_added, report.price_lists_added = catalogue.entries_added, catalogue.price_lists_added
            report.facilities_added = seed_facilities(session, catalogue.price_lists)
            report.icd10 = load_icd10(session, who_icd10_rows())
            report.users = seed_users(session, hash_method, known_schemes={s.code for s in schemes})
        echo(f"reference data: {report.locations_added} locations, {report.facilities_added} facilities, "
             f"{report.catalogue_added} catalogue entries, {report.price_lists_added} price lists added; "
             f"ICD-10: {report.icd10}")
        names = load_names()
        for scheme in schemes:
            generated = generate(database, catalog, scheme.code, per_scheme, names)
            report.beneficiaries.append(generated)
            echo(f"  {generated}")
        for scheme in schemes:
            done = seed_activity(database, catalog, scheme.code)
            report.activity.append(done)
            if done.policies or done.vouchers:
                echo(f"  {done}")
    finally:
        database.dispose()
    report.seconds = time.perf_counter() - started
    return report
