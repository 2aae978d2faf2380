"""The impact check before a change ships: `manage.py impact` and POST /api/impact/, on a catalog crawled
from a real PostgreSQL. The check reads only the catalog: the warehouse is never asked again."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from catalog.alerts.services import subscription_create
from catalog.crawls.services import source_crawl
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status, metric_watch
from catalog.sources.models import Crawl
from catalog.sources.services import source_create
from tests.lineage.test_column_services import COLUMN_SHOP

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(warehouse, django_user_model):
    warehouse.execute(COLUMN_SHOP)
    source = source_create(name="columns", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw")
    bo = django_user_model.objects.create_user("bo", "bo@example.com", "pw")
    wes = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=wes, source=source, schema_name="shop")
    mailable = metric_register(user=ana, data={"name": "mailable", "title": "Mailable", "source": "columns",
                                               "sql": "SELECT count(DISTINCT email_upper) FROM shop.emails"})
    metric_set_status(mailable, user=ana, status=MetricDefinition.CERTIFIED)
    metric_watch(mailable, user=bo)
    metric_register(user=bo, data={"name": "order_notes", "title": "Order notes", "source": "columns",
                                   "sql": "SELECT count(note) FROM shop.orders"})
    return source


def run(tmp_path, text, *args, name="migration.sql"):
    path = tmp_path / name
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("impact", str(path), *args, stdout=out, stderr=err)
    return exited.value.code, out.getvalue(), err.getvalue()


def test_a_renamed_column_names_what_reads_it_hop_by_hop_certified_first_and_writes_nothing(catalog, tmp_path):
    with CaptureQueriesContext(connection) as queries:
        code, out, _ = run(tmp_path, 'ALTER TABLE "CRM"."Accounts" RENAME COLUMN email TO mail;', "--source", "columns", "--json")
    assert code == 1
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    answer = json.loads(out)
    assert answer["breaks"] is True
    assert answer["changes"] == [{"statement": 1, "change": "column CRM.Accounts.email renamed to mail", "dataset": "CRM.Accounts",
                                  "column": "email"}]
    assert [(i["kind"], i["name"], i["certified"]) for i in answer["impacts"]] == [
        ("metric", "mailable", True), ("view", "shop.account_orders", False), ("view", "shop.emails", False)]
    mailable, account_orders, emails = answer["impacts"]
    assert mailable["hits"][0]["path"] == ["CRM.Accounts.email", "shop.account_orders.email", "shop.emails.email_upper"]
    assert mailable["owners"] == ["ana <ana@example.com>"] and mailable["watchers"] == ["bo <bo@example.com>"]
    assert mailable["url"] == "/metrics/mailable/"
    assert account_orders["hits"][0]["column"] == "email" and account_orders["watchers"] == ["wes <wes@example.com>"]
    assert emails["hits"][0]["path"] == ["CRM.Accounts.email", "shop.account_orders.email"]
    assert emails["hits"][0]["column"] == "email_upper"


def test_a_change_nothing_reads_exits_0_and_the_text_answer_says_so(catalog, tmp_path):
    code, out, _ = run(tmp_path, 'ALTER TABLE "CRM"."Accounts" ADD COLUMN phone text;\nALTER TABLE "CRM"."Accounts" DROP COLUMN "Region";\n'
                                 'ALTER TABLE "CRM"."Accounts" ADD COLUMN tmp int; ALTER TABLE "CRM"."Accounts" DROP COLUMN tmp;')
    assert code == 0, out
    assert "nothing would break" in out
    assert "column CRM.Accounts.Region removed" in out


def test_renamed_then_dropped_is_the_original_column_removed_and_a_drop_table_reaches_every_reader(catalog, tmp_path):
    code, out, _ = run(tmp_path, "ALTER TABLE shop.orders RENAME COLUMN note TO remark;\nALTER TABLE shop.orders DROP COLUMN remark;",
                       "--json")
    answer = json.loads(out)
    assert code == 1
    assert [c["change"] for c in answer["changes"]] == ["column shop.orders.note renamed to remark, then removed"]
    assert [(i["kind"], i["name"]) for i in answer["impacts"]] == [("metric", "order_notes"), ("view", "shop.account_orders")]
    code, out, _ = run(tmp_path, "DROP TABLE shop.orders CASCADE;", "--json")
    names = [i["name"] for i in json.loads(out)["impacts"]]
    assert code == 1 and names == ["mailable", "order_notes", "shop.account_orders", "shop.all_ids", "shop.emails", "shop.totals"]


def test_a_replaced_view_that_loses_a_column_breaks_its_readers(catalog, tmp_path):
    code, out, _ = run(tmp_path, 'CREATE OR REPLACE VIEW shop.account_orders AS SELECT a."Id", o.order_id FROM "CRM"."Accounts" a '
                                 'JOIN shop.orders o ON o.account_id = a."Id";', "--json")
    answer = json.loads(out)
    assert code == 1
    assert "column shop.account_orders.email is no longer in the replaced view" in [c["change"] for c in answer["changes"]]
    assert [i["name"] for i in answer["impacts"]] == ["mailable", "shop.emails"]
    # Dropped and created again with the same columns: nothing breaks.
    code, out, _ = run(tmp_path, "DROP VIEW shop.emails;\nCREATE VIEW shop.emails AS SELECT upper(email) AS email_upper FROM shop.account_orders;")
    assert code == 0, out


def test_every_action_of_one_alter_counts_and_a_type_restated_as_it_is_breaks_nothing(catalog, tmp_path):
    # A new column and a dropped one in one statement: the drop breaks what reads the note.
    code, out, _ = run(tmp_path, "ALTER TABLE shop.orders ADD COLUMN channel text, DROP COLUMN note;", "--json")
    answer = json.loads(out)
    assert code == 1
    assert [c["change"] for c in answer["changes"]] == ["column shop.orders.note removed"]
    assert [i["name"] for i in answer["impacts"]] == ["order_notes", "shop.account_orders"]
    # The same type again (as MySQL's MODIFY restates it) is no change.
    code, out, _ = run(tmp_path, "ALTER TABLE shop.orders ALTER COLUMN note TYPE text, ALTER COLUMN note SET NOT NULL;")
    assert code == 0, out
    assert "keeps its type" in out


def test_a_table_created_again_breaks_what_it_no_longer_has(catalog, tmp_path):
    # Snowflake and BigQuery migrations replace tables whole: a column left out, or retyped, breaks its readers.
    code, out, _ = run(tmp_path, "CREATE OR REPLACE TABLE shop.orders (order_id int, account_id int, amount text);", "--json")
    answer = json.loads(out)
    assert code == 1
    assert [c["change"] for c in answer["changes"]] == ["column shop.orders.amount changes type to TEXT",
                                                        "column shop.orders.note is not in the table created again"]
    assert [i["name"] for i in answer["impacts"]] == ["order_notes", "shop.account_orders", "shop.totals"]
    code, out, _ = run(tmp_path, "CREATE OR REPLACE TABLE shop.orders AS SELECT order_id, account_id, amount FROM shop.orders;", "--json")
    assert code == 1 and [c["change"] for c in json.loads(out)["changes"]] == ["column shop.orders.note is no longer in the replaced table"]
    # Dropped and created again as it was; created only if missing; a new table: nothing breaks.
    code, out, _ = run(tmp_path, "DROP TABLE shop.orders;\nCREATE TABLE shop.orders (order_id int, account_id int, amount numeric, note text);\n"
                                 "CREATE TABLE IF NOT EXISTS shop.orders (x int);\nCREATE TABLE shop.fresh (x int);")
    assert code == 0, out
    assert "shop.fresh is a new table" in out


def test_a_dropped_schema_is_every_dataset_in_it_dropped(catalog, tmp_path):
    code, out, _ = run(tmp_path, 'DROP SCHEMA "CRM" CASCADE;', "--json")
    answer = json.loads(out)
    assert code == 1
    assert [c["change"] for c in answer["changes"]] == ["table CRM.Accounts dropped"]
    assert {i["name"] for i in answer["impacts"]} >= {"mailable", "shop.account_orders", "shop.emails", "shop.all_ids"}
    code, _, err = run(tmp_path, "DROP SCHEMA nowhere;")
    assert code == 2 and "schema nowhere holds no dataset" in err


@pytest.mark.parametrize("text, message", [
    ("ALTER TABLE shop.orders DROP COLUMN note;\nALTER TABLE WHERE (((;", "statement 2 (line 2) does not parse"),
    ("ALTER TABLE shop.nowhere DROP COLUMN note;", "statement 1 (line 1): shop.nowhere is not a dataset the catalog of source columns holds"),
    ("ALTER TABLE shop.orders DROP COLUMN nope;", "statement 1 (line 1): shop.orders has no column nope"),
])
def test_input_that_cannot_be_read_exits_2_with_the_statement_and_writes_nothing(catalog, tmp_path, text, message):
    code, out, err = run(tmp_path, text, "--source", "columns", "--json")
    assert code == 2
    assert message in err
    assert json.loads(out)["statement"] in (1, 2)


def test_the_api_needs_a_login_or_token_and_answers_for_ci(catalog, client, django_user_model):
    body = {"source": "columns", "ddl": "ALTER TABLE shop.orders ALTER COLUMN amount TYPE bigint;"}
    assert client.post("/api/impact/", body, content_type="application/json").status_code in (401, 403)
    token = Token.objects.create(user=django_user_model.objects.get(username="wes"))
    answer = client.post("/api/impact/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200
    data = answer.json()
    assert data["breaks"] and [i["name"] for i in data["impacts"]] == ["shop.account_orders", "shop.totals"]
    assert data["impacts"][1]["hits"][0]["column"] == "total"
    bad = client.post("/api/impact/", {"source": "columns", "ddl": "DROP TABLE shop.nope"}, content_type="application/json",
                      HTTP_AUTHORIZATION=f"Token {token.key}")
    assert bad.status_code == 400 and bad.json()["statement"] == 1 and "shop.nope" in bad.json()["error"]
    neither = client.post("/api/impact/", {"source": "columns"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert neither.status_code == 400 and neither.json()["error"] == "Give either ddl or manifest."
