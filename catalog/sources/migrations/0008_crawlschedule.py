# Source.schedule pointed at a django-celery-beat PeriodicTask; Canon no longer installs django-celery-beat, and a
# source's schedule is now its own CrawlSchedule row, read by Canon's beat (catalog/beat).
#
# A new database never had the column (0003 no longer adds it). A database migrated before has
# sources_source.schedule_id and django-celery-beat's tables: each source's schedule is copied out of them (raw SQL:
# the interval in seconds from "every" x "period", the cron from its five fields, enabled), then the column is
# dropped. django-celery-beat's own tables are left in place, unread (README: they can be dropped).

import math

import django.db.models.deletion
from django.db import migrations, models

SECONDS_IN = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 0.000001}

OLD_SCHEDULES = """
SELECT s.id, t.enabled, i.every, i.period, c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week
FROM sources_source s
JOIN django_celery_beat_periodictask t ON t.id = s.schedule_id
LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
ORDER BY s.id
"""


def copy_schedules_from_celery_beat(apps, schema_editor):
    """On a database migrated before: CrawlSchedule rows from django-celery-beat's, then sources_source.schedule_id
    dropped. Nothing to do on a new one."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "sources_source")}
    if "schedule_id" not in columns:
        return
    CrawlSchedule = apps.get_model("sources", "CrawlSchedule")
    tables = set(connection.introspection.table_names())
    copied = []
    if {"django_celery_beat_periodictask", "django_celery_beat_intervalschedule", "django_celery_beat_crontabschedule"} <= tables:
        with connection.cursor() as cursor:
            cursor.execute(OLD_SCHEDULES)
            rows = cursor.fetchall()
        for source_id, enabled, every, period, *cron in rows:
            if every is not None and period in SECONDS_IN:
                seconds = max(1, math.ceil(every * SECONDS_IN[period]))
                copied.append(CrawlSchedule(source_id=source_id, every_seconds=seconds, cron="", enabled=bool(enabled)))
            elif cron[0] is not None:
                copied.append(CrawlSchedule(source_id=source_id, every_seconds=None, cron=" ".join(cron), enabled=bool(enabled)))
            else:  # Canon only ever wrote intervals and crontabs
                print(f"\n  source #{source_id}: its schedule was neither an interval nor a cron; not copied, set it again")
    CrawlSchedule.objects.bulk_create(copied)
    if connection.vendor == "sqlite":
        # SQLite cannot drop a UNIQUE or foreign key column: the table is made again from the model as it is now
        # (without the column), its rows copied, as Django does for any field SQLite cannot alter.
        schema_editor._remake_table(apps.get_model("sources", "Source"))
    else:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name('sources_source')} DROP COLUMN "
                              f"{schema_editor.quote_name('schedule_id')}")


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0007_crawl_started_by_retry_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='CrawlSchedule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('every_seconds', models.PositiveIntegerField(blank=True, null=True)),
                ('cron', models.CharField(blank=True, help_text='minute hour day-of-month month day-of-week', max_length=200)),
                ('enabled', models.BooleanField(default=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('source', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='schedule', to='sources.source')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('cron', ''), ('every_seconds__isnull', False)), models.Q(('every_seconds__isnull', True), models.Q(('cron', ''), _negated=True)), _connector='OR'), name='sources_crawlschedule_interval_or_cron')],
            },
        ),
        migrations.RunPython(copy_schedules_from_celery_beat, migrations.RunPython.noop),
    ]
