"""CI smoke run of the drift benchmark: it builds, crawls, alters, recrawls and reports."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# It starts a PostgreSQL of its own for warehouse and catalog: run it once, in the PostgreSQL pass.
@pytest.mark.postgres_catalog
def test_drift_benchmark_at_50_tables():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "drift.py"), "--tables", "50", "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"drift tables=50 changed=3 recrawl_s=([\d.]+) unchanged_recrawl_s=([\d.]+) ratio=([\d.]+)", last)
    assert match, last
    recrawl_s, unchanged_s, ratio = map(float, match.groups())
    assert recrawl_s > 0 and unchanged_s > 0
    # The times are printed to 3 decimals and the ratio to 2: the ratio of the printed times can
    # only be matched within what that rounding allows (0.113 s can be anything from 0.1125 to 0.1135).
    lowest, highest = (recrawl_s - 0.0005) / (unchanged_s + 0.0005), (recrawl_s + 0.0005) / (unchanged_s - 0.0005)
    assert lowest - 0.005 <= ratio <= highest + 0.005, (ratio, lowest, highest)
    # What the changed recrawl wrote, as the benchmark checked and reported it.
    assert "round 1: recrawl after altering 3 tables {'column_added': 1, 'type_changed': 1, 'column_removed': 1}" in done.stdout
    assert re.search(r"wrote 3 schema versions, 3 schema changes, [34] outbox messages", done.stdout), done.stdout
