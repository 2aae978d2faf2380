"""Snowflake: one database per source, read through its INFORMATION_SCHEMA in bulk.

URL: snowflake://user:password@account/DATABASE?warehouse=WH&role=ROLE, or with
?private_key=<PEM or base64 DER>[&private_key_passphrase=..] instead of a password
(both are secret parameters: encrypted at rest, never shown).

Four catalog queries per crawl whatever the number of tables: SHOW TERSE SCHEMAS,
then TABLES, COLUMNS and VIEWS of the database's INFORMATION_SCHEMA, plus the
primary keys (SHOW PRIMARY KEYS IN DATABASE; per schema where an account or the
emulator does not answer that). Snowflake has no read-only session: give Canon a
role with USAGE and REFERENCES only. Every statement has STATEMENT_TIMEOUT_IN_SECONDS.
"""

from __future__ import annotations

import base64
import math
import re
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization

from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.connectors.sampling import Budget, aggregates, profile_from_aggregates
from catalog.connectors.base import (
    EXTERNAL_TABLE,
    MATERIALIZED_VIEW,
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

KINDS = {"BASE TABLE": TABLE, "VIEW": VIEW, "MATERIALIZED VIEW": MATERIALIZED_VIEW, "EXTERNAL TABLE": EXTERNAL_TABLE,
         "TEMPORARY TABLE": TABLE, "EVENT TABLE": TABLE, "DYNAMIC TABLE": TABLE}

SCHEMAS_SQL = "SHOW TERSE SCHEMAS IN DATABASE {db}"

TABLES_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_OWNER, ROW_COUNT, BYTES, LAST_ALTERED, COMMENT,
       IS_TRANSIENT, CLUSTERING_KEY
FROM {db}.INFORMATION_SCHEMA.TABLES
WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
"""

COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH,
       NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, COLUMN_DEFAULT, COMMENT, IS_IDENTITY
FROM {db}.INFORMATION_SCHEMA.COLUMNS
WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
"""

VIEWS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, TABLE_OWNER, COMMENT
FROM {db}.INFORMATION_SCHEMA.VIEWS
WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
"""

PRIMARY_KEYS_SQL = "SHOW PRIMARY KEYS IN DATABASE {db}"
PRIMARY_KEYS_IN_SCHEMA_SQL = "SHOW PRIMARY KEYS IN SCHEMA {db}.{schema}"


def quote_identifier(name: str) -> str:
    """An object name exactly as the catalog stores it."""
    return '"' + name.replace('"', '""') + '"'


def database_identifier(name: str) -> str:
    """Snowflake folds unquoted names to upper case: a lower-case database in a URL means the upper-case one."""
    if name == name.lower() and re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        name = name.upper()
    return quote_identifier(name)


def native_type(data_type, length, precision, scale) -> str:
    """The type as DESCRIBE TABLE spells it: NUMBER(38,0), VARCHAR(16777216), BINARY(8388608)."""
    text = (data_type or "").upper()
    if text in ("NUMBER", "DECIMAL", "NUMERIC") and precision is not None:
        return f"NUMBER({precision},{scale or 0})"
    if text == "TEXT" and length:
        return f"VARCHAR({length})"
    if text == "BINARY" and length:
        return f"BINARY({length})"
    return text


def dataset_from_table_row(row) -> DatasetMeta:
    schema, name, table_type, owner, row_count, size, last_altered, comment, transient, clustering = row
    meta = DatasetMeta(schema=schema, name=name, kind=KINDS.get((table_type or "").upper(), TABLE), comment=comment or "",
                       owner=owner or "")
    if meta.kind == TABLE:
        meta.row_estimate = int(row_count) if row_count is not None else None
        meta.size_bytes = int(size) if size is not None else None
        meta.last_modified = last_altered
    if (transient or "").upper() == "YES":
        meta.properties["transient"] = True
    if clustering:
        meta.properties["clustering_key"] = clustering
    if table_type and table_type.upper() not in ("BASE TABLE", "VIEW"):
        meta.properties["table_type"] = table_type
    return meta


def column_from_row(row) -> ColumnMeta:
    _, _, name, position, data_type, length, precision, scale, nullable, default, comment, identity = row
    is_identity = (identity or "").upper() == "YES"
    if is_identity and not default:
        default = "IDENTITY"
    return ColumnMeta(name=name, data_type=native_type(data_type, length, precision, scale), position=int(position),
                      nullable=(nullable or "").upper() == "YES", default=default, comment=comment or "",
                      generated="identity" if is_identity else "")


def describe_error(exc: Exception, url) -> str:
    """snowflake-connector's errors ('250001 (08001): Failed to connect ...') as one line."""
    errno = getattr(exc, "errno", None)
    message = " ".join(str(getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or exc).split())
    message = re.sub(r"^(\d{3,6}(?: \(\w+\))?: )+", "", message)
    account = url.host or "(no account)"
    low = message.lower()
    if errno == 390100 or "incorrect username or password" in low:
        return f'Snowflake account {account} refused user "{url.username}": incorrect user name or password'
    if errno in (250001, 250003) or "failed to connect" in low or "could not connect" in low:
        if "timed out" in low or "timeout" in low:
            return f"could not connect to Snowflake account {account}: no answer within the connect timeout"
        return f"could not connect to Snowflake account {account}: {message}"
    if errno == 390144 or "jwt token is invalid" in low:
        return f'Snowflake account {account} refused the key pair of user "{url.username}"'
    if "does not exist or not authorized" in low:
        return f"{message} (account {account})"
    if "statement reached its statement or warehouse timeout" in low or errno == 604:
        return "a catalog query ran past the statement timeout"
    return message or exc.__class__.__name__


def load_private_key(text: str, passphrase: str | None) -> bytes:
    """A PEM private key, or its base64 DER, as the unencrypted PKCS#8 DER the driver takes."""
    password = passphrase.encode() if passphrase else None
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=password)
        else:
            key = serialization.load_der_private_key(base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4)), password=password)
    except (ValueError, TypeError) as exc:
        reason = "wrong passphrase or not a private key" if "password" in str(exc).lower() or "decrypt" in str(exc).lower() else "not a PEM or base64 DER private key"
        raise ConnectorError(f"the Snowflake private_key cannot be read: {reason}") from None
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class SnowflakeConnector(Connector):
    engine_label = "Snowflake"

    @property
    def account(self) -> str:
        host = self.url.host
        return host[: -len(".snowflakecomputing.com")] if host.endswith(".snowflakecomputing.com") else host

    @property
    def database(self) -> str:
        return self.url.database.split("/")[0]

    def connect(self, statement_timeout: float | None = None):
        """A session whose statements the server cancels after `statement_timeout` seconds (the connector's own
        statement timeout unless given)."""
        try:
            import snowflake.connector
        except ImportError:
            raise ConnectorError("the Snowflake connector needs the snowflake-connector-python package") from None
        url = self.url
        if not self.database:
            raise ConnectorError("the URL names no database: write snowflake://user@account/DATABASE?warehouse=..")
        params = {
            "account": self.account,
            "user": url.username,
            "database": self.database,
            "login_timeout": self.connect_timeout,
            "network_timeout": int(self.statement_timeout) + 30,
            "application": "canon",
            "session_parameters": {"STATEMENT_TIMEOUT_IN_SECONDS": int(statement_timeout or self.statement_timeout),
                                   "QUERY_TAG": "canon catalog crawl"},
        }
        for key in ("warehouse", "role", "authenticator", "host", "region"):
            if url.query.get(key):
                params[key] = url.query[key]
        if url.query.get("private_key"):
            params["private_key"] = load_private_key(url.query["private_key"], url.query.get("private_key_passphrase"))
        elif url.password:
            params["password"] = url.password
        try:
            return snowflake.connector.connect(**params)
        except snowflake.connector.errors.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, url))) from None

    def test(self) -> str:
        import snowflake.connector

        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(SCHEMAS_SQL.format(db=database_identifier(self.database)))
            schemas = [r for r in cur.fetchall() if str(r[1]).upper() != "INFORMATION_SCHEMA"]
        except snowflake.connector.errors.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        finally:
            conn.close()
        return f"Snowflake account {self.account}, database {self.database} ({len(schemas)} schemas)"

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        import snowflake.connector

        include, exclude = list(request.include or ()), list(request.exclude or ())
        conn = self.connect()
        try:
            return self._extract(conn, include, exclude)
        except snowflake.connector.errors.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        finally:
            conn.close()

    def _extract(self, conn, include, exclude) -> Extraction:
        import snowflake.connector

        db = database_identifier(self.database)
        cur = conn.cursor()
        cur.execute(SCHEMAS_SQL.format(db=db))
        name_at = [d[0].lower() for d in cur.description].index("name")
        available = sorted(r[name_at] for r in cur.fetchall() if r[name_at].upper() != "INFORMATION_SCHEMA")
        schemas = [s for s in available if schema_in_scope(s, include, exclude)]
        warnings = self.scope_warnings(available, include)
        in_scope = set(schemas)
        by_key: dict[tuple[str, str], DatasetMeta] = {}
        if not in_scope:
            return Extraction(datasets=[], schemas=[], warnings=warnings)

        cur.execute(TABLES_SQL.format(db=db))
        for row in cur.fetchall():
            if row[0] in in_scope:
                meta = dataset_from_table_row(row)
                by_key[(meta.schema, meta.name)] = meta
        cur.execute(VIEWS_SQL.format(db=db))
        for schema, name, definition, owner, comment in cur.fetchall():
            if schema not in in_scope:
                continue
            meta = by_key.get((schema, name))
            if meta is None:  # TABLES lists views too on Snowflake; not on every emulator
                meta = by_key[(schema, name)] = DatasetMeta(schema=schema, name=name, kind=VIEW, owner=owner or "",
                                                            comment=comment or "")
            meta.definition = (definition or "").strip()
            if not meta.definition:
                meta.warnings.append("The view's SQL is hidden from this role (secure view, or not its owner).")

        primary = self._primary_keys(cur, db, schemas, warnings, snowflake.connector.errors.ProgrammingError)
        cur.execute(COLUMNS_SQL.format(db=db))
        while rows := cur.fetchmany(5000):
            for row in rows:
                meta = by_key.get((row[0], row[1]))
                if meta is not None:
                    column = column_from_row(row)
                    column.is_primary_key = (row[0], row[1], column.name) in primary
                    if column.is_primary_key:
                        column.nullable = False
                    meta.columns.append(column)
        for meta in by_key.values():
            meta.columns.sort(key=lambda c: c.position)
        datasets = sorted(by_key.values(), key=lambda d: (d.schema, d.name))
        return Extraction(datasets=datasets, schemas=schemas, warnings=warnings)

    def _primary_keys(self, cur, db, schemas, warnings, programming_error) -> set[tuple[str, str, str]]:
        def read():
            names = [d[0].lower() for d in cur.description]
            s, t, c = names.index("schema_name"), names.index("table_name"), names.index("column_name")
            return {(r[s], r[t], r[c]) for r in cur.fetchall()}

        try:
            cur.execute(PRIMARY_KEYS_SQL.format(db=db))
            return read()
        except programming_error:
            pass
        found: set[tuple[str, str, str]] = set()
        for schema in schemas:
            try:
                cur.execute(PRIMARY_KEYS_IN_SCHEMA_SQL.format(db=db, schema=quote_identifier(schema)))
                found |= read()
            except programming_error as exc:
                warnings.append(f"Primary keys of schema {schema} could not be read: {' '.join(str(exc.msg or exc).split())}")
        return found


# Query history (issue 19): ACCOUNT_USAGE.QUERY_HISTORY, grouped by the parameterized hash (literals taken out),
# the successful statements of the source's database since the last read (at most a day back). It needs a role
# with IMPORTED PRIVILEGES on the SNOWFLAKE database; without, the answer is a note.

QUERY_HISTORY_SQL = """
SELECT coalesce(query_parameterized_hash, query_hash) AS digest, any_value(query_text) AS query_text,
       coalesce(user_name, '') AS user_name, count(*) AS calls, max(start_time) AS last_seen,
       any_value(coalesce(schema_name, '')) AS schema_name
FROM snowflake.account_usage.query_history
WHERE start_time >= %(since)s AND execution_status = 'SUCCESS' AND database_name = %(database)s
  AND query_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'CREATE_TABLE_AS_SELECT', 'COPY')
GROUP BY 1, 3 ORDER BY calls DESC LIMIT %(limit)s
"""


def history_from_rows(rows) -> list[LoggedStatement]:
    """QUERY_HISTORY_SQL's rows (dicts, upper- or lower-case keys) as logged statements."""
    out = []
    for row in rows:
        row = {k.lower(): v for k, v in row.items()}
        if not row.get("digest") or not row.get("query_text"):
            continue
        last = row.get("last_seen")
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        out.append(LoggedStatement(digest=str(row["digest"]), text=row["query_text"], calls=int(row["calls"]),
                                   user=row.get("user_name") or "", last_seen=last, default_schema=row.get("schema_name") or ""))
    return out


def query_history(connector: SnowflakeConnector, *, limit: int, since: datetime | None = None) -> QueryHistory:
    since = since or datetime.now(timezone.utc) - timedelta(days=1)
    try:
        conn = connector.connect()
        try:
            cur = conn.cursor()
            cur.execute(QUERY_HISTORY_SQL, {"since": since, "database": connector.database, "limit": int(limit)})
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            conn.close()
    except Exception as exc:  # the client's errors are imported only with it (an optional package)
        return QueryHistory(False, note=connector.clean_message(
            f"Snowflake's ACCOUNT_USAGE.QUERY_HISTORY could not be read ({describe_error(exc, connector.url)}); the source's role "
            "needs IMPORTED PRIVILEGES on the SNOWFLAKE database."))
    return QueryHistory(True, statements=history_from_rows(rows), cumulative=False)


# Sampled profiles (opt-in per source, for tables without statistics Canon can read: Snowflake shows none per
# column). SAMPLE SYSTEM (p) reads p% of the table's micro-partitions (blocks), never the whole table; aggregated in
# SQL. The session's STATEMENT_TIMEOUT_IN_SECONDS is the whole budget, and each statement is cancelled by the
# driver when the time left is spent (execute(timeout=)); one that runs past it ends the run.
_TIMED_OUT = (604, 630)  # the query was cancelled; it reached its statement timeout


def sample_query(database: str, schema: str, name: str, columns: list[tuple[str, str]], percent: float) -> str:
    parts = aggregates(columns, quote_identifier, as_text="{}::VARCHAR")
    table = f"{database_identifier(database)}.{quote_identifier(schema)}.{quote_identifier(name)}"
    listed = ", ".join(f"{part} AS V{i}" for i, part in enumerate(parts))  # named: duplicate names may fold into one
    return f"SELECT {listed} FROM {table} SAMPLE SYSTEM ({float(percent)!r})"


def sample_profiles(connector: SnowflakeConnector, tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from SAMPLE SYSTEM, in order, until the
    budget is spent (see sampling.py for the contract). Counts are of the sample."""
    budget = Budget(budget_s)
    profiles, problems = {}, {}
    conn = connector.connect(statement_timeout=max(1, math.ceil(budget_s)))
    try:
        cur = conn.cursor()
        for schema, name, columns in budget.tables(tables):
            try:
                cur.execute(sample_query(connector.database, schema, name, columns, percent), timeout=max(1, math.ceil(budget.left())))
                row = cur.fetchone()
            except Exception as exc:  # the client's errors are imported only with it (an optional package)
                if getattr(exc, "errno", None) in _TIMED_OUT or "timeout" in str(exc).lower() or "canceled" in str(exc).lower():
                    problems[(schema, name)] = budget.overrun()
                    return profiles, problems, False
                if getattr(exc, "errno", None) is None:
                    raise
                problems[(schema, name)] = f"no sampled profile: {connector.clean_message(describe_error(exc, connector.url))}"
                continue
            profiles[(schema, name)] = profile_from_aggregates(row, columns, f"sample {percent:g}% (SAMPLE SYSTEM, {int(row[0] or 0):,} rows)")
    finally:
        conn.close()
    return profiles, problems, budget.complete
