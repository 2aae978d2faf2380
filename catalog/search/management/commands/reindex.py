"""Rebuild the search index from the catalog, with a progress bar."""

import time

from django.core.management.base import BaseCommand

from catalog.search.rebuild import search_rebuild


class ProgressBar:
    """One line redrawn in place on a terminal; a line every tenth of the way otherwise (logs, CI)."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.started = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_tenth, self.last_draw = -1, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        share = done / total if total else 1.0
        tenth = int(share * 10)
        if self.tty:
            if done < total and now - self.last_draw < 0.1:
                return
        elif tenth == self.last_tenth and done < total:
            return
        self.last_tenth, self.last_draw = tenth, now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 and done < total else 0.0
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {share:4.0%} {done:,}/{total:,} documents  {rate:,.0f}/s  {'ETA %ds' % eta if done < total else '%.1fs' % elapsed}"
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = ("Rebuild the search index: one document per dataset, column, metric definition, owner identity and tag. "
            "Crawls and edits keep the index fresh; this is for a first install, an upgrade or a repair. "
            "It runs in one transaction: stopped part way, the old index stays.")
    requires_system_checks = []  # no checks importing every view, as catalog/crawls/management/commands/crawl.py says

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, quiet=False, **options):
        bar = None if quiet else ProgressBar(self.stdout._out)  # the raw stream: the bar redraws its line with \r
        started = time.monotonic()
        written = search_rebuild(progress=bar)
        if bar:
            bar.finish()
        self.stdout.write(self.style.SUCCESS(f"Indexed {written:,} documents in {time.monotonic() - started:.1f}s."))
