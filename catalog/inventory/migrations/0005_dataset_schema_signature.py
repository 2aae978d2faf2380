import importlib

from django.db import migrations, models

# SQLite adds a NOT NULL column by rebuilding the table, which its triggers cannot survive: those of
# 0003 name inventory_dataset (the rebuild drops it before renaming the copy) or sit on it. They are
# dropped for the rebuild and made again, as 0003 makes them. Any later change that rebuilds
# inventory_dataset on SQLite needs the same.
_columns_reference = importlib.import_module("catalog.inventory.migrations.0003_column_reference_checked_per_statement")
_run = _columns_reference._run


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0004_schema_versions_as_text"),
    ]

    operations = [
        migrations.RunPython(_run({"sqlite": _columns_reference.SQLITE_BACKWARD}), _run({"sqlite": _columns_reference.SQLITE_FORWARD})),
        migrations.AddField(
            model_name="dataset",
            name="schema_signature",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(_run({"sqlite": _columns_reference.SQLITE_FORWARD}), _run({"sqlite": _columns_reference.SQLITE_BACKWARD})),
    ]
