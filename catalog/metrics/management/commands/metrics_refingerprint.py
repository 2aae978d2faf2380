"""python manage.py metrics_refingerprint: every definition's fingerprint and signature as the current SQL normalisation makes them."""

from django.core.management.base import BaseCommand

from catalog.metrics.services import metrics_refingerprint


class Command(BaseCommand):
    help = ("Compute every metric definition's duplicate fingerprint and signature again with the current SQL normalisation "
            "(run after a change of it; a data migration does it for the changes that ship with Canon). A definition whose "
            "SQL no longer passes the check keeps its values.")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, help="Definitions read and written at a time")

    def handle(self, *args, batch_size, **options):
        changed, unreadable = metrics_refingerprint(batch_size=max(1, batch_size))
        self.stdout.write(self.style.SUCCESS(f"{changed} definition(s) given a new fingerprint or signature"))
        if unreadable:
            self.stdout.write(self.style.WARNING(f"{unreadable} definition(s) kept theirs: their SQL no longer passes the check"))
