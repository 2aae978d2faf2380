"""PostgreSQL: every text field of a document read with the English configuration. One configuration on both sides
means one lexeme per typed word to look up (not an OR of two), which keeps text search cheap on common words."""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN vector",
    """ALTER TABLE search_searchdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS (
           setweight(to_tsvector('english'::regconfig, keywords), 'A')
        || setweight(to_tsvector('english'::regconfig, context), 'B')
        || setweight(to_tsvector('english'::regconfig, body), 'C')
        || setweight(to_tsvector('english'::regconfig, extra), 'D')
    ) STORED""",
    "CREATE INDEX search_doc_vector ON search_searchdocument USING gin (vector) WITH (fastupdate = off) "
    "WHERE vector <> ''::tsvector",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN vector",
    """ALTER TABLE search_searchdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS (
           setweight(to_tsvector('simple'::regconfig, keywords), 'A')
        || setweight(to_tsvector('simple'::regconfig, context), 'B')
        || setweight(to_tsvector('english'::regconfig, body), 'C')
        || setweight(to_tsvector('simple'::regconfig, extra), 'D')
    ) STORED""",
    "CREATE INDEX search_doc_vector ON search_searchdocument USING gin (vector) WITH (fastupdate = off) "
    "WHERE vector <> ''::tsvector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_gin_fastupdate_off")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
