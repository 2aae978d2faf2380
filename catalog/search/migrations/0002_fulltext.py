"""Full text and typo matching for the backend in use, outside the models.

PostgreSQL: pg_trgm; a weighted tsvector generated from the document's text fields
(GIN, only over documents that have text); a tsvector and a trigram index over
distinct names, and a pattern index for prefixes.

SQLite: FTS5 tables kept in step with the documents and names by triggers
(external content: the text is stored once, in the model tables), one over
document text (porter stemming), one over name words, one of name trigrams.
A later migration that makes Django rebuild these tables on SQLite (most
AlterField/AddField do) drops the triggers with the old table: recreate them.
"""

from django.db import migrations

# Keep in step with catalog.search.backends.postgres.TEXT_PREDICATE.
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE search_searchdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS (
           setweight(to_tsvector('simple'::regconfig, keywords), 'A')
        || setweight(to_tsvector('simple'::regconfig, context), 'B')
        || setweight(to_tsvector('english'::regconfig, body), 'C')
        || setweight(to_tsvector('simple'::regconfig, extra), 'D')
    ) STORED""",
    "CREATE INDEX search_doc_vector ON search_searchdocument USING gin (vector) WHERE vector <> ''::tsvector",
    "ALTER TABLE search_searchname ADD COLUMN words_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, words)) STORED",
    "CREATE INDEX search_name_words ON search_searchname USING gin (words_vector)",
    "CREATE INDEX search_name_trigram ON search_searchname USING gin (key gin_trgm_ops)",
    "CREATE INDEX search_name_prefix ON search_searchname (key varchar_pattern_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_name_prefix",
    "DROP INDEX IF EXISTS search_name_trigram",
    "DROP INDEX IF EXISTS search_name_words",
    "ALTER TABLE search_searchname DROP COLUMN IF EXISTS words_vector",
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS vector",
]

_HAS_TEXT = "{row}.keywords <> '' OR {row}.context <> '' OR {row}.body <> '' OR {row}.extra <> ''"
_DOC_COLUMNS = "keywords, context, body, extra"


def _doc_values(row):
    return f"{row}.id, {row}.keywords, {row}.context, {row}.body, {row}.extra"


SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE search_fts USING fts5({_DOC_COLUMNS}, content='search_searchdocument', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument WHEN {_HAS_TEXT.format(row='new')} BEGIN
        INSERT INTO search_fts(rowid, {_DOC_COLUMNS}) VALUES ({_doc_values('new')}); END""",
    f"""CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument WHEN {_HAS_TEXT.format(row='old')} BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_DOC_COLUMNS}) VALUES ('delete', {_doc_values('old')}); END""",
    # One trigger for both steps: SQLite does not promise an order between two triggers on the same event.
    f"""CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_DOC_COLUMNS}) SELECT 'delete', {_doc_values('old')}
            WHERE {_HAS_TEXT.format(row='old')};
        INSERT INTO search_fts(rowid, {_DOC_COLUMNS}) SELECT {_doc_values('new')} WHERE {_HAS_TEXT.format(row='new')}; END""",
    "CREATE VIRTUAL TABLE search_name_fts USING fts5(words, content='search_searchname', content_rowid='id', tokenize='unicode61')",
    "CREATE VIRTUAL TABLE search_name_trigram USING fts5(key, content='search_searchname', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER search_name_insert AFTER INSERT ON search_searchname BEGIN
        INSERT INTO search_name_fts(rowid, words) VALUES (new.id, new.words);
        INSERT INTO search_name_trigram(rowid, key) VALUES (new.id, new.key); END""",
    """CREATE TRIGGER search_name_delete AFTER DELETE ON search_searchname BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, words) VALUES ('delete', old.id, old.words);
        INSERT INTO search_name_trigram(search_name_trigram, rowid, key) VALUES ('delete', old.id, old.key); END""",
    """CREATE TRIGGER search_name_update AFTER UPDATE ON search_searchname BEGIN
        INSERT INTO search_name_fts(search_name_fts, rowid, words) VALUES ('delete', old.id, old.words);
        INSERT INTO search_name_trigram(search_name_trigram, rowid, key) VALUES ('delete', old.id, old.key);
        INSERT INTO search_name_fts(rowid, words) VALUES (new.id, new.words);
        INSERT INTO search_name_trigram(rowid, key) VALUES (new.id, new.key); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_name_update",
    "DROP TRIGGER IF EXISTS search_name_delete",
    "DROP TRIGGER IF EXISTS search_name_insert",
    "DROP TABLE IF EXISTS search_name_trigram",
    "DROP TABLE IF EXISTS search_name_fts",
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
