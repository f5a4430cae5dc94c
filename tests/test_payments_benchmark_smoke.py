"""The payments benchmark runs end to end on a few households, on SQLite."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_payments_benchmark_smoke_run():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "payments.py"), "--households", "300", "--skip-postgres"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert "[sqlite] registry: 300 households" in out
    assert re.search(r"\[sqlite\] targeting: [\d.]+ s, [\d,]+ eligible", out) and "'poorest_district': 'sql'" in out
    eligible = int(re.search(r"\[sqlite\] approval: [\d.]+ s, ([\d,]+) households enrolled", out).group(1))
    assert re.search(rf"\[sqlite\] cycle 1: [\d.]+ s, {eligible} payments", out), out
    assert "[sqlite] re-run: " in out and "0 payments created" in out
    assert re.search(r"sqlite\s+cycle 1: [\d,]+ payments\s+[\d.]+\s+[\d,]+ payments", out), out
    assert "targeting + cycle" in out
