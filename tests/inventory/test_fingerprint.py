from catalog.connectors.base import ColumnMeta, DatasetMeta
from catalog.inventory.fingerprint import canonical_json, document_of, fingerprint, prepare_documents, schema_document


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
                         ("comment", "x"), ("name", "ident"), ("generated", "identity"), ("generated", "stored")]:
        changed = ColumnMeta(**{**base, field: value})
        assert fingerprint(schema_document(_meta([changed]))) != reference, field
    assert fingerprint(schema_document(_meta([ColumnMeta(**base)], comment="table note"))) != reference


def test_the_fast_canonical_json_is_byte_for_byte_the_documents():
    """schema_json skips building the document; it must never change a stored fingerprint."""
    import random

    from catalog.inventory.fingerprint import canonical_json, schema_fingerprint, schema_json

    rnd = random.Random(7)
    alphabet = ["a", "Z", " ", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "中", "😀", "\u2028", "/", "'", "{"]

    def text():
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 5)))

    for i in range(3000):
        columns = [
            ColumnMeta(text(), rnd.choice([text(), "integer"]), rnd.choice([p, p, rnd.randint(1, 3)]),
                       nullable=rnd.choice([True, False, None]), default=rnd.choice([None, text()]),
                       is_primary_key=rnd.choice([True, False]), comment=rnd.choice([text(), "", None]),
                       native_id=rnd.choice([str(p), "", None]), generated=rnd.choice(["", "", "identity", "stored", text()]))
            for p in rnd.sample(range(1, 30), rnd.randint(0, 6))
        ]
        if i % 3 == 0:
            rnd.shuffle(columns)
        meta = _meta(columns, kind=rnd.choice(["table", "view"]), comment=rnd.choice([text(), None]),
                     definition=rnd.choice([text(), ""]))
        assert schema_json(meta) == canonical_json(schema_document(meta))
        assert schema_fingerprint(meta) == fingerprint(schema_document(meta))
    odd = _meta([ColumnMeta("a", "int", 2.0), ColumnMeta("b", "int", True)])  # what json.dumps writes its own way
    assert schema_json(odd) == canonical_json(schema_document(odd))


def test_documents_prepared_early_are_the_ones_apply_would_write():
    read = DatasetMeta(schema="s", name="t", comment="c", columns=[ColumnMeta("b", "text", 2), ColumnMeta("a", "int", 1, default="0")])
    skipped = DatasetMeta(schema="s", name="u", columns_skipped=True)
    prepare_documents([read, skipped])
    assert read.schema_document == (canonical_json(schema_document(read)), fingerprint(schema_document(read)))
    assert skipped.schema_document is None, "a dataset whose columns were not read has no document to prepare"
    fresh = DatasetMeta(schema="s", name="t", comment="c", columns=list(read.columns))
    assert document_of(fresh) == read.schema_document


def test_a_column_that_is_not_generated_has_the_document_it_had_before_the_catalog_recorded_generation():
    """Fingerprints stored before "generated" was recorded stay equal for every ordinary column."""
    plain = _meta([ColumnMeta("id", "integer", 1, nullable=False, native_id="1")])
    assert canonical_json(schema_document(plain)) == (
        '{"columns":[{"comment":"","default":null,"name":"id","native_id":"1","nullable":false,"position":1,'
        '"primary_key":false,"type":"integer"}],"comment":"","definition":"","kind":"table"}'
    )
    identity = _meta([ColumnMeta("id", "integer", 1, nullable=False, native_id="1", generated="identity")])
    assert schema_document(identity)["columns"][0]["generated"] == "identity"
