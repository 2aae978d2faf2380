"""Unsubscribe links: what a forger can do with the SECRET_KEY, what a link stops, and undoing it."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from catalog.alerts.models import OutboxMessage, Subscription, SubscriptionExclusion, UnsubscribeKey
from catalog.alerts.services import (
    UnsubscribeLinkExpired,
    digests_send,
    exclusion_delete,
    subscription_create,
    unsubscribe_describe,
    unsubscribe_links_reset,
    unsubscribe_token,
    unsubscribe_with_token,
)
from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from tests.alerts.conftest import links_by_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher(django_user_model, shop):
    user = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=user, source=shop)
    return user


def alert_for(user, crawl) -> OutboxMessage:
    return OutboxMessage.objects.get(crawl=crawl, user=user)


def test_a_link_forged_with_the_secret_key_alone_stops_nothing(shop, watcher, django_user_model, client):
    subscription = Subscription.objects.get(user=watcher)
    owner = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    customers = Dataset.objects.select_related("owner").get(name="customers")
    customers.owner.user = owner
    customers.owner.save()
    # What anyone holding the SECRET_KEY can sign: the old link format, and the new one with a guessed nonce.
    forged = [
        signing.dumps({"u": watcher.pk, "s": subscription.pk, "d": None}, salt="canon.unsubscribe", compress=True),
        unsubscribe_token(watcher.pk, "guessed", subscription_id=subscription.pk, dataset_id=customers.pk),
        signing.dumps({"u": owner.pk, "s": None, "d": customers.pk}, salt="canon.unsubscribe", compress=True),
        unsubscribe_token(owner.pk, "guessed", dataset_id=customers.pk),
    ]
    UnsubscribeKey.objects.create(user=owner)  # the owner has a key: a guess still does not match it
    for token in forged:
        with pytest.raises(UnsubscribeLinkExpired):
            unsubscribe_with_token(token)
        response = client.post(f"/unsubscribe/{token}/")
        assert response.status_code == 410 and "This link has expired" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.mode == Subscription.IMMEDIATE
    assert not SubscriptionExclusion.objects.exists()
    assert not Subscription.objects.filter(user=owner).exists()


def test_a_link_from_an_email_names_its_nonce_and_works(shop, watcher):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    body = alert_for(watcher, source_crawl(shop)).body_text
    token = links_by_dataset(body)["sales.customers"].split("/")[2]
    assert signing.loads(token, salt="canon.unsubscribe")["n"] == Subscription.objects.get(user=watcher).nonce
    assert unsubscribe_with_token(token).dataset == "shop.sales.customers"


def test_each_subscription_has_its_own_nonce(shop, django_user_model):
    nonces = {subscription_create(user=django_user_model.objects.create_user(f"u{i}", f"u{i}@example.com", "pw"), source=shop).nonce
              for i in range(3)}
    assert len(nonces) == 3 and all(len(n) >= 22 for n in nonces)


def test_a_source_link_stops_that_dataset_only_and_the_rest_of_the_source_still_alerts(shop, watcher):
    warehouse = shop.warehouse
    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    links = links_by_dataset(alert_for(watcher, source_crawl(shop)).body_text)
    assert set(links) == {"sales.customers", "sales.orders"}
    token = links["sales.customers"].split("/")[2]

    described = unsubscribe_describe(token)
    assert (described.how, described.dataset, described.via, described.via_scope) == (
        "exclusion", "shop.sales.customers", "shop", "source")
    unsubscribe_with_token(token)
    unsubscribe_with_token(token)  # a second click changes nothing
    subscription = Subscription.objects.get(user=watcher)
    assert subscription.mode == Subscription.IMMEDIATE, "the source subscription stays on"
    assert list(subscription.exclusions.values_list("dataset__name", flat=True)) == ["customers"]

    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN mobile text")
    warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note2 text")
    message = alert_for(watcher, source_crawl(shop))
    assert set(links_by_dataset(message.body_text)) == {"sales.orders"}
    assert "customers" not in message.body_text and message.subject == "[Canon] shop: 1 dataset changed"

    exclusion_delete(subscription.exclusions.get())
    warehouse.execute("ALTER TABLE sales.customers DROP COLUMN mobile")
    assert "sales.customers" in links_by_dataset(alert_for(watcher, source_crawl(shop)).body_text)


def test_a_schema_link_excludes_under_the_schema_subscription(shop, django_user_model):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "pw")
    subscription_create(user=user, source=shop)
    schema = subscription_create(user=user, source=shop, schema_name="sales")
    shop.warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    token = links_by_dataset(alert_for(user, source_crawl(shop)).body_text)["sales.orders"].split("/")[2]
    assert unsubscribe_with_token(token).via == "shop.sales"
    assert schema.exclusions.get().dataset.name == "orders"
    # The schema subscription decides for its datasets: the broader source subscription does not bring it back.
    shop.warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note2 text")
    assert not OutboxMessage.objects.filter(crawl=source_crawl(shop)).exists()


def test_a_dataset_subscription_link_turns_that_subscription_off(shop, django_user_model):
    user = django_user_model.objects.create_user("dora", "dora@example.com", "pw")
    customers = Dataset.objects.get(name="customers")
    subscription = subscription_create(user=user, source=shop, dataset=customers)
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    token = links_by_dataset(alert_for(user, source_crawl(shop)).body_text)["sales.customers"].split("/")[2]
    assert unsubscribe_with_token(token).how == "subscription"
    subscription.refresh_from_db()
    assert subscription.mode == Subscription.OFF and not SubscriptionExclusion.objects.exists()


def test_resetting_links_makes_the_ones_already_sent_expire(shop, watcher):
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    old = links_by_dataset(alert_for(watcher, source_crawl(shop)).body_text)["sales.customers"].split("/")[2]
    before = Subscription.objects.get(user=watcher).nonce
    assert unsubscribe_links_reset(watcher) == 1
    assert Subscription.objects.get(user=watcher).nonce != before
    with pytest.raises(UnsubscribeLinkExpired):
        unsubscribe_describe(old)
    with pytest.raises(UnsubscribeLinkExpired):
        unsubscribe_with_token(old)
    assert not SubscriptionExclusion.objects.exists()
    shop.warehouse.execute("ALTER TABLE sales.customers DROP COLUMN phone")
    new = links_by_dataset(alert_for(watcher, source_crawl(shop)).body_text)["sales.customers"].split("/")[2]
    assert unsubscribe_with_token(new).how == "exclusion"


def test_an_owner_link_is_checked_against_the_owner_key_and_reset_with_it(shop, django_user_model):
    owner = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    customers = Dataset.objects.select_related("owner").get(name="customers")
    customers.owner.user = owner
    customers.owner.save()
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    token = links_by_dataset(alert_for(owner, source_crawl(shop)).body_text)["sales.customers"].split("/")[2]
    assert signing.loads(token, salt="canon.unsubscribe")["n"] == UnsubscribeKey.objects.get(user=owner).nonce
    assert unsubscribe_describe(token).how == "owner"
    unsubscribe_links_reset(owner)
    with pytest.raises(UnsubscribeLinkExpired):
        unsubscribe_with_token(token)
    assert not Subscription.objects.filter(user=owner).exists()


def test_a_digest_leaves_out_an_excluded_dataset(shop, django_user_model, settings):
    settings.CANON_DIGEST_HOUR = 0
    reader = django_user_model.objects.create_user("dee", "dee@example.com", "pw")
    sub = subscription_create(user=reader, source=shop, mode=Subscription.DIGEST)
    Subscription.objects.filter(pk=sub.pk).update(created_at=timezone.now() - timedelta(hours=2))
    shop.warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    source_crawl(shop)
    SubscriptionExclusion.objects.create(subscription=sub, dataset=Dataset.objects.get(name="orders"))
    [digest] = digests_send()
    links = links_by_dataset(digest.body_text)
    assert set(links) == {"sales.customers"}
    assert unsubscribe_describe(links["sales.customers"].split("/")[2]).via == "shop"
