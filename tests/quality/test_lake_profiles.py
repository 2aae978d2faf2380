"""Column profiles from Parquet footer statistics (free with the footer read for the schema), through a crawl of a
folder lake: null fraction and min/max over the files read, a jump when new files bring nulls, CSV gets none."""

import io

import pyarrow.parquet as pq
import pytest

from catalog.connectors.lake.formats import footer_stats, merge_footer_stats
from catalog.quality.models import DatasetProfile, ProfileChange
from catalog.sources.services import source_create
from tests.connectors.lake_support import FolderLake, csv_bytes, parquet_bytes
from tests.quality.conftest import crawled, profile_of

pytestmark = pytest.mark.django_db


def test_footer_stats_sum_row_groups():
    data = parquet_bytes({"id": [1, 2, 3, 4], "note": ["a", None, None, "d"]})
    stats = footer_stats(pq.read_metadata(io.BytesIO(data)))
    assert stats["id"] == {"rows": 4, "nulls": 0, "min": 1, "max": 4}
    assert stats["note"]["nulls"] == 2 and (stats["note"]["min"], stats["note"]["max"]) == ("a", "d")
    merged = merge_footer_stats([stats, {"id": {"rows": 4, "nulls": 4}}])
    assert merged["id"]["null_frac"] == 0.5 and (merged["id"]["min"], merged["id"]["max"]) == ("1", "4")


def test_lake_crawl_keeps_footer_profiles_and_records_a_jump(tmp_path, settings):
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    lake = FolderLake(tmp_path / "lake")
    lake.put("sales/orders/dt=2024-03-01/part-0.parquet", parquet_bytes({"order_id": [1, 2, 3, 4], "amount": [3.5, 4.0, 1.0, 2.0]}))
    lake.put("crm/leads/leads.csv", csv_bytes({"id": [1], "email": ["a@example.com"]}))
    source = source_create(name="lake", url=lake.url())
    crawled(source)
    amount = profile_of("amount")
    assert amount["basis"] == "parquet footers (1 file)" and amount["null_frac"] == 0
    assert (amount["min"], amount["max"]) == ("1.0", "4.0")
    assert not DatasetProfile.objects.filter(dataset__name="leads").exists()  # CSV: no statistics

    crawled(source)  # unchanged: no footer read, no profile
    assert DatasetProfile.objects.count() == 1

    lake.put("sales/orders/dt=2024-03-02/part-0.parquet", parquet_bytes({"order_id": [5, 6, 7, 8], "amount": [None, None, 9.0, None]}))
    crawled(source)
    assert profile_of("amount")["null_frac"] == 0.75  # the new file's footer
    [jump] = ProfileChange.objects.filter(column_name="amount")
    assert jump.description == "null fraction rose from 0% to 75%"
