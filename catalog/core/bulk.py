"""Bulk inserts without ORM instances: COPY on PostgreSQL, bulk_create elsewhere.

A first crawl of a large warehouse inserts hundreds of thousands of columns;
building a model instance for each costs more memory and time than the crawl.
Fields left out of `fields` get their model default, as bulk_create would give them.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Callable, Iterable, Sequence

from django.db import connection, models
from django.db.models import NOT_PROVIDED
from django.utils import timezone


class JSONText(str):
    """A JSON field's value already encoded as JSON text: written as it is, not encoded again."""


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple], batch_size: int = 2000) -> int:
    if connection.vendor == "postgresql":
        return _copy_rows(model, fields, rows)
    count = 0
    for batch in _batches(model, fields, rows, batch_size):
        model.objects.bulk_create(batch, batch_size=batch_size)
        count += len(batch)
    return count


def insert_rows_returning_ids(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple], count: int | None = None) -> list:
    """insert_rows, and the new primary keys in the order of `rows` (None where the backend cannot say).

    With `count` (how many rows there are), `rows` may be a generator: rows are made as they are sent.
    """
    if count is None:
        rows = list(rows)
        count = len(rows)
    if not count:
        return []
    if connection.vendor == "postgresql":
        pk = model._meta.pk
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_catalog.pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk.column])
            sequence = cursor.fetchone()[0]
            if sequence:
                # Take the ids first, then COPY rows that carry them: no INSERT ... RETURNING per batch.
                cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
                ids = sorted(r[0] for r in cursor.fetchall())
                _copy_rows(model, (pk.attname, *fields), ((i, *row) for i, row in zip(ids, rows)))
                return ids
    created = []
    for batch in _batches(model, fields, rows, 1000):
        created += model.objects.bulk_create(batch, batch_size=1000)
    return [obj.pk for obj in created]


def _batches(model, fields, rows, size):
    json_positions = [i for i, f in enumerate(fields) if isinstance(model._meta.get_field(f), models.JSONField)]
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        objects = []
        for row in batch:
            if json_positions:
                row = list(row)
                for i in json_positions:
                    if isinstance(row[i], JSONText):
                        row[i] = json.loads(row[i])
            objects.append(model(**dict(zip(fields, row))))
        yield objects


def _copy_rows(model, fields, rows) -> int:
    meta = model._meta
    given = [meta.get_field(f) for f in fields]
    defaults = _defaults_for_missing(model, given)
    columns = [f.column for f in given] + [f.column for f, _ in defaults]
    json_positions = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
    tail = tuple(value for _, value in defaults)
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    # The raw psycopg cursor does not translate errors: wrap it, so a refused row is Django's IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            write_row = copy.write_row
            if not json_positions and not tail:
                for row in rows:
                    write_row(row)
                    count += 1
                return count
            for row in rows:
                if json_positions:
                    row = list(row)
                    for i in json_positions:
                        value = row[i]
                        row[i] = value if isinstance(value, JSONText) else json.dumps(value)
                    row = tuple(row)
                write_row(row + tail if tail else row)
                count += 1
    return count


def _defaults_for_missing(model, given) -> list[tuple[models.Field, object]]:
    """(field, value) for every column COPY would otherwise leave NULL where bulk_create would not."""
    named = {f.name for f in given}
    found = []
    for f in model._meta.concrete_fields:
        if f.name in named or f.primary_key or f.db_default is not NOT_PROVIDED or getattr(f, "generated", False):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = timezone.now()
        elif f.has_default() or not f.null:
            value = f.get_default()
        else:
            continue
        if isinstance(f, models.JSONField) and value is not None:
            value = json.dumps(value)
        found.append((f, value))
    return found


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple], batch_size: int = 5000) -> int:
    """Set `fields` of existing rows: each row is (primary key, *values in the order of `fields`).

    On PostgreSQL one UPDATE per batch joins the table to the values sent as arrays (unnest).
    Django's bulk_update writes a CASE per field with a branch per row: a third of a second
    for 100 datasets, most of it building and planning the statement.
    """
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        names = [model._meta.get_field(f).name for f in fields]
        objects = [model(pk=row[0], **dict(zip(fields, row[1:]))) for row in rows]
        return model.objects.bulk_update(objects, names, batch_size=1000)
    meta = model._meta
    given = [meta.get_field(f) for f in fields]
    quote = connection.ops.quote_name
    pk_type = meta.pk.rel_db_type(connection)
    sources, sets = [f"%s::{pk_type}[]"], []
    json_text: dict[int, Callable[[object], str]] = {}  # position -> the text a JSON field's value is sent as
    for i, f in enumerate(given, start=1):
        db_type = f.db_type(connection)
        if isinstance(f, models.JSONField):
            json_text[i] = _json_text(f, db_type)
        # Arrays of jsonb would parse every value twice: send JSON as text, cast once.
        sources.append(f"%s::{'text' if db_type == 'jsonb' else db_type}[]")
        sets.append(f"{quote(f.column)} = v.c{i}" + ("::jsonb" if db_type == "jsonb" else ""))
    names = ", ".join(["pk"] + [f"c{i}" for i in range(1, len(given) + 1)])
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(sets)} FROM unnest({', '.join(sources)}) AS v({names}) "
           f"WHERE t.{quote(meta.pk.column)} = v.pk")
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            columns = [list(values) for values in zip(*batch)]
            for i, to_text in json_text.items():
                columns[i] = [None if v is None else to_text(v) for v in columns[i]]
            cursor.execute(sql, columns)
            count += cursor.rowcount
    return count


def _json_text(field: models.JSONField, db_type: str) -> Callable[[object], str]:
    """A JSON field's value as the text it is stored as: JSONText as it is; a field kept as text writes its own form."""
    if db_type == "text":
        return lambda value: field.get_db_prep_value(value, connection)  # JSONTextField: canonical, JSONText kept
    return lambda value: str(value) if isinstance(value, JSONText) else json.dumps(value, cls=field.encoder)
