"""Every dataset's signature and every group of copies made again: after installing the duplicates app on a catalog
that already holds datasets (crawls keep them up to date after that)."""

import time

from django.core.management.base import BaseCommand

from catalog.duplicates.services import duplicates_detect_all


class Command(BaseCommand):
    help = "Find copies among every dataset in the catalog (a full pass; each crawl then does its own datasets)."
    requires_system_checks = []  # see catalog/crawls/management/commands/crawl.py

    def handle(self, *args, **options):
        started = time.monotonic()
        refresh = duplicates_detect_all()
        for warning in refresh.warnings:
            self.stderr.write(f"warning: {warning}")
        copies = sum(group.members.count() for group in refresh.groups)
        self.stdout.write(f"{len(refresh.groups)} groups, {copies} copies, in {time.monotonic() - started:.1f} s")
