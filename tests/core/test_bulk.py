import pytest
from django.utils import timezone

from catalog.core.bulk import JSONText, insert_rows, insert_rows_returning_ids
from catalog.inventory.models import Column, Dataset, SchemaVersion
from tests.factories import make_source

pytestmark = pytest.mark.django_db


def test_rows_get_new_ids_in_order_and_model_defaults_for_fields_left_out():
    source = make_source()
    now = timezone.now()
    fields = ("source_id", "schema_name", "name", "first_seen_at", "properties")
    ids = insert_rows_returning_ids(Dataset, fields, [(source.pk, "s", f"t{i}", now, {"n": i}) for i in range(3)])
    assert len(set(ids)) == 3 and None not in ids
    rows = {d.pk: d for d in Dataset.objects.all()}
    assert [rows[i].name for i in ids] == ["t0", "t1", "t2"]
    assert rows[ids[2]].properties == {"n": 2}
    assert rows[ids[0]].kind == "table" and rows[ids[0]].description == "" and rows[ids[0]].warnings == []
    assert rows[ids[0]].column_count == 0 and rows[ids[0]].removed_at is None

    count = insert_rows(Column, ("dataset_id", "name", "position", "data_type"), [(ids[0], "id", 1, "integer")])
    assert count == 1
    column = Column.objects.get()
    assert (column.nullable, column.is_primary_key, column.comment, column.description) == (True, False, "", "")

    insert_rows(SchemaVersion, ("dataset_id", "number", "fingerprint", "schema", "created_at"),
                [(ids[0], 1, "a" * 64, JSONText('{"columns":[],"kind":"table"}'), now),
                 (ids[1], 1, "b" * 64, {"columns": [], "kind": "view"}, now)])
    assert dict(SchemaVersion.objects.values_list("dataset_id", "schema")) == {
        ids[0]: {"columns": [], "kind": "table"}, ids[1]: {"columns": [], "kind": "view"},
    }


def test_nothing_to_insert():
    assert insert_rows_returning_ids(Dataset, ("name",), []) == []
    assert insert_rows(Column, ("name",), iter([])) == 0
