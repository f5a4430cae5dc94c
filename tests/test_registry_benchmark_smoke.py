"""The registry benchmark runs end to end on a few rows (SQLite; PostgreSQL too when
OPENSCHEME_TEST_DATABASE_URL is set, as in CI's PostgreSQL run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_registry_benchmark_smoke_run(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "registry.py"), "--rows", "600", "--lookups", "50",
               "--api-households", "10", "--workdir", str(tmp_path)]
    postgres = os.environ.get("OPENSCHEME_TEST_DATABASE_URL")
    if postgres:
        command += ["--database-url", postgres]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr
    names = ["SQLite"] + (["PostgreSQL"] if postgres else [])
    for name in names:
        for code in ("np-ssf", "cm-educash"):
            assert re.search(rf"{name} {code} validated import, rows/s +[\d,]+", out), out
            assert re.search(rf"{name} {code} ratio import / raw \w+ +\d+\.\d\d", out), out
        assert re.search(rf"{name} search by national ID, p95 ms \(50 lookups\) +\d+\.\d\d +<= 20 +(yes|NO)", out), out
        assert re.search(rf"{name} API households/s, one client +[\d,]+ +>= 170 +(yes|NO)", out), out
    assert "waitress (as `openscheme serve`" in out
