"""Bulk inserts without ORM instances: COPY on PostgreSQL, bulk_create elsewhere.

A first crawl of a large warehouse inserts hundreds of thousands of columns;
building a model instance for each costs more memory and time than the crawl.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Iterable, Sequence

from django.db import connection, models


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple], batch_size: int = 2000) -> int:
    meta = model._meta
    columns = [meta.get_field(f).column for f in fields]
    json_positions = [i for i, f in enumerate(fields) if isinstance(meta.get_field(f), models.JSONField)]
    count = 0
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    if json_positions:
                        row = list(row)
                        for i in json_positions:
                            row[i] = json.dumps(row[i])
                    copy.write_row(row)
                    count += 1
        return count
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        model.objects.bulk_create([model(**dict(zip(fields, row))) for row in batch], batch_size=batch_size)
        count += len(batch)
    return count
