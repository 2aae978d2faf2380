"""CI smoke run of the usage benchmark: it runs statements, reads pg_stat_statements, parses and records them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# It starts a PostgreSQL of its own for warehouse and catalog: run it once, in the PostgreSQL pass.
@pytest.mark.postgres_catalog
def test_usage_benchmark_at_500_statements():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "usage.py"), "--statements", "500"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"usage statements=(\d+) parsed=(\d+) unparsed=(\d+) seconds=([\d.]+)", last)
    assert match, last
    statements, parsed, unparsed, seconds = int(match[1]), int(match[2]), int(match[3]), float(match[4])
    # The 500 run, and a few of the benchmark's own and the crawl's; one in a hundred sqlglot cannot read.
    assert 500 <= statements <= 560 and parsed + unparsed == statements and 5 <= unparsed <= 10
    assert seconds > 0
    assert re.search(r"second read \(every digest cached\): .* parsed [01] new digests", done.stdout), done.stdout
    # Many statements, few shapes: each shape is parsed (twice, as itself and in placeholders) once.
    shapes = re.search(r"first read: (\d+) statements parsed as (\d+) shapes: (\d+) sqlglot parses, (\d+) answered", done.stdout)
    assert shapes, done.stdout
    asked, distinct, parses, hits = map(int, shapes.groups())
    assert asked == statements and 10 < distinct < statements / 4 and parses <= 2 * distinct and hits >= asked - distinct
