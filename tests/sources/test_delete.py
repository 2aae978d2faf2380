"""Deleting a source (staff): a confirmation naming what goes, then everything crawled from it is gone; the
definitions that read it stay."""

import pytest

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Column, Dataset
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register
from catalog.sources.models import CrawlSchedule, Source
from catalog.sources.schedules import source_schedule_set
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_delete_a_source_after_seeing_what_goes(client, warehouse, staff_user, plain_user):
    build_shop(warehouse)
    shop = source_create(name="shop", url=warehouse.url)
    assert source_crawl(shop).status == "succeeded"
    source_schedule_set(shop, every_minutes=60)
    assert CrawlSchedule.objects.filter(source_id=shop.pk).exists()
    keep = source_create(name="keep", url=warehouse.url)
    assert source_crawl(keep).status == "succeeded"
    metric_register(user=staff_user, data={"name": "orders_count", "sql": "SELECT count(*) FROM sales.orders", "source": "shop"})

    client.force_login(plain_user)
    assert client.get("/sources/shop/delete/").status_code == 403
    assert client.post("/sources/shop/delete/").status_code == 403
    assert Source.objects.filter(name="shop").exists()

    client.force_login(staff_user)
    assert 'href="/sources/shop/delete/"' in client.get("/sources/shop/").content.decode()
    page = client.get("/sources/shop/delete/").content.decode()
    datasets = Dataset.objects.filter(source=shop).count()
    columns = Column.objects.filter(dataset__source=shop).count()
    assert f"<strong>{datasets}</strong> datasets" in page and f"<strong>{columns}</strong> columns" in page
    assert "<strong>1</strong> crawls" in page
    assert "What stays, no longer linked to it" in page and "<strong>1</strong> metric definitions" in page
    assert "the warehouse itself is not touched" in page
    assert Source.objects.filter(name="shop").exists(), "looking deletes nothing"

    response = client.post("/sources/shop/delete/", follow=True)
    assert response.redirect_chain == [("/sources/", 302)]
    assert f"Source shop deleted, with the {datasets} datasets crawled from it." in response.content.decode()
    assert not Source.objects.filter(name="shop").exists()
    assert not Dataset.objects.filter(source_id=shop.pk).exists() and not Column.objects.filter(dataset__source_id=shop.pk).exists()
    assert not CrawlSchedule.objects.filter(source_id=shop.pk).exists(), "its schedule went with it"
    assert Dataset.objects.filter(source=keep).count() == datasets, "another source of the same warehouse is untouched"
    assert MetricDefinition.objects.get(name="orders_count").source is None
    assert warehouse.execute("SELECT count(*) FROM sales.orders").fetchone()[0] >= 0, "the warehouse keeps its tables"
