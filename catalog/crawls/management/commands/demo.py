"""Set up the embedded default's demo: a warehouse and a data lake, their sources and crawls, a login, a few
metric definitions, and a release of the warehouse between two crawls, so the first page already shows a
schema history, breaking changes, a broken definition and the alert they sent. It lives with the crawl, on top,
because it uses every layer: sources, the crawl, the inventory's edit services, metrics and alerts.

Run again (each `make run`), it only recrawls what it made: the story is told once."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.alerts.services import subscription_create
from catalog.crawls.services import source_crawl
from catalog.inventory.demo import LATE_FOLDER, age_demo_lake, apply_demo_release, build_demo_lake, build_demo_warehouse
from catalog.inventory.models import Dataset, OwnerIdentity
from catalog.inventory.services import dataset_describe, owner_identity_map
from catalog.metrics.demo import demo_metrics
from catalog.quality.services import freshness_cadence_set
from catalog.sources.models import Source
from catalog.sources.services import source_create


class Command(BaseCommand):
    help = "Build the demo warehouse and data lake, add them as sources 'demo-shop' and 'demo-lake', crawl them, and make a demo login."

    def handle(self, *args, **options):
        user = self._demo_user()
        path = settings.VAR_DIR / "demo" / "shop.sqlite"
        source = Source.objects.filter(name="demo-shop").first()
        release = source is None or not path.exists()
        if release:  # the warehouse as it was before its release; crawled, then released and crawled again below
            build_demo_warehouse(path)
        if source is None:
            source = source_create(name="demo-shop", url=f"sqlite:///{path}",
                                   description="A small online shop: customers, orders, payments, product events.")
            # The demo login watches the shop, so the release below sends it an alert (in var/mail/ and the outbox).
            subscription_create(user=user, source=source)
        self.stdout.write(source_crawl(source, trigger="demo").summary())

        lake = build_demo_lake(settings.VAR_DIR / "demo" / "lake")
        age_demo_lake(lake)  # one feed stopped three days ago: with a daily cadence, below, it is stale
        lake_source = Source.objects.filter(name="demo-lake").first() or source_create(
            name="demo-lake", url=f"file://{lake}",
            description="The shop's data lake: Parquet, CSV and JSON Lines files in Hive-partitioned folders.",
        )
        self.stdout.write(source_crawl(lake_source, trigger="demo").summary())
        # The lake's files belong to whoever owns the folder: that owner is the demo login.
        for identity in OwnerIdentity.objects.filter(source=lake_source, user__isnull=True):
            owner_identity_map(identity, user=user)

        late = Dataset.objects.present().filter(source=lake_source, name=LATE_FOLDER.rsplit("/", 1)[1]).first()
        if late is not None and not getattr(getattr(late, "freshness", None), "cadence_text", ""):
            freshness_cadence_set(late, "daily", user=user)  # the feed is expected every day: it is late, and says so

        dataset = Dataset.objects.present().filter(source=source, name="customers").first()
        if dataset and not dataset.description:
            dataset_describe(dataset, user=None,
                             description="One row per customer who ever signed up. The churn date is set when a subscription lapses.")
        demo_metrics(source, user)
        if release:
            apply_demo_release(path)
            self.stdout.write("demo-shop released: customers.churned_at renamed, products.active dropped, orders.discount_amount added")
            self.stdout.write(source_crawl(source, trigger="demo").summary())
        self.stdout.write(self.style.SUCCESS(f"Demo login: user 'demo', password '{self._password}'"))

    def _demo_user(self):
        users = get_user_model()
        password_file = settings.VAR_DIR / "demo" / "password.txt"
        password_file.parent.mkdir(parents=True, exist_ok=True)
        if not users.objects.filter(username="demo").exists():
            password = secrets.token_urlsafe(9)
            users.objects.create_superuser("demo", "demo@example.com", password)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self._password = (password_file.read_text().strip() if password_file.exists()
                          else "(set earlier; reset with: python manage.py changepassword demo)")
        return users.objects.get(username="demo")
