import json

from django.core.management.base import BaseCommand, CommandError

from catalog.sources.services import SourceError, source_create, source_test_connection


class Command(BaseCommand):
    help = "Add a source by URL, e.g. add_source warehouse postgresql://user:pass@host:5432/db"
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("--include", action="append", default=[], help="Schema glob to crawl (repeatable)")
        parser.add_argument("--exclude", action="append", default=[], help="Schema glob to skip (repeatable)")
        parser.add_argument("--description", default="")
        parser.add_argument("--test", action="store_true", help="Test the connection before saving")
        parser.add_argument("--options", default="", help='Connector settings as JSON, e.g. \'{"path_templates": ["{dataset}/dt={dt}/*.parquet"]}\'')

    def handle(self, *args, name, url, include, exclude, description, test, **options):
        try:
            connector_options = json.loads(options.get("options") or "{}")
        except json.JSONDecodeError as exc:
            raise CommandError(f"--options is not valid JSON: {exc}") from None
        if not isinstance(connector_options, dict):
            raise CommandError("--options must be a JSON object")
        if test:
            ok, message = source_test_connection(url)
            if not ok:
                raise CommandError(f"connection test failed: {message}")
            self.stdout.write(f"connection ok: {message}")
        try:
            source = source_create(name=name, url=url, include=include, exclude=exclude, description=description,
                                   options=connector_options)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"added source {source.name}: {source.url_display}"))
