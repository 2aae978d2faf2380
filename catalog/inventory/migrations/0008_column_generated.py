import importlib

from django.db import migrations, models

# SQLite adds a NOT NULL column by rebuilding the table, which the triggers of 0003 cannot survive: they are
# dropped for the rebuild and made again, as 0005 does for inventory_dataset.
_columns_reference = importlib.import_module("catalog.inventory.migrations.0003_column_reference_checked_per_statement")
_run = _columns_reference._run


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0007_references_checked_per_statement"),
    ]

    operations = [
        migrations.RunPython(_run({"sqlite": _columns_reference.SQLITE_BACKWARD}), _run({"sqlite": _columns_reference.SQLITE_FORWARD})),
        migrations.AddField(
            model_name="column",
            name="generated",
            field=models.CharField(blank=True, default="", help_text="identity, stored or virtual when the engine fills the column itself; empty otherwise", max_length=20),
        ),
        migrations.RunPython(_run({"sqlite": _columns_reference.SQLITE_FORWARD}), _run({"sqlite": _columns_reference.SQLITE_BACKWARD})),
    ]
