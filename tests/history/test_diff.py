from catalog.history import diff


def col(name, type_="integer", position=1, nullable=True, default=None, pk=False, comment="", native_id="", generated=""):
    column = {"name": name, "type": type_, "position": position, "nullable": nullable, "default": default,
              "primary_key": pk, "comment": comment, "native_id": native_id}
    if generated:
        column["generated"] = generated
    return column


def doc(*columns, kind="table", comment="", definition=""):
    return {"kind": kind, "comment": comment, "definition": definition, "columns": list(columns)}


def kinds(changes):
    return [(c.kind, c.severity, c.column) for c in changes]


def test_identical_documents_have_no_changes():
    d = doc(col("id", native_id="1"), col("name", "text", 2, native_id="2"))
    assert diff.diff_schemas(d, d) == []


def test_added_and_removed_datasets():
    assert kinds(diff.diff_schemas(None, doc(col("id")), new_name="s.t")) == [(diff.DATASET_ADDED, diff.NON_BREAKING, "")]
    assert kinds(diff.diff_schemas(doc(col("id")), None, old_name="s.t")) == [(diff.DATASET_REMOVED, diff.BREAKING, "")]


def test_each_column_change_has_its_kind_and_severity():
    old = doc(col("id", native_id="1", pk=True, nullable=False), col("email", "text", 2, native_id="2"),
              col("age", "integer", 3, native_id="3"), col("note", "text", 4, native_id="4", comment="free text"),
              col("gone", "text", 5, native_id="5"), col("status", "text", 6, native_id="6", default="'new'"))
    new = doc(col("id", native_id="1", pk=True, nullable=False), col("email", "text", 2, native_id="2", nullable=False),
              col("age", "bigint", 3, native_id="3"), col("remark", "text", 4, native_id="4", comment="notes"),
              col("status", "text", 6, native_id="6", default="'open'"), col("phone", "text", 7, native_id="7"),
              col("tenant", "integer", 8, native_id="8", nullable=False))
    got = set(kinds(diff.diff_schemas(old, new)))
    assert got == {
        (diff.NULLABILITY_CHANGED, diff.BREAKING, "email"),
        (diff.TYPE_CHANGED, diff.BREAKING, "age"),
        (diff.COLUMN_RENAMED, diff.BREAKING, "remark"),
        (diff.COMMENT_CHANGED, diff.NON_BREAKING, "remark"),
        (diff.COLUMN_REMOVED, diff.BREAKING, "gone"),
        (diff.DEFAULT_CHANGED, diff.NON_BREAKING, "status"),
        (diff.COLUMN_ADDED, diff.NON_BREAKING, "phone"),
        (diff.COLUMN_ADDED, diff.BREAKING, "tenant"),  # NOT NULL without a default breaks writers
    }


def test_dropping_not_null_is_not_breaking_and_keys_and_table_comments_are_noted():
    old = doc(col("id", native_id="1", nullable=False), comment="a")
    new = doc(col("id", native_id="1", nullable=True, pk=True), comment="b")
    assert set(kinds(diff.diff_schemas(old, new))) == {
        (diff.NULLABILITY_CHANGED, diff.NON_BREAKING, "id"),
        (diff.PRIMARY_KEY_CHANGED, diff.NON_BREAKING, "id"),
        (diff.TABLE_COMMENT_CHANGED, diff.NON_BREAKING, ""),
    }


def test_without_native_ids_a_same_type_same_place_swap_is_a_possible_rename():
    old = doc(col("id"), col("email", "text", 2))
    new = doc(col("id"), col("email_address", "text", 2))
    changes = diff.diff_schemas(old, new)
    assert kinds(changes) == [(diff.COLUMN_POSSIBLY_RENAMED, diff.BREAKING, "email_address")]
    assert changes[0].describe() == "possible column rename: email → email_address"


def test_without_native_ids_a_different_type_is_a_drop_and_an_add():
    old = doc(col("id"), col("email", "text", 2))
    new = doc(col("id"), col("score", "integer", 2))
    assert set(kinds(diff.diff_schemas(old, new))) == {
        (diff.COLUMN_REMOVED, diff.BREAKING, "email"), (diff.COLUMN_ADDED, diff.NON_BREAKING, "score")}


def test_same_name_with_a_new_native_id_was_dropped_and_recreated():
    old = doc(col("id", native_id="1"), col("v", "text", 2, native_id="2"))
    new = doc(col("id", native_id="1"), col("v", "text", 3, native_id="3"))
    assert set(kinds(diff.diff_schemas(old, new))) == {
        (diff.COLUMN_REMOVED, diff.BREAKING, "v"), (diff.COLUMN_ADDED, diff.NON_BREAKING, "v")}


def test_dataset_rename_kind_and_definition():
    old = doc(col("id"), kind="view", definition="SELECT 1")
    new = doc(col("id"), kind="materialized_view", definition="SELECT 2")
    assert set(kinds(diff.diff_schemas(old, new, old_name="a.b", new_name="a.c"))) == {
        (diff.DATASET_RENAMED, diff.BREAKING, ""), (diff.KIND_CHANGED, diff.BREAKING, ""),
        (diff.DEFINITION_CHANGED, diff.NON_BREAKING, "")}


def test_a_column_becoming_generated_breaks_writers_and_one_ceasing_to_be_does_not():
    plain = doc(col("id", native_id="1"), col("total", native_id="2", position=2))
    filled = doc(col("id", native_id="1", default="GENERATED ALWAYS AS IDENTITY", generated="identity"),
                 col("total", native_id="2", position=2, generated="virtual"))
    assert set(kinds(diff.diff_schemas(plain, filled))) == {
        (diff.DEFAULT_CHANGED, diff.NON_BREAKING, "id"),
        (diff.GENERATED_CHANGED, diff.BREAKING, "id"),
        (diff.GENERATED_CHANGED, diff.BREAKING, "total"),  # SQLite shows no default for a generated column
    }
    assert set(kinds(diff.diff_schemas(filled, plain))) == {
        (diff.DEFAULT_CHANGED, diff.NON_BREAKING, "id"),
        (diff.GENERATED_CHANGED, diff.NON_BREAKING, "id"),
        (diff.GENERATED_CHANGED, diff.NON_BREAKING, "total"),
    }
    stored = doc(col("id", native_id="1"), col("total", native_id="2", position=2, generated="stored"))
    virtual = doc(col("id", native_id="1"), col("total", native_id="2", position=2, generated="virtual"))
    [change] = diff.diff_schemas(virtual, stored)
    assert change.describe() == "total: generation changed: virtual → stored"


def test_a_generated_column_recorded_before_generation_was_is_not_a_change():
    """Versions stored before "generated" was recorded hold an identity column's default, not the key."""
    before = doc(col("id", native_id="1", default="GENERATED ALWAYS AS IDENTITY"))
    after = doc(col("id", native_id="1", default="GENERATED ALWAYS AS IDENTITY", generated="identity"))
    assert diff.diff_schemas(before, after) == []


def test_a_view_read_again_with_its_tables_qualified_is_not_a_change():
    """PostgreSQL view SQL read before the empty search path left public's tables unqualified."""
    before = doc(col("id"), kind="view", definition=" SELECT p.id\n   FROM (payment p\n     JOIN billing.invoice i ON (true));")
    after = doc(col("id"), kind="view", definition=" SELECT p.id\n   FROM (public.payment p\n     JOIN billing.invoice i ON (true));")
    assert diff.diff_schemas(before, after) == []
    elsewhere = doc(col("id"), kind="view", definition=" SELECT p.id\n   FROM (public.payment p\n     JOIN billing.receipt i ON (true));")
    assert kinds(diff.diff_schemas(before, elsewhere)) == [(diff.DEFINITION_CHANGED, diff.NON_BREAKING, "")]
    assert kinds(diff.diff_schemas(after, before)) == [(diff.DEFINITION_CHANGED, diff.NON_BREAKING, "")]
