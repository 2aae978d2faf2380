"""The Watching page (exclusions, failing mail, link reset) and the unsubscribe pages."""

import pytest
from django.core import signing

from catalog.alerts.models import OutboxMessage, Subscription, SubscriptionExclusion
from catalog.alerts.services import outbox_flush, subscription_create
from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from tests.alerts.conftest import links_by_dataset
from tests.harness import SMTPServer, free_port

pytestmark = pytest.mark.django_db

SMTP_PASSWORD = "smtp-pw-4f9c2a"


@pytest.fixture
def watcher(django_user_model, shop):
    user = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=user, source=shop)
    return user


@pytest.fixture
def dead_smtp(settings):
    """Real SMTP settings pointing at a loopback port where nothing listens (yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "127.0.0.1", port, False, False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", SMTP_PASSWORD
    return port


def test_the_page_of_a_source_link_says_exactly_what_stops_and_watching_can_undo_it(client, shop, watcher, django_user_model):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    path = links_by_dataset(OutboxMessage.objects.get(user=watcher, crawl=source_crawl(shop)).body_text)["sales.customers"]

    page = client.get(path).content.decode()
    assert "Stop these emails?" in page
    assert ("schema-change emails for dataset <strong>shop.sales.customers</strong> from your subscription to source "
            "<strong>shop</strong>. The other datasets of shop still alert.") in page
    assert not SubscriptionExclusion.objects.exists(), "opening the link changes nothing"
    done = client.post(path).content.decode()
    assert "Unsubscribed" in done and "The other datasets of shop still alert." in done
    exclusion = SubscriptionExclusion.objects.get()
    assert Subscription.objects.get(user=watcher).mode == Subscription.IMMEDIATE

    client.force_login(watcher)
    watching = client.get("/watching/").content.decode()
    assert "except" in watching and "sales.customers" in watching and f"/watching/exclusions/{exclusion.pk}/undo/" in watching
    other = django_user_model.objects.create_user("mal", "mal@example.com", "pw")
    client.force_login(other)
    assert client.post(f"/watching/exclusions/{exclusion.pk}/undo/").status_code == 404
    client.force_login(watcher)
    response = client.post(f"/watching/exclusions/{exclusion.pk}/undo/", follow=True)
    assert "Alerts for sales.customers come again from your subscription to shop." in response.content.decode()
    assert not SubscriptionExclusion.objects.exists()


def test_an_owner_link_page_says_it_stops_the_owner_default(client, shop, django_user_model):
    owner = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    customers = Dataset.objects.select_related("owner").get(name="customers")
    customers.owner.user = owner
    customers.owner.save()
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    path = links_by_dataset(OutboxMessage.objects.get(user=owner, crawl=source_crawl(shop)).body_text)["sales.customers"]
    assert "which you hear about by default as its owner" in client.get(path).content.decode()
    client.post(path)
    assert Subscription.objects.get(user=owner, dataset=customers).mode == Subscription.OFF


def test_a_link_in_the_old_format_gets_an_expired_page_not_an_error(client, shop, watcher):
    subscription = Subscription.objects.get(user=watcher)
    old = signing.dumps({"u": watcher.pk, "s": subscription.pk, "d": None}, salt="canon.unsubscribe", compress=True)
    for response in (client.get(f"/unsubscribe/{old}/"), client.post(f"/unsubscribe/{old}/")):
        page = response.content.decode()
        assert response.status_code == 410
        assert "This link has expired" in page and 'href="/watching/"' in page
    subscription.refresh_from_db()
    assert subscription.mode == Subscription.IMMEDIATE


def test_invalidating_links_from_the_watching_page(client, shop, watcher):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    path = links_by_dataset(OutboxMessage.objects.get(user=watcher, crawl=source_crawl(shop)).body_text)["sales.customers"]
    client.force_login(watcher)
    response = client.post("/watching/reset-links/", follow=True)
    assert "no longer work" in response.content.decode()
    assert client.post(path).status_code == 410
    assert not SubscriptionExclusion.objects.exists()


def test_watching_shows_that_mail_is_failing_after_a_real_smtp_failure(client, shop, watcher, dead_smtp):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    source_crawl(shop)
    assert outbox_flush() == 0
    message = OutboxMessage.objects.get(user=watcher)
    assert message.status == OutboxMessage.PENDING and message.attempts == 1
    assert message.first_failed_at is not None and message.last_failed_at == message.first_failed_at

    client.force_login(watcher)
    page = client.get("/watching/").content.decode()
    assert "Email to wes@example.com is failing." in page
    assert "1 email to you could not be delivered yet, failing since" in page
    assert "Canon&#x27;s mail server could not be reached" in page
    assert "ConnectionRefusedError" in page and "Canon keeps retrying, next " in page and "seconds from now" in page
    assert SMTP_PASSWORD not in page

    server = SMTPServer(port=dead_smtp).start()
    try:
        OutboxMessage.objects.update(next_attempt_at=message.created_at)
        assert outbox_flush() == 1
        assert server.wait_for(1)[0]["To"] == "wes@example.com"
    finally:
        server.stop()
    assert "is failing" not in client.get("/watching/").content.decode()


def test_a_second_failure_keeps_when_failing_started(shop, watcher, dead_smtp):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    source_crawl(shop)
    outbox_flush()
    first = OutboxMessage.objects.get(user=watcher)
    OutboxMessage.objects.update(next_attempt_at=first.created_at)
    outbox_flush()
    again = OutboxMessage.objects.get(user=watcher)
    assert again.attempts == 2 and again.first_failed_at == first.first_failed_at and again.last_failed_at > first.last_failed_at


def test_watching_page_queries_do_not_grow_with_exclusions(client, shop, watcher, django_assert_max_num_queries):
    subscription = Subscription.objects.get(user=watcher)
    for dataset in Dataset.objects.filter(schema_name="sales"):
        SubscriptionExclusion.objects.create(subscription=subscription, dataset=dataset)
    subscription_create(user=watcher, source=shop, schema_name="analytics")
    OutboxMessage.objects.create(key="x", kind="changes", user=watcher, recipient="wes@example.com", subject="s", body_text="b",
                                 attempts=1, last_error="SMTPRecipientsRefused: {'wes@example.com': (550, b'5.1.1 unknown')}",
                                 next_attempt_at=subscription.created_at, first_failed_at=subscription.created_at,
                                 last_failed_at=subscription.created_at)
    client.force_login(watcher)
    with django_assert_max_num_queries(8):
        page = client.get("/watching/").content.decode()
    assert page.count("Alert me again</button>") == Dataset.objects.filter(schema_name="sales").count()
    assert "The mail server refused your email address: the mailbox does not exist." in page
