"""New datasets' columns: on PostgreSQL the server unpacks them from the schema versions just written.

Whatever path writes them, the stored columns must be exactly what the connector said,
awkward values included, with each column's type family.
"""

import pytest
from django.utils import timezone

from catalog.connectors.base import ColumnMeta, DatasetMeta, Extraction
from catalog.connectors.types import type_family
from catalog.inventory.models import Column, Dataset, SchemaVersion
from catalog.inventory.services.apply import inventory_apply_extraction
from catalog.sources.models import Crawl
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db

AWKWARD = [
    ColumnMeta("id", "bigint", 1, nullable=False, is_primary_key=True, native_id="1"),
    ColumnMeta("Mixed Case \"quoted\"", "character varying(32)", 2, default="'new'::character varying", native_id="2",
               comment="line one\nline two\ttab \\ backslash \u00e9 \u4e2d \U0001F600 \x01"),
    ColumnMeta("default", "numeric(12,2)", 3, default=None, comment="", native_id="3"),
    ColumnMeta("tags", "text[]", 5, default="'{}'::text[]", native_id="5"),
    ColumnMeta("payload", "jsonb", 4, comment='{"not": "json to the server"}', native_id="4"),
    ColumnMeta("when", "timestamp with time zone", 7, default="now()", native_id="7"),
]


def _apply(source, datasets):
    crawl = Crawl.objects.create(source=source, started_at=timezone.now())
    return inventory_apply_extraction(source, crawl, Extraction(datasets=datasets, schemas=sorted({d.schema for d in datasets})),
                                      now=timezone.now())


def _stored(dataset):
    return [(c.name, c.position, c.data_type, c.type_family, c.nullable, c.default, c.is_primary_key, c.comment, c.native_id)
            for c in dataset.columns.order_by("position")]


def _expected(columns, family_of=None):
    return [(c.name, c.position, c.data_type, (family_of or {}).get(c.name) or c.type_family or type_family(c.data_type),
             bool(c.nullable), c.default, bool(c.is_primary_key), c.comment, c.native_id)
            for c in sorted(columns, key=lambda c: c.position)]


def test_new_datasets_columns_are_stored_exactly():
    source = source_create(name="w", url="postgresql://reader:unused@127.0.0.1:1/w")
    datasets = [DatasetMeta(schema="Sales", name=f"T{i}", columns=list(AWKWARD)) for i in range(3)]
    datasets.append(DatasetMeta(schema="Sales", name="empty", columns=[]))
    result = _apply(source, datasets)
    assert result.added == 4
    for meta in datasets:
        dataset = Dataset.objects.get(source=source, schema_name=meta.schema, name=meta.name)
        assert _stored(dataset) == _expected(meta.columns)
        assert dataset.column_count == len(meta.columns)
        assert SchemaVersion.objects.get(dataset=dataset).number == 1
    assert Column.objects.count() == 3 * len(AWKWARD)
    assert {c.type_family for c in Column.objects.all()} >= {"integer", "text", "decimal", "array", "json", "timestamp"}


def test_a_family_set_by_the_connector_is_kept_even_when_it_differs_from_the_types():
    """Two columns of one native type, one with its own family: no per-type map can say both."""
    source = source_create(name="lake", url="postgresql://reader:unused@127.0.0.1:1/lake")
    columns = [ColumnMeta("a", "string", 1, native_id="a"), ColumnMeta("b", "string", 2, native_id="b", type_family="json")]
    _apply(source, [DatasetMeta(schema="s", name="t", columns=columns)])
    dataset = Dataset.objects.get(source=source)
    assert _stored(dataset) == _expected(columns, {"a": type_family("string"), "b": "json"})


def test_a_recrawl_after_unpacking_sees_no_change():
    source = source_create(name="w2", url="postgresql://reader:unused@127.0.0.1:1/w2")
    _apply(source, [DatasetMeta(schema="s", name="t", columns=list(AWKWARD))])
    again = _apply(source, [DatasetMeta(schema="s", name="t", columns=list(reversed(AWKWARD)))])
    assert (again.added, again.changed, again.removed) == (0, 0, 0)


def test_a_version_keeps_the_exact_text_its_fingerprint_is_of():
    import hashlib

    from django.db import connection

    source = source_create(name="w3", url="postgresql://reader:unused@127.0.0.1:1/w3")
    _apply(source, [DatasetMeta(schema="s", name="t", comment="é \"x\"", columns=list(AWKWARD))])
    version = SchemaVersion.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema FROM inventory_schemaversion WHERE id = %s", [version.pk])
        text = cursor.fetchone()[0]
    assert hashlib.sha256(text.encode()).hexdigest() == version.fingerprint == version.dataset.fingerprint
    assert version.schema["comment"] == "é \"x\"" and [c["name"] for c in version.schema["columns"]][:2] == ["id", AWKWARD[1].name]


def test_a_family_the_connector_learns_is_stored_though_the_schema_is_unchanged(django_assert_max_num_queries):
    """A PostgreSQL domain named "year" over integer was filed by its name as a date; once the connector gives its
    family, the next crawl that reads the columns files it again, without a new schema version."""
    source = source_create(name="domains", url="postgresql://reader:unused@127.0.0.1:1/domains")
    before = [ColumnMeta("id", "integer", 1, native_id="1"), ColumnMeta("paid_in", "year", 2, native_id="2")]
    _apply(source, [DatasetMeta(schema="public", name="payment", columns=before), DatasetMeta(schema="public", name="plain", columns=[])])
    dataset = Dataset.objects.get(source=source, name="payment")
    assert {c.name: c.type_family for c in dataset.columns.all()} == {"id": "integer", "paid_in": "date"}
    now = [ColumnMeta("id", "integer", 1, native_id="1"), ColumnMeta("paid_in", "year", 2, native_id="2", type_family="integer")]
    result = _apply(source, [DatasetMeta(schema="public", name="payment", columns=now), DatasetMeta(schema="public", name="plain", columns=[])])
    assert (result.added, result.changed) == (0, 0)
    assert result.refreshed_ids == [dataset.pk]  # what is made from its columns (search) is made again
    assert {c.name: c.type_family for c in dataset.columns.all()} == {"id": "integer", "paid_in": "integer"}
    assert dataset.versions.count() == 1
    with django_assert_max_num_queries(12):  # filed already: one read of its columns, nothing written
        again = _apply(source, [DatasetMeta(schema="public", name="payment", columns=now), DatasetMeta(schema="public", name="plain", columns=[])])
    assert again.refreshed_ids == []
