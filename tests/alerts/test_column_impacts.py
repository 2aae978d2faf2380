"""A column change names only what reads that column, hop by hop, in the email, the change page and the API.

The catalog and the outbox are a real PostgreSQL; the warehouse is a hand-made extraction, as DuckDB,
SQLite or Snowflake report it: views keep their SQL as written, so a column can be dropped or retyped
under a view that reads it (PostgreSQL refuses both)."""

import pytest

from catalog.alerts.impact import change_column_impacts
from catalog.alerts.models import OutboxMessage
from catalog.alerts.services import subscription_create
from catalog.connectors import Connector, DatasetMeta, Extraction
from catalog.connectors.base import ColumnMeta
from catalog.core.sourceurl import parse_source_url
from catalog.crawls.services import source_crawl
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.metrics.services import metric_register
from catalog.sources.models import Crawl
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db


class Warehouse(Connector):
    """public.base and views over it; `base` is the table's columns as (name, type), changed between crawls."""

    schemes = ()

    def __init__(self, url):
        super().__init__(url)
        self.base = [("id", "integer"), ("email", "text"), ("region", "text")]

    def extract(self, include=None, exclude=None):
        def cols(*names):
            return [ColumnMeta(name=n, data_type=t, position=i) for i, (n, t) in enumerate(names, 1)]

        email_type = dict(self.base).get("email", "text")
        return Extraction(schemas=["public"], datasets=[
            DatasetMeta(schema="public", name="base", columns=cols(*self.base)),
            DatasetMeta(schema="public", name="contacts", kind="view", columns=cols(("id", "integer"), ("email", email_type)),
                        definition="SELECT id, email FROM public.base"),
            DatasetMeta(schema="public", name="mailing", kind="view", columns=cols(("email_upper", "text")),
                        definition="SELECT upper(c.email) AS email_upper FROM public.contacts c"),
            DatasetMeta(schema="public", name="emea_ids", kind="view", columns=cols(("id", "integer")),
                        definition="SELECT id FROM public.base WHERE region = 'emea'"),
            DatasetMeta(schema="public", name="odd", kind="view", columns=cols(("id", "integer")),
                        definition="SELECT * FROM public.base JOIN elsewhere.t USING (id)"),
        ])


@pytest.fixture
def setup(warehouse, django_user_model):
    source = source_create(name="wh", url=warehouse.url)
    connector = Warehouse(parse_source_url(warehouse.url))
    assert source_crawl(source, connector=connector).status == Crawl.SUCCEEDED
    wes = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=wes, source=source)
    return source, connector


def _breaks(crawl) -> str:
    body = OutboxMessage.objects.get(crawl=crawl, kind="changes").body_text
    lines = [line.strip() for line in body.splitlines() if line.strip().startswith("breaks: ")]
    return lines[0] if lines else ""


def test_a_retyped_column_names_its_readers_hop_by_hop_and_the_table_level_view(setup, client, django_user_model):
    source, connector = setup
    connector.base = [("id", "integer"), ("email", "varchar(100)"), ("region", "text")]
    crawl = source_crawl(source, connector=connector)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert _breaks(crawl) == ("breaks: view public.contacts.email, view public.odd (table level only), "
                              "view public.mailing.email_upper (through public.contacts.email)")

    change = SchemaChange.objects.get(crawl=crawl, dataset__name="base", kind="type_changed")
    [impacts] = change_column_impacts([change])
    assert [(i.name, i.column, i.path, i.table_level) for i in impacts] == [
        ("public.contacts", "email", ("public.base.email",), False),
        ("public.odd", "*", ("public.base.email",), True),
        ("public.mailing", "email_upper", ("public.base.email", "public.contacts.email"), False),
    ]

    # The API and the change page say it too.
    client.force_login(django_user_model.objects.get(username="wes"))
    answer = client.get(f"/api/changes/{change.pk}/").json()
    assert [(i["name"], i["column"], i["path"]) for i in answer["impacts"]] == [
        ("public.contacts", "email", ["public.base.email"]),
        ("public.odd", "*", ["public.base.email"]),
        ("public.mailing", "email_upper", ["public.base.email", "public.contacts.email"]),
    ]
    page = client.get("/changes/").content.decode()
    assert "public.mailing.email_upper" in page and "through public.contacts.email" in page


def test_a_dropped_column_read_only_by_a_filter_names_that_view_and_a_new_column_breaks_nothing(setup):
    source, connector = setup
    connector.base = [("id", "integer"), ("email", "text"), ("region", "text"), ("phone", "text")]
    crawl = source_crawl(source, connector=connector)
    assert SchemaChange.objects.filter(crawl=crawl, kind="column_added").exists()
    assert _breaks(crawl) == ""

    connector.base = [("id", "integer"), ("email", "text"), ("phone", "text")]
    crawl = source_crawl(source, connector=connector)
    # emea_ids no longer resolves (region is gone) but keeps what it read: it is named, with the column;
    # the views that read email are not.
    assert _breaks(crawl) == "breaks: view public.emea_ids (reads public.base.region in a filter or join), view public.odd (table level only)"
    emea = Dataset.objects.get(source=source, name="emea_ids")
    assert emea.column_lineage.table_level_only and "region" in emea.column_lineage.table_level_reason


def test_a_metric_definition_reading_the_column_through_a_view_is_named(setup, django_user_model):
    source, connector = setup
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw")
    metric_register(user=ana, data={"name": "mailable", "title": "Mailable", "source": "wh",
                                    "sql": "SELECT count(DISTINCT email_upper) FROM public.mailing"})
    connector.base = [("id", "integer"), ("email", "varchar(100)"), ("region", "text")]
    crawl = source_crawl(source, connector=connector)
    assert "metric mailable (through public.mailing.email_upper)" in _breaks(crawl)
