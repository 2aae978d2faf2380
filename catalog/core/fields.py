"""Model fields of Canon's own."""

from __future__ import annotations

import json

from django.db import models

from catalog.core.bulk import JSONText


class JSONTextField(models.JSONField):
    """JSON stored as the text written, on every backend; read back as Python values.

    For documents that are written and read whole, never queried inside: a schema version
    keeps the exact canonical JSON its fingerprint is of. PostgreSQL's jsonb would parse
    each on the way in, about a second of server time per 10,000 schema documents of a
    first crawl, for lookups nobody makes.
    """

    def db_type(self, connection):
        return "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if isinstance(value, JSONText):
            return str(value)
        if not prepared:
            value = self.get_prep_value(value)
        return json.dumps(value, cls=self.encoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
