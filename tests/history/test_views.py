import pytest
from django.test import Client

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.alerts.services import subscription_create, unsubscribe_keys_get, unsubscribe_token
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    source_crawl(source)
    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    warehouse.execute("ALTER TABLE sales.customers ALTER COLUMN country TYPE varchar(3)")
    warehouse.execute("DROP TABLE scratch.tmp_import")
    source_crawl(source)
    return source


def test_changes_page_lists_and_filters(client, changed, django_assert_max_num_queries):
    # The changes (count, page), what each hits by column (column edges, view edges, definitions), the column
    # profiles' jumps shown beside them, the source filter: constant, whatever the number of changes.
    with django_assert_max_num_queries(7):
        response = client.get("/changes/")
    body = response.content.decode()
    assert "column added phone (text)" in body
    assert "country: type changed: character(2) → character varying(3)" in body
    assert "dataset removed" in body
    breaking = client.get("/changes/?severity=breaking").content.decode()
    assert "type changed" in breaking and "column added phone" not in breaking
    assert "column added phone" in client.get("/changes/?since=1d&source=shop").content.decode()
    bad = client.get("/changes/?since=yesterday-ish&page=999")
    assert bad.status_code == 200 and "is not a date" in bad.content.decode()


def test_dataset_timeline_and_side_by_side_diff(client, changed):
    customers = Dataset.objects.get(name="customers")
    body = client.get(f"/datasets/{customers.pk}/history/").content.decode()
    assert "Version 2" in body and "Version 1" in body and "column added phone" in body
    diff = client.get(f"/datasets/{customers.pk}/diff/?from=1&to=2").content.decode()
    assert "character varying(3)" in diff and "character(2)" in diff and "diff-added" in diff
    assert client.get(f"/datasets/{customers.pk}/diff/?from=x&to=99").status_code == 200
    removed = Dataset.objects.get(name="tmp_import")
    assert "dataset removed" in client.get(f"/datasets/{removed.pk}/history/").content.decode()


def test_changes_and_versions_api(client, changed):
    data = client.get("/api/changes/?severity=breaking").json()
    kinds = {row["kind"] for row in data["results"]}
    assert kinds == {"type_changed", "dataset_removed"}
    assert client.get("/api/changes/?since=bogus").status_code == 400
    customers = Dataset.objects.get(name="customers")
    only = client.get(f"/api/changes/?dataset={customers.pk}").json()["results"]
    assert {row["dataset_name"] for row in only} == {"sales.customers"}
    versions = client.get(f"/api/datasets/{customers.pk}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [2, 1]
    assert "phone" in {c["name"] for c in versions[0]["schema"]["columns"]}
    assert client.get("/api/datasets/999999/versions/").status_code == 404


def test_watch_pages_and_unsubscribe_without_login(client, changed, django_user_model, warehouse):
    user = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    client.force_login(user)
    customers = Dataset.objects.get(name="customers")
    client.post("/watch/", {"dataset": customers.pk, "mode": "immediate", "breaking_only": "1"})
    client.post("/watch/", {"target": "shop.sales", "mode": "digest"})
    response = client.post("/watch/", {"target": "shop.nope"}, follow=True)
    assert "has no schema" in response.content.decode()
    page = client.get("/watching/").content.decode()
    assert "shop.sales.customers" in page and "shop.sales" in page
    assert Subscription.objects.filter(user=user).count() == 2

    warehouse.execute("ALTER TABLE sales.customers DROP COLUMN phone")
    crawl = source_crawl(changed)
    message = OutboxMessage.objects.get(crawl=crawl, user=user)
    link = message.body_text.split("Stop alerts for this dataset: ")[1].split()[0]
    client.logout()
    path = link.replace("http://127.0.0.1:8000", "")
    # Opening the link (a person, or a mail scanner following every link) only asks.
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 200 and "Stop these emails?" in page and "shop.sales.customers" in page
    assert Subscription.objects.get(user=user, dataset=customers).mode == Subscription.IMMEDIATE
    # The button posts without a CSRF token, as a mail client's one-click unsubscribe does (RFC 8058).
    csrf_checking = Client(enforce_csrf_checks=True)
    response = csrf_checking.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    assert Subscription.objects.get(user=user, dataset=customers).mode == Subscription.OFF
    assert csrf_checking.post(path).status_code == 200, "a second click changes nothing and does not fail"
    assert Subscription.objects.get(user=user, dataset=customers).mode == Subscription.OFF
    assert client.get("/unsubscribe/not-a-token/").status_code == 400
    assert client.post("/unsubscribe/not-a-token/").status_code == 400
    assert client.put(path).status_code == 405


def test_unsubscribe_link_for_a_dataset_that_is_gone_says_so(client, changed, django_user_model):
    user = django_user_model.objects.create_user("gone", "gone@example.com", "pw")
    customers = Dataset.objects.get(name="customers")
    token = unsubscribe_token(user.pk, unsubscribe_keys_get([user.pk])[user.pk], dataset_id=customers.pk)
    assert "shop.sales.customers" in client.get(f"/unsubscribe/{token}/").content.decode()
    customers.delete()
    page = client.get(f"/unsubscribe/{token}/").content.decode()
    assert "Nothing to stop" in page and "already gone" in page
    assert "already gone" in client.post(f"/unsubscribe/{token}/").content.decode()
    assert not Subscription.objects.filter(user=user).exists()


def test_subscriptions_api(client, changed, django_user_model):
    user = django_user_model.objects.create_user("api", "api@example.com", "pw")
    assert client.post("/api/subscriptions/", {"target": "shop"}).status_code in (401, 403)
    client.force_login(user)
    created = client.post("/api/subscriptions/", {"target": "shop.sales.Order Lines", "breaking_only": True}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["watching"] == "shop.sales.Order Lines"
    assert client.post("/api/subscriptions/", {"target": "nope"}, content_type="application/json").status_code == 400
    listed = client.get("/api/subscriptions/").json()["results"]
    assert len(listed) == 1
    assert client.delete(f"/api/subscriptions/{listed[0]['id']}/").status_code == 204
    assert not Subscription.objects.filter(user=user).exists()


def test_outbox_page_shows_failures_to_staff_only(client, changed, django_user_model, staff_user):
    user = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=user, source=changed)
    message = OutboxMessage.objects.create(key="x", kind="changes", user=user, recipient="wes@example.com", subject="s",
                                           body_text="b", attempts=2, last_error="SMTPConnectError: refused",
                                           next_attempt_at=SchemaChange.objects.first().created_at)
    client.force_login(user)
    assert client.get("/outbox/").status_code == 302
    client.force_login(staff_user)
    body = client.get("/outbox/").content.decode()
    assert "SMTPConnectError: refused" in body and "could not be sent yet" in body
    client.post(f"/outbox/{message.pk}/retry/")
    message.refresh_from_db()
    assert message.status == OutboxMessage.SENT
