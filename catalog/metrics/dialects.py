"""The SQL dialects a metric definition may be written in: (sqlglot name, label).

Apart from sql.py so that the model's choices and the form read them without importing sqlglot:
a process that only starts (manage.py, a worker) loads the models, never the SQL parser.
"""

DIALECTS = [
    ("postgres", "PostgreSQL"),
    ("snowflake", "Snowflake"),
    ("bigquery", "BigQuery"),
    ("redshift", "Redshift"),
    ("mysql", "MySQL"),
    ("duckdb", "DuckDB"),
    ("sqlite", "SQLite"),
]
DIALECT_LABELS = dict(DIALECTS)
