"""Column.dataset is checked by triggers, not a per-row foreign key (migration inventory 0003).

The guarantee must be the foreign key's: on both backends, a column cannot name a missing dataset,
by any path (ORM, COPY, raw SQL), and deleting a dataset deletes its columns even when the delete
does not come through Django's own cascade.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.core.bulk import insert_rows
from catalog.inventory.models import Column, Dataset
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    source = source_create(name="ref", url="postgresql://reader:unused@127.0.0.1:1/ref")
    now = timezone.now()
    dataset = Dataset.objects.create(source=source, schema_name="s", name="t", first_seen_at=now, last_changed_at=now)
    Column.objects.create(dataset=dataset, name="id", data_type="integer", position=1)
    return dataset


def _missing_id() -> int:
    return (Dataset.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000


def test_a_column_naming_a_missing_dataset_is_refused_by_the_orm(dataset):
    with pytest.raises(IntegrityError), transaction.atomic():
        Column.objects.create(dataset_id=_missing_id(), name="x", data_type="text", position=1)
    assert Column.objects.count() == 1


def test_a_bulk_insert_with_one_bad_row_is_refused_whole(dataset):
    """The crawl's own path: COPY on PostgreSQL, bulk_create elsewhere."""
    rows = [(dataset.pk, f"c{i}", i + 2, "text") for i in range(50)] + [(_missing_id(), "stray", 1, "text")]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Column, ["dataset_id", "name", "position", "data_type"], rows)
    assert list(Column.objects.values_list("name", flat=True)) == ["id"]


def test_moving_a_column_to_a_missing_dataset_is_refused(dataset):
    with pytest.raises(IntegrityError), transaction.atomic():
        Column.objects.filter(dataset=dataset).update(dataset_id=_missing_id())
    assert Column.objects.get().dataset_id == dataset.pk


def test_good_rows_still_go_in(dataset):
    insert_rows(Column, ["dataset_id", "name", "position", "data_type"], [(dataset.pk, f"c{i}", i + 2, "text") for i in range(3)])
    assert dataset.columns.count() == 4


def test_deleting_a_dataset_outside_django_deletes_its_columns(dataset):
    other = Dataset.objects.create(source=dataset.source, schema_name="s", name="u", first_seen_at=dataset.first_seen_at,
                                   last_changed_at=dataset.first_seen_at)
    Column.objects.create(dataset=other, name="id", data_type="integer", position=1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_dataset WHERE id = %s", [dataset.pk])
    assert list(Column.objects.values_list("dataset_id", flat=True)) == [other.pk]


def test_deleting_through_django_still_cascades(dataset):
    dataset.source.delete()
    assert not Column.objects.exists()
