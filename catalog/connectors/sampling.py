"""Sampled column profiles, as each engine can sample: what each connector's sample_profiles() answers. Django-free.

A connector module that can sample its engine's tables without a full scan has a function
`sample_profiles(connector, tables, *, percent, budget_s) -> (profiles, problems, complete)`, listed in SAMPLERS
by URL scheme with what its percent means. `tables` is [(schema, name, [(column, type family)])], in the order to
sample; it answers {(schema, name): {column: stats}}, {(schema, name): problem} (a table refused or timed out: a
warning on that dataset) and whether every table was reached within the budget. Each column's stats carry a
"basis" that says what was read, starting with "sample" ("sample of 1,000 rows from 10 random key ranges"): the
catalog tells sampled profiles from the engine's statistics by it, and the dataset page shows it.

Engines without block sampling (MySQL, SQLite) read at most SAMPLE_MAX_ROWS rows a table and profile them here,
in Python (profile_rows): the same fields as PostgreSQL's sampled path, plus the most common values.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from importlib import import_module
from time import monotonic

# scheme: (the dotted path of its sample_profiles, what the source's percent is a share of, how it samples)
_PG = ("catalog.connectors.postgres.sample_profiles", "blocks", "a block sample, TABLESAMPLE SYSTEM")
_MYSQL = ("catalog.connectors.mysql.sample_profiles", "each table's key range, at most 10,000 rows",
          "random ranges of a single integer primary key; other tables: their first rows, said so")
_SQLITE = ("catalog.connectors.sqlite.sample_profiles", "each table's rowid range, at most 10,000 rows",
           "random ranges of the rowid; WITHOUT ROWID tables: their first rows, said so")
_DUCKDB = ("catalog.connectors.duckdb.sample_profiles", "vectors of rows",
           "TABLESAMPLE SYSTEM, pushed into the scan, for tables too large for SUMMARIZE")
_SNOWFLAKE = ("catalog.connectors.snowflake.sample_profiles", "micro-partitions", "SAMPLE SYSTEM, a share of micro-partitions")
_BIGQUERY = ("catalog.connectors.bigquery.sample_profiles", "storage blocks", "TABLESAMPLE SYSTEM, a share of storage blocks (billed for those only)")
SAMPLERS = {
    "postgresql": _PG,
    "postgres": _PG,
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "sqlite": _SQLITE,
    "duckdb": _DUCKDB,
    "snowflake": _SNOWFLAKE,
    "bigquery": _BIGQUERY,
}

SAMPLE_MAX_ROWS = 10_000  # rows read from one table, at most, where the engine cannot sample blocks
SAMPLE_RANGES = 10  # random key ranges those rows come from
MOST_COMMON = 5

_ORDERED = {"integer", "decimal", "float", "date", "timestamp", "text", "uuid"}
_COUNTED = _ORDERED | {"boolean"}


def sampler(scheme: str):
    """(sample_profiles, what percent is a share of) for a URL scheme, or None where Canon cannot sample."""
    entry = SAMPLERS.get((scheme or "").lower())
    if entry is None:
        return None
    module, _, name = entry[0].rpartition(".")
    return getattr(import_module(module), name), entry[1]


def sampling_described(scheme: str) -> tuple[str, str] | None:
    """(what percent is a share of, how the engine is sampled) for a URL scheme, without importing its driver;
    None where Canon cannot sample."""
    entry = SAMPLERS.get((scheme or "").lower())
    return (entry[1], entry[2]) if entry else None


class Budget:
    """A sampling run's time. `tables(...)` yields the tables that have columns, in order, while there is time for
    one more; when the time runs out first, `complete` turns False (the rest are sampled next time)."""

    MIN_LEFT_S = 0.05  # less than this left: no table is started

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = monotonic() + seconds
        self.complete = True

    def left(self) -> float:
        return self.deadline - monotonic()

    def tables(self, tables):
        for schema, name, columns in tables:
            if not columns:
                continue
            if self.left() < self.MIN_LEFT_S:
                self.complete = False
                return
            yield schema, name, columns

    def overrun(self, stopped: str = "cancelled") -> str:
        """The problem a table whose sample ran past the budget shows."""
        return f"the sampled profile ran past the {self.seconds:g} s budget and was {stopped}; tried again next crawl"


def sample_size(span: int, percent: float) -> int:
    """Rows to read from a key range of `span` keys: `percent` of it, at least 1, at most SAMPLE_MAX_ROWS."""
    return max(1, min(SAMPLE_MAX_ROWS, math.ceil(max(span, 1) * float(percent) / 100)))


def range_starts(low: int, high: int, rows: int, ranges: int = SAMPLE_RANGES, rng=random) -> tuple[list[int], int]:
    """Random starts of `ranges` key ranges of `per` rows each between low and high, and `per`: one range from low
    when the whole span fits in `rows` (a small table is read whole, in key order)."""
    span = high - low + 1
    if span <= rows:
        return [low], rows
    ranges = max(1, min(ranges, rows))
    per = math.ceil(rows / ranges)
    return sorted(rng.randint(low, max(low, high - per + 1)) for _ in range(ranges)), per


def _text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


def _key(value):
    """An ordering key that never compares two types: engines without types per value (SQLite) mix them."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float, Decimal)):
        return (0, value)
    if isinstance(value, (datetime, date, time)):
        return (1, value.isoformat())
    return (2, _text(value))


def profile_rows(columns: list[tuple[str, str]], rows: list[tuple], basis: str) -> dict[str, dict]:
    """Each column's profile of these rows (a sample, one value per column in `columns` order): the share of nulls,
    distinct values, lowest and highest, most common values and their share, text length range. Counts are of
    the sample, not the table."""
    total = len(rows)
    stats = {}
    for i, (column, family) in enumerate(columns):
        values = [row[i] for row in rows if row[i] is not None]
        entry: dict = {"basis": basis}
        if total:
            entry["null_frac"] = round(1 - len(values) / total, 4)
        if family in _COUNTED and values:
            counts = Counter(_text(v) if isinstance(v, (bytes, bytearray, memoryview)) else v for v in values)
            entry["distinct"] = len(counts)
            entry["most_common"] = [[_text(v), round(n / total, 4)]
                                    for v, n in sorted(counts.items(), key=lambda vn: (-vn[1], _key(vn[0])))[:MOST_COMMON]
                                    if n > 1]
            if not entry["most_common"]:
                del entry["most_common"]  # every value once: nothing is common
            if family in _ORDERED:
                ordered = sorted(counts, key=_key)
                entry["min"], entry["max"] = _text(ordered[0]), _text(ordered[-1])
        if family == "text" and values:
            lengths = [len(_text(v)) for v in values]
            entry["min_len"], entry["max_len"] = min(lengths), max(lengths)
        stats[column] = entry
    return stats


def aggregates(columns: list[tuple[str, str]], quote, *, as_text: str, ordered=_ORDERED, counted=_COUNTED) -> list[str]:
    """The select list profile_from_aggregates reads, for an engine that samples in SQL: COUNT(*), then six
    aggregates a column (NULL where its family has no such value). `quote` quotes a name; `as_text` is the
    engine's cast of a value to text, with {} for the value."""
    parts = ["COUNT(*)"]
    for column, family in columns:
        c = quote(column)
        parts += [f"COUNT({c})",
                  f"APPROX_COUNT_DISTINCT({c})" if family in counted else "NULL",
                  as_text.format(f"MIN({c})") if family in ordered else "NULL",
                  as_text.format(f"MAX({c})") if family in ordered else "NULL",
                  f"MIN(LENGTH({c}))" if family == "text" else "NULL",
                  f"MAX(LENGTH({c}))" if family == "text" else "NULL"]
    return parts


def profile_from_aggregates(row, columns: list[tuple[str, str]], basis: str) -> dict[str, dict]:
    """One row of aggregates over a sample (COUNT(*), then a column's count, distinct count, min, max, shortest and
    longest length, six values a column; NULL where not asked) as each column's profile."""
    rows, values, stats = int(row[0] or 0), row[1:], {}
    for i, (column, _family) in enumerate(columns):
        present, distinct, low, high, shortest, longest = values[i * 6:(i + 1) * 6]
        entry: dict = {"basis": basis}
        if rows:
            entry["null_frac"] = round(1 - int(present) / rows, 4)
            if distinct is not None:
                entry["distinct"] = int(distinct)
        if low is not None:
            entry["min"], entry["max"] = str(low), str(high)
        if shortest is not None:
            entry["min_len"], entry["max_len"] = int(shortest), int(longest)
        stats[column] = entry
    return stats
