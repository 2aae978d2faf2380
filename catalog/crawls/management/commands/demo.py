"""Set up the embedded default's demo: a warehouse and a data lake, their sources and crawls, a login, a few
metric definitions. It lives with the crawl, on top, because it uses every layer: sources, the crawl, the
inventory's edit services and metrics."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.crawls.services import source_crawl
from catalog.inventory.demo import build_demo_lake, build_demo_warehouse
from catalog.inventory.models import Dataset
from catalog.inventory.services import dataset_describe
from catalog.metrics.demo import demo_metrics
from catalog.sources.models import Source
from catalog.sources.services import source_create


class Command(BaseCommand):
    help = "Build the demo warehouse and data lake, add them as sources 'demo-shop' and 'demo-lake', crawl them, and make a demo login."

    def handle(self, *args, **options):
        path = build_demo_warehouse(settings.VAR_DIR / "demo" / "shop.sqlite")
        source = Source.objects.filter(name="demo-shop").first() or source_create(
            name="demo-shop", url=f"sqlite:///{path}", description="A small online shop: customers, orders, payments, product events."
        )
        crawl = source_crawl(source, trigger="demo")
        self.stdout.write(crawl.summary())

        lake = build_demo_lake(settings.VAR_DIR / "demo" / "lake")
        lake_source = Source.objects.filter(name="demo-lake").first() or source_create(
            name="demo-lake", url=f"file://{lake}",
            description="The shop's data lake: Parquet, CSV and JSON Lines files in Hive-partitioned folders.",
        )
        self.stdout.write(source_crawl(lake_source, trigger="demo").summary())

        users = get_user_model()
        password_file = settings.VAR_DIR / "demo" / "password.txt"
        if not users.objects.filter(username="demo").exists():
            password = secrets.token_urlsafe(9)
            users.objects.create_superuser("demo", "demo@example.com", password)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip() if password_file.exists() else "(set earlier; reset with: python manage.py changepassword demo)"
        dataset = Dataset.objects.present().filter(source=source, name="customers").first()
        if dataset and not dataset.description:
            dataset_describe(dataset, user=None,
                             description="One row per customer who ever signed up. **churned_at** is set when a subscription lapses.")
        demo_metrics(source, users.objects.get(username="demo"))
        self.stdout.write(self.style.SUCCESS(f"Demo login: user 'demo', password '{password}'"))
