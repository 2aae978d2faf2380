"""Detection of copies, pure: signatures in, groups with evidence out."""

from catalog.duplicates.detect import (
    MAX_GROUP, Index, Signature, base_name, column_token, candidate_pairs, detect, score_pair, set_key,
)


def sig(dataset_id, name, columns, rows=None, size=None, **more):
    return Signature(dataset_id, name, frozenset(column_token(c, f) for c, f in columns), rows, size, label=name, **more)


ORDERS = [("order_id", "integer"), ("customer_id", "integer"), ("amount", "decimal"), ("placed_at", "timestamp"),
          ("currency", "text"), ("channel", "text"), ("coupon_code", "text"), ("shipped_on", "date")]


def test_tokens_ignore_case_naming_style_and_engine_spelling_of_a_type():
    assert column_token("customerId", "integer") == column_token("CUSTOMER_ID", "decimal") == "customer_id:number"
    assert column_token("placed_at", "timestamp") == column_token("PlacedAt", "date")
    assert column_token("amount", "text") != column_token("amount", "float")


def test_copy_names_lose_their_markers():
    assert base_name("orders_backup_2024") == ("orders", True)
    assert base_name("orders_copy") == ("orders", True)
    assert base_name("orders_v2") == ("orders", True)
    assert base_name("orders") == ("orders", False)


def test_a_renamed_reordered_copy_with_one_extra_column_scores_with_its_evidence():
    original = sig(1, "orders", ORDERS, rows=100_000, size=8_000_000)
    copy_columns = [(n.replace("_id", "Id"), f) for n, f in reversed(ORDERS)] + [("loaded_at", "timestamp")]
    copy = sig(2, "orders_backup_2024", copy_columns, rows=99_500, size=7_900_000)
    match = score_pair(original, copy)
    assert match is not None and 80 <= match.score < 100 and not match.certain
    detection = detect([original, copy])
    [group] = detection.groups
    assert group.original == 1
    [member] = group.copies
    assert member.dataset_id == 2
    assert member.summary == f"{match.score}%: same 8 columns, 1 extra"
    assert "1 extra: loaded_at" in member.evidence
    assert "row counts within 1%" in member.evidence
    assert "named like a copy" in member.evidence


def test_equal_checksums_are_certain_whatever_the_columns_say():
    a = sig(1, "events", [("x", "text")], checksum="etag-abc")
    b = sig(2, "events_export", [], checksum="etag-abc")
    [group] = detect([a, b]).groups
    assert group.certain and group.copies[0].score == 100
    assert group.copies[0].summary == "100%: identical files"


def test_same_sql_is_a_duplicate_pipeline():
    a = sig(1, "weekly_active", [("week", "date"), ("users", "integer")], sql="fp1")
    b = sig(2, "wau", [("wk", "date"), ("n", "integer")], sql="fp1")
    c = sig(3, "other", [("week", "date"), ("users", "integer")], sql="fp2")
    [group] = detect([a, b, c]).groups
    assert group.kind == "pipeline" and {m.dataset_id for m in group.members} == {1, 2}
    assert "the same SQL" in group.copies[0].summary


def test_a_view_reading_only_one_table_with_its_columns_is_a_derived_copy():
    table = sig(1, "customers", ORDERS)
    view = sig(2, "customers_view", ORDERS, upstream=1)
    [group] = detect([view, table]).groups
    assert group.original == 1
    assert "one reads only the other" in group.copies[0].evidence


def test_different_tables_sharing_generic_columns_are_not_copies():
    generic = [("id", "integer"), ("created_at", "timestamp"), ("updated_at", "timestamp"), ("name", "text"), ("status", "text")]
    a = sig(1, "customers", generic + [("email", "text")], rows=1000)
    b = sig(2, "products", generic + [("price", "decimal")], rows=1000)
    assert score_pair(a, b) is None
    assert detect([a, b]).groups == []


def test_no_columns_or_too_few_columns_never_group():
    empties = [sig(i, f"t{i}", []) for i in range(1, 200)]
    pairs = [sig(300, "a", [("x_code", "text"), ("y_code", "text")]), sig(301, "b", [("x_code", "text"), ("y_code", "text")])]
    assert detect(empties + pairs).groups == []


def test_thousands_of_identical_tiny_tables_make_one_capped_group_with_a_warning():
    columns = [("reading_at", "timestamp"), ("sensor_reading", "float"), ("sensor_code", "text")]
    tables = [sig(i, f"readings_{i}", columns, rows=10) for i in range(1, 3001)]
    signatures = {s.dataset_id: s for s in tables}
    # Identical sets pair with one representative each: thousands of pairs, not millions.
    assert len(candidate_pairs(signatures, [])) == 2999
    detection = detect(tables)
    [group] = detection.groups
    assert group.size == 3000 and len(group.members) == MAX_GROUP
    assert "3,000 datasets look alike" in group.warning
    assert detection.warnings and "capped" in detection.warnings[0]


def test_names_in_any_script():
    columns = [("顧客ID", "integer"), ("注文日", "date"), ("金額", "decimal"), ("Straße", "text")]
    a = sig(1, "注文", columns, rows=10)
    b = sig(2, "注文_backup", columns, rows=10)
    [group] = detect([a, b]).groups
    assert group.original == 1


def test_a_pair_people_said_is_not_a_duplicate_never_comes_back():
    a = sig(1, "orders", ORDERS)
    b = sig(2, "orders_copy", ORDERS)
    assert detect([a, b], decisions={(1, 2): ("not", None)}).groups == []


def test_a_person_naming_the_original_wins_the_choice():
    a = sig(1, "orders", ORDERS, seen=1.0)
    b = sig(2, "orders_copy", ORDERS, seen=2.0)
    [group] = detect([a, b], decisions={(1, 2): ("copy", 2)}).groups
    assert group.original == 2 and group.copies[0].certain


def test_set_keys_are_order_free_and_stable():
    assert set_key(["a:text", "b:number"]) == set_key(["b:number", "a:text"])
    assert set_key(["a:text"]) != set_key(["a:number"])


def test_an_incremental_pass_finds_a_new_copy_and_keeps_other_groups():
    tables = [sig(i, f"t{i}", [(f"c{i}_{j}", "text") for j in range(10)]) for i in range(1, 501)]
    tables.append(sig(1000, "t7_copy", [(f"c7_{j}", "text") for j in range(10)]))
    index = Index()
    full = index.build(tables)
    assert [(g.original, [m.dataset_id for m in g.copies]) for g in full.groups] == [(7, [1000])]
    new = sig(1001, "t9_snapshot_2024", [(f"C9_{j}", "text") for j in range(9)])
    again = index.update([new])
    assert [(g.original, [m.dataset_id for m in g.copies]) for g in again.groups] == [(9, [1001])]
    assert set(index.groups) == {7, 9}
    index.update([], removed=[1000])
    assert set(index.groups) == {9}
