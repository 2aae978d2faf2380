"""PostgreSQL: GIN indexes without a pending list. With fastupdate on, new entries wait in a list that every search
scans linearly until a vacuum merges them; the index is written in small increments (and rebuilt whole by reindex),
so searches should never pay for that."""

from django.db import migrations

INDEXES = ["search_doc_vector", "search_name_words", "search_name_trigram"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext")]

    operations = [migrations.RunPython(forwards, backwards)]
