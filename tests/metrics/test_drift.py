"""End to end on a real PostgreSQL warehouse: a schema change breaks a certified definition, the emails name it,
and the badge goes when the column comes back or the SQL is fixed."""

import pytest
from django.core import mail

from catalog.alerts.models import OutboxMessage
from catalog.alerts.services import outbox_flush, subscription_create
from catalog.metrics.models import MetricDefinition, MetricEvent
from catalog.metrics.services import metric_register, metric_set_status, metric_update, metric_watch
from catalog.sources.models import Crawl
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db

PAYING = """SELECT date_trunc('week', o.ordered_at) AS week, count(DISTINCT o.customer_id) AS paying_customers
FROM sales.orders AS o
WHERE o.status = 'paid'
GROUP BY 1"""


@pytest.fixture
def source(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    return source


@pytest.fixture
def certified(source, ana, bo):
    definition = metric_register(user=ana, data={"name": "weekly_paying_customers", "sql": PAYING, "source": "shop",
                                                 "title": "Weekly paying customers"})
    metric_set_status(definition, user=ana, status=MetricDefinition.CERTIFIED)
    metric_watch(definition, user=bo)
    assert definition.column_uses.count() == 3 and not definition.warnings
    return definition


def crawl(source):
    result = source_crawl(source)
    assert result.status == Crawl.SUCCEEDED, result.error
    return result


def test_a_dropped_column_breaks_the_definition_and_the_emails_name_it(source, certified, warehouse, ana, bo, django_user_model):
    wes = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=wes, source=source)  # hears about the schema change itself

    warehouse.execute("ALTER TABLE sales.orders DROP COLUMN status")
    run = crawl(source)

    certified.refresh_from_db()
    assert certified.broken and certified.broken_reasons == ["column sales.orders.status was removed"]
    assert certified.status == MetricDefinition.CERTIFIED, "breaking is not a status change"
    event = certified.events.get(kind=MetricEvent.BROKEN)
    assert event.crawl == run and "status was removed" in event.note

    change_email = OutboxMessage.objects.get(crawl=run, kind="changes", user=wes)
    assert "breaks: metric weekly_paying_customers" in change_email.body_text
    assert "metric weekly_paying_customers" in change_email.body_html

    metric_emails = {m.recipient: m for m in OutboxMessage.objects.filter(crawl=run, kind="metrics")}
    assert set(metric_emails) == {"ana@example.com", "bo@example.com"}, "owners and watchers, once each"
    message = metric_emails["bo@example.com"]
    assert message.subject == "[Canon] shop: breaks metric weekly_paying_customers"
    assert "BROKEN: metric weekly_paying_customers" in message.body_text
    assert "column sales.orders.status was removed" in message.body_text
    assert "/metrics/weekly_paying_customers/" in message.body_text

    assert outbox_flush() == 3
    assert sorted(m.subject for m in mail.outbox if "breaks metric" in m.subject) == [message.subject] * 2

    # The same state recrawled: nothing new is said.
    again = crawl(source)
    assert not OutboxMessage.objects.filter(crawl=again).exists()

    # The column comes back: the badge goes, and the owners hear it works again.
    warehouse.execute("ALTER TABLE sales.orders ADD COLUMN status varchar(20)")
    back = crawl(source)
    certified.refresh_from_db()
    assert not certified.broken and certified.broken_reasons == []
    assert certified.events.filter(kind=MetricEvent.REPAIRED, crawl=back).exists()
    fixed = OutboxMessage.objects.get(crawl=back, kind="metrics", recipient="ana@example.com")
    assert "works again" in fixed.subject


def test_a_retyped_column_breaks_it_and_fixing_the_sql_repairs_it(source, certified, warehouse, ana):
    warehouse.execute("ALTER TABLE sales.orders ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE integer USING 0")
    crawl(source)
    certified.refresh_from_db()
    assert certified.broken_reasons == ["column sales.orders.status changed type from character varying(20) to integer"]

    # Editing something else leaves it broken.
    metric_update(certified, user=ana, data={"description": "Customers with a paid order in the week."})
    certified.refresh_from_db()
    assert certified.broken

    # Fixing the SQL repairs it, recorded as an edit.
    metric_update(certified, user=ana, data={"sql": PAYING.replace("o.status = 'paid'", "o.status = 2")})
    certified.refresh_from_db()
    assert not certified.broken
    assert certified.events.get(kind=MetricEvent.REPAIRED).note == "the SQL was edited"


def test_a_renamed_column_and_a_dropped_table_are_named(source, certified, warehouse):
    warehouse.execute("ALTER TABLE sales.orders RENAME COLUMN ordered_at TO placed_at")
    crawl(source)
    certified.refresh_from_db()
    assert certified.broken_reasons == ["column sales.orders.ordered_at was renamed to placed_at"]

    warehouse.execute("DROP TABLE sales.orders CASCADE")
    crawl(source)
    certified.refresh_from_db()
    assert certified.broken_reasons == ["dataset sales.orders was removed"]


def test_a_definition_registered_before_its_table_exists_links_up_after_the_crawl(source, warehouse, ana):
    definition = metric_register(user=ana, data={"name": "refund_total", "source": "shop",
                                                 "sql": "SELECT sum(r.amount) FROM sales.refunds r"})
    assert definition.warnings == ["Table sales.refunds is not in the catalog of source shop."]
    warehouse.execute("CREATE TABLE sales.refunds (refund_id bigint, amount numeric(12, 2))")
    crawl(source)
    definition.refresh_from_db()
    assert definition.warnings == []
    assert [u.dataset_name for u in definition.dataset_uses.all()] == ["sales.refunds"]
    assert [u.column_name for u in definition.column_uses.all()] == ["amount"]
