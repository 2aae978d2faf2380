"""The impact check of a dbt manifest.json from a pull request, against the project Canon imported: real
dbt artifacts (the session's `dbt build` of tests/metrics/dbt_project) and the DuckDB file it wrote, crawled."""

import io
import json

import pytest
from django.core.management import call_command

from catalog.metrics.services import metrics_import_dbt
from tests.metrics.test_dbt import crawl_warehouse, dbt_build  # noqa: F401 (the session's dbt build, a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(dbt_build):  # noqa: F811
    crawl_warehouse(dbt_build)
    metrics_import_dbt(dbt_build.target)
    return json.loads((dbt_build.target / "manifest.json").read_text())


def check(tmp_path, manifest) -> tuple[int, dict, str]:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("impact", str(path), "--json", stdout=out, stderr=err)
    return exited.value.code, json.loads(out.getvalue()), err.getvalue()


def test_the_imported_manifest_itself_breaks_nothing(imported, tmp_path):
    code, answer, _ = check(tmp_path, imported)
    assert code == 0 and answer["changes"] == [] and answer["impacts"] == []


def test_a_documented_column_gone_names_the_definitions_that_read_it(imported, tmp_path):
    imported["nodes"]["model.canon_shop.fct_orders"]["columns"].pop("amount")
    code, answer, _ = check(tmp_path, imported)
    assert code == 1
    assert answer["changes"] == [{"node": "model.canon_shop.fct_orders", "dataset": "analytics.fct_orders", "column": "amount",
                                  "change": "column analytics.fct_orders.amount is no longer in dbt model model.canon_shop.fct_orders"}]
    hit = {i["name"]: i for i in answer["impacts"]}
    assert "revenue" in hit and hit["revenue"]["kind"] == "metric"
    assert hit["revenue"]["hits"][0]["path"] == ["analytics.fct_orders.amount"]
    assert "average_order_value" in hit and "visit_to_order_conversion" not in hit, "that one reads no amount"


def test_a_model_gone_breaks_everything_that_reads_its_table(imported, tmp_path):
    del imported["nodes"]["model.canon_shop.fct_orders"]
    code, answer, _ = check(tmp_path, imported)
    assert code == 1
    assert answer["changes"][0]["change"].startswith("dbt model model.canon_shop.fct_orders (analytics.fct_orders) is gone")
    assert {"revenue", "average_order_value", "large_order_revenue"} <= {i["name"] for i in answer["impacts"]}


def test_a_manifest_of_another_dbt_version_exits_2(imported, tmp_path):
    imported["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v7.json"
    code, answer, err = check(tmp_path, imported)
    assert code == 2 and "manifest.json" in answer["error"] and "v7" in err
