"""A page per schema: its datasets, what people wrote about it, its owners and recent changes."""

import pytest
from django.urls import reverse

from catalog.crawls.services import source_crawl
from catalog.inventory.models import SchemaDescription
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    warehouse.execute('CREATE SCHEMA "Odd/Schema ?"')
    warehouse.execute('CREATE TABLE "Odd/Schema ?"."Mixed Case" (id int)')
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    return source


def test_a_schema_page_lists_its_datasets_owners_and_changes(client, shop, warehouse, plain_user):
    source_page = client.get("/sources/shop/").content.decode()
    assert 'href="/sources/shop/schemas/sales/"' in source_page
    warehouse.execute("ALTER TABLE sales.orders DROP COLUMN status")
    assert source_crawl(shop).status == "succeeded"
    html = client.get("/sources/shop/schemas/sales/").content.decode()
    for name in ("customers", "orders", "events", "Order Lines"):
        assert f'title="{name}">{name}</a>' in html
    assert "analytics" not in html.split("<h1", 1)[1].split("</h1>")[0]
    assert "sales_team" in html, "the owner the warehouse names"
    assert "sales.orders" in html and "breaking" in html, "the recent change"
    assert 'href="/datasets/?source=shop&amp;schema=sales"' in html

    # Names that need quoting and encoding reach their own page, and back.
    url = reverse("schema-detail", args=["shop", "Odd/Schema ?"])
    assert url == "/sources/shop/schemas/Odd/Schema%20%3F/"
    assert f'href="{url}"' in source_page
    odd = client.get(url).content.decode()
    assert 'title="Mixed Case">Mixed Case</a>' in odd and "Odd/Schema ?" in odd
    assert client.get("/sources/shop/schemas/nowhere/").status_code == 404


def test_people_describe_a_schema_once_logged_in(client, shop, plain_user):
    url = "/sources/shop/schemas/sales/"
    assert client.post(url, {"description": "sneaky"}).status_code == 302
    assert not SchemaDescription.objects.exists(), "anonymous people write nothing"
    client.force_login(plain_user)
    assert "Edit description" in client.get(url).content.decode()
    response = client.post(url, {"description": "Orders and customers, **loaded hourly** by the shop's sync."}, follow=True)
    html = response.content.decode()
    assert "Description saved." in html and "<strong>loaded hourly</strong>" in html and f"by {plain_user.username}" in html
    assert SchemaDescription.objects.get(source=shop, schema_name="sales").updated_by == plain_user
    too_long = client.post(url, {"description": "x" * 50_001}, follow=True).content.decode()
    assert "at most 50,000 characters" in too_long
    assert SchemaDescription.objects.get().description.startswith("Orders and customers")
