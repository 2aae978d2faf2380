"""Canon's beat scheduler (CELERY_BEAT_SCHEDULER = "catalog.beat.scheduler:Scheduler"): `celery -A catalog beat`
and `worker -B` need no other flag.

Its entries are settings.CELERY_BEAT_SCHEDULE's plus those each provider of settings.CANON_BEAT_ENTRIES returns
(dotted paths, like CANON_CRAWL_STEPS). A provider is a function returning {name: entry}, each entry a dict as in
CELERY_BEAT_SCHEDULE ("task", "schedule", "args", "kwargs", "options") and, if it has one, "since": when the
entry was set or last changed, the earliest its runs count from (an interval set now first runs one interval
from now, not at the next tick, and not again after every restart). Sources provides one entry per enabled crawl
schedule (catalog.sources.beat.beat_entries).

The promises:
- The entries are read again every REFRESH_SECONDS, so a schedule set, changed, paused or cleared takes effect
  within seconds, without restarting beat. An entry that is gone is never sent again.
- The last run of every entry is kept in BeatRun when it is sent (and when an entry without "since" is first
  seen), so a restarted beat neither repeats a run nor skips one: a daily entry runs daily even when beat
  restarts every hour.
- A database error (or a provider failing) while reading is logged and beat goes on with the entries it knew;
  a run it could not record is recorded at the next chance. Beat never dies of it.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from celery import beat
from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

from catalog.beat.models import BeatRun

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


def _reconnect_if_dropped() -> None:
    """A connection the database dropped (or that failed) is closed, to be opened again by the next query.
    (Django's close_old_connections, but leaving alone a connection inside a transaction.)"""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


class Scheduler(beat.Scheduler):
    # Wake up at least this often, to read the entries again (django-celery-beat's DatabaseScheduler did the same).
    max_interval = REFRESH_SECONDS
    refresh_every = REFRESH_SECONDS

    def __init__(self, *args, **kwargs):
        self._refreshed_at: float | None = None
        self._since: dict[str, datetime | None] = {}
        self._unsaved: dict[str, tuple[datetime, int]] = {}  # runs not yet recorded in BeatRun (the database was away)
        self._heap_invalidated = False
        super().__init__(*args, **kwargs)

    # The entries, read again when REFRESH_SECONDS have passed. (celery.beat.Scheduler's own `schedule` property is
    # bound to its functions, so it is defined again here.)
    @property
    def schedule(self) -> dict[str, beat.ScheduleEntry]:
        if self._refreshed_at is None or time.monotonic() - self._refreshed_at >= self.refresh_every:
            self.refresh()
        return self.data

    @schedule.setter
    def schedule(self, value) -> None:
        self.data = value

    def setup_schedule(self) -> None:
        # No celery.backend_cleanup entry (celery's default one): Canon keeps no task results.
        self.refresh()

    def refresh(self) -> bool:
        """Read the entries again. False (and the entries known kept) if they could not be read."""
        self._refreshed_at = time.monotonic()
        try:
            _reconnect_if_dropped()
            wanted = self.read_entries()
            unknown = [name for name in wanted if name not in self.data]
            recorded = {run.name: run for run in BeatRun.objects.filter(name__in=unknown)} if unknown else {}
        except Exception:
            logger.exception("beat: could not read the schedule; going on with the %d entries known", len(self.data))
            return False

        entries, changed = {}, set(self.data) != set(wanted)
        for name, fields in wanted.items():
            fields = dict(fields)
            since = fields.pop("since", None)
            try:
                entry = self.Entry(**dict(fields, name=name, app=self.app))
                entry.is_due()  # a schedule beat could not evaluate would stop it at its next tick
            except Exception:
                logger.exception("beat: entry %r is not valid; left out", name)
                changed = True
                continue
            current = self.data.get(name)
            if current is not None and current == entry and self._since.get(name) == since:
                entries[name] = current  # unchanged: keeps its last run, and its place in the heap
                continue
            changed = True
            last_run_at, count = None, 0
            if current is not None:
                last_run_at, count = current.last_run_at, current.total_run_count
            elif name in recorded:
                last_run_at, count = recorded[name].last_run_at, recorded[name].total_run_count
            if since is not None and (last_run_at is None or last_run_at < since):
                last_run_at = since
            if last_run_at is None:
                # Never run and no "since": it counts from now, and from now after a restart too.
                last_run_at = entry.default_now()
                self._unsaved[name] = (last_run_at, 0)
            entry.last_run_at, entry.total_run_count = last_run_at, count
            entries[name] = entry
        for name in set(self._unsaved) - set(entries):
            del self._unsaved[name]  # gone: its last run no longer matters
        self.data = entries
        self._since = {name: dict(wanted[name]).get("since") for name in entries}
        if changed:
            self._heap_invalidated = True
            logger.info("beat: schedule read, %d entries", len(entries))
        self.sync()
        return True

    def read_entries(self) -> dict[str, dict]:
        """{name: entry fields}: CELERY_BEAT_SCHEDULE's, then each CANON_BEAT_ENTRIES provider's."""
        wanted = {name: dict(fields) for name, fields in (self.app.conf.beat_schedule or {}).items()}
        for path in getattr(settings, "CANON_BEAT_ENTRIES", []):
            wanted.update(import_string(path)())
        return wanted

    def schedules_equal(self, *args, **kwargs) -> bool:
        # An entry replaced by a refresh (its schedule or its last run changed) puts the heap together again.
        if self._heap_invalidated:
            self._heap_invalidated = False
            return False
        return super().schedules_equal(*args, **kwargs)

    def reserve(self, entry: beat.ScheduleEntry) -> beat.ScheduleEntry:
        """The entry is being sent: its next instance replaces it, and its run is recorded."""
        new_entry = next(entry)
        if entry.name in self.data:  # (never puts back an entry a read has just dropped)
            self.data[entry.name] = new_entry
        self._unsaved[entry.name] = (new_entry.last_run_at, new_entry.total_run_count)
        self.sync()
        return new_entry

    def sync(self) -> None:
        """Record the runs not recorded yet; on a database error, keep them for the next try."""
        for name, (last_run_at, count) in list(self._unsaved.items()):
            try:
                BeatRun.objects.update_or_create(name=name, defaults={"last_run_at": last_run_at, "total_run_count": count})
            except Exception:
                logger.exception("beat: could not record the run of %r; will try again", name)
                return
            if self._unsaved.get(name) == (last_run_at, count):
                del self._unsaved[name]

    @property
    def info(self) -> str:
        return f"    . entries: settings and {', '.join(getattr(settings, 'CANON_BEAT_ENTRIES', [])) or 'no provider'}"
