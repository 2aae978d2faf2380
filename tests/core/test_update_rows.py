"""core.bulk.update_rows: set fields of many rows at once, exactly as bulk_update would."""

import datetime as dt

import pytest
from django.utils import timezone

from catalog.core.bulk import JSONText, update_rows
from catalog.inventory.models import Dataset, OwnerIdentity, SchemaVersion
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets():
    source = source_create(name="u", url="postgresql://reader:unused@127.0.0.1:1/u")
    now = timezone.now()
    return [Dataset.objects.create(source=source, schema_name="s", name=f"t{i}", first_seen_at=now, last_changed_at=now,
                                   row_estimate=i, size_bytes=100 + i, properties={"old": i}) for i in range(4)]


def test_every_kind_of_value_lands_in_its_row(datasets):
    owner = OwnerIdentity.objects.create(source=datasets[0].source, name="team")
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    rows = [
        (datasets[0].pk, None, 7, owner.pk, when, {"a": [1, "é"], "q": "it's \"x\""}, ["w1"]),
        (datasets[1].pk, 42, None, None, None, {}, []),
        (datasets[2].pk, 0, 0, owner.pk, when, {"partitions": {"day": 3}}, ["line\nbreak", "tab\t"]),
    ]
    fields = ["row_estimate", "size_bytes", "owner_id", "last_modified_at", "properties", "warnings"]
    assert update_rows(Dataset, fields, rows) == 3
    got = {d.pk: d for d in Dataset.objects.all()}
    for pk, rows_, size, owner_id, modified, properties, warnings in rows:
        d = got[pk]
        assert (d.row_estimate, d.size_bytes, d.owner_id, d.last_modified_at, d.properties, d.warnings) == (
            rows_, size, owner_id, modified, properties, warnings)
    untouched = got[datasets[3].pk]
    assert (untouched.row_estimate, untouched.size_bytes, untouched.properties) == (3, 103, {"old": 3})


def test_a_column_of_nothing_but_nulls(datasets):
    update_rows(Dataset, ["row_estimate", "last_modified_at"], [(d.pk, None, None) for d in datasets])
    assert set(Dataset.objects.values_list("row_estimate", "last_modified_at")) == {(None, None)}


def test_text_kept_json_stays_the_exact_text(datasets):
    version = SchemaVersion.objects.create(dataset=datasets[0], number=1, fingerprint="f", schema={"columns": []},
                                           created_at=timezone.now())
    update_rows(SchemaVersion, ["schema"], [(version.pk, JSONText('{"columns":[],"kind":"table"}'))])
    version.refresh_from_db()
    assert version.schema == {"columns": [], "kind": "table"}
    update_rows(SchemaVersion, ["schema"], [(version.pk, {"kind": "view", "columns": []})])
    version.refresh_from_db()
    assert version.schema == {"columns": [], "kind": "view"}


def test_nothing_to_update():
    assert update_rows(Dataset, ["row_estimate"], []) == 0
