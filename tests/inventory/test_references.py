"""Dataset.source/owner and SchemaVersion.dataset/crawl are checked by triggers on PostgreSQL (migration
inventory 0007), once per statement: the guarantee must be the foreign keys' own, by any path.
SQLite keeps real foreign keys.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.core.bulk import insert_rows
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaVersion
from catalog.sources.models import Crawl, Source
from catalog.sources.services import source_create

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_catalog]


@pytest.fixture
def source():
    return source_create(name="ref", url="postgresql://reader:unused@127.0.0.1:1/ref")


@pytest.fixture
def dataset(source):
    now = timezone.now()
    owner = OwnerIdentity.objects.create(source=source, name="etl")
    dataset = Dataset.objects.create(source=source, owner=owner, schema_name="s", name="t", first_seen_at=now, last_changed_at=now)
    Column.objects.create(dataset=dataset, name="id", data_type="integer", position=1)
    crawl = Crawl.objects.create(source=source, started_at=now)
    SchemaVersion.objects.create(dataset=dataset, crawl=crawl, number=1, fingerprint="f", schema={}, created_at=now)
    return dataset


def _missing(model) -> int:
    return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("field, model", [("source_id", Source), ("owner_id", OwnerIdentity)])
def test_a_dataset_naming_a_missing_source_or_owner_is_refused(dataset, field, model):
    now = timezone.now()
    values = {"source_id": dataset.source_id, "schema_name": "s", "name": "u", "first_seen_at": now, field: _missing(model)}
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        Dataset.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dataset.objects.filter(pk=dataset.pk).update(**{field: _missing(model)})
    assert Dataset.objects.get().name == "t" and getattr(Dataset.objects.get(), field) == getattr(dataset, field)


@pytest.mark.parametrize("field, model", [("dataset_id", Dataset), ("crawl_id", Crawl)])
def test_a_schema_version_naming_a_missing_dataset_or_crawl_is_refused_whole(dataset, field, model):
    """The crawl's own path, COPY, with one bad row among good ones."""
    crawl_id = SchemaVersion.objects.get().crawl_id
    rows = [(dataset.pk, crawl_id, n, "f", "{}", timezone.now()) for n in range(2, 40)]
    bad = dict(zip(["dataset_id", "crawl_id"], [dataset.pk, crawl_id]), **{field: _missing(model)})
    rows.append((bad["dataset_id"], bad["crawl_id"], 99, "f", "{}", timezone.now()))
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        insert_rows(SchemaVersion, ["dataset_id", "crawl_id", "number", "fingerprint", "schema", "created_at"], rows)
    assert SchemaVersion.objects.count() == 1
    # A version without a crawl is fine, as the foreign key allowed.
    insert_rows(SchemaVersion, ["dataset_id", "crawl_id", "number", "fingerprint", "schema", "created_at"],
                [(dataset.pk, None, 2, "f", "{}", timezone.now())])
    assert SchemaVersion.objects.count() == 2


def test_deleting_a_source_outside_django_deletes_its_datasets_columns_and_versions(dataset):
    other = source_create(name="other", url="postgresql://reader:unused@127.0.0.1:1/other")
    kept = Dataset.objects.create(source=other, schema_name="s", name="t", first_seen_at=dataset.first_seen_at)
    _raw("DELETE FROM inventory_owneridentity WHERE source_id = %s", [dataset.source_id])
    _raw("DELETE FROM sources_crawl WHERE source_id = %s", [dataset.source_id])
    _raw("DELETE FROM sources_source WHERE id = %s", [dataset.source_id])
    assert list(Dataset.objects.all()) == [kept]
    assert not Column.objects.exists() and not SchemaVersion.objects.exists()


def test_deleting_an_owner_or_a_crawl_outside_django_unsets_it(dataset):
    _raw("DELETE FROM inventory_owneridentity WHERE id = %s", [dataset.owner_id])
    _raw("DELETE FROM sources_crawl WHERE id = %s", [SchemaVersion.objects.get().crawl_id])
    assert Dataset.objects.get().owner_id is None
    version = SchemaVersion.objects.get()
    assert version.crawl_id is None and version.dataset_id == dataset.pk


def test_no_foreign_key_is_left_to_check_these_rows_at_commit():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.conrelid IN ('inventory_dataset'::regclass, 'inventory_schemaversion'::regclass)""")
        left = sorted(cursor.fetchall())
    assert left == [("inventory_dataset", "description_updated_by_id")]
