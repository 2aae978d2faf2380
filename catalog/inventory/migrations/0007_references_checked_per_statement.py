import importlib

import django.db.models.deletion
from django.db import migrations, models

# A first crawl of 10,000 tables inserts 10,000 datasets and 10,000 schema versions. Their foreign keys
# (source, owner; dataset, crawl) were checked one row at a time at commit: 50,000 checks, 0.3-0.4 s.
# On PostgreSQL, statement-level triggers keep the same guarantee, each distinct reference checked
# once per statement (as 0006 does for columns): a row naming a missing source, owner, dataset or
# crawl is refused, and deleting one, by any path, deletes (source, dataset) or unsets (owner, crawl)
# what named it, as the foreign keys' ON DELETE would. Django's own cascade usually got there first.
#
# SQLite keeps its real foreign keys (the model says db_constraint=False, so the tables are not
# rebuilt here); a later migration that rebuilds inventory_dataset or inventory_schemaversion on
# SQLite would drop them and must add SQLite triggers instead (see 0003 and 0005).

_CHECK = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{checks}
    RETURN NULL;
END $$
"""
_ONE_CHECK = """    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT {column} FROM canon_new_rows WHERE {column} IS NOT NULL) n
               WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = n.{column})) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "{table}" names a {what} that does not exist';
    END IF;"""
_ON_DELETE = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {statement};
    RETURN NULL;
END $$
"""

REFERENCES = {  # table -> [(column, referenced table, what)]
    "inventory_dataset": [("source_id", "sources_source", "source"), ("owner_id", "inventory_owneridentity", "owner")],
    "inventory_schemaversion": [("dataset_id", "inventory_dataset", "dataset"), ("crawl_id", "sources_crawl", "crawl")],
}
ON_DELETE = [  # (referenced table, function, what its deletion does)
    ("sources_source", "inventory_source_delete_datasets",
     "DELETE FROM inventory_dataset d USING canon_old_rows o WHERE d.source_id = o.id"),
    ("inventory_owneridentity", "inventory_owner_delete_unset",
     "UPDATE inventory_dataset d SET owner_id = NULL FROM canon_old_rows o WHERE d.owner_id = o.id"),
    ("inventory_dataset", "inventory_dataset_delete_versions",
     "DELETE FROM inventory_schemaversion v USING canon_old_rows o WHERE v.dataset_id = o.id"),
    ("sources_crawl", "inventory_crawl_delete_unset",
     "UPDATE inventory_schemaversion v SET crawl_id = NULL FROM canon_old_rows o WHERE v.crawl_id = o.id"),
]

DROP_FOREIGN_KEYS = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.conname, c.conrelid::regclass AS tbl
             FROM pg_catalog.pg_constraint c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND pg_catalog.array_length(c.conkey, 1) = 1
               AND ((c.conrelid = 'inventory_dataset'::regclass AND a.attname IN ('source_id', 'owner_id'))
                 OR (c.conrelid = 'inventory_schemaversion'::regclass AND a.attname IN ('dataset_id', 'crawl_id')))
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
    -- The index on source_id alone: the (source, schema, name) unique index leads with it.
    FOR r IN SELECT i.indexrelid::regclass AS idx
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = 'inventory_dataset'::regclass AND i.indnatts = 1 AND NOT i.indisunique AND a.attname = 'source_id'
    LOOP
        EXECUTE pg_catalog.format('DROP INDEX %s', r.idx);
    END LOOP;
END $$
"""


def _postgresql_forward():
    statements = [DROP_FOREIGN_KEYS]
    for table, references in REFERENCES.items():
        checks = "\n".join(_ONE_CHECK.format(column=c, target=t, table=table, what=w) for c, t, w in references)
        statements.append(_CHECK.format(name=f"{table}_references_exist", checks=checks))
        for event in ("INSERT", "UPDATE"):
            statements.append(f"CREATE TRIGGER {table}_references_{event.lower()} AFTER {event} ON {table} "
                              f"REFERENCING NEW TABLE AS canon_new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_references_exist()")
    for target, function, statement in ON_DELETE:
        statements.append(_ON_DELETE.format(name=function, statement=statement))
        statements.append(f"CREATE TRIGGER {function} AFTER DELETE ON {target} "
                          f"REFERENCING OLD TABLE AS canon_old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return statements


def _postgresql_backward():
    statements = []
    for target, function, _ in ON_DELETE:
        statements += [f"DROP TRIGGER IF EXISTS {function} ON {target}", f"DROP FUNCTION IF EXISTS {function}()"]
    for table in REFERENCES:
        for event in ("insert", "update"):
            statements.append(f"DROP TRIGGER IF EXISTS {table}_references_{event} ON {table}")
        statements.append(f"DROP FUNCTION IF EXISTS {table}_references_exist()")
    for table, references in REFERENCES.items():
        for column, target, _ in references:
            statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
                              f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED")
    statements.append("CREATE INDEX inventory_dataset_source_id ON inventory_dataset (source_id)")
    return statements


_run = importlib.import_module("catalog.inventory.migrations.0003_column_reference_checked_per_statement")._run


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0006_column_reference_checked_per_dataset"),
        ("sources", "0003_crawl_allow_mass_removal_crawl_held_removals_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_run({"postgresql": _postgresql_forward()}), _run({"postgresql": _postgresql_backward()}))],
            state_operations=[
                migrations.AlterField(
                    model_name="dataset",
                    name="owner",
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="datasets", to="inventory.owneridentity"),
                ),
                migrations.AlterField(
                    model_name="dataset",
                    name="source",
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="datasets", to="sources.source"),
                ),
                migrations.AlterField(
                    model_name="schemaversion",
                    name="crawl",
                    field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="schema_versions", to="sources.crawl"),
                ),
                migrations.AlterField(
                    model_name="schemaversion",
                    name="dataset",
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="versions", to="inventory.dataset"),
                ),
            ],
        ),
    ]
