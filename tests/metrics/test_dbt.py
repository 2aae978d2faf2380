"""dbt import: the committed target/ of tests/metrics/dbt_project (parsed by real dbt-core 1.10 with dbt-duckdb; see its
regenerate.sh), read as is and in the other shapes dbt has written, imported over a crawled DuckDB warehouse."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
from django.core.management import CommandError, call_command

from catalog.inventory.models import Column, Dataset
from catalog.metrics.dbt import DbtImportError, read_target
from catalog.metrics.models import DbtNode, MetricDefinition
from catalog.metrics.services import metrics_import_dbt
from catalog.sources.models import Crawl
from catalog.sources.services import source_crawl, source_create

TARGET = Path(__file__).parent / "dbt_project" / "target"

WAREHOUSE = """
CREATE SCHEMA sales;
CREATE SCHEMA analytics;
CREATE TABLE sales.customers (customer_id BIGINT, email VARCHAR, country VARCHAR, signed_up_at TIMESTAMP, churned_at TIMESTAMP);
CREATE TABLE sales.orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12, 2), status VARCHAR, ordered_at TIMESTAMP);
CREATE TABLE sales.events (event_id BIGINT, customer_id BIGINT, event_type VARCHAR, occurred_at TIMESTAMP);
CREATE TABLE analytics.fct_orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12, 2), status VARCHAR, ordered_at TIMESTAMP,
                                   is_large BOOLEAN);
CREATE TABLE analytics.dim_customers (customer_id BIGINT, email VARCHAR, country VARCHAR, signed_up_at TIMESTAMP, churned_at TIMESTAMP);
CREATE VIEW analytics.stg_events AS SELECT event_id, customer_id, event_type, occurred_at FROM sales.events;
CREATE VIEW analytics.stg_orders AS SELECT * FROM sales.orders WHERE status <> 'test';
"""


def copy_target(tmp_path, edit=None, *, drop_semantic=False) -> Path:
    folder = tmp_path / "target"
    shutil.copytree(TARGET, folder)
    if drop_semantic:
        (folder / "semantic_manifest.json").unlink()
    if edit:
        path = folder / "semantic_manifest.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return folder


# ---------------------------------------------------------------- reading

def test_reads_models_sources_owners_and_every_metric_type():
    project = read_target(TARGET)
    assert (project.project_name, project.manifest_version, project.dialect) == ("canon_shop", 12, "duckdb")
    relations = {r.unique_id: r for r in project.relations}
    assert relations["model.canon_shop.fct_orders"].schema == "analytics"
    assert relations["model.canon_shop.fct_orders"].owner == "ana@example.com"
    assert relations["model.canon_shop.dim_customers"].owner == "bo", "owner from config.meta"
    assert relations["source.canon_shop.shop.orders"].columns == {"amount": "Order total in EUR, tax included."}
    metrics = {m.name: m for m in project.metrics}
    assert {m.type for m in metrics.values()} == {"simple", "ratio", "derived", "cumulative", "conversion"}
    assert all(not m.problems for m in metrics.values()), [m.problems for m in metrics.values() if m.problems]
    for metric in metrics.values():
        sqlglot.parse_one(metric.sql, read="duckdb")  # every rendering is valid SQL
    assert metrics["revenue"].owners == ["ana@example.com"]
    assert (metrics["revenue"].time_dimension, metrics["revenue"].grain) == ("ordered_at", "day")
    assert metrics["weekly_active_customers"].grain == "week"
    assert "is_large = TRUE" in metrics["large_order_revenue"].sql, "the Jinja filter is rendered"
    assert metrics["average_order_value"].relations == [("analytics", "fct_orders")]
    assert metrics["visit_to_order_conversion"].relations == [("analytics", "fct_orders"), ("analytics", "stg_events")]
    assert "INTERVAL '7' DAY" in metrics["visit_to_order_conversion"].sql
    assert "ROWS BETWEEN 6 PRECEDING" in metrics["trailing_7d_logins"].sql


def test_manifest_dicts_and_semantic_manifest_lists_read_the_same(tmp_path):
    from_lists = {m.name: m.sql for m in read_target(TARGET).metrics}
    from_dicts = {m.name: m.sql for m in read_target(copy_target(tmp_path, drop_semantic=True)).metrics}
    assert from_dicts == from_lists


def test_older_and_flattened_measure_shapes_and_null_expr(tmp_path):
    def edit(data):
        for metric in data["metrics"]:
            if metric["name"] == "order_count":
                metric["type_params"]["measure"] = "order_count"  # oldest: a bare name
            if metric["name"] == "revenue":  # newest: agg and expr on the metric itself
                metric["type_params"] = {"agg": "sum", "expr": None, "semantic_model": "orders"}
                metric["semantic_model"] = "orders"
        for model in data["semantic_models"]:
            for measure in model["measures"]:
                if measure["name"] == "logins":
                    measure["expr"] = None
    metrics = {m.name: m for m in read_target(copy_target(tmp_path, edit)).metrics}
    assert "COUNT(order_id) AS order_count" in metrics["order_count"].sql
    assert "SUM(revenue) AS revenue" in metrics["revenue"].sql, "expr: null means the element's own name"
    assert "COUNT(logins)" in metrics["trailing_7d_logins"].sql


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "manifest.json").unlink(), "There is no manifest.json in"),
    (lambda f: (f / "manifest.json").write_text('{"metadata": {'), "manifest.json is not valid JSON (line 1, column"),
    (lambda f: (f / "semantic_manifest.json").write_text("[1, 2"), "semantic_manifest.json is not valid JSON"),
    (lambda f: (f / "manifest.json").write_text("[]"), "does not hold a JSON object"),
    (lambda f: (f / "manifest.json").write_text(json.dumps({"metadata": {
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json", "dbt_version": "1.3.0"}})),
     "manifest.json is dbt manifest v7 (dbt 1.3.0); Canon reads v10 to v12 (dbt 1.6 and later). Upgrade"),
    (lambda f: (f / "manifest.json").write_text(json.dumps({"metadata": {
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v99.json"}})), "does not know that format yet"),
    (lambda f: (f / "manifest.json").write_text(json.dumps({"metadata": {}})), "does not say which dbt manifest version"),
    (lambda f: (f / "semantic_manifest.json").write_text('{"metrics": {"a": 1}}'), "'metrics' should be a list"),
])
def test_folder_problems_get_a_clear_message(tmp_path, damage, message):
    folder = copy_target(tmp_path)
    damage(folder)
    with pytest.raises(DbtImportError) as caught:
        read_target(folder)
    assert message in str(caught.value)


def test_a_missing_folder_and_a_project_folder(tmp_path):
    with pytest.raises(DbtImportError, match="does not exist"):
        read_target(tmp_path / "nope")
    assert read_target(TARGET.parent).path == TARGET, "a project folder is read through its target/"


# ---------------------------------------------------------------- importing

@pytest.fixture
def crawled(tmp_path, db):
    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(WAREHOUSE)
    conn.close()
    source = source_create(name="lakehouse", url=f"duckdb://{path}")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    return source


def test_import_attaches_descriptions_and_creates_definitions(crawled, ana, bo):
    report = metrics_import_dbt(TARGET)
    assert len(report.created) == 12 and not report.skipped
    assert report.relations_unmatched == ["analytics.metricflow_time_spine"]
    fct = Dataset.objects.get(schema_name="analytics", name="fct_orders")
    assert fct.description == "One row per order that is not a test order."
    assert Column.objects.get(dataset=fct, name="amount").description == "Order total in EUR."
    assert DbtNode.objects.get(unique_id="model.canon_shop.fct_orders").dataset == fct

    revenue = MetricDefinition.objects.get(name="revenue")
    assert (revenue.origin, revenue.dbt_unique_id, revenue.dialect, revenue.source) == ("dbt", "metric.canon_shop.revenue", "duckdb", crawled)
    assert list(revenue.owners.all()) == [ana]
    assert "dbt" in [t.name for t in revenue.tags.all()]
    assert [u.dataset_name for u in revenue.dataset_uses.all()] == ["analytics.fct_orders"]
    assert {u.column_name for u in revenue.column_uses.all()} == {"amount", "ordered_at"}
    assert revenue.warnings == []
    conversion = MetricDefinition.objects.get(name="visit_to_order_conversion")
    assert sorted(u.dataset_name for u in conversion.dataset_uses.all()) == ["analytics.fct_orders", "analytics.stg_events"]


def test_reimport_updates_as_new_versions_and_never_duplicates(crawled, tmp_path, ana):
    metrics_import_dbt(TARGET)
    again = metrics_import_dbt(TARGET)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 12)
    assert MetricDefinition.objects.count() == 12

    def edit(data):
        next(m for m in data["metrics"] if m["name"] == "revenue")["description"] = "All order amounts, in EUR."
    changed = metrics_import_dbt(copy_target(tmp_path, edit))
    assert changed.updated == ["revenue"]
    revenue = MetricDefinition.objects.get(name="revenue")
    assert revenue.version == 2 and revenue.description.startswith("All order amounts, in EUR.")
    assert revenue.versions.get(number=2).message == "re-imported from dbt 1.10.23"
    assert MetricDefinition.objects.count() == 12


def test_descriptions_written_in_canon_are_kept(crawled):
    Dataset.objects.filter(name="fct_orders").update(description="Written by a person in Canon.")
    metrics_import_dbt(TARGET)
    assert Dataset.objects.get(name="fct_orders").description == "Written by a person in Canon."


def test_an_import_failing_part_way_leaves_nothing(crawled, monkeypatch):
    from catalog.metrics.services import dbt as dbt_service

    calls = []
    real = dbt_service.metric_register

    def flaky(**kwargs):
        calls.append(kwargs["data"]["name"])
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(dbt_service, "metric_register", flaky)
    with pytest.raises(RuntimeError):
        metrics_import_dbt(TARGET)
    assert not MetricDefinition.objects.exists() and not DbtNode.objects.exists()
    assert Dataset.objects.get(name="fct_orders").description == ""


def test_command_prints_a_summary_and_refuses_a_bad_folder(crawled, tmp_path, capsys):
    call_command("import_dbt", str(TARGET))
    out = capsys.readouterr().out
    assert "dbt project canon_shop (dbt 1.10.23)" in out and "12 created" in out
    assert "not in the catalog (crawl their source, then import again): analytics.metricflow_time_spine" in out
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="There is no manifest.json in"):
        call_command("import_dbt", str(tmp_path / "empty"))
