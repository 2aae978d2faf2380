"""The home page opens with what needs attention: breaking changes this week and what they hit, broken definitions,
failing sources; each a count linking to its list. Then what the team relies on."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Dataset
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status
from catalog.quality.models import Freshness
from catalog.sources.models import Crawl
from catalog.sources.services import source_create
from catalog.usage.models import DatasetUsage, SourceUsage
from tests.shop import build_shop

pytestmark = pytest.mark.django_db(transaction=True)


def _item(html: str, key: str) -> str:
    match = re.search(rf'<section class="attention-item [^"]*" id="attention-{key}".*?</section>', html, re.S)
    assert match, f"no {key} on the home page"
    return match.group(0)


def _count(item: str) -> int:
    return int(re.search(r'<a class="count" href="[^"]*"[^>]*><strong>([\d,]+)</strong>', item).group(1).replace(",", ""))


def test_an_empty_catalog_says_what_to_do_next(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/").content.decode()
    assert "The catalog is empty." in html and 'href="/sources/new/">Add a source</a>' in html
    for key, empty in (("breaking-changes", "No breaking change this week."), ("broken-definitions", "Every definition runs."),
                       ("failing-sources", "Every source&#x27;s last crawl worked.")):
        item = _item(html, key)
        assert _count(item) == 0 and empty in item and "attention-item clear" in item


def test_breaking_changes_broken_definitions_and_failing_sources_are_counted_and_linked(client, warehouse, django_user_model):
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw")
    build_shop(warehouse)
    shop = source_create(name="shop", url=warehouse.url)
    assert source_crawl(shop).status == Crawl.SUCCEEDED
    definition = metric_register(user=ana, data={"name": "big_spenders", "title": "Big spenders", "source": "shop",
                                                 "sql": "SELECT count(DISTINCT customer_id) FROM sales.orders WHERE amount > 100"})
    metric_set_status(definition, user=ana, status=MetricDefinition.CERTIFIED)
    warehouse.execute("DROP VIEW analytics.big_orders")
    warehouse.execute("DROP MATERIALIZED VIEW analytics.revenue_by_day")
    warehouse.execute("ALTER TABLE sales.orders DROP COLUMN amount")
    assert source_crawl(shop).status == Crawl.SUCCEEDED
    down = source_create(name="down", url="postgresql://reader:secret-pw@127.0.0.1:1/nothing")
    assert source_crawl(down).status == Crawl.FAILED

    response = client.get("/")
    html = response.content.decode()
    breaking = _item(html, "breaking-changes")
    assert "attention-item bad" in breaking and _count(breaking) >= 1
    assert 'href="/changes/?severity=breaking&amp;since=7d"' in breaking
    assert "sales.orders" in breaking and "metric big_spenders" in breaking, "what the change hits"
    # The list it links to shows the same changes.
    listed = client.get("/changes/", {"severity": "breaking", "since": "7d"}).content.decode()
    assert "sales.orders" in listed

    broken = _item(html, "broken-definitions")
    assert _count(broken) == 1 and "Big spenders" in broken and 'href="/metrics/?broken=1"' in broken
    failing = _item(html, "failing-sources")
    assert _count(failing) == 1 and 'href="/sources/down/"' in failing and 'href="/sources/?status=failed"' in failing
    assert "secret-pw" not in html
    only_failing = client.get("/sources/", {"status": "failed"}).content.decode()
    assert 'href="/sources/down/"' in only_failing and 'href="/sources/shop/"' not in only_failing

    # What the team relies on: the certified definition (broken, and says so) and the dataset it reads.
    relied = html[html.index("<h2>Certified definitions</h2>"):html.index("<h2>The catalog</h2>")]
    assert "Big spenders" in relied and "broken" in relied
    assert "sales.orders" in relied and "read by 1 definition" in relied


def test_stale_copies_and_unused_datasets_have_their_counts_too(client, warehouse):
    """The items the quality, duplicates and usage apps add (each in its attention.py)."""
    build_shop(warehouse)
    warehouse.execute("CREATE TABLE scratch.orders_backup_2024 AS SELECT * FROM sales.orders")
    shop = source_create(name="shop", url=warehouse.url)
    assert source_crawl(shop).status == Crawl.SUCCEEDED
    html = client.get("/").content.decode()
    copies = _item(html, "duplicates")
    assert _count(copies) == 1 and "sales.orders" in copies and 'href="/duplicates/"' in copies

    customers = Dataset.objects.get(source=shop, name="customers")
    Freshness.objects.update_or_create(dataset=customers, defaults={"source": shop, "stale_since": timezone.now() - timedelta(hours=5)})
    SourceUsage.objects.update_or_create(source=shop, defaults={"available": True, "first_read_at": timezone.now() - timedelta(days=120)})
    html = client.get("/").content.decode()
    stale = _item(html, "stale-datasets")
    assert _count(stale) == 1 and "sales.customers" in stale and "stale for 5" in stale and 'href="/stale/"' in stale
    unused = _item(html, "unused")
    present = Dataset.objects.filter(source=shop, removed_at__isnull=True).count()
    assert _count(unused) == present and 'href="/usage/unused/"' in unused, "no statement read any of them"

    # A dataset people query comes first among those the team relies on, with its reads.
    orders = Dataset.objects.get(source=shop, name="orders")
    DatasetUsage.objects.update_or_create(dataset=orders, defaults={"queries_30": 1234, "queries_90": 2000, "last_used_on": timezone.now().date()})
    html = client.get("/").content.decode()
    relied = html[html.index("<h2>Datasets the team relies on</h2>"):html.index("<h2>The catalog</h2>")]
    first = re.search(r'<li><a class="name" href="[^"]+" title="([^"]+)">', relied).group(1)
    assert first == "sales.orders" and "1,234 reads in 30 days" in relied
    assert _count(_item(html, "unused")) == present - 1
