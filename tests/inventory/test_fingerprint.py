from catalog.connectors.base import ColumnMeta, DatasetMeta
from catalog.inventory.fingerprint import fingerprint, schema_document


def _meta(columns, **kw):
    return DatasetMeta(schema="s", name="t", columns=columns, **kw)


def test_column_order_from_the_engine_does_not_matter():
    a = ColumnMeta("id", "integer", 1, nullable=False)
    b = ColumnMeta("name", "text", 2)
    assert fingerprint(schema_document(_meta([a, b]))) == fingerprint(schema_document(_meta([b, a])))


def test_statistics_are_not_schema():
    cols = [ColumnMeta("id", "integer", 1)]
    assert fingerprint(schema_document(_meta(cols, row_estimate=1, size_bytes=10, owner="a"))) == fingerprint(
        schema_document(_meta(cols, row_estimate=99, size_bytes=999, owner="b"))
    )


def test_each_schema_property_changes_the_fingerprint():
    base = dict(name="id", data_type="integer", position=1, nullable=True, default=None, is_primary_key=False, comment="")
    reference = fingerprint(schema_document(_meta([ColumnMeta(**base)])))
    for field, value in [("data_type", "bigint"), ("nullable", False), ("default", "0"), ("is_primary_key", True),
                         ("comment", "x"), ("name", "ident")]:
        changed = ColumnMeta(**{**base, field: value})
        assert fingerprint(schema_document(_meta([changed]))) != reference, field
    assert fingerprint(schema_document(_meta([ColumnMeta(**base)], comment="table note"))) != reference
