"""Sampled profiles of DuckDB files (real files): SUMMARIZE (it reads the table) profiles small tables during the
crawl; the opt-in sample covers the larger ones with TABLESAMPLE SYSTEM, which DuckDB pushes into the scan, and a
timer interrupts a statement past the budget."""

import time

import duckdb
import pytest

from catalog.connectors import connector_for
from catalog.connectors.duckdb import SUMMARIZE_MAX_ROWS, sample_profiles
from catalog.inventory.models import Dataset
from catalog.quality.profiling import profiles_sample, sampling_set
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def duck(tmp_path, settings):
    path = tmp_path / "lake.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE small AS SELECT range AS id, 'DE' AS country FROM range(100)")
    conn.execute(f"CREATE TABLE events AS SELECT range AS id, CASE WHEN range % 4 = 0 THEN NULL ELSE 'k' || (range % 9) END AS kind, "
                 f"DATE '2026-01-01' + (range % 30)::INT AS day FROM range({SUMMARIZE_MAX_ROWS + 100_000})")
    conn.close()
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    source = source_create(name="duck", url=f"duckdb:///{path}")
    crawled(source)
    source.path = path
    return source


def test_tables_too_large_for_summarize_are_sampled_by_blocks(duck, client):
    assert profile_of("country", "small")["basis"] == "duckdb summarize"
    assert profile_of("kind", "events") is None  # too large for SUMMARIZE: nothing kept by the crawl
    sampling_set(duck, enabled=True, budget_seconds=30, percent=10)
    assert profiles_sample(duck) == ("Sampled 1 of 1 tables without engine statistics "
                                     "(10% of vectors of rows, 30 s budget).")
    kind = profile_of("kind", "events")
    basis = kind["basis"]
    assert basis.startswith("sample 10% (TABLESAMPLE SYSTEM, ") and basis.endswith(" rows)")
    rows = int(basis.split(", ")[1].split()[0].replace(",", ""))
    assert 5_000 < rows < 100_000  # about a tenth of 300,000, whole vectors at a time
    assert 0.2 < kind["null_frac"] < 0.3 and kind["distinct"] in range(8, 11) and (kind["min_len"], kind["max_len"]) == (2, 2)
    assert (profile_of("day", "events")["min"], profile_of("day", "events")["max"]) == ("2026-01-01", "2026-01-30")
    assert profile_of("country", "small")["basis"] == "duckdb summarize"  # the engine's profile: not sampled
    events = Dataset.objects.get(source=duck, name="events")
    assert f"Sampled by Canon, not the engine's statistics: {basis}." in client.get(events.get_absolute_url()).content.decode()
    small = Dataset.objects.get(source=duck, name="small")
    assert "From the engine's own statistics (no scan: duckdb summarize)" in client.get(small.get_absolute_url()).content.decode()


def test_a_statement_past_the_budget_is_interrupted_and_ends_the_run(tmp_path):
    """A statement that cannot finish in time (here a view over a cross join of 10^10 rows, named as a table: the
    catalog only asks for tables, the deadline works the same) is interrupted at the deadline."""
    path = tmp_path / "big.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE VIEW slow AS SELECT hash(a.range * b.range) AS h FROM range(100000) a, range(100000) b")
    conn.execute("CREATE TABLE later AS SELECT 1 AS id")
    conn.close()
    connector = connector_for(f"duckdb:///{path}")
    tables = [("main", "missing", [("id", "integer")]), ("main", "slow", [("h", "integer")]), ("main", "later", [("id", "integer")])]
    started = time.monotonic()
    profiles, problems, complete = sample_profiles(connector, tables, percent=100, budget_s=0.5)
    assert time.monotonic() - started < 3 and not complete and profiles == {}
    assert problems[("main", "missing")].startswith("no sampled profile: Table with name missing does not exist")
    assert problems[("main", "slow")] == "the sampled profile ran past the 0.5 s budget and was stopped; tried again next crawl"
