"""The pure parts of the lake connector: which keys are data, where they belong, types and state."""

import pytest

from catalog.connectors.lake import state
from catalog.connectors.lake.formats import merge_columns, merge_types
from catalog.connectors.lake.layout import (
    DefaultLayout,
    PathTemplate,
    TemplateError,
    file_format,
    is_data_key,
    list_prefixes,
    partition_summary,
    partition_type,
)


@pytest.mark.parametrize("key, data", [
    ("sales/orders/part-0.parquet", True),
    ("sales/orders/_SUCCESS", False),
    ("sales/orders/_committed_123", False),
    ("sales/orders/_temporary/0/part-0.parquet", False),
    ("sales/orders/.part-0.parquet.crc", False),
    ("sales/orders/part-0.parquet.crc", False),
    ("sales/.staging/part-0.parquet", False),
    ("sales/orders/", False),
    ("sales/orders_$folder$", False),
    ("sales/orders/dt=__HIVE_DEFAULT_PARTITION__/part-0.parquet", True),
])
def test_what_is_data(key, data):
    assert is_data_key(key) is data


@pytest.mark.parametrize("name, found", [
    ("part-00000-1f2e.snappy.parquet", ("parquet", "")),
    ("a.PARQUET", ("parquet", "")),
    ("a.csv", ("csv", "")),
    ("a.csv.gz", ("csv", "gzip")),
    ("a.tsv", ("tsv", "")),
    ("events.ndjson.gz", ("jsonl", "gzip")),
    ("events.json", ("jsonl", "")),
    ("a.parquet.gz", None),
    ("README", None),
    ("a.txt", None),
])
def test_formats_from_file_names(name, found):
    assert file_format(name) == found


def test_the_default_rule_folds_partitions_into_the_folder_above_them():
    layout = DefaultLayout("lake")
    placed = layout.place("raw/sales/orders/dt=2024-01-01/region=eu/part-0.parquet")
    assert (placed.schema, placed.name, placed.location) == ("lake/raw/sales", "orders", "raw/sales/orders/")
    assert placed.partitions == (("dt", "2024-01-01"), ("region", "eu"))
    # Plain folders below a partition folder stay in the dataset; percent-encoded values are decoded.
    placed = layout.place("orders/ts=2024-01-01%2010%3A00/bucket_3/part.parquet")
    assert (placed.schema, placed.name, placed.partitions) == ("lake", "orders", (("ts", "2024-01-01 10:00"),))
    assert layout.place("top.csv").name == "lake" and layout.place("top.csv").schema == "lake"
    assert layout.place("dt=2024-01-01/x.csv").partitions == (("dt", "2024-01-01"),)


def test_templates_mark_the_dataset_and_name_partitions():
    flat = PathTemplate("exports/{dataset}.csv", "", "lake")
    placed = flat.place("exports/customers.csv")
    assert (placed.schema, placed.name) == ("lake/exports", "customers")
    assert flat.place("exports/sub/customers.csv") is None, "* and names stay inside one folder"
    assert flat.list_prefix == "exports/"

    nested = PathTemplate("{schema}/{dataset}/v{version}/**/*.parquet", "team/", "lake")
    placed = nested.place("team/finance/ledger/v3/dt=2024-01-01/h=1/p.parquet")
    assert (placed.schema, placed.name) == ("finance", "ledger")
    assert placed.partitions == (("version", "3"), ("dt", "2024-01-01"), ("h", "1"))
    assert nested.list_prefix == "team/"
    assert PathTemplate("raw/{dataset}/", "", "lake").place("raw/clicks/2024/a.jsonl").name == "clicks"

    with pytest.raises(TemplateError, match="has no {dataset}"):
        PathTemplate("raw/*.csv", "", "lake")
    with pytest.raises(TemplateError, match="twice"):
        PathTemplate("{dataset}/{dt}/{dt}.csv", "", "lake")
    assert list_prefixes(["raw/a/", "raw/", "other/x", "raw/b"]) == ["other/x", "raw/"]


def test_partition_types_and_ranges():
    assert partition_type({"2024-01-01", "2024-12-31"}) == "date32[day]"
    assert partition_type({"1", "12", "__HIVE_DEFAULT_PARTITION__"}) == "int64"
    assert partition_type({"1.5", "2"}) == "double"
    assert partition_type({"2024-01-01T10:00:00", "2024-01-01 11:00"}) == "timestamp[us]"
    assert partition_type({"true", "False"}) == "bool"
    assert partition_type({"eu", "1"}) == "string"
    assert partition_summary("month", {"2", "10", "9"}) == {"key": "month", "type": "int64", "count": 3, "min": 2, "max": 10}


def test_merging_schemas():
    a = [["id", "int32", False, "integer"], ["name", "string", True, "text"]]
    b = [["id", "int64", False, "integer"], ["score", "double", True, "float"]]
    merged, conflicts = merge_columns([a, b])
    assert merged == [["id", "int64", False, "integer"], ["name", "string", True, "text"], ["score", "double", True, "float"]]
    assert conflicts == {"id": ["int32", "int64"]}
    assert merge_types("int64", "string") == "string"
    assert merge_types("null", "timestamp[s]") == "timestamp[s]"
    assert merge_types("int64", "double") == "double"


def test_state_sets_round_trip_compactly():
    ids = {state.file_id(f"k/{i}.parquet", f"etag{i}") for i in range(1000)}
    packed = state.pack(ids)
    assert state.unpack(packed) == ids
    assert len(packed) <= 1000 * 4 * 4 / 3 + 4
    assert state.file_id("a", "1") != state.file_id("a", "2")
    assert state.load({"v": 0, "datasets": {"x": {}}}) == {} and state.load(None) == {}


def test_text_samples_with_awkward_content():
    from catalog.connectors.lake.formats import read_text_sample, schema_from_csv, schema_from_jsonl

    mixed = schema_from_jsonl(b'{"a": 1, "b": true}\n{"a": "one", "b": false}\n')
    assert [c[:2] for c in mixed.columns] == [["a", "string"], ["b", "bool"]]
    assert mixed.notes == ["values of different types in a: read as string"]
    repeated = schema_from_csv(b"id,name,name,\n1,a,b,c\n", ",")
    assert [c[0] for c in repeated.columns] == ["id", "name", "name_2", "column_4"]
    assert "appears more than once" in repeated.notes[0]
    latin = schema_from_csv("city,n\nZürich,1\n".encode("latin-1"), ",")
    assert [c[:2] for c in latin.columns] == [["city", "string"], ["n", "int64"]]

    data = b"a,b\n" + b"1,2\n" * 1000
    sample, problem = read_text_sample(lambda start, length: data[start:start + length], len(data), "", 30)
    assert sample == b"a,b\n" + b"1,2\n" * 6 and problem == ""
    sample, problem = read_text_sample(lambda start, length: b"x" * length, 10_000, "", 100)
    assert sample is None and "no line end" in problem
    sample, problem = read_text_sample(lambda start, length: b"plain text\n"[start:start + length], 11, "gzip", 100)
    assert sample is None and "not gzip" in problem
