"""CI smoke run of the load benchmark, tiny: pages and hostile nested-SQL checks at once, every request answered."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_load_benchmark_with_hostile_requests_at_200_datasets():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--datasets", "200", "--requests", "60",
                           "--seconds", "30", "--clients", "4", "--hostile", "2", "--workers", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"load clients=4 requests=(\d+) errors=(\d+) search_p95_ms=(\d+) hostile=2", last)
    assert match, last
    assert int(match.group(1)) > 0 and int(match.group(2)) == 0, done.stdout[-3000:]
    answered = re.search(r"hostile clients: (\d+) nested-SQL checks answered", done.stdout)
    assert answered and int(answered.group(1)) > 0, done.stdout[-3000:]
