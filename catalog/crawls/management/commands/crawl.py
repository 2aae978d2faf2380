from django.core.management.base import BaseCommand, CommandError

from catalog.crawls.services import source_crawl
from catalog.sources.models import Crawl, Source


class Command(BaseCommand):
    help = "Crawl one source (or --all) in the foreground and print a one-line summary."
    # An operational command, run often (cron, CI, a worker's shell): it needs the models, not the checks that
    # import every page and API view (`manage.py check` runs those, as do migrate and serve).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?")
        parser.add_argument("--all", action="store_true")

    def handle(self, *args, name, all, **options):
        if all:
            sources = list(Source.objects.all())
        else:
            if not name:
                raise CommandError("name a source, or pass --all")
            sources = list(Source.objects.filter(name=name))
            if not sources:
                raise CommandError(f"no source named '{name}'")
        failed = 0
        for source in sources:
            crawl = source_crawl(source, trigger="command")
            if crawl.status == Crawl.FAILED:
                failed += 1
                self.stderr.write(crawl.summary())
            else:
                self.stdout.write(crawl.summary())
                for warning in crawl.warnings[:20]:
                    self.stdout.write(f"  warning: {warning}")
        if failed:
            raise CommandError(f"{failed} crawl(s) failed")
