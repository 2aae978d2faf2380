"""The embedded default's demo (`manage.py demo`, run by `make run`): the first page already shows what Canon does."""

import io

import pytest
from django.core.management import call_command

from catalog.alerts.models import OutboxMessage
from catalog.duplicates.models import DuplicateGroup
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.metrics.models import MetricDefinition
from catalog.quality.models import DatasetProfile, Freshness
from catalog.sources.models import Crawl, Source

pytestmark = pytest.mark.django_db(transaction=True)


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_crawls_the_shop_before_and_after_a_release_and_a_second_run_adds_nothing(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    output = _demo()
    assert "demo-shop released" in output and "Demo login: user 'demo'" in output
    shop = Source.objects.get(name="demo-shop")
    assert list(shop.crawls.order_by("pk").values_list("status", flat=True)) == [Crawl.SUCCEEDED, Crawl.SUCCEEDED]

    # History, a diff and breaking changes between the two crawls.
    changes = {(c.dataset.name, c.severity) for c in SchemaChange.objects.filter(dataset__source=shop)}
    assert changes == {("customers", "breaking"), ("products", "breaking"), ("orders", "non_breaking")}
    # A certified definition and one the release broke (it reads the renamed column).
    assert MetricDefinition.objects.filter(status=MetricDefinition.CERTIFIED).count() == 2
    churn = MetricDefinition.objects.get(name="churn_rate")
    assert churn.broken
    # The alerts those changes sent the demo login, who watches the shop.
    subjects = sorted(OutboxMessage.objects.filter(recipient="demo@example.com").values_list("subject", flat=True))
    assert subjects == ["[Canon] demo-lake: lake/finance.exchange_rates is stale",
                        "[Canon] demo-shop: 3 datasets changed, 2 breaking changes", "[Canon] demo-shop: breaks metric churn_rate"]
    # The same orders three times (a snapshot table, and the lake's Parquet export): one group of copies.
    group = DuplicateGroup.objects.get()
    assert group.original.name == "orders"
    assert {m.dataset.name for m in group.members.all()} == {"orders_backup_2024", "orders"} and group.size == 3
    # A feed that stopped three days ago, expected daily: stale. Column profiles from the lake's Parquet footers.
    late = Freshness.objects.get(stale_since__isnull=False)
    assert late.dataset.name == "exchange_rates" and late.cadence_text == "daily"
    assert DatasetProfile.objects.filter(dataset__source__name="demo-lake").exists()
    # Row counts and sizes from SQLite's own statistics; the lake's owner is the demo login.
    customers = Dataset.objects.get(source=shop, name="customers")
    assert customers.row_estimate == 400 and customers.size_bytes > 0
    lake = Dataset.objects.filter(source__name="demo-lake")
    assert lake.exists() and all(d.owner is not None and d.owner.user.username == "demo" for d in lake)

    before = (SchemaChange.objects.count(), OutboxMessage.objects.count(), Crawl.objects.filter(source=shop).count())
    assert "released" not in _demo()
    assert (SchemaChange.objects.count(), OutboxMessage.objects.count()) == before[:2]
    assert Crawl.objects.filter(source=shop).count() == before[2] + 1, "a recrawl, unchanged"
