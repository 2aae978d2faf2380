"""dbt import, from what real dbt writes: a session fixture runs `dbt build` (dbt-core and dbt-duckdb from
.venv-dbt, requirements-dbt.txt; offline) on a copy of tests/metrics/dbt_project, a small shop with semantic
models and every metric type. Its target/ (manifest.json, semantic_manifest.json) is imported as dbt wrote it,
and its DuckDB file, written by the DuckDB of that other virtualenv, is crawled by Canon's DuckDB connector.
Only test_older_and_flattened_measure_shapes_and_null_expr edits the artifacts, to the shapes older and newer
dbt releases write; the folder-problem tests damage copies on purpose."""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import sqlglot
from django.core.management import CommandError, call_command

from catalog.alerts.impact import change_column_impacts
from catalog.connectors import connector_for
from catalog.history.models import SchemaChange
from catalog.impact.services import impact_check_ddl
from catalog.inventory.models import BuildSql, Column, Dataset
from catalog.inventory.signals import build_sql_changed
from catalog.lineage.models import ColumnLineageEdge, LineageEdge
from catalog.metrics.dbt import DbtImportError, read_target
from catalog.metrics.models import DbtNode, MetricDefinition
from catalog.metrics.services import dbt as dbt_service
from catalog.metrics.services import metrics_import_dbt
from catalog.sources.models import Crawl
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create

REPO = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).parent / "dbt_project"
DBT = REPO / ".venv-dbt" / "bin" / "dbt"
DBT_VERSION = re.search(r"^dbt-core==(\S+)$", (REPO / "requirements-dbt.txt").read_text(), re.M).group(1)


@dataclass
class DbtBuild:
    project: Path  # the copy dbt built
    target: Path  # its target/: manifest.json, semantic_manifest.json
    warehouse: Path  # the DuckDB file dbt-duckdb wrote


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory) -> DbtBuild:
    """One real `dbt build` per test session (about 20 seconds): parse, then the models in a fresh DuckDB file."""
    if not DBT.exists():
        pytest.fail(f"{DBT} is missing: `make test-envs` (part of `make test`) makes dbt's virtualenv")
    work = tmp_path_factory.mktemp("dbt")
    project = work / "project"
    shutil.copytree(PROJECT, project)
    warehouse = work / "shop.duckdb"
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PROFILES_DIR": str(project),
           "CANON_DBT_DUCKDB": str(warehouse)}
    done = subprocess.run([str(DBT), "build", "--no-version-check", "--no-partial-parse", "--project-dir", str(project),
                           "--profiles-dir", str(project), "--log-path", str(work / "logs")],
                          capture_output=True, text=True, env=env, cwd=project, timeout=300)
    assert done.returncode == 0, f"dbt build failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    return DbtBuild(project=project, target=project / "target", warehouse=warehouse)


@pytest.fixture
def target(dbt_build) -> Path:
    return dbt_build.target


def copy_target(source: Path, tmp_path, edit=None, *, drop_semantic=False) -> Path:
    folder = tmp_path / "target"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.msgpack", "compiled", "run"))
    if drop_semantic:
        (folder / "semantic_manifest.json").unlink()
    if edit:
        path = folder / "semantic_manifest.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return folder


# ---------------------------------------------------------------- reading

def test_reads_models_sources_owners_and_every_metric_type(target):
    project = read_target(target)
    assert (project.project_name, project.manifest_version, project.dialect) == ("canon_shop", 12, "duckdb")
    assert project.dbt_version == DBT_VERSION, "written by the dbt of requirements-dbt.txt"
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


def test_metric_sql_runs_on_the_tables_dbt_built(dbt_build):
    """Each metric's SQL, as Canon writes it, runs on the warehouse dbt built (read-only, Canon's own DuckDB)."""
    conn = duckdb.connect(str(dbt_build.warehouse), read_only=True)
    try:
        values = {m.name: conn.execute(f"SELECT * FROM ({m.sql}) AS metric ORDER BY 1").fetchall() for m in read_target(dbt_build.target).metrics}
    finally:
        conn.close()
    assert all(values.values()), [name for name, rows in values.items() if not rows]
    assert [float(v) for _, v in values["revenue"]] == [45.0, 180.0, 99.9], "one row a day; the test order is not in fct_orders"
    assert [float(v) for _, v in values["large_order_revenue"]] == [180.0]


def test_manifest_dicts_and_semantic_manifest_lists_read_the_same(target, tmp_path):
    from_lists = {m.name: m.sql for m in read_target(target).metrics}
    from_dicts = {m.name: m.sql for m in read_target(copy_target(target, tmp_path, drop_semantic=True)).metrics}
    assert from_dicts == from_lists


def test_older_and_flattened_measure_shapes_and_null_expr(target, tmp_path):
    """Hand-edited on purpose: the shapes other dbt releases write, made from the real semantic manifest."""
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
    metrics = {m.name: m for m in read_target(copy_target(target, tmp_path, edit)).metrics}
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
def test_folder_problems_get_a_clear_message(target, tmp_path, damage, message):
    folder = copy_target(target, tmp_path)
    damage(folder)
    with pytest.raises(DbtImportError) as caught:
        read_target(folder)
    assert message in str(caught.value)


def test_a_missing_folder_and_a_project_folder(dbt_build, tmp_path):
    with pytest.raises(DbtImportError, match="does not exist"):
        read_target(tmp_path / "nope")
    assert read_target(dbt_build.project).path == dbt_build.target, "a project folder is read through its target/"


# ---------------------------------------------------------------- importing

def crawl_warehouse(dbt_build, **scope):
    source = source_create(name="lakehouse", url=f"duckdb://{dbt_build.warehouse}", **scope)
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    return source


@pytest.fixture
def crawled(dbt_build, db):
    """The DuckDB file dbt-duckdb wrote, crawled into the catalog."""
    return crawl_warehouse(dbt_build)


def test_canon_crawls_the_duckdb_file_dbt_duckdb_wrote(dbt_build, crawled):
    """A file written by current dbt-duckdb, with the DuckDB of another installation (.venv-dbt): Canon with
    DuckDB 1.3 refused it ("database file with version number ..., we can only read versions between 64 and 66")."""
    assert connector_for(f"duckdb://{dbt_build.warehouse}").test().startswith(f"DuckDB v{duckdb.__version__.lstrip('v')}, file ")
    datasets = {f"{d.schema_name}.{d.name}": d for d in Dataset.objects.filter(source=crawled)}
    assert set(datasets) == {"sales.customers", "sales.orders", "sales.events", "analytics.dim_customers", "analytics.fct_orders",
                             "analytics.metricflow_time_spine", "analytics.stg_events", "analytics.stg_orders",
                             "analytics.customer_countries"}
    assert datasets["analytics.stg_orders"].kind == "view" and datasets["analytics.fct_orders"].kind == "table"
    assert [c.name for c in Column.objects.filter(dataset=datasets["analytics.fct_orders"]).order_by("position")] == [
        "order_id", "customer_id", "amount", "status", "ordered_at", "is_large"]
    assert Column.objects.get(dataset=datasets["analytics.fct_orders"], name="is_large").data_type == "BOOLEAN"
    assert datasets["analytics.fct_orders"].row_estimate == 3


def test_import_attaches_descriptions_and_creates_definitions(dbt_build, crawled, ana, bo):
    report = metrics_import_dbt(dbt_build.target)
    assert len(report.created) == 12 and not report.skipped
    assert report.relations_attached == 9 and report.relations_unmatched == [], "every model and source dbt built is crawled"
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


def test_reimport_updates_as_new_versions_and_never_duplicates(target, crawled, tmp_path, ana):
    metrics_import_dbt(target)
    again = metrics_import_dbt(target)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 12)
    assert MetricDefinition.objects.count() == 12

    def edit(data):
        next(m for m in data["metrics"] if m["name"] == "revenue")["description"] = "All order amounts, in EUR."
    changed = metrics_import_dbt(copy_target(target, tmp_path, edit))
    assert changed.updated == ["revenue"]
    revenue = MetricDefinition.objects.get(name="revenue")
    assert revenue.version == 2 and revenue.description.startswith("All order amounts, in EUR.")
    assert revenue.versions.get(number=2).message == f"re-imported from dbt {DBT_VERSION}"
    assert MetricDefinition.objects.count() == 12


def test_descriptions_written_in_canon_are_kept(target, crawled):
    Dataset.objects.filter(name="fct_orders").update(description="Written by a person in Canon.")
    metrics_import_dbt(target)
    assert Dataset.objects.get(name="fct_orders").description == "Written by a person in Canon."


def test_an_import_failing_part_way_leaves_nothing(target, crawled, monkeypatch):
    calls = []
    real = dbt_service.metric_register

    def flaky(**kwargs):
        calls.append(kwargs["data"]["name"])
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(dbt_service, "metric_register", flaky)
    with pytest.raises(RuntimeError):
        metrics_import_dbt(target)
    assert not MetricDefinition.objects.exists() and not DbtNode.objects.exists()
    assert Dataset.objects.get(name="fct_orders").description == ""


def test_command_prints_a_summary_and_refuses_a_bad_folder(dbt_build, db, tmp_path, capsys):
    crawl_warehouse(dbt_build, include=["analytics"])
    call_command("import_dbt", str(dbt_build.target))
    out = capsys.readouterr().out
    assert f"dbt project canon_shop (dbt {DBT_VERSION})" in out and "12 created" in out
    assert "not in the catalog (crawl their source, then import again): sales.customers, sales.orders, sales.events" in out
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="There is no manifest.json in"):
        call_command("import_dbt", str(tmp_path / "empty"))


# ---------------------------------------------------------------- compiled SQL: lineage of models built as tables

def _without_compiled_sql(data):
    """What `dbt parse` writes: the models' Jinja, no compiled SQL."""
    for node in data["nodes"].values():
        for key in ("compiled_code", "compiled_sql"):
            node.pop(key, None)
        node["compiled"] = False


def copy_manifest(source: Path, tmp_path, edit) -> Path:
    folder = copy_target(source, tmp_path)
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return folder


@pytest.fixture
def own_warehouse(dbt_build, db, tmp_path):
    """A copy of the DuckDB file dbt wrote, crawled as source 'lakehouse': its tables can be changed under the
    models, then crawled again."""
    path = tmp_path / "shop.duckdb"
    shutil.copyfile(dbt_build.warehouse, path)
    source = source_create(name="lakehouse", url=f"duckdb://{path}")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    return source, path


def _alter(path, statement):
    with duckdb.connect(str(path)) as connection:
        connection.execute(statement)


def _impacts(source, ddl):
    answer = impact_check_ddl(source, ddl)
    return {(impact["name"], hit["column"]) for impact in answer.impacts for hit in impact["hits"]}


def test_a_model_built_as_a_table_gets_column_lineage_from_its_compiled_sql(target, own_warehouse, client, staff, tmp_path):
    source, _ = own_warehouse
    model = Dataset.objects.get(source=source, schema_name="analytics", name="customer_countries")
    customers = Dataset.objects.get(source=source, schema_name="sales", name="customers")
    assert model.kind == "table" and model.definition == ""
    assert not LineageEdge.objects.filter(downstream=model).exists(), "the warehouse keeps no SQL for a table"

    report = metrics_import_dbt(target)
    build = BuildSql.objects.get(dataset=model)
    assert (build.origin, build.origin_id) == ("dbt", "model.canon_shop.customer_countries")
    assert "upper(c.country)" in build.sql and "{{" not in build.sql, "compiled SQL, never the Jinja"
    assert report.compiled_sql_kept == 9 - 3 and not report.without_compiled_sql  # the models; sources and seeds have none

    # The import derived the source's lineage again, in its transaction: table edge, column edges, no table level.
    assert list(LineageEdge.objects.filter(downstream=model).values_list("upstream_id", flat=True)) == [customers.pk]
    edges = set(ColumnLineageEdge.objects.filter(downstream=model).values_list("downstream_column", "upstream_column"))
    assert edges == {("customer_id", "customer_id"), ("country_code", "country"), ("", "churned_at")}
    assert model.column_lineage.table_level_reason == ""

    client.force_login(staff)
    page = client.get(model.get_absolute_url()).content.decode()
    assert "dbt compiled SQL" in page and "model.canon_shop.customer_countries" in page
    assert "table level only" not in page
    lineage = client.get(f"/api/datasets/{model.pk}/").json()["lineage"]
    assert lineage["derived_from"] == {"origin": "dbt", "id": "model.canon_shop.customer_countries", "compiled_sql": True}
    assert lineage["table_level_reason"] == ""

    # A re-import of the same SQL moves no build SQL, so lineage is not refreshed at all.
    refreshed = []
    build_sql_changed.connect(lambda sender, source_ids, **kw: refreshed.append(source_ids), weak=False, dispatch_uid="test-dbt")
    try:
        metrics_import_dbt(target)
        assert refreshed == []

        # One that changes the model's SQL derives its lineage again at once, with no crawl.
        def edit(data):
            node = data["nodes"]["model.canon_shop.customer_countries"]
            node["compiled_code"] = node["compiled_code"].replace("upper(c.country) as country_code", "c.email as contact")
        metrics_import_dbt(copy_manifest(target, tmp_path, edit))
        assert refreshed == [[source.pk]]
    finally:
        build_sql_changed.disconnect(dispatch_uid="test-dbt")
    edges = set(ColumnLineageEdge.objects.filter(downstream=model).values_list("downstream_column", "upstream_column"))
    assert edges == {("customer_id", "customer_id"), ("contact", "email"), ("", "churned_at")}


def test_a_column_a_table_model_reads_names_it_in_alerts_and_the_impact_check_one_it_does_not_read_nothing(target, own_warehouse):
    source, path = own_warehouse
    metrics_import_dbt(target)

    # Before it ships: the impact check of DDL names the model's column.
    assert ("analytics.customer_countries", "country_code") in _impacts(source, "ALTER TABLE sales.customers DROP COLUMN country;")
    assert ("analytics.customer_countries", "country_code") in _impacts(
        source, "ALTER TABLE sales.customers RENAME COLUMN country TO country_iso;")
    assert ("analytics.customer_countries", "") in _impacts(source, "ALTER TABLE sales.customers DROP COLUMN churned_at;"), \
        "read in a filter"
    assert not {name for name, _ in _impacts(source, "ALTER TABLE sales.customers DROP COLUMN signed_up_at;")} & {
        "analytics.customer_countries"}, "it does not read signed_up_at"
    # Hop by hop: fct_orders (a table) reads the view stg_orders, which reads sales.orders.
    assert {("analytics.stg_orders", "amount"), ("analytics.fct_orders", "amount"), ("analytics.fct_orders", "is_large")} <= _impacts(
        source, "ALTER TABLE sales.orders DROP COLUMN amount;")

    # After it ships: the crawl's alerts.
    _alter(path, "ALTER TABLE sales.customers DROP COLUMN signed_up_at")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    [change] = SchemaChange.objects.filter(crawl=crawl, dataset__name="customers")
    assert "analytics.customer_countries" not in {i.name for i in change_column_impacts([change])[0]}

    _alter(path, "ALTER TABLE sales.customers RENAME COLUMN country TO country_iso")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    changes = list(SchemaChange.objects.filter(crawl=crawl, dataset__name="customers"))
    hits = {(i.name, i.column, i.table_level) for found in change_column_impacts(changes) for i in found}
    assert ("analytics.customer_countries", "country_code", False) in hits


def test_a_manifest_without_compiled_sql_leaves_the_model_at_table_level_and_says_why(target, own_warehouse, tmp_path, client, staff):
    source, _ = own_warehouse
    report = metrics_import_dbt(copy_manifest(target, tmp_path, _without_compiled_sql))
    assert "model.canon_shop.customer_countries" in report.without_compiled_sql
    assert any("no compiled SQL" in warning for warning in report.warnings)
    model = Dataset.objects.get(source=source, name="customer_countries")
    customers = Dataset.objects.get(source=source, schema_name="sales", name="customers")
    assert BuildSql.objects.get(dataset=model).sql == ""
    # Table level: the edge to what the manifest says it reads, no column edges, the reason on its page.
    assert list(LineageEdge.objects.filter(downstream=model).values_list("upstream_id", flat=True)) == [customers.pk]
    assert not ColumnLineageEdge.objects.filter(downstream=model).exists()
    assert "no compiled SQL" in model.column_lineage.table_level_reason
    client.force_login(staff)
    page = client.get(model.get_absolute_url()).content.decode()
    assert "no compiled SQL" in page and "table level only" in page
    lineage = client.get(f"/api/datasets/{model.pk}/").json()["lineage"]
    assert lineage["derived_from"]["compiled_sql"] is False and "no compiled SQL" in lineage["table_level_reason"]
    # Any column of what it reads reaches it, at table level.
    assert ("analytics.customer_countries", "*") in _impacts(source, "ALTER TABLE sales.customers DROP COLUMN signed_up_at;")

    # The compiled manifest then gives it its columns.
    metrics_import_dbt(target)
    model.column_lineage.refresh_from_db()
    assert model.column_lineage.table_level_reason == ""
    assert ColumnLineageEdge.objects.filter(downstream=model, downstream_column="country_code").exists()
