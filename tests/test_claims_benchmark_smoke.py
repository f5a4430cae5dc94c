"""The claims benchmark runs end to end on a tiny registry on SQLite."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_claims_benchmark_smoke_run():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "claims.py"), "--claims", "300", "--persons", "2000",
         "--households", "300", "--sqlite"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert re.search(r"adjudication: 300 claims .* claims/s .* time in the database .*%", out), out
    assert re.search(r"premiums: 300 households in .* households/s", out), out
    assert "checked against compute_premium: equal" in out
