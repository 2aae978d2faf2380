"""python manage.py impact FILE [--source NAME] [--json]: what a migration or a dbt manifest would break.

Exit status for CI: 0 nothing breaks, 1 something breaks, 2 the input cannot be read (the message names
the statement and where). Reads only the catalog; writes nothing.
"""

import json as jsonlib
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from catalog.core.sourceurl import scrub

from catalog.impact.ddl import ImpactInputError
from catalog.impact.services import answer_json, impact_check_ddl, impact_check_manifest, impact_source


class Command(BaseCommand):
    help = ("What a change would break before it ships: a DDL file (ALTER TABLE ... DROP/RENAME/ALTER COLUMN TYPE, DROP "
            "TABLE/VIEW, CREATE OR REPLACE VIEW) in a source's dialect, or a dbt manifest.json compared with the one imported. "
            "Exit 0: nothing breaks; 1: something breaks; 2: the input cannot be read.")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .sql file of DDL, or a dbt manifest.json ('-' reads standard input)")
        parser.add_argument("--source", help="The source the DDL is for (needed when the catalog holds more than one)")
        parser.add_argument("--json", action="store_true", help="Answer in JSON")

    def handle(self, *args, file, source=None, json=False, **options):
        try:
            text = self._read(file)
            if file.endswith(".json") or text.lstrip().startswith("{"):
                answer = impact_check_manifest(text)
            else:
                answer = impact_check_ddl(impact_source(source), text)
        except DatabaseError as exc:  # no catalog to read (not migrated, not reachable): not an answer CI may take for "breaks"
            exc = ImpactInputError(f"the catalog cannot be read ({exc.__class__.__name__}: {scrub(str(exc).splitlines()[0] if str(exc) else '')})")
            if json:
                self.stdout.write(answer_json_error(exc, file))
            self.stderr.write(f"impact: {exc}")
            sys.exit(2)
        except ImpactInputError as exc:
            if json:
                self.stdout.write(answer_json_error(exc, file))
            self.stderr.write(f"impact: {file}: {exc}")
            sys.exit(2)
        self.stdout.write(answer_json(answer) if json else answer.as_text())
        sys.exit(1 if answer.breaks else 0)

    @staticmethod
    def _read(file: str) -> str:
        if file == "-":
            return sys.stdin.read()
        path = Path(file)
        if not path.is_file():
            raise ImpactInputError(f"{file} is not a file")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ImpactInputError("the file is not UTF-8 text") from None
        except OSError as exc:
            raise ImpactInputError(f"the file cannot be read: {exc.strerror or exc}") from None


def answer_json_error(exc: ImpactInputError, file: str) -> str:
    return jsonlib.dumps({"file": file, **exc.as_dict()}, indent=2)
