"""The audit log is append-only in the database too, for everyone: an UPDATE of an entry is refused, and on
PostgreSQL so is a DELETE, except inside the pruning transaction, which holds a row in audit_auditprunepermit.

SQLite gets the UPDATE guard only: its test databases are emptied between tests with DELETE (PostgreSQL's
with TRUNCATE, which a row trigger does not see), and a SQLite trigger cannot tell a pruning transaction.
"""

from django.db import migrations

POSTGRES = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_auditprunepermit) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: entries are never changed, and only pruning removes old ones'
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""
SQLITE = """
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries are never changed'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS audit_entry_no_update;"


def forwards(apps, schema_editor):
    sql = {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    sql = {"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
