import pytest
from django.core.management import CommandError, call_command

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    return source


def _subscription(user, **target):
    return Subscription.objects.select_related("dataset").get(user=user, **target)


def test_watch_a_source_a_schema_and_a_dataset(shop, plain_user, capsys):
    call_command("watch", "bo", "shop")
    assert capsys.readouterr().out.strip() == "bo watches shop: all changes, immediately"
    call_command("watch", "bo", "shop.sales", "--digest", "--breaking-only")
    assert capsys.readouterr().out.strip() == "bo watches shop.sales: breaking changes, daily digest"
    call_command("watch", "bo", "shop.sales.Order Lines")
    assert capsys.readouterr().out.strip() == "bo watches shop.sales.Order Lines: all changes, immediately"

    source_sub = _subscription(plain_user, source=shop, schema_name="", dataset=None)
    schema_sub = _subscription(plain_user, source=shop, schema_name="sales", dataset=None)
    dataset_sub = _subscription(plain_user, dataset=Dataset.objects.get(name="Order Lines"))
    assert (source_sub.mode, source_sub.breaking_only) == (Subscription.IMMEDIATE, False)
    assert (schema_sub.mode, schema_sub.breaking_only) == (Subscription.DIGEST, True)
    assert (dataset_sub.mode, dataset_sub.schema_name) == (Subscription.IMMEDIATE, "sales")


def test_watching_again_updates_the_one_subscription(shop, plain_user, capsys):
    call_command("watch", "bo", "shop.sales")
    call_command("watch", "bo", "shop.sales", "--breaking-only")
    assert Subscription.objects.filter(user=plain_user).count() == 1
    assert _subscription(plain_user, schema_name="sales").breaking_only is True


@pytest.mark.parametrize("args, message", [
    (["nobody", "shop"], "no user named 'nobody'"),
    (["bo", "warehouse9"], "No source named 'warehouse9'"),
    (["bo", "shop.nope"], "has no schema 'nope'"),
    (["bo", "shop.sales.nope"], "has no dataset sales.nope"),
    (["bo", "shop", "--off", "--digest"], "--off takes no"),
])
def test_watch_errors_name_what_is_wrong(shop, plain_user, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("watch", *args)
    assert not Subscription.objects.exists()


def test_off_removes_a_source_watch_and_silences_a_dataset(shop, plain_user, capsys):
    call_command("watch", "bo", "shop")
    call_command("watch", "bo", "shop", "--off")
    assert capsys.readouterr().out.strip().endswith("bo no longer watches shop")
    assert not Subscription.objects.filter(user=plain_user).exists()
    # On a dataset, "off" is a row: it also stops an owner's default watch of it.
    call_command("watch", "bo", "shop.sales.customers", "--off")
    assert _subscription(plain_user, dataset__name="customers").mode == Subscription.OFF


def test_a_watch_set_by_command_decides_who_is_emailed(shop, plain_user, staff_user, warehouse):
    """bo hears about breaking changes only, ana about everything in the sales schema."""
    call_command("watch", "bo", "shop.sales.customers", "--breaking-only")
    call_command("watch", "ana", "shop.sales")
    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")  # not breaking
    crawl = source_crawl(shop)
    assert crawl.status == "succeeded", crawl.error
    assert list(OutboxMessage.objects.filter(crawl=crawl).values_list("recipient", flat=True)) == ["ana@example.com"]
    assert "phone" in OutboxMessage.objects.get(crawl=crawl).body_text

    warehouse.execute("ALTER TABLE sales.customers DROP COLUMN country")  # breaking
    crawl = source_crawl(shop)
    assert sorted(OutboxMessage.objects.filter(crawl=crawl).values_list("recipient", flat=True)) == ["ana@example.com", "bo@example.com"]
