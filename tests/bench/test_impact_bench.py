"""CI smoke run of the column lineage and impact check benchmark: it builds, derives, checks and reports.

Timings are not asserted (CI machines are noisy); only that the benchmark still runs end to end, that an
unchanged refresh derives nothing again, that the migration breaks something, and that the last line keeps
its shape.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAST_LINE = re.compile(
    r"impact views=(?P<views>\d+) lineage_s=(?P<lineage>[\d.]+) table_level_s=(?P<table>[\d.]+) "
    r"ratio=(?P<ratio>[\d.]+) check_p95_ms=(?P<p95>[\d.]+)"
)


# It starts a PostgreSQL of its own for the catalog: run it once, in the PostgreSQL pass of `make test`.
@pytest.mark.postgres_catalog
def test_impact_benchmark_at_100_tables_and_20_views():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "impact.py"), "--tables", "100", "--views", "20", "--runs", "1", "--checks", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    values = {k: float(v) for k, v in match.groupdict().items()}
    assert values["views"] == 20
    assert values["lineage"] > 0 and values["table"] > 0 and values["p95"] > 0
    assert values["ratio"] == pytest.approx(values["lineage"] / values["table"], rel=0.05, abs=0.02)
    assert "unchanged refresh: 0 views derived again" in done.stdout
    assert re.search(r"CPU in this process .* with columns [\d.]+s, table level [\d.]+s, ratio [\d.]+", done.stdout)
    assert "0 views at table level" in done.stdout, "every generated view resolves to columns"
    assert re.search(r"impact check of 20 statements: .* [1-9]\d* objects would break", done.stdout)
