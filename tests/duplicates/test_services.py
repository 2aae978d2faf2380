"""Copies found by the crawl step across engines (a PostgreSQL warehouse, a DuckDB file), told to owners once,
decided by people; real servers and real crawls throughout."""

import re
from datetime import datetime
from io import StringIO

import duckdb
import pyarrow as pa
import pytest
from django.core.management import call_command
from django.test import override_settings

from catalog.alerts.models import OutboxMessage
from catalog.alerts.services import outbox_flush
from catalog.duplicates.models import Decision, DuplicateGroup, DuplicateMember, Signature
from catalog.duplicates import services
from catalog.duplicates import steps as duplicate_steps
from catalog.duplicates.services import (
    DecisionError, duplicate_decide, duplicates_after_crawl_task, duplicates_detect_all, view_sql_fingerprint,
)
from catalog.inventory.models import Dataset
from catalog.search.models import SearchDocument
from catalog.sources.services import source_create
from tests.connectors.lake_support import make_lake, parquet_bytes
from tests.duplicates.support import crawl as _crawl, ds as _ds, duck as _duck

pytestmark = pytest.mark.django_db


def _copies_of(dataset):
    group = DuplicateGroup.objects.filter(original=dataset).first()
    return {m.dataset.qualified_name: m for m in group.members.select_related("dataset")} if group else {}


def test_a_view_selecting_everything_from_one_table_is_a_derived_copy(shop):
    orders = _ds(shop, "sales", "orders")
    copies = _copies_of(orders)
    assert "analytics.orders_all" in copies
    member = copies["analytics.orders_all"]
    assert "one reads only the other" in member.evidence
    assert member.summary.startswith("99%: same 5 columns")


def test_views_computing_the_same_thing_are_duplicate_pipelines(shop):
    group = DuplicateGroup.objects.get(kind=DuplicateGroup.PIPELINE)
    names = {group.original.qualified_name} | {m.dataset.qualified_name for m in group.members.all()}
    # Aliases and a mirrored comparison do not count; the order of the output columns does.
    assert names == {"analytics.big_orders", "analytics.big_orders_again"}
    assert all("the same SQL" in m.summary for m in group.members.all())


def test_the_same_sql_fingerprint_survives_formatting_comments_and_aliases():
    a = view_sql_fingerprint("SELECT order_id, amount FROM sales.orders WHERE amount > 100", "postgresql")
    b = view_sql_fingerprint("select o.order_id as x, o.amount  -- the big ones\n from sales.orders o where 100 < o.amount", "postgresql")
    assert a and a == b
    assert view_sql_fingerprint("SELECT order_id FROM sales.orders WHERE amount > 200", "postgresql") != a
    assert view_sql_fingerprint("this is not ( sql", "postgresql") == ""


def test_tables_with_no_columns_are_never_grouped(shop):
    empties = Dataset.objects.filter(source=shop, name__startswith="empty_")
    assert empties.count() == 3
    assert not DuplicateMember.objects.filter(dataset__in=empties).exists()
    assert not DuplicateGroup.objects.filter(original__in=empties).exists()


def test_a_new_copy_in_another_engine_is_found_and_its_owners_told_once(shop, tmp_path, mailoutbox):
    customers = _ds(shop, "sales", "customers")
    duck = source_create(name="duck", url=f"duckdb://{_duck(tmp_path)}")
    crawl = _crawl(duck)
    copy = _ds(duck, "main", "customers_backup_2024")
    copies = _copies_of(customers)
    member = copies["main.customers_backup_2024"]
    # jsonb there, VARCHAR here: JSON is text in most copies.
    assert member.summary.startswith(f"{member.score}%: same 6 columns, 1 extra")
    assert "1 extra: loaded_at" in member.evidence
    assert "named like a copy" in member.evidence
    assert not DuplicateMember.objects.filter(dataset=_ds(duck, "main", "weather")).exists()

    [message] = OutboxMessage.objects.filter(kind="duplicate")
    assert message.recipient == "olu@example.com" and message.crawl_id == crawl.pk
    assert message.subject == "main.customers_backup_2024 looks like a copy of sales.customers"
    assert "1 extra: loaded_at" in message.body_text and f"/datasets/{copy.pk}/#duplicates" in message.body_text
    assert outbox_flush() == 1
    [sent] = mailoutbox
    assert sent.to == ["olu@example.com"] and "Likeness: " in sent.body

    # Crawled again, changed or not, and after a full pass: the pair is not announced again.
    _crawl(duck)
    conn = duckdb.connect(str(tmp_path / "copies.duckdb"))
    conn.execute("ALTER TABLE main.customers_backup_2024 DROP COLUMN loaded_at")
    conn.close()
    _crawl(duck)
    duplicates_detect_all()
    assert OutboxMessage.objects.filter(kind="duplicate").count() == 1
    outbox_flush()
    assert len(mailoutbox) == 1
    assert "main.customers_backup_2024" in _copies_of(customers)

    # Search labels the copy and ranks it below the original.
    document = SearchDocument.objects.get(kind="dataset", dataset_id=copy.pk)
    original_document = SearchDocument.objects.get(kind="dataset", dataset_id=customers.pk)
    assert "copy of sales.customers" in document.subtitle
    assert document.weight < original_document.weight


def test_removing_the_copy_takes_it_out_of_its_group(shop, tmp_path):
    duck = source_create(name="duck", url=f"duckdb://{_duck(tmp_path)}")
    _crawl(duck)
    conn = duckdb.connect(str(tmp_path / "copies.duckdb"))
    conn.execute("DROP TABLE main.customers_backup_2024")
    conn.close()
    _crawl(duck)
    assert "main.customers_backup_2024" not in _copies_of(_ds(shop, "sales", "customers"))
    assert not Signature.objects.filter(dataset__name="customers_backup_2024").exists()


def test_not_a_duplicate_is_recorded_and_the_pair_never_comes_back(shop, staff_user):
    orders, orders_all = _ds(shop, "sales", "orders"), _ds(shop, "analytics", "orders_all")
    decision = duplicate_decide(orders_all, orders, verdict="not", user=staff_user)
    assert (decision.dataset_a_id, decision.dataset_b_id) == tuple(sorted((orders.pk, orders_all.pk)))
    assert decision.decided_by == staff_user and decision.decided_at is not None
    assert "analytics.orders_all" not in _copies_of(orders)
    _crawl(shop)
    duplicates_detect_all()
    assert "analytics.orders_all" not in _copies_of(orders)
    assert not DuplicateMember.objects.filter(dataset=orders_all).exists()


def test_keep_both_needs_a_reason_and_is_a_copy_names_the_original(shop, staff_user):
    orders, orders_all = _ds(shop, "sales", "orders"), _ds(shop, "analytics", "orders_all")
    with pytest.raises(DecisionError, match="Say why"):
        duplicate_decide(orders, orders_all, verdict="keep", user=staff_user, reason="  ")
    with pytest.raises(DecisionError, match="one of the two"):
        duplicate_decide(orders, orders_all, verdict="copy", user=staff_user, original=_ds(shop, "sales", "customers"))
    with pytest.raises(DecisionError):
        duplicate_decide(orders, orders, verdict="not", user=staff_user)
    kept = duplicate_decide(orders, orders_all, verdict="keep", user=staff_user, reason="the BI tool needs a view")
    assert Decision.objects.get().reason == "the BI tool needs a view" and kept.verdict == "keep"
    assert "analytics.orders_all" in _copies_of(orders)
    confirmed = duplicate_decide(orders, orders_all, verdict="copy", user=staff_user, original=orders_all)
    assert Decision.objects.count() == 1 and confirmed.verdict == "copy"
    # The person's original wins over the heuristics (a view reading the table would otherwise be the copy).
    group = DuplicateGroup.objects.get(original=orders_all)
    assert group.certain and {m.dataset_id for m in group.members.all()} >= {orders.pk}


@override_settings(CANON_DUPLICATES_MAX_GROUP=10)
def test_many_identical_tiny_tables_make_one_capped_group_with_a_warning(shop, tmp_path):
    path = tmp_path / "parts.duckdb"
    conn = duckdb.connect(str(path))
    for i in range(40):
        conn.execute(f"CREATE TABLE main.readings_{i:03d} (reading_at TIMESTAMP, sensor_reading DOUBLE, sensor_code VARCHAR)")
    conn.execute('CREATE TABLE main."測定" ("測定日時" TIMESTAMP, "値" DOUBLE, "センサー" VARCHAR, "場所" VARCHAR)')
    conn.close()
    parts = source_create(name="parts", url=f"duckdb://{path}")
    _crawl(parts)
    group = DuplicateGroup.objects.get(original__source=parts)
    assert group.size == 40 and group.members.count() == 9
    assert "40 datasets look alike" in group.warning
    assert not DuplicateMember.objects.filter(dataset__name="測定").exists()


def test_s3_folders_holding_the_same_objects_are_certain_copies(request, tmp_path):
    lake = make_lake("s3", request, tmp_path)
    orders = parquet_bytes({"order_id": [1, 2], "amount": [3.5, 4.0]})
    for folder in ("sales/orders", "exports/orders_export"):
        lake.put(f"{folder}/dt=2024-03-01/part-0.parquet", orders)
    # The same columns, other content: alike, but not certain.
    lake.put("exports/orders_other/dt=2024-03-01/part-0.parquet", parquet_bytes({"order_id": [7], "amount": [1.0]}))
    source = source_create(name="lake", url=lake.url())
    _crawl(source)
    sales = Dataset.objects.get(source=source, name="orders")
    export = Dataset.objects.get(source=source, name="orders_export")
    assert sales.properties["content_digest"] == export.properties["content_digest"]
    member = DuplicateMember.objects.get(dataset__in=[sales, export])
    assert member.certain and member.score == 100
    assert "identical file checksums: the same bytes" in member.evidence
    assert not DuplicateMember.objects.filter(dataset__name="orders_other", certain=True).exists()


def test_the_command_makes_every_group_again(shop):
    DuplicateGroup.objects.all().delete()
    Signature.objects.all().delete()
    out = StringIO()
    call_command("duplicates_detect", stdout=out)
    assert re.fullmatch(r"2 groups, 2 copies, in [\d.]+ s\n", out.getvalue())
    assert "analytics.orders_all" in _copies_of(_ds(shop, "sales", "orders"))
    assert Signature.objects.filter(dataset__source=shop).count() == Dataset.objects.filter(source=shop).count()


def test_a_big_crawl_hands_its_copies_to_a_task_which_emails_once(shop, tmp_path, settings, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    sent = []
    record = lambda name, args=(), kwargs=None: sent.append((name, list(args)))  # noqa: E731
    monkeypatch.setattr(services, "task_send", record)
    monkeypatch.setattr(duplicate_steps, "task_send", record)  # the step sends the task, by name
    settings.CANON_DUPLICATES_SYNC_DATASETS = 1
    duck = source_create(name="duck", url=f"duckdb://{_duck(tmp_path)}")
    with django_capture_on_commit_callbacks(execute=True):
        crawl = _crawl(duck)
    copy = _ds(duck, "main", "customers_backup_2024")
    [(name, args)] = sent
    assert name == "canon.duplicates_after_crawl" and args[3] == crawl.pk and copy.pk in args[0] and copy.pk in args[2]
    assert not DuplicateMember.objects.filter(dataset=copy).exists()  # not yet
    for _ in range(2):  # a redelivered message finds the same and queues nothing more
        duplicates_after_crawl_task(*args)
    assert DuplicateMember.objects.filter(dataset=copy).exists()
    [message] = OutboxMessage.objects.filter(kind="duplicate")
    assert message.crawl_id == crawl.pk
    assert sent[1:] == [("canon.outbox_flush", [])]


def test_a_big_crawl_whose_task_cannot_be_queued_finds_its_copies_itself(shop, tmp_path, settings, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(services, "task_send", broker_down)
    monkeypatch.setattr(duplicate_steps, "task_send", broker_down)
    settings.CANON_DUPLICATES_SYNC_DATASETS = 1
    duck = source_create(name="duck", url=f"duckdb://{_duck(tmp_path)}")
    with django_capture_on_commit_callbacks(execute=True):
        _crawl(duck)
    assert DuplicateMember.objects.filter(dataset__name="customers_backup_2024").exists()
    assert OutboxMessage.objects.filter(kind="duplicate").count() == 1


def test_a_parquet_folder_exported_from_a_postgresql_table_is_its_copy(shop, request, tmp_path):
    lake = make_lake("s3", request, tmp_path)
    export = pa.table({
        "CustomerID": pa.array([1, 2], pa.int64()), "Email": ["a@example.com", "b@example.com"], "Country": ["GB", "FR"],
        "SignedUpAt": pa.array([datetime(2024, 1, 1), datetime(2024, 2, 1)], pa.timestamp("us")),
        "Tags": pa.array([["x"], []], pa.list_(pa.string())), "Profile": ['{"a": 1}', "{}"],
    })
    lake.put("exports/customers_export/dt=2024-03-01/part-0.parquet", parquet_bytes(export))
    source = source_create(name="lake", url=lake.url())
    _crawl(source)
    folder = Dataset.objects.get(source=source, name="customers_export")
    member = _copies_of(_ds(shop, "sales", "customers"))[folder.qualified_name]
    assert member.dataset_id == folder.pk
    # The dt partition key is the folder's layout, not a column of the data; its JSON is text where PostgreSQL has jsonb.
    assert member.summary == f"{member.score}%: same 6 columns" and member.score >= 95
    assert "named like a copy" in member.evidence
