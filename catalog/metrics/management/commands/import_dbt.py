"""python manage.py import_dbt PATH: a dbt project's target/ folder into Canon."""

from django.core.management.base import BaseCommand, CommandError

from catalog.metrics.dbt import DbtImportError
from catalog.metrics.services import metrics_import_dbt


class Command(BaseCommand):
    help = ("Import a dbt target/ folder (manifest.json, semantic_manifest.json): model and source descriptions and owners onto "
            "the crawled datasets they build, and metrics as definitions. Re-importing updates them; nothing is duplicated.")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("path", help="The dbt project's target/ folder (or the project folder holding it)")

    def handle(self, *args, path, **options):
        try:
            report = metrics_import_dbt(path)
        except DbtImportError as exc:
            raise CommandError(f"{exc}") from None
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        for skipped in report.skipped:
            self.stdout.write(self.style.WARNING(f"skipped metric {skipped}"))
        if report.relations_unmatched:
            self.stdout.write(f"not in the catalog (crawl their source, then import again): {', '.join(report.relations_unmatched)}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
