"""The lake connector against real files: in an S3 bucket on moto, and in a local folder.

Every test runs twice (``lake`` is parametrised over s3:// and file://): one code path serves both.
"""

import json

import pyarrow as pa
import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for
from catalog.connectors.lake.connector import LakeConnector
from tests.connectors.lake_support import (  # noqa: F401  (lake is a fixture)
    ReadRecorder,
    by_name,
    columns,
    csv_bytes,
    gz,
    jsonl_bytes,
    lake,
    parquet_bytes,
)


def orders(n=3, **extra):
    data = {"order_id": list(range(n)), "amount": [1.5 * i for i in range(n)], "status": ["paid"] * n}
    data.update({k: [v] * n for k, v in extra.items()})
    return parquet_bytes(data)


def test_folders_of_files_become_datasets_and_markers_are_not_data(lake):
    lake.put("sales/orders/part-0.parquet", orders())
    lake.put("sales/orders/part-1.parquet", orders(5))
    lake.put("sales/orders/_SUCCESS", b"")
    lake.put("sales/orders/.part-0.parquet.crc", b"\x00\x01crc")
    lake.put("sales/orders/_temporary/0/part-9.parquet", b"half written")
    lake.put("sales/orders_$folder$", b"")
    lake.put("sales/.hidden/x.csv", b"a\n1\n")
    lake.put("crm/customers.tsv", csv_bytes({"id": [1, 2], "email": ["a@x", "b@x"]}, sep="\t"))
    lake.put("web/events/2024.jsonl.gz", gz(jsonl_bytes({"user": [1, 2], "event": ["view", "buy"], "props": [{"a": 1}, {"a": 2}]})))
    lake.put("web/events/2025.jsonl", jsonl_bytes({"user": [3], "event": ["view"], "props": [{"a": 3}]}))
    lake.put("web/readme.txt", b"not a dataset")
    if lake.kind == "s3":
        lake.put("sales/empty-folder/", b"")  # a console-made folder marker

    extraction = lake.connector().extract()
    root = lake.root_name
    datasets = by_name(extraction)
    assert set(datasets) == {f"{root}/sales.orders", f"{root}.crm", f"{root}/web.events"}
    orders_ds = datasets[f"{root}/sales.orders"]
    assert orders_ds.kind == "file_set"
    assert columns(orders_ds) == [("order_id", "int64"), ("amount", "double"), ("status", "string")]
    assert [c.type_family for c in orders_ds.columns] == ["integer", "float", "text"]
    facts = orders_ds.properties
    assert facts["format"] == "parquet" and facts["objects"] == 2
    assert facts["total_bytes"] == orders_ds.size_bytes == len(orders()) + len(orders(5))
    assert facts["location"].endswith(f"{root}/sales/orders/")
    assert facts["first_modified"] <= facts["last_modified"] == orders_ds.last_modified.isoformat()
    assert orders_ds.warnings == []

    crm = datasets[f"{root}.crm"]
    assert columns(crm) == [("id", "int64"), ("email", "string")] and crm.properties["format"] == "tsv"
    events = datasets[f"{root}/web.events"]
    assert events.properties["format"] == "jsonl" and events.properties["compression"] == "mixed"
    assert columns(events) == [("user", "int64"), ("event", "string"), ("props", "struct<a: int64>")]
    assert [c.type_family for c in events.columns] == ["integer", "text", "struct"]
    assert extraction.schemas == sorted({root, f"{root}/sales", f"{root}/web"})
    assert any("readme.txt" in w for w in extraction.warnings), "an unknown format is reported, not guessed"


def test_hive_partitions_are_columns_of_one_dataset_with_their_range(lake):
    for day in ("2024-01-01", "2024-01-02", "2024-01-31"):
        for region in ("eu", "us"):
            lake.put(f"sales/orders/dt={day}/region={region}/part-0.parquet", orders())
    lake.put("sales/orders/dt=2024-02-01/region=__HIVE_DEFAULT_PARTITION__/part-0.parquet", orders())
    lake.put("metrics/daily/year=2023/month=12/m.csv", csv_bytes({"metric": ["wau"], "value": [10]}))
    lake.put("metrics/daily/year=2024/month=1/m.csv", csv_bytes({"metric": ["wau"], "value": [12]}))

    datasets = by_name(lake.connector().extract())
    root = lake.root_name
    assert set(datasets) == {f"{root}/sales.orders", f"{root}/metrics.daily"}, "partition folders are not datasets"
    ds = datasets[f"{root}/sales.orders"]
    assert columns(ds) == [("order_id", "int64"), ("amount", "double"), ("status", "string"),
                           ("dt", "date32[day]"), ("region", "string")]
    assert [c.type_family for c in ds.columns[3:]] == ["date", "text"]
    assert ds.properties["objects"] == 7 and ds.properties["partitions"] == 7
    assert ds.properties["partition_keys"] == [
        {"key": "dt", "type": "date32[day]", "count": 4, "min": "2024-01-01", "max": "2024-02-01"},
        {"key": "region", "type": "string", "count": 3, "min": "eu", "max": "us", "nulls": True},
    ]
    daily = datasets[f"{root}/metrics.daily"]
    assert columns(daily)[-2:] == [("year", "int64"), ("month", "int64")]
    assert daily.properties["partition_keys"][1] == {"key": "month", "type": "int64", "count": 2, "min": 1, "max": 12}


def test_path_templates_read_layouts_the_default_rule_reads_wrongly(lake):
    # A flat export folder: one table per file name, which the default rule would merge into one dataset.
    lake.put("exports/customers.csv", csv_bytes({"id": [1], "email": ["a@x"]}))
    lake.put("exports/products.csv", csv_bytes({"sku": ["A"], "price": [9.5]}))
    # A version folder between the dataset and its partitions, and a partition named by the template.
    lake.put("raw/clicks/v2/2024/day=01/p.parquet", parquet_bytes({"user": [1]}))
    lake.put("raw/clicks/v2/2024/day=02/p.parquet", parquet_bytes({"user": [2]}))
    lake.put("elsewhere/ignored/x.parquet", parquet_bytes({"user": [1]}))
    templates = ["exports/{dataset}.csv", f"{lake.base}/raw/{{dataset}}/v2/{{year}}/**/*.parquet"]

    extraction = lake.connector(path_templates=templates).extract()
    root = lake.root_name
    datasets = by_name(extraction)
    assert set(datasets) == {f"{root}/exports.customers", f"{root}/exports.products", f"{root}/raw.clicks"}
    assert columns(datasets[f"{root}/exports.products"]) == [("sku", "string"), ("price", "double")]
    clicks = datasets[f"{root}/raw.clicks"]
    assert columns(clicks) == [("user", "int64"), ("year", "int64"), ("day", "int64")]
    assert clicks.properties["partition_keys"][0] == {"key": "year", "type": "int64", "count": 1, "min": 2024, "max": 2024}

    with pytest.raises(ConnectorError, match="has no {dataset}"):
        lake.connector(path_templates=["exports/*.csv"]).extract()
    with pytest.raises(ConnectorError, match="path_templates must be a list"):
        lake.connector(path_templates=[3]).extract()


def test_files_that_disagree_are_merged_and_the_warning_names_them(lake):
    lake.put("sales/orders/dt=2024-01-01/part-0.parquet", orders())
    lake.put("sales/orders/dt=2024-01-02/part-0.parquet", orders())
    lake.put("sales/orders/dt=2024-01-03/part-0.parquet", orders(discount=0.5))
    # A column whose type changed between files: int64 here, strings there.
    lake.put("crm/leads/a.csv", csv_bytes({"id": [1, 2], "score": [3, 4]}))
    lake.put("crm/leads/b.csv", csv_bytes({"id": [3], "score": ["high"]}))

    extraction = lake.connector().extract()
    datasets = by_name(extraction)
    root = lake.root_name
    ds = datasets[f"{root}/sales.orders"]
    assert columns(ds)[:4] == [("order_id", "int64"), ("amount", "double"), ("status", "string"), ("discount", "double")]
    assert ds.columns[3].nullable, "a column some files lack is nullable"
    assert ds.properties["schema_variants"] == 2
    [warning] = ds.warnings
    assert "schemas differ" in warning and "2 file(s) lack discount" in warning
    assert "dt=2024-01-01/part-0.parquet" in warning and "dt=2024-01-02/part-0.parquet" in warning

    leads = datasets[f"{root}/crm.leads"]
    assert columns(leads) == [("id", "int64"), ("score", "string")]
    assert any("have score as int64" in w and "a.csv" in w for w in leads.warnings), leads.warnings

    # A file rewritten with the new schema is no longer named among those that differ.
    lake.settle()
    lake.put("sales/orders/dt=2024-01-01/part-0.parquet", orders(discount=0.1))
    ds = by_name(lake.connector().extract(ExtractRequest(previous_state=extraction.state)))[f"{root}/sales.orders"]
    [warning] = ds.warnings
    assert "1 file(s) lack discount (e.g. dt=2024-01-02/part-0.parquet)" in warning and "2024-01-01" not in warning


def test_bad_files_are_warnings_on_their_dataset_and_the_rest_goes_on(lake):
    good = orders()
    lake.put("sales/orders/part-0.parquet", good)
    lake.put("sales/orders/part-1.parquet", b"this is not parquet at all, just text")
    lake.put("sales/orders/part-2.parquet", good[:-200] + (150).to_bytes(4, "little") + b"PAR1")  # footer garbled
    lake.put("sales/orders/part-3.parquet", b"")
    lake.put("crm/leads/ragged.csv", b"id,name,score\n1,ann,3\n2,bob\n3,cy,5,extra\n4,di,6\n")
    lake.put("crm/junk/data.csv", bytes(range(256)) * 40)
    lake.put("crm/blank/data.csv", b"")
    lake.put("web/logs/broken.jsonl", b'{"a": 1}\n{"a": \n')
    lake.put("web/fine/a.jsonl", jsonl_bytes({"a": [1]}))

    extraction = lake.connector().extract()
    datasets = by_name(extraction)
    root = lake.root_name
    ds = datasets[f"{root}/sales.orders"]
    assert columns(ds) == [("order_id", "int64"), ("amount", "double"), ("status", "string")], "the good file still counts"
    text = "\n".join(ds.warnings)
    assert "part-1.parquet: not a Parquet file" in text
    assert "part-2.parquet: corrupt Parquet" in text
    assert "1 empty file(s), no data: part-3.parquet" in text
    assert ds.properties["objects"] == 4

    leads = datasets[f"{root}/crm.leads"]
    assert columns(leads) == [("id", "int64"), ("name", "string"), ("score", "int64")]
    assert any("ragged.csv: 2 ragged row(s)" in w and "read with delimiter comma (',')" in w and "csv_delimiter" in w
               for w in leads.warnings), leads.warnings
    junk = datasets[f"{root}/crm.junk"]
    assert junk.columns == [] and any("not CSV text: the file holds binary data" in w for w in junk.warnings)
    blank = datasets[f"{root}/crm.blank"]
    assert blank.columns == [] and any("empty file" in w for w in blank.warnings)
    assert any("not JSON Lines" in w for w in datasets[f"{root}/web.logs"].warnings)
    assert columns(datasets[f"{root}/web.fine"]) == [("a", "int64")] and datasets[f"{root}/web.fine"].warnings == []


def test_the_csv_delimiter_and_quote_are_detected_from_the_sample(lake):
    # The usual export of a European spreadsheet: semicolons, decimal commas, quoted fields holding both.
    lake.put("eu/sales/a.csv", b'id;amount;note\n1;1,5;"paid, late"\n2;2,75;"a; b"\n3;10,0;plain\n')
    lake.put("us/sales/a.csv", b'id,city,amount\n1,"Paris; FR",1.5\n2,"Rome | IT",2.5\n')
    lake.put("ops/runs/a.csv", b"run|state\n1|ok\n2|failed\n")
    lake.put("crm/names/a.csv", b"name,score\n'Smith, J',10\n'Doe, A',20\n")
    lake.put("crm/tabbed/a.csv", b"id\tname\n1\tann\n2\tbob\n")
    datasets = by_name(lake.connector().extract())
    root = lake.root_name
    eu = datasets[f"{root}/eu.sales"]
    assert columns(eu) == [("id", "int64"), ("amount", "double"), ("note", "string")], "not one column named id;amount;note"
    assert eu.warnings == []
    assert columns(datasets[f"{root}/us.sales"]) == [("id", "int64"), ("city", "string"), ("amount", "double")]
    assert datasets[f"{root}/us.sales"].warnings == []
    assert columns(datasets[f"{root}/ops.runs"]) == [("run", "int64"), ("state", "string")]
    assert columns(datasets[f"{root}/crm.names"]) == [("name", "string"), ("score", "int64")]
    assert columns(datasets[f"{root}/crm.tabbed"]) == [("id", "int64"), ("name", "string")]


def test_the_csv_delimiter_option_for_a_sample_that_cannot_tell(lake):
    lake.put("eu/odd/a.csv", b"a,b;c\n1,2;3\n4,5;6\n")
    lake.put("us/odd/a.csv", b"a,b;c\n1,2;3\n4,5;6\n")
    root = lake.root_name
    first = lake.connector().extract()
    detected = by_name(first)[f"{root}/eu.odd"]
    assert columns(detected) == [("a", "int64"), ("b;c", "string")]
    [warning] = detected.warnings
    assert "delimiter comma (','), detected: the sample also splits evenly on semicolon (2 fields)" in warning
    assert 'set the source option csv_delimiter' in warning

    # The option changes how files already seen are read: their remembered schemas are read again.
    datasets = by_name(lake.connector(csv_delimiter={"eu/*": ";"}).extract(ExtractRequest(previous_state=first.state)))
    assert columns(datasets[f"{root}/eu.odd"]) == [("a,b", "string"), ("c", "int64")]
    assert datasets[f"{root}/eu.odd"].warnings == []
    assert columns(datasets[f"{root}/us.odd"]) == [("a", "int64"), ("b;c", "string")], "no pattern matches: detected"
    everywhere = by_name(lake.connector(csv_delimiter="semicolon").extract())
    assert columns(everywhere[f"{root}/us.odd"]) == [("a,b", "string"), ("c", "int64")]

    lake.put("crm/names/a.csv", b"name,amount\n'Smith, J',10\n'Doe, A',20\n")
    assert columns(by_name(lake.connector().extract())[f"{root}/crm.names"]) == [("name", "string"), ("amount", "int64")]
    forced = by_name(lake.connector(csv_quote='"', csv_delimiter=",").extract())[f"{root}/crm.names"]
    assert any("2 ragged row(s)" in w and "set by the source option" in w for w in forced.warnings), forced.warnings
    # With the quote set, detection no longer finds the two fields that single quotes make.
    assert columns(by_name(lake.connector(csv_quote='"').extract())[f"{root}/crm.names"]) == [("name,amount", "string")]


@pytest.mark.parametrize("options, message", [
    ({"csv_delimiter": ":"}, "':' is not a delimiter Canon reads"),
    ({"csv_delimiter": 3}, "option csv_delimiter must be a delimiter"),
    ({"csv_delimiter": {"": ";"}}, "option csv_delimiter must be a delimiter"),
    ({"csv_quote": "`"}, "option csv_quote must be"),
])
def test_bad_csv_options_are_refused_before_saving(options, message):
    with pytest.raises(ConnectorError, match=message):
        LakeConnector.check_options(options)


def test_good_csv_options_are_accepted():
    for options in ({"csv_delimiter": ";"}, {"csv_delimiter": "\t"}, {"csv_delimiter": "tab"}, {"csv_delimiter": "auto"},
                    {"csv_delimiter": {"exports/eu/*": ";", "*": "auto"}, "csv_quote": "'"}):
        LakeConnector.check_options(options)


def test_a_parquet_map_is_a_map_not_a_struct(lake):
    tags = pa.array([[("colour", 1), ("size", 2)], []], type=pa.map_(pa.string(), pa.int64()))
    table = pa.table({"id": [1, 2], "tags": tags, "point": [{"x": 1}, {"x": 2}]})
    lake.put("catalogue/items/part-0.parquet", parquet_bytes(table))
    items = by_name(lake.connector().extract())[f"{lake.root_name}/catalogue.items"]
    assert columns(items) == [("id", "int64"), ("tags", "map<string, int64>"), ("point", "struct<x: int64>")]
    assert [c.type_family for c in items.columns] == ["integer", "map", "struct"]


def test_a_parquet_schema_costs_the_footer_and_nothing_more(lake):
    big = pa.table({"id": pa.array(range(300_000)), "label": pa.array([f"row {i}" for i in range(300_000)]), "x": pa.array([0.5] * 300_000)})
    data = parquet_bytes(big)
    lake.put("big/table/part-0.parquet", data)
    footer_length = int.from_bytes(data[-8:-4], "little")

    connector = lake.connector()
    recorder = ReadRecorder(connector)
    ds = connector.extract().datasets[0]
    assert columns(ds) == [("id", "int64"), ("label", "string"), ("x", "double")]
    size = len(data)
    assert recorder.reads == [
        ("big/table/part-0.parquet", size - 8, 8, 8),
        ("big/table/part-0.parquet", size - 8 - footer_length, footer_length, footer_length),
    ]
    assert recorder.bytes_read == footer_length + 8 < size / 100
    assert connector.stats["bytes_read"] == recorder.bytes_read and connector.stats["files_read"] == 1


def test_a_text_schema_costs_one_bounded_sample(lake):
    rows = 50_000
    lake.put("big/csv/part-0.csv", csv_bytes({"id": range(rows), "name": [f"name {i}" for i in range(rows)]}))
    lake.put("big/gz/part-0.csv.gz", gz(csv_bytes({"id": range(rows), "name": [f"name {i}" for i in range(rows)]})))
    connector = lake.connector(sample_bytes=4096)
    recorder = ReadRecorder(connector)
    datasets = by_name(connector.extract())
    root = lake.root_name
    for name in ("csv", "gz"):
        assert columns(datasets[f"{root}/big.{name}"]) == [("id", "int64"), ("name", "string")]
    assert [(r[1], r[2]) for r in recorder.reads] == [(0, 4096), (0, 4096)]


def test_an_unchanged_recrawl_reads_listings_only(lake):
    for day in range(1, 4):
        lake.put(f"sales/orders/dt=2024-01-0{day}/part-0.parquet", orders())
    lake.put("crm/leads/a.csv", csv_bytes({"id": [1]}))
    lake.put("crm/leads/bad.csv", bytes(range(256)) * 4)
    first = lake.connector()
    extraction = first.extract()
    assert first.stats["files_read"] == 5

    again = lake.connector()
    recorder = ReadRecorder(again)
    second = again.extract(ExtractRequest(previous_state=json.loads(json.dumps(extraction.state))))
    assert recorder.reads == [] and again.stats["bytes_read"] == 0 and again.stats["files_read"] == 0
    assert again.stats["list_requests"] >= 1
    for before, after in zip(extraction.datasets, second.datasets):
        assert (after.columns, after.properties, after.warnings, after.owner) == (before.columns, before.properties, before.warnings, before.owner)
    assert second.state == extraction.state


def test_first_crawl_samples_the_newest_files_and_then_reads_every_new_file(lake):
    for i in range(6):
        lake.put(f"events/clicks/part-{i}.parquet", parquet_bytes({"user": [i], "page": ["/"]}))
    lake.settle()
    lake.put("events/clicks/part-6.parquet", parquet_bytes({"user": [6], "page": ["/"], "referrer": ["x"]}))

    first = lake.connector(sample_files=3)
    recorder = ReadRecorder(first)
    extraction = first.extract()
    assert recorder.keys() == {"events/clicks/part-6.parquet", "events/clicks/part-5.parquet", "events/clicks/part-4.parquet"}
    assert columns(extraction.datasets[0])[-1] == ("referrer", "string")

    lake.settle()
    lake.put("events/clicks/part-7.parquet", parquet_bytes({"user": [7], "page": ["/"], "referrer": ["y"], "device": ["ios"]}))
    lake.put("events/clicks/part-2.parquet", parquet_bytes({"user": [2], "page": ["/changed"]}))  # rewritten: a new ETag
    second = lake.connector(sample_files=3)
    recorder = ReadRecorder(second)
    extraction = second.extract(ExtractRequest(previous_state=extraction.state))
    ds = extraction.datasets[0]
    assert recorder.keys() == {"events/clicks/part-7.parquet", "events/clicks/part-2.parquet"}, "only new or changed files"
    assert [c.name for c in ds.columns] == ["user", "page", "referrer", "device"]

    # When the only files with a column are gone, so is the column; nothing is read to know it.
    lake.delete("events/clicks/part-6.parquet")
    lake.delete("events/clicks/part-7.parquet")
    third = lake.connector(sample_files=3)
    ds = third.extract(ExtractRequest(previous_state=extraction.state)).datasets[0]
    assert [c.name for c in ds.columns] == ["user", "page"]
    assert third.stats["files_read"] == 0 and ds.properties["objects"] == 6


def test_owner_comes_from_the_newest_files_tag_else_the_root(lake):
    lake.put("sales/orders/part-0.parquet", orders(), tags={"owner": "old-team"})
    lake.put("sales/orders/part-1.parquet", orders(), tags={"owner": "sales-team", "cost": "x"})
    lake.put("crm/leads/a.csv", csv_bytes({"id": [1]}))
    lake.put("crm/deals/a.csv", csv_bytes({"id": [1]}), tags={"steward": "crm-team"})

    datasets = by_name(lake.connector().extract())
    root = lake.root_name
    assert datasets[f"{root}/sales.orders"].owner == "sales-team"
    assert datasets[f"{root}/sales.orders"].properties["owner_from"] == "object tag"
    fallback = datasets[f"{root}/crm.leads"]
    assert fallback.owner and fallback.properties["owner_from"] in ("bucket owner", "folder owner")

    lake.tag_root({"owner": "data-platform", "steward": "lake-stewards"})
    datasets = by_name(lake.connector().extract())
    assert datasets[f"{root}/crm.leads"].owner == "data-platform"
    assert datasets[f"{root}/crm.leads"].properties["owner_from"] in ("bucket tag", "folder tag")
    # A configurable tag name.
    datasets = by_name(lake.connector(owner_tag="steward").extract())
    assert datasets[f"{root}/crm.deals"].owner == "crm-team"
    assert datasets[f"{root}/crm.leads"].owner == "lake-stewards"


def test_state_stays_compact(lake):
    for i in range(200):
        lake.put(f"logs/app/dt=2024-01-{i % 28 + 1:02d}/part-{i:04d}.jsonl", b'{"level": "info", "msg": "ok"}\n')
    extraction = lake.connector(sample_files=2).extract()
    size = len(json.dumps(extraction.state))
    assert size < 200 * 8 + 600, size  # a few bytes per object, not its key


def test_schema_patterns_pick_folders(lake):
    lake.put("sales/orders/a.csv", csv_bytes({"id": [1]}))
    lake.put("scratch/tmp/a.csv", csv_bytes({"id": [1]}))
    root = lake.root_name
    extraction = lake.connector().extract(ExtractRequest(include=[f"{root}/*"], exclude=[f"{root}/scratch"]))
    assert set(by_name(extraction)) == {f"{root}/sales.orders"}
    assert extraction.schemas == [f"{root}/sales"]
    extraction = lake.connector().extract(ExtractRequest(include=[f"{root}/nothing*"]))
    assert extraction.datasets == [] and "matched no schema" in extraction.warnings[0]


def test_the_source_prefix_limits_the_crawl(lake):
    lake.put("team-a/sales/orders/a.csv", csv_bytes({"id": [1]}))
    lake.put("team-b/hr/people/a.csv", csv_bytes({"id": [1]}))
    connector = lake.connector("team-a")
    extraction = connector.extract()
    # In a bucket the schema starts with the bucket's name; a file:// URL's folder is itself the root.
    expected = f"{lake.root_name}/team-a/sales.orders" if lake.kind == "s3" else "team-a/sales.orders"
    assert set(by_name(extraction)) == {expected}
    assert "readable" in lake.connector("team-a").test()


def test_a_missing_folder_fails_clearly(tmp_path):
    connector = connector_for(f"file://{tmp_path}/nowhere")
    with pytest.raises(ConnectorError) as failed:
        connector.extract()
    assert str(failed.value) == f"folder {tmp_path}/nowhere does not exist"
    with pytest.raises(ConnectorError, match="does not exist"):
        connector.test()


def test_reads_start_while_the_listing_goes_on_and_page_size_changes_nothing(lake, monkeypatch):
    from catalog.connectors.lake import stores

    for i in range(4):
        for day in (1, 2):
            lake.put(f"sales/t{i}/dt=2024-01-0{day}/part-0.parquet", parquet_bytes({"id": [i], f"c{i}": [day]}))
    # Two places that the default rule names alike: a folder named like the root, and files in the root.
    lake.put(f"{lake.root_name}/a.csv", csv_bytes({"x": [1]}))
    lake.put("zz.csv", csv_bytes({"x": [2], "y": [3]}))
    whole = lake.connector().extract()

    monkeypatch.setattr(stores, "PAGE_SIZE", 2)
    connector = lake.connector()
    pages, planned_after = [0], []
    opened, plan = connector.open_store, connector._plan

    def open_store(*args, **kwargs):
        store = opened(*args, **kwargs)
        listing = store.list

        def counting(prefix):
            for page in listing(prefix):
                pages[0] += 1
                yield page

        store.list = counting
        return store

    def planning(group, previous, options):
        planned_after.append(pages[0])
        return plan(group, previous, options)

    connector.open_store, connector._plan = open_store, planning
    paged = connector.extract()
    assert pages[0] >= 5 and min(planned_after) < pages[0], (pages, planned_after)
    assert [(d.schema, d.name, d.columns, d.properties, d.warnings) for d in paged.datasets] == \
        [(d.schema, d.name, d.columns, d.properties, d.warnings) for d in whole.datasets]
    assert paged.state == whole.state
    root = by_name(paged)[f"{lake.root_name}.{lake.root_name}"]
    assert root.properties["objects"] == 2 and [c.name for c in root.columns] == ["x", "y"]
