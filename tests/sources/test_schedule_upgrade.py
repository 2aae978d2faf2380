"""Upgrading a catalog whose schedules were django-celery-beat's (migration sources/0008_crawlschedule), on the
catalog database of the run (PostgreSQL, or SQLite with CANON_TEST_DB=sqlite), and a new catalog migrating
without django-celery-beat installed."""

from __future__ import annotations

import importlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from catalog.sources.models import CrawlSchedule, Source
from catalog.sources.beat import beat_entries
from catalog.sources.schedules import source_schedule_describe
from catalog.sources.services import source_create

upgrade = importlib.import_module("catalog.sources.migrations.0008_crawlschedule")

REPO = Path(__file__).resolve().parents[2]

# django-celery-beat's tables as its migrations made them, with the columns the upgrade reads.
OLD_TABLES = [
    "CREATE TABLE django_celery_beat_intervalschedule (id integer PRIMARY KEY, every integer NOT NULL, period varchar(24) NOT NULL)",
    "CREATE TABLE django_celery_beat_crontabschedule (id integer PRIMARY KEY, minute varchar(240) NOT NULL, hour varchar(96) NOT NULL,"
    " day_of_week varchar(64) NOT NULL, day_of_month varchar(124) NOT NULL, month_of_year varchar(64) NOT NULL,"
    " timezone varchar(63) NOT NULL)",
    "CREATE TABLE django_celery_beat_periodictask (id integer PRIMARY KEY, name varchar(200) NOT NULL UNIQUE,"
    " task varchar(200) NOT NULL, enabled boolean NOT NULL,"
    " interval_id integer NULL REFERENCES django_celery_beat_intervalschedule (id) DEFERRABLE INITIALLY DEFERRED,"
    " crontab_id integer NULL REFERENCES django_celery_beat_crontabschedule (id) DEFERRABLE INITIALLY DEFERRED)",
]
# Source.schedule as 0003 added it: a nullable, unique foreign key to PeriodicTask.
OLD_COLUMN = {
    "postgresql": ["ALTER TABLE sources_source ADD COLUMN schedule_id integer NULL UNIQUE"
                   " REFERENCES django_celery_beat_periodictask (id) DEFERRABLE INITIALLY DEFERRED"],
    # SQLite cannot add a UNIQUE column: the unique index it would have, made apart (what stops a plain DROP COLUMN).
    "sqlite": ["ALTER TABLE sources_source ADD COLUMN schedule_id integer NULL"
               " REFERENCES django_celery_beat_periodictask (id) DEFERRABLE INITIALLY DEFERRED",
               "CREATE UNIQUE INDEX sources_source_schedule_id_uniq ON sources_source (schedule_id)"],
}


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def _run_upgrade() -> None:
    state = MigrationLoader(connection).project_state(("sources", "0008_crawlschedule"))
    with connection.schema_editor() as editor:
        upgrade.copy_schedules_from_celery_beat(state.apps, editor)


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_copies_each_sources_schedule_out_of_celery_beat_and_drops_the_column(warehouse, django_user_model):
    owner = django_user_model.objects.create_user("owner", "owner@example.com")
    hourly, nightly, paused, unscheduled = (source_create(name=n, url=warehouse.url) for n in ("hourly", "nightly", "paused", "unscheduled"))
    hourly.owners.add(owner)
    try:
        with connection.cursor() as cursor:
            for statement in OLD_TABLES + OLD_COLUMN[connection.vendor]:
                cursor.execute(statement)
            cursor.execute("INSERT INTO django_celery_beat_intervalschedule (id, every, period) VALUES (1, 2, 'hours'), (2, 30, 'minutes')")
            cursor.execute("INSERT INTO django_celery_beat_crontabschedule VALUES (1, '15', '3', '1-5', '*', '*', 'UTC')")
            cursor.execute("INSERT INTO django_celery_beat_periodictask (id, name, task, enabled, interval_id, crontab_id) VALUES"
                           " (7, 'canon: crawl source #1', 'canon.crawl_source', %s, 1, NULL),"
                           " (8, 'canon: crawl source #2', 'canon.crawl_source', %s, NULL, 1),"
                           " (9, 'canon: crawl source #3', 'canon.crawl_source', %s, 2, NULL)", [True, True, False])
            for source, task in ((hourly, 7), (nightly, 8), (paused, 9)):
                cursor.execute("UPDATE sources_source SET schedule_id = %s WHERE id = %s", [task, source.pk])
        assert "schedule_id" in _columns("sources_source")

        _run_upgrade()

        assert "schedule_id" not in _columns("sources_source")
        rows = {(s.source.name, s.every_seconds, s.cron, s.enabled) for s in CrawlSchedule.objects.select_related("source")}
        assert rows == {("hourly", 7200, "", True), ("nightly", None, "15 3 * * 1-5", True), ("paused", 1800, "", False)}
        describe = {s.name: source_schedule_describe(s) for s in Source.objects.select_related("schedule")}
        assert describe == {"hourly": "every 120 minutes", "nightly": "cron 15 3 * * 1-5 (UTC)",
                            "paused": "every 30 minutes (paused)", "unscheduled": "not scheduled"}
        assert sorted(beat_entries()) == sorted(f"canon-crawl-source-{s.pk}" for s in (hourly, nightly))
        # The sources are whole: their rows, owners, and what their deletion takes with it.
        assert list(Source.objects.get(pk=hourly.pk).owners.all()) == [owner]
        assert Source.objects.get(pk=unscheduled.pk).url == warehouse.url
        Source.objects.get(pk=paused.pk).delete()
        assert CrawlSchedule.objects.count() == 2
        source_create(name="after", url=warehouse.url)  # the table takes new rows
        # Run again (a migration re-run by hand): nothing left to do.
        _run_upgrade()
        assert CrawlSchedule.objects.count() == 2
    finally:
        with connection.cursor() as cursor:
            if "schedule_id" in _columns("sources_source"):
                state = MigrationLoader(connection).project_state(("sources", "0008_crawlschedule"))
                with connection.schema_editor() as editor:
                    if connection.vendor == "sqlite":
                        editor._remake_table(state.apps.get_model("sources", "Source"))
                    else:
                        editor.execute("ALTER TABLE sources_source DROP COLUMN schedule_id")
            for table in ("django_celery_beat_periodictask", "django_celery_beat_crontabschedule", "django_celery_beat_intervalschedule"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


def test_a_new_catalog_migrates_without_django_celery_beat(tmp_path):
    database = tmp_path / "new.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "CANON_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "sources_crawlschedule" in tables and "beat_beatrun" in tables
    assert not any(t.startswith("django_celery_beat") for t in tables)
    applied = {row[0] for row in sqlite3.connect(database).execute("SELECT DISTINCT app FROM django_migrations")}
    assert "django_celery_beat" not in applied
