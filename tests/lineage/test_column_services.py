"""Column lineage derived by the crawl's lineage step, against a real PostgreSQL (and a hand-made
extraction for SQL whose columns cannot be resolved, which no real engine stores)."""

import pytest

from catalog.connectors import Connector, DatasetMeta, Extraction
from catalog.connectors.base import ColumnMeta
from catalog.core.sourceurl import parse_source_url
from catalog.crawls.services import source_crawl
from catalog.inventory.models import Dataset
from catalog.lineage.models import ColumnLineageEdge, ColumnLineageState, LineageEdge
from catalog.lineage.services import TABLE_LEVEL_WARNING, lineage_refresh
from catalog.sources.models import Crawl
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db

COLUMN_SHOP = """
CREATE SCHEMA "CRM";
CREATE TABLE "CRM"."Accounts" ("Id" int, email text, "Region" text, active boolean);
CREATE SCHEMA shop;
CREATE TABLE shop.orders (order_id int, account_id int, amount numeric, note text);
CREATE VIEW shop.account_orders AS
    SELECT a."Id", a.email, o.* FROM "CRM"."Accounts" a JOIN shop.orders o ON o.account_id = a."Id" WHERE a.active;
CREATE VIEW shop.totals AS
    WITH doubled AS (SELECT account_id, amount * 2 AS dbl FROM shop.orders) SELECT account_id, sum(dbl) AS total FROM doubled GROUP BY 1;
CREATE MATERIALIZED VIEW shop.all_ids AS SELECT "Id" AS id FROM "CRM"."Accounts" UNION SELECT account_id FROM shop.orders;
CREATE VIEW shop.emails AS SELECT upper(email) AS email_upper FROM shop.account_orders;
"""


def column_edges(source):
    return sorted(
        (f"{e.downstream.schema_name}.{e.downstream.name}", e.downstream_column, e.upstream_name, e.upstream_column,
         e.upstream_id is not None)
        for e in ColumnLineageEdge.objects.filter(source=source).select_related("downstream"))


@pytest.fixture
def column_shop(warehouse):
    warehouse.execute(COLUMN_SHOP)
    source = source_create(name="columns", url=warehouse.url)
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    return source


def test_each_view_column_names_its_input_columns(column_shop):
    edges = column_edges(column_shop)
    account_orders = [e for e in edges if e[0] == "shop.account_orders"]
    assert account_orders == [
        ("shop.account_orders", "", "CRM.Accounts", "active", True),  # read by the filter only
        ("shop.account_orders", "Id", "CRM.Accounts", "Id", True),
        ("shop.account_orders", "account_id", "shop.orders", "account_id", True),
        ("shop.account_orders", "amount", "shop.orders", "amount", True),
        ("shop.account_orders", "email", "CRM.Accounts", "email", True),
        ("shop.account_orders", "note", "shop.orders", "note", True),
        ("shop.account_orders", "order_id", "shop.orders", "order_id", True),
    ]
    assert [e for e in edges if e[0] == "shop.totals"] == [
        ("shop.totals", "account_id", "shop.orders", "account_id", True),
        ("shop.totals", "total", "shop.orders", "amount", True),
    ]
    assert [e for e in edges if e[0] == "shop.all_ids"] == [
        ("shop.all_ids", "id", "CRM.Accounts", "Id", True),
        ("shop.all_ids", "id", "shop.orders", "account_id", True),
    ]
    # A view reading a view: its column derives from the view's column, hop by hop.
    assert [e for e in edges if e[0] == "shop.emails"] == [("shop.emails", "email_upper", "shop.account_orders", "email", True)]
    assert all(not s.table_level_reason for s in ColumnLineageState.objects.filter(source=column_shop))
    assert ColumnLineageState.objects.filter(source=column_shop).count() == 4


def test_an_unchanged_recrawl_derives_nothing_and_a_changed_input_rederives_only_its_readers(column_shop, warehouse):
    edge_ids = set(ColumnLineageEdge.objects.values_list("id", flat=True))
    digests = dict(ColumnLineageState.objects.values_list("dataset_id", "digest"))
    assert source_crawl(column_shop).status == Crawl.SUCCEEDED
    assert set(ColumnLineageEdge.objects.values_list("id", flat=True)) == edge_ids
    assert dict(ColumnLineageState.objects.values_list("dataset_id", "digest")) == digests
    # Even asked to refresh, nothing moved: no view is derived again.
    assert lineage_refresh(column_shop).columns_derived == 0

    warehouse.execute('ALTER TABLE "CRM"."Accounts" ADD COLUMN phone text')
    assert source_crawl(column_shop).status == Crawl.SUCCEEDED
    after = dict(ColumnLineageState.objects.values_list("dataset_id", "digest"))
    moved = {Dataset.objects.get(pk=pk).name for pk in after if after[pk] != digests[pk]}
    assert moved == {"account_orders", "all_ids"}  # the readers of CRM.Accounts; not totals, not emails
    assert set(ColumnLineageEdge.objects.values_list("id", flat=True)) == edge_ids  # and their edges were right


def test_a_renamed_column_moves_the_edges_and_a_dropped_view_takes_its_own(column_shop, warehouse):
    warehouse.execute("DROP VIEW shop.emails; ALTER TABLE shop.orders RENAME COLUMN amount TO amount_eur")
    assert source_crawl(column_shop).status == Crawl.SUCCEEDED
    edges = column_edges(column_shop)
    assert ("shop.totals", "total", "shop.orders", "amount_eur", True) in edges
    assert not [e for e in edges if e[3] == "amount" or e[0] == "shop.emails"]
    assert not ColumnLineageState.objects.filter(dataset__name="emails").exists()


class _HandMadeConnector(Connector):
    """A view over a table the catalog does not hold, through `*`: the table edge stays, the columns cannot be known."""

    schemes = ()

    def __init__(self, url, star_over_unknown=True):
        super().__init__(url)
        self.star_over_unknown = star_over_unknown

    def extract(self, include=None, exclude=None):
        col = [ColumnMeta(name="id", data_type="integer", position=1)]
        sql = ("SELECT * FROM public.base JOIN elsewhere.t USING (id)" if self.star_over_unknown
               else "SELECT base.id FROM public.base JOIN elsewhere.t USING (id)")
        return Extraction(schemas=["public"], datasets=[
            DatasetMeta(schema="public", name="base", columns=list(col)),
            DatasetMeta(schema="public", name="odd", kind="view", columns=list(col), definition=sql),
        ])


def test_sql_that_cannot_be_resolved_to_columns_keeps_its_table_edge_and_says_table_level_only(warehouse, client):
    source = source_create(name="odd", url=warehouse.url)
    connector = _HandMadeConnector(parse_source_url(warehouse.url))
    assert source_crawl(source, connector=connector).status == Crawl.SUCCEEDED
    odd = Dataset.objects.get(source=source, name="odd")
    assert sorted(LineageEdge.objects.filter(downstream=odd).values_list("upstream_name", flat=True)) == ["elsewhere.t", "public.base"]
    assert not ColumnLineageEdge.objects.filter(downstream=odd).exists()
    assert odd.column_lineage.table_level_only
    assert "could not be expanded" in odd.column_lineage.table_level_reason
    assert len(odd.warnings) == 1 and odd.warnings[0].startswith(f"{TABLE_LEVEL_WARNING}: ")
    page = client.get(odd.get_absolute_url()).content.decode()
    assert "Lineage: table level only: a * could not be expanded" in page  # the warnings at the top
    assert "Column lineage: <strong>table level only</strong>" in page  # and the Lineage section
    # Once its SQL resolves, the warning goes and the columns come.
    connector.star_over_unknown = False
    odd.definition = ""  # the crawl sees the new SQL as a change
    odd.save(update_fields=["definition"])
    assert source_crawl(source, connector=connector).status == Crawl.SUCCEEDED
    odd.refresh_from_db()
    assert odd.warnings == []
    assert list(ColumnLineageEdge.objects.filter(downstream=odd).values_list("downstream_column", "upstream_name", "upstream_column")) == [
        ("", "elsewhere.t", "id"),  # the join reads it
        ("id", "public.base", "id"),
    ]
