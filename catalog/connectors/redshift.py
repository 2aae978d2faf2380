"""Amazon Redshift: its own catalog views, read in bulk over the PostgreSQL protocol.

URL: redshift://user:password@cluster.xxxx.region.redshift.amazonaws.com:5439/dev

Redshift answers pg_catalog only partly and keeps the truth in its system views:
svv_all_schemas (local and external schemas), svv_tables, svv_columns,
svv_table_info (rows and size of local tables, in 1 MB blocks), pg_views for
view SQL, and pg_get_late_binding_view_cols() for the columns of late-binding
views (WITH NO SCHEMA BINDING), which exist in no other catalog. Seven queries
per crawl, whatever the number of tables, in a READ ONLY transaction with a
statement timeout. The row parsing is separate from the connection so that it
can be tested without a cluster.
"""

from __future__ import annotations

import psycopg

from catalog.connectors.base import (
    EXTERNAL_TABLE,
    TABLE,
    VIEW,
    ColumnMeta,
    Connector,
    ConnectorError,
    DatasetMeta,
    ExtractRequest,
    Extraction,
    schema_in_scope,
)
from catalog.connectors.postgres import describe_error

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_internal", "pg_automv", "pg_auto_copy", "pg_mv"})

QUERIES = {
    "schemas": """
        SELECT schema_name, schema_type FROM svv_all_schemas
        WHERE database_name = current_database() ORDER BY schema_name""",
    "tables": """
        SELECT t.table_schema, t.table_name, t.table_type, t.remarks
        FROM svv_tables t WHERE t.table_catalog = current_database() AND t.table_schema = ANY(%(schemas)s)""",
    "owners": """
        SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner), c.oid
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'v') AND n.nspname = ANY(%(schemas)s)""",
    "table_info": """
        SELECT "schema", "table", tbl_rows, size, diststyle, sortkey1
        FROM svv_table_info WHERE "database" = current_database() AND "schema" = ANY(%(schemas)s)""",
    "columns": """
        SELECT table_schema, table_name, column_name, ordinal_position, data_type, character_maximum_length,
               numeric_precision, numeric_scale, is_nullable, column_default, remarks
        FROM svv_columns WHERE table_catalog = current_database() AND table_schema = ANY(%(schemas)s)""",
    "late_binding_columns": """
        SELECT view_schema, view_name, col_name, col_type, col_num
        FROM pg_get_late_binding_view_cols() cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)
        WHERE view_schema = ANY(%(schemas)s)""",
    "primary_keys": """
        SELECT kcu.table_schema, kcu.table_name, kcu.column_name
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name
        WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = ANY(%(schemas)s)""",
    "views": """
        SELECT schemaname, viewname, definition FROM pg_views WHERE schemaname = ANY(%(schemas)s)""",
}

# pg_views prints a view's SQL as pg_get_viewdef does: a table the session's search path finds comes out
# unqualified, and lineage cannot know which path that was. The views are read last, under a search path of
# pg_catalog only (always searched anyway; Redshift refuses to create objects under an empty path, so this
# one is spelled out), so every other name comes out schema-qualified.
QUALIFIED_NAMES_SQL = "SELECT set_config('search_path', 'pg_catalog', true)"

MB = 1024 * 1024


def native_type(data_type, length, precision, scale) -> str:
    """svv_columns splits the type; put it back as Redshift spells it in DDL."""
    text = (data_type or "").lower()
    if text in ("character varying", "character", "varbyte", "binary varying") and length:
        return f"{text}({length})"
    if text == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    return text


def available_schemas(rows) -> list[str]:
    return sorted(name for name, _type in rows if name not in SYSTEM_SCHEMAS and not name.startswith("pg_temp"))


def build_extraction(rows: dict[str, list[tuple]], schemas: list[str], warnings: list[str]) -> Extraction:
    """The answers to QUERIES (tuples in their column order) as one Extraction."""
    by_key: dict[tuple[str, str], DatasetMeta] = {}
    for schema, name, table_type, remarks in rows["tables"]:
        kind = {"VIEW": VIEW, "EXTERNAL TABLE": EXTERNAL_TABLE}.get(table_type, TABLE)
        by_key[(schema, name)] = DatasetMeta(schema=schema, name=name, kind=kind, comment=remarks or "")
    for schema, name, owner, oid in rows["owners"]:
        meta = by_key.get((schema, name))
        if meta is not None:
            meta.owner, meta.native_id = owner or "", str(oid)
    for schema, name, tbl_rows, size_mb, diststyle, sortkey in rows["table_info"]:
        meta = by_key.get((schema, name))
        if meta is None:
            continue
        meta.row_estimate = int(tbl_rows) if tbl_rows is not None else None
        meta.size_bytes = int(size_mb) * MB if size_mb is not None else None
        if diststyle:
            meta.properties["diststyle"] = diststyle
        if sortkey:
            meta.properties["sortkey1"] = sortkey
    primary = {tuple(r) for r in rows["primary_keys"]}
    for schema, name, column, position, data_type, length, precision, scale, nullable, default, remarks in rows["columns"]:
        meta = by_key.get((schema, name))
        if meta is None:
            continue
        meta.columns.append(ColumnMeta(
            name=column, data_type=native_type(data_type, length, precision, scale), position=int(position),
            nullable=nullable == "YES", default=default, is_primary_key=(schema, name, column) in primary, comment=remarks or "",
            generated="identity" if (default or "").startswith('"identity"(') else "",  # IDENTITY(seed, step) columns
        ))
    late: dict[tuple[str, str], list[ColumnMeta]] = {}
    for schema, name, column, col_type, number in rows["late_binding_columns"]:
        late.setdefault((schema, name), []).append(ColumnMeta(name=column, data_type=col_type, position=int(number)))
    for schema, name, definition in rows["views"]:
        meta = by_key.get((schema, name))
        if meta is None:
            continue
        meta.definition = (definition or "").strip()
        if (schema, name) in late:
            meta.properties["late_binding"] = True
            if not meta.columns:
                meta.columns = late[(schema, name)]
    for meta in by_key.values():
        meta.columns.sort(key=lambda c: c.position)
    datasets = sorted(by_key.values(), key=lambda d: (d.schema, d.name))
    return Extraction(datasets=datasets, schemas=schemas, warnings=warnings)


class RedshiftConnector(Connector):
    engine_label = "Amazon Redshift"
    may_return_nul = False  # PostgreSQL text cannot hold NUL

    def connect(self):
        url = self.url
        try:
            conn = psycopg.connect(
                host=url.host or "localhost", port=url.port or 5439, dbname=url.database or "dev", user=url.username or None,
                password=url.password or None, connect_timeout=self.connect_timeout, application_name="canon",
                sslmode=url.query.get("sslmode", "require"), autocommit=True,
            )
            conn.execute(f"SET statement_timeout TO {int(self.statement_timeout * 1000)}")
        except psycopg.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, url).replace(":5432", f":{url.port or 5439}"))) from None
        conn.autocommit = False
        conn.read_only = True
        return conn

    def test(self) -> str:
        with self.connect() as conn:
            version, database = conn.execute("SELECT version(), current_database()").fetchone()
        return f"{version.split(',')[0]}, database {database}"

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        include, exclude = list(request.include or ()), list(request.exclude or ())
        try:
            with self.connect() as conn, conn.transaction():
                available = available_schemas(conn.execute(QUERIES["schemas"]).fetchall())
                schemas = [s for s in available if schema_in_scope(s, include, exclude)]
                params = {"schemas": schemas}
                rows = {}
                for name, sql in QUERIES.items():
                    if name == "views":
                        conn.execute(QUALIFIED_NAMES_SQL)
                    if name != "schemas":
                        rows[name] = conn.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        return build_extraction(rows, schemas, self.scope_warnings(available, include))
