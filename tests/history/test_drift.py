"""A real PostgreSQL warehouse altered between crawls: what history and alerts record."""

import pytest
from django.core import mail

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.alerts.services import outbox_flush, subscription_create, unsubscribe_with_token
from catalog.core import crypto
from catalog.history import diff
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.sources.models import Crawl
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.shop import build_real_warehouse, build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


@pytest.fixture
def source(shop):
    source = source_create(name="shop", url=shop.url)
    first = source_crawl(source)
    assert first.status == Crawl.SUCCEEDED, first.error
    return source


@pytest.fixture
def watcher(django_user_model, source):
    user = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=user, source=source)
    return user


def changes_of(crawl):
    return {(c.dataset_name, c.kind, c.column, c.severity) for c in SchemaChange.objects.filter(crawl=crawl)}


def test_first_crawl_is_a_baseline_with_no_changes_and_no_alert(shop, django_user_model):
    source = source_create(name="fresh", url=shop.url)
    user = django_user_model.objects.create_user("w", "w@example.com", "pw")
    subscription_create(user=user, source=source)
    crawl = source_crawl(source)
    assert crawl.datasets_added == 7
    assert not SchemaChange.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_only_a_crawl_that_queued_mail_asks_the_broker_for_a_send(source, shop, watcher, django_capture_on_commit_callbacks):
    from celery.signals import before_task_publish

    published = []

    def record(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            source_crawl(source)  # unchanged
        assert published == [], "nothing to send: no message to the broker"
        shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
        with django_capture_on_commit_callbacks(execute=True):
            source_crawl(source)
        assert published == ["canon.outbox_flush"]
    finally:
        before_task_publish.disconnect(record)


def test_every_kind_of_alteration_is_recorded_with_its_severity(source, shop, watcher):
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.execute("ALTER TABLE sales.customers DROP COLUMN tags")
    shop.execute("ALTER TABLE sales.orders ALTER COLUMN status TYPE text")
    shop.execute("ALTER TABLE sales.orders ALTER COLUMN ordered_at SET NOT NULL")
    shop.execute("ALTER TABLE sales.customers RENAME COLUMN email TO email_address")
    shop.execute("DROP TABLE scratch.tmp_import")
    shop.execute("CREATE TABLE scratch.fresh (id int)")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    got = changes_of(crawl)
    assert {
        ("sales.customers", diff.COLUMN_ADDED, "phone", diff.NON_BREAKING),
        ("sales.customers", diff.COLUMN_REMOVED, "tags", diff.BREAKING),
        ("sales.customers", diff.COLUMN_RENAMED, "email_address", diff.BREAKING),
        ("sales.orders", diff.TYPE_CHANGED, "status", diff.BREAKING),
        ("sales.orders", diff.NULLABILITY_CHANGED, "ordered_at", diff.BREAKING),
        ("scratch.tmp_import", diff.DATASET_REMOVED, "", diff.BREAKING),
        ("scratch.fresh", diff.DATASET_ADDED, "", diff.NON_BREAKING),
    } <= got
    # The rename is a rename: no drop-and-add of email.
    assert not any(c[2] in ("email",) for c in got)
    customers = Dataset.objects.get(name="customers")
    assert customers.versions.count() == 2
    assert SchemaChange.objects.filter(dataset=customers).exclude(version=customers.versions.first()).count() == 0


def test_one_email_per_recipient_per_crawl_grouped_by_dataset(source, shop, watcher):
    shop.execute("ALTER TABLE sales.customers ADD COLUMN a int, ADD COLUMN b int, ADD COLUMN c int")
    shop.execute("ALTER TABLE sales.orders DROP COLUMN status")
    crawl = source_crawl(source)
    messages = list(OutboxMessage.objects.filter(crawl=crawl))
    assert len(messages) == 1
    message = messages[0]
    assert message.recipient == "wes@example.com"
    assert "2 datasets changed, 1 breaking change" in message.subject
    assert message.body_text.count("sales.customers") >= 1 and "sales.orders" in message.body_text
    assert "BREAKING column removed status" in message.body_text
    assert "/unsubscribe/" in message.body_text and "<a href=" in message.body_html
    assert outbox_flush() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].alternatives[0][1] == "text/html"
    assert outbox_flush() == 0, "a sent message is never sent again"
    assert len(mail.outbox) == 1


def test_the_same_crawl_applied_twice_creates_nothing_twice(source, shop, watcher):
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    source_crawl(source)
    changes, messages = SchemaChange.objects.count(), OutboxMessage.objects.count()
    again = source_crawl(source)
    assert (again.datasets_changed, again.datasets_added, again.datasets_removed) == (0, 0, 0)
    assert (SchemaChange.objects.count(), OutboxMessage.objects.count()) == (changes, messages)


def test_a_failed_crawl_creates_no_change_and_no_alert(source, shop, watcher, pg):
    shop.execute("DROP TABLE scratch.tmp_import")
    source.url_encrypted = crypto.encrypt(f"postgresql://postgres:{pg.password}@127.0.0.1:1/{shop.name}")
    source.save()
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED
    assert not SchemaChange.objects.exists() and not OutboxMessage.objects.exists()
    assert Dataset.objects.present().count() == 7, "an unreachable warehouse is never 'all tables removed'"


def test_a_mass_removal_is_held_until_a_person_confirms(source, shop, watcher):
    for name in ("sales.customers CASCADE", '"sales"."Order Lines"', "sales.events", "scratch.tmp_import"):
        shop.execute(f"DROP TABLE {name}")
    held = source_crawl(source)
    assert held.status == Crawl.HELD
    assert "would remove" in held.error
    assert "sales.customers" in held.held_removals
    assert Dataset.objects.present().count() == 7
    assert not SchemaChange.objects.exists() and not OutboxMessage.objects.exists()
    confirmed = source_crawl(source, allow_mass_removal=True)
    assert confirmed.status == Crawl.SUCCEEDED and confirmed.datasets_removed == 4
    assert SchemaChange.objects.filter(kind=diff.DATASET_REMOVED).count() == 4


def test_breaking_only_and_owner_defaults(source, shop, django_user_model):
    picky = django_user_model.objects.create_user("picky", "picky@example.com", "pw")
    subscription_create(user=picky, source=source, breaking_only=True)
    owner = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    identity = Dataset.objects.get(name="customers").owner
    identity.user = owner
    identity.save()
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    crawl = source_crawl(source)
    recipients = set(OutboxMessage.objects.filter(crawl=crawl).values_list("recipient", flat=True))
    assert recipients == {"olga@example.com"}, "owners watch their datasets; a non-breaking change skips breaking-only watchers"
    shop.execute("ALTER TABLE sales.customers DROP COLUMN phone")
    crawl = source_crawl(source)
    assert set(OutboxMessage.objects.filter(crawl=crawl).values_list("recipient", flat=True)) == {"olga@example.com", "picky@example.com"}


def test_unsubscribe_token_stops_the_owner_default_and_subscriptions(source, shop, django_user_model):
    owner = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    identity = Dataset.objects.get(name="customers").owner
    identity.user = owner
    identity.save()
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    crawl = source_crawl(source)
    body = OutboxMessage.objects.get(crawl=crawl).body_text
    token = body.split("/unsubscribe/")[1].split("/")[0]
    assert unsubscribe_with_token(token).dataset.endswith("sales.customers")
    assert Subscription.objects.get(user=owner).mode == Subscription.OFF
    shop.execute("ALTER TABLE sales.customers DROP COLUMN phone")
    crawl = source_crawl(source)
    assert not OutboxMessage.objects.filter(crawl=crawl).exists()


def test_failing_then_recovered_emails_once_each(source, pg, shop, settings):
    settings.CANON_FAILING_AFTER = 2
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.create_user("src", "src@example.com", "pw")
    source.owners.add(owner)
    good = source.url_encrypted
    source.url_encrypted = crypto.encrypt(f"postgresql://postgres:{pg.password}@127.0.0.1:1/{shop.name}")
    source.save()
    for _ in range(4):
        assert source_crawl(source).status == Crawl.FAILED
    failing = OutboxMessage.objects.filter(kind="crawl_failing")
    assert failing.count() == 1 and "connection refused" in failing.get().body_text
    source.url_encrypted = good
    source.save()
    source_crawl(source)
    source_crawl(source)
    assert OutboxMessage.objects.filter(kind="crawl_recovered").count() == 1


def test_digest_collects_a_day_of_changes_into_one_email(source, shop, django_user_model, settings):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.alerts.services import digests_send

    settings.CANON_DIGEST_HOUR = 0
    reader = django_user_model.objects.create_user("dee", "dee@example.com", "pw")
    sub = subscription_create(user=reader, source=source, schema_name="sales", mode=Subscription.DIGEST)
    Subscription.objects.filter(pk=sub.pk).update(created_at=timezone.now() - timedelta(hours=2))
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    source_crawl(source)
    shop.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    source_crawl(source)
    shop.execute("ALTER TABLE scratch.tmp_import ADD COLUMN other text")  # outside the watched schema
    source_crawl(source)
    assert not OutboxMessage.objects.filter(recipient="dee@example.com", kind="changes").exists()
    created = digests_send()
    assert len(created) == 1
    body = created[0].body_text
    assert "sales.customers" in body and "sales.orders" in body and "tmp_import" not in body
    assert digests_send() == [], "one digest a day"


def test_the_alert_names_the_view_columns_that_read_a_changed_column_and_no_view_that_does_not(source, shop, watcher):
    shop.execute("ALTER TABLE sales.orders DROP COLUMN status")  # no view reads it
    crawl = source_crawl(source)
    body = OutboxMessage.objects.get(crawl=crawl).body_text
    assert "column removed" in body and "breaks:" not in body
    shop.execute("ALTER TABLE sales.orders RENAME COLUMN amount TO amount_eur")
    crawl = source_crawl(source)
    body = OutboxMessage.objects.get(crawl=crawl).body_text
    orders_part = body.split("sales.orders")[1]
    assert "breaks: view analytics.big_orders.amount, view analytics.revenue_by_day.revenue" in orders_part



def test_a_column_becoming_an_identity_is_recorded_and_shown(source, shop, watcher, client):
    shop.execute("ALTER TABLE sales.orders ALTER COLUMN order_id ADD GENERATED ALWAYS AS IDENTITY")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert changes_of(crawl) == {
        ("sales.orders", diff.DEFAULT_CHANGED, "order_id", diff.NON_BREAKING),
        ("sales.orders", diff.GENERATED_CHANGED, "order_id", diff.BREAKING),  # inserts naming it now fail
    }
    orders = Dataset.objects.get(schema_name="sales", name="orders")
    assert {c.name: c.generated for c in orders.columns.all()}["order_id"] == "identity"
    page = client.get(f"/datasets/{orders.pk}/").content.decode()
    assert '<span class="badge generated" title="filled by the engine from a counter">identity</span>' in page
    api = client.get(f"/api/datasets/{orders.pk}/").json()
    assert {c["name"]: c["generated"] for c in api["columns"]} == {
        "order_id": "identity", "customer_id": "", "amount": "", "status": "", "ordered_at": "",
    }


def test_identity_columns_crawled_before_generation_was_recorded_make_no_change(source, shop, watcher):
    """A catalog upgraded from before "generated" was recorded: the next crawl that reads the columns
    writes a new version (the document has the key now) and reports nothing, since the default said it."""
    customers = Dataset.objects.get(schema_name="sales", name="customers")
    version = customers.versions.get()
    document = version.schema
    for column in document["columns"]:
        column.pop("generated", None)
    version.schema = document
    version.save()
    Dataset.objects.filter(pk=customers.pk).update(fingerprint="from-before", schema_signature="")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert customers.versions.count() == 2
    assert changes_of(crawl) == set()
    assert not OutboxMessage.objects.exists()


def test_views_crawled_before_their_sql_was_read_qualified_make_no_change(warehouse):
    """A catalog upgraded from when view SQL was read under the role's search path (tables in public unqualified):
    the next crawl stores the qualified SQL and reports nothing."""
    build_real_warehouse(warehouse)
    source = source_create(name="real", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    view = Dataset.objects.get(schema_name="Reporting", name="Monthly Revenue")
    version = view.versions.get()
    document = version.schema
    assert "public.payment" in document["definition"]
    document["definition"] = document["definition"].replace("public.", "")
    version.schema = document
    version.save()
    Dataset.objects.filter(pk=view.pk).update(definition=document["definition"], fingerprint="from-before", schema_signature="")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert view.versions.count() == 2
    assert changes_of(crawl) == set()
