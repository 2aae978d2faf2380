"""Duplicates: finding copies among many datasets without comparing every pair.

    .venv/bin/python bench/duplicates.py --datasets 100000 --planted 1000

Builds a synthetic catalog in memory: datasets of 5 to 35 columns (20 on average, so 100,000 datasets hold
about 2,000,000 columns) drawn from a vocabulary where a few names are very common (id, created_at, ...) and
most are rare, with row counts and sizes. Then plants copies of random datasets, each changed as copies are:
names in another style (customerId for customer_id), columns reordered, one column added or dropped for a
third of them, row counts within 2%, and named like a copy for some (orders_backup_2024); a tenth are exact file
copies (the same checksum). Adds 2,000 identical tiny tables (partitions a connector did not fold).

A full pass (catalog.duplicates.detect.Index.build: signatures to groups) is timed, then an incremental pass
after 1% of the datasets changed (half with a column added, half new datasets copying an existing one). The
signatures are made in memory, as the crawl step makes them from the catalog's columns; reading the catalog is
not counted. The LAST line is, exactly:

    duplicates datasets=N planted=P found=F false_groups=G full_s=.. incremental_s=..

found: planted copies in the same group as their original; false_groups: groups holding no planted pair and
not the tiny tables (targets: found >= 99% of planted, false groups < 1% of groups, full <= 30 s, incremental <= 2 s).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.duplicates.detect import Index, Signature, column_token  # noqa: E402

FAMILIES = ["integer", "decimal", "text", "timestamp", "date", "boolean", "float", "json"]
COMMON = ["id", "created_at", "updated_at", "name", "status", "deleted_at"]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=1_000)
    parser.add_argument("--tiny", type=int, default=None, help="identical tiny tables (default: 2%% of datasets)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tiny = args.tiny if args.tiny is not None else max(10, args.datasets // 50)

    words = [f"w{i}" for i in range(3000)]
    vocabulary = [f"{rng.choice(words)}_{rng.choice(words)}" for _ in range(40_000)]
    families = {name: rng.choice(FAMILIES) for name in vocabulary + COMMON}

    def columns_for() -> list[tuple[str, str]]:
        n = rng.randint(5, 35)
        names = [c for c in COMMON if rng.random() < 0.4]
        while len(names) < n:
            names.append(rng.choice(vocabulary))
        names = list(dict.fromkeys(names))
        return [(c, families[c]) for c in names]

    started = time.perf_counter()
    raw: dict[int, tuple[str, list[tuple[str, str]], int, int]] = {}
    base = args.datasets - args.planted - tiny
    for i in range(base):
        rows = rng.randint(0, 50_000_000)
        raw[i] = (f"table_{i}", columns_for(), rows, rows * rng.randint(40, 400))
    planted: list[tuple[int, int]] = []
    checksums: dict[int, str] = {}
    originals = rng.sample(range(base), args.planted)
    for n, original in enumerate(originals):
        copy_id = base + n
        name, cols, rows, size = raw[original]
        cols = [(camel(c) if rng.random() < 0.5 else c.upper(), f) for c, f in cols]
        rng.shuffle(cols)
        change = rng.random()
        if change < 0.17 and len(cols) > 5:
            cols = cols[:-1]
        elif change < 0.34:
            cols.append(("loaded_at", "timestamp"))
        name = rng.choice([f"{name}_backup_2024", f"{name}_copy", name, f"{name}_v2"])
        raw[copy_id] = (name, cols, int(rows * rng.uniform(0.98, 1.0)), int(size * rng.uniform(0.9, 1.1)))
        if n % 10 == 0:
            checksums[original] = checksums[copy_id] = f"etag-{n}"
        planted.append((original, copy_id))
    tiny_ids = set(range(base + args.planted, base + args.planted + tiny))
    for i in tiny_ids:
        raw[i] = (f"events_part_{i}", [("reading_at", "timestamp"), ("sensor_reading", "float"), ("sensor_code", "text")], 10, 800)

    def signature(i: int) -> Signature:
        name, cols, rows, size = raw[i]
        return Signature(i, name, frozenset(column_token(c, f) for c, f in cols), rows, size, checksums.get(i, ""), seen=float(i))

    signatures = [signature(i) for i in raw]
    total_columns = sum(len(raw[i][1]) for i in raw)
    print(f"built {len(signatures):,} datasets, {total_columns:,} columns in {time.perf_counter() - started:.1f} s", flush=True)

    index = Index()
    started = time.perf_counter()
    detection = index.build(signatures)
    full_s = time.perf_counter() - started
    group_of = {m.dataset_id: g.original for g in detection.groups for m in g.members}
    found = sum(1 for original, copy in planted if copy in group_of and group_of.get(original) == group_of[copy])
    planted_pairs = {frozenset(p) for p in planted}

    def is_false(group) -> bool:
        ids = [m.dataset_id for m in group.members]
        if tiny_ids.issuperset(ids):
            return False
        return not any(frozenset((x, y)) in planted_pairs for x in ids for y in ids if x < y)

    false_groups = sum(1 for g in detection.groups if is_false(g))
    print(f"full pass: {len(detection.groups):,} groups, {detection.pairs_scored:,} pairs scored, warnings: {detection.warnings}")

    changed_count = max(2, args.datasets // 100)
    next_id = max(raw) + 1
    changed = []
    for n in range(changed_count):
        if n % 2 == 0:
            i = rng.randrange(base)
            name, cols, rows, size = raw[i]
            raw[i] = (name, cols + [(f"added_{n}", "text")], rows, size)
            changed.append(signature(i))
        else:
            original = rng.randrange(base)
            name, cols, rows, size = raw[original]
            raw[next_id] = (f"{name}_snapshot", list(reversed(cols)), rows, size)
            planted.append((original, next_id))
            changed.append(signature(next_id))
            next_id += 1
    started = time.perf_counter()
    incremental = index.update(changed)
    incremental_s = time.perf_counter() - started
    new_found = sum(1 for original, copy in planted[args.planted:]
                    if index.group_of.get(copy) is not None and index.group_of.get(copy) == index.group_of.get(original))
    print(f"incremental pass: {len(changed):,} changed, {len(incremental.groups):,} groups made again, "
          f"{new_found}/{len(planted) - args.planted} new copies found")
    print(f"duplicates datasets={len(signatures)} planted={args.planted} found={found} false_groups={false_groups} "
          f"full_s={full_s:.3f} incremental_s={incremental_s:.3f}")


if __name__ == "__main__":
    main()
