from django.core.management.base import BaseCommand, CommandError

from catalog.sources.models import Source
from catalog.sources.schedules import ScheduleError, source_schedule_clear, source_schedule_describe, source_schedule_set


class Command(BaseCommand):
    help = ('Set when a source is crawled: schedule SOURCE --every MINUTES | --cron "0 * * * *" | --off. '
            "With no option, print its schedule. Celery beat runs it.")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("source")
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--every", type=int, metavar="MINUTES", help="crawl every MINUTES minutes")
        what.add_argument("--cron", metavar="EXPR", help="crawl on a cron schedule: 'minute hour day-of-month month day-of-week'")
        what.add_argument("--off", action="store_true", help="no scheduled crawls")

    def handle(self, *args, source, every, cron, off, **options):
        found = Source.objects.select_related("schedule").filter(name=source).first()
        if found is None:
            raise CommandError(f"no source named '{source}'")
        if off:
            had = source_schedule_clear(found)
            self.stdout.write(f"{found.name}: not scheduled" + ("" if had else " (it was not)"))
            return
        if every is not None or cron is not None:
            try:
                source_schedule_set(found, every_minutes=every, cron=cron)
            except ScheduleError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(f"{found.name}: {source_schedule_describe(found)}")
