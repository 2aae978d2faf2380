"""The home page opens with what needs attention: breaking changes this week and what they hit, broken definitions,
failing sources; each a count linking to its list. Then what the team relies on."""

import re

import pytest

from catalog.crawls.services import source_crawl
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status
from catalog.sources.models import Crawl
from catalog.sources.services import source_create
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
