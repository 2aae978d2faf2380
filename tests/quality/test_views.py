"""Freshness on the pages and in the API: the dataset page's section and cadence form, the Stale page with
how late and what reads, the stale badge in lists and search, /api/freshness/ and the dataset detail."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.inventory.models import Dataset
from catalog.quality.models import Freshness
from catalog.quality.services import freshness_cadence_set, freshness_check
from tests.quality.conftest import crawled, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale(orders):
    """orders, changed once, hourly, and now two hours late."""
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    dataset = Dataset.objects.get(source=orders, name="orders")
    freshness_cadence_set(dataset, "hourly")
    Freshness.objects.filter(dataset=dataset).update(deadline=timezone.now() - timedelta(hours=2))
    freshness_check()
    return dataset


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_dataset_page_says_how_freshness_is_known(client, orders, staff_user):
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    dataset = Dataset.objects.get(source=orders, name="orders")
    page = text(client.get(dataset.get_absolute_url()))
    assert 'id="freshness"' in page and "write counters moved between these crawls" in page
    assert "3 inserted, 0 updated, 0 deleted" in page and "+1 inserted" in page
    assert "unknown: never called stale" in page and "Set cadence" not in page  # anonymous: no form
    view = Dataset.objects.get(source=orders, name="big_orders")
    assert "A view holds no data of its own" in text(client.get(view.get_absolute_url()))

    client.force_login(staff_user)
    answer = client.post(f"/datasets/{dataset.pk}/cadence/", {"cadence": "by 07:00 UTC on weekdays"}, follow=True)
    page = text(answer)
    assert "Cadence set: by 07:00 UTC on weekdays." in page and "set by ana" in page
    page = text(client.post(f"/datasets/{dataset.pk}/cadence/", {"cadence": "now and then"}, follow=True))
    assert "does not understand" in page and Freshness.objects.get(dataset=dataset).cadence_text == "by 07:00 UTC on weekdays"


def test_cadence_form_needs_a_login(client, orders):
    dataset = Dataset.objects.get(source=orders, name="orders")
    answer = client.post(f"/datasets/{dataset.pk}/cadence/", {"cadence": "hourly"})
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert Freshness.objects.get(dataset=dataset).cadence_text == ""


def test_stale_page_lists_how_late_and_what_reads(client, stale, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = text(client.get("/stale/"))
    assert "public.orders" in page and "2\xa0hours" in page and "every hour" in page
    assert "view public.big_orders" in page  # lineage: the view reading it
    assert 'badge stale' in text(client.get(stale.get_absolute_url()))


def test_stale_badge_in_the_list_and_search(client, stale):
    listing = text(client.get("/datasets/?q=orders"))
    assert listing.count('<span class="badge stale">stale</span>') == 1  # orders, not big_orders
    results = text(client.get("/search/?q=orders"))
    assert results.count('class="badge stale"') == 1


def test_api_freshness_list_and_dataset_detail(client, stale):
    listed = client.get("/api/freshness/?stale=true").json()
    assert [r["dataset_name"] for r in listed["results"]] == ["public.orders"]
    assert listed["results"][0]["state"] == "stale" and listed["results"][0]["cadence"] == "every hour"
    assert [r["dataset_name"] for r in client.get("/api/freshness/?stale=false").json()["results"]] == ["public.big_orders", "public.quiet"]
    detail = client.get(f"/api/datasets/{stale.pk}/").json()["freshness"]
    assert detail["state"] == "stale" and detail["how"] == "counters" and detail["late_s"] > 7000
