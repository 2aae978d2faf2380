"""Stored fingerprints and signatures made again with the normalisation of mirrored comparisons,
BETWEEN, IN-list and AND/OR operand order and count(1)/sum(1) (commit 6c055e1): until then a new
`20 <= order_total` was not found to be a duplicate of a saved `order_total >= 20`.

It calls the metrics_refingerprint command (the same code `manage.py metrics_refingerprint` runs),
not historical models: the fingerprint is what the duplicate check computes, so only the service can
make it. The service reads and writes only the fields it needs. A later change of the normalisation
adds a migration like this one. Reversing it changes nothing (the old fingerprints are not kept).
"""

import io
import sys

from django.core.management import call_command
from django.db import DatabaseError, migrations, transaction


def refingerprint(apps, schema_editor):
    # The service reads today's models. Should a later migration of inventory or sources (applied
    # after this one on an old database) add a column these models read, the upgrade must not stop
    # here: the work is undone to its savepoint and the command is named for a person to run after.
    try:
        with transaction.atomic():
            call_command("metrics_refingerprint", stdout=io.StringIO())
    except DatabaseError as error:
        sys.stderr.write(f"\n  metrics: stored fingerprints not recomputed ({error.__class__.__name__}); "
                         "run `manage.py metrics_refingerprint` once the migrations are done.\n")


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0001_initial"),
        ("inventory", "0008_column_generated"),
        ("sources", "0006_crawl_heartbeat_lease_holder"),
    ]

    operations = [
        migrations.RunPython(refingerprint, migrations.RunPython.noop, elidable=True),
    ]
