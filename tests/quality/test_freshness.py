"""Freshness from PostgreSQL's write counters, cadences, and stale / fresh again emailed once each."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.utils import timezone

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.alerts.services import outbox_flush
from catalog.inventory.models import Dataset, OwnerIdentity
from catalog.quality.models import DataChange, Freshness
from catalog.quality.services import CadenceRefused, freshness_cadence_set, freshness_check
from catalog.quality.tasks import freshness_check_task
from tests.quality.conftest import crawled, write

pytestmark = pytest.mark.django_db


def freshness(source, name) -> Freshness:
    return Freshness.objects.get(dataset__source=source, dataset__name=name)


def test_first_crawl_is_a_baseline_then_moving_counters_are_a_change(orders):
    f = freshness(orders, "orders")
    assert f.inserted == 2 and f.last_changed_at is None and not DataChange.objects.exists()
    assert freshness(orders, "big_orders").unknown_reason.startswith("A view holds no data")

    before = orders.last_success_at
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30); UPDATE public.orders SET amount = 11 WHERE id = 1")
    crawl = crawled(orders)
    f = freshness(orders, "orders")
    assert (f.inserted, f.updated, f.how) == (3, 1, Freshness.COUNTERS)
    assert f.last_changed_at == crawl.started_at and f.changed_after == before
    [change] = DataChange.objects.filter(dataset=f.dataset)
    assert change.detail == "+1 inserted, +1 updated" and change.crawl == crawl
    assert freshness(orders, "quiet").last_changed_at is None  # nothing written: no change claimed


def test_an_unchanged_recrawl_writes_no_freshness(orders):
    with CaptureQueriesContext(connection) as queries:
        crawled(orders)
    written = [q["sql"] for q in queries.captured_queries if "quality_" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")]
    assert written == []
    assert not DataChange.objects.exists()


def test_counters_reset_are_a_new_baseline_not_a_change(orders):
    Freshness.objects.filter(dataset__name="orders").update(inserted=1000)  # as before a statistics reset
    crawled(orders)
    assert freshness(orders, "orders").inserted == 2 and not DataChange.objects.exists()


def test_engine_statistics_can_be_turned_off(orders, settings):
    settings.CANON_ENGINE_STATISTICS = False
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    f = freshness(orders, "orders")
    assert f.inserted == 2 and f.last_changed_at is None and "no write counters" in f.unknown_reason


def test_a_cadence_set_by_a_person_makes_a_late_dataset_stale_and_mails_once_each_way(orders, staff_user, plain_user):
    owner = OwnerIdentity.objects.get(source=orders, name=Dataset.objects.get(name="orders").owner.name)
    owner.user = staff_user
    owner.save()
    Subscription.objects.create(user=plain_user, source=orders)
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    dataset = Dataset.objects.get(source=orders, name="orders")
    with pytest.raises(CadenceRefused, match="hourly"):
        freshness_cadence_set(dataset, "whenever", staff_user)
    f = freshness_cadence_set(dataset, "hourly", staff_user)
    assert f.deadline == f.last_changed_at + timedelta(minutes=75) and f.stale_since is None

    later = f.deadline + timedelta(minutes=1)
    messages = freshness_check(later)
    assert sorted(m.recipient for m in messages) == ["ana@example.com", "bo@example.com"]
    assert {m.kind for m in messages} == {"stale"}
    f.refresh_from_db()
    assert f.stale_since == f.deadline and f.stale_episode == 1
    assert freshness_check(later + timedelta(hours=3)) == []  # still stale: no repeat
    assert freshness_check(later) == []
    crawled(orders)  # an unchanged crawl sends nothing either
    assert OutboxMessage.objects.filter(kind="stale").count() == 2
    outbox_flush()
    stale_mail = [m for m in mail.outbox if "is stale" in m.subject]
    assert len(stale_mail) == 2 and "hourly" not in stale_mail[0].subject and "every hour" in stale_mail[0].body
    assert "/unsubscribe/" in stale_mail[0].body

    write(orders.warehouse, "DELETE FROM public.orders WHERE id = 3")
    crawled(orders)  # the data changed: fresh again, told once
    f.refresh_from_db()
    assert f.stale_since is None
    assert OutboxMessage.objects.filter(kind="fresh").count() == 2
    crawled(orders)
    assert freshness_check(timezone.now()) == []
    assert OutboxMessage.objects.filter(kind="fresh").count() == 2


def test_a_subscription_turned_off_hears_nothing(orders, plain_user):
    dataset = Dataset.objects.get(source=orders, name="orders")
    Subscription.objects.create(user=plain_user, source=orders, dataset=dataset, mode=Subscription.OFF)
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    f = freshness_cadence_set(dataset, "every 30 minutes")
    assert freshness_check(f.deadline + timedelta(seconds=1)) == []
    f.refresh_from_db()
    assert f.stale_since is not None  # stale all the same, on the page


def test_unknown_is_never_stale(orders):
    quiet = Dataset.objects.get(source=orders, name="quiet")
    f = freshness_cadence_set(quiet, "hourly")
    assert f.last_changed_at is None and f.deadline is None
    assert freshness_check(timezone.now() + timedelta(days=30)) == []
    assert not Freshness.objects.stale().exists()


def test_the_beat_task_checks_without_a_crawl(orders, staff_user):
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)
    dataset = Dataset.objects.get(source=orders, name="orders")
    freshness_cadence_set(dataset, "every 30 minutes")
    Freshness.objects.filter(dataset=dataset).update(deadline=timezone.now() - timedelta(minutes=1))
    assert freshness_check_task() == 0  # nobody listens, but it is stale now
    assert Freshness.objects.stale().get().dataset == dataset


def test_a_learned_cadence_comes_from_regular_changes(orders):
    dataset = Dataset.objects.get(source=orders, name="orders")
    start = timezone.now() - timedelta(days=6)
    DataChange.objects.bulk_create([DataChange(dataset=dataset, changed_at=start + timedelta(days=i), how="engine") for i in range(5)])
    write(orders.warehouse, "INSERT INTO public.orders VALUES (3, 30)")
    crawled(orders)  # a sixth change, a day or so after the fifth
    f = freshness(orders, "orders")
    assert f.learned_every_s == 86400 and f.learned_around is not None
    assert f.deadline == f.last_changed_at + timedelta(days=1, hours=6)
