"""Lake sources through the crawl service: drift becomes schema history and email; failures change nothing."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.alerts.models import OutboxMessage
from catalog.alerts.services import subscription_create
from catalog.connectors.lake.stores import LocalStore, StoreError
from catalog.core import crypto
from catalog.core.sourceurl import parse_source_url
from catalog.history import diff
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset, SchemaVersion
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.connectors.lake_support import FolderLake, csv_bytes, lake, make_lake, parquet_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


def fill(lake):
    for day in ("2024-03-01", "2024-03-02"):
        lake.put(f"sales/orders/dt={day}/part-0.parquet", parquet_bytes({"order_id": [1, 2], "amount": [3.5, 4.0]}))
    lake.put("crm/leads/leads.csv", csv_bytes({"id": [1], "email": ["a@example.com"]}))


@pytest.fixture
def source(lake):
    fill(lake)
    source = source_create(name=f"lake-{lake.kind}", url=lake.url(), options={"sample_files": 3})
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert (crawl.datasets_added, crawl.datasets_seen) == (2, 2)
    return source


def orders_of(lake):
    return Dataset.objects.get(schema_name=f"{lake.root_name}/sales", name="orders")


def test_first_crawl_stores_datasets_facts_and_compact_state(source, lake):
    orders = orders_of(lake)
    assert orders.kind == "file_set"
    assert [(c.name, c.data_type, c.type_family) for c in orders.columns.order_by("position")] == [
        ("order_id", "int64", "integer"), ("amount", "double", "float"), ("dt", "date32[day]", "date")]
    assert orders.properties["objects"] == 2 and orders.size_bytes == orders.properties["total_bytes"]
    assert orders.properties["partition_keys"][0]["min"] == "2024-03-01"
    assert orders.last_modified_at is not None and orders.owner is not None
    source.refresh_from_db()
    assert source.connector_state["v"] == 2 and len(source.connector_state["datasets"]) == 2


def test_newer_files_with_an_extra_column_are_a_change_and_an_email(source, lake, django_user_model):
    watcher = django_user_model.objects.create_user("wes", "wes@example.com", "pw")
    subscription_create(user=watcher, source=source)
    lake.settle()
    lake.put("sales/orders/dt=2024-03-03/part-0.parquet",
             parquet_bytes({"order_id": [3], "amount": [5.0], "coupon": ["SPRING"]}))

    source = Source.objects.get(pk=source.pk)  # with the state the first crawl left: only the new file is read
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert (crawl.datasets_changed, crawl.datasets_added, crawl.datasets_removed) == (1, 0, 0)
    orders = orders_of(lake)
    assert orders.versions.count() == 2
    assert [c.name for c in orders.columns.order_by("position")] == ["order_id", "amount", "coupon", "dt"]
    changes = {(c.kind, c.column) for c in SchemaChange.objects.filter(crawl=crawl)}
    assert (diff.COLUMN_ADDED, "coupon") in changes
    assert any("lack coupon" in w for w in orders.warnings), "the page says which files differ"
    [message] = OutboxMessage.objects.filter(crawl=crawl)
    assert message.recipient == "wes@example.com" and "coupon" in message.body_text


def test_an_unchanged_recrawl_reads_no_content_and_changes_nothing(source, lake):
    from catalog.connectors import connector_for

    versions = SchemaVersion.objects.count()
    source = Source.objects.get(pk=source.pk)  # as a crawl task loads it, with the state the last crawl left
    connector = connector_for(source.url, options=source.options)
    with CaptureQueriesContext(connection) as queries:
        crawl = source_crawl(source, connector=connector)
    assert crawl.status == Crawl.SUCCEEDED
    assert (crawl.datasets_changed, crawl.datasets_added, crawl.datasets_removed) == (0, 0, 0)
    assert connector.stats["files_read"] == 0 and connector.stats["bytes_read"] == 0
    assert SchemaVersion.objects.count() == versions
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert not [w for w in writes if "inventory_" in w.split("SET")[0]], "facts, owners and warnings are stable"


def test_a_failed_listing_changes_nothing_and_keeps_the_state(source, lake):
    source.refresh_from_db()
    state = source.connector_state
    lake.delete("crm/leads/leads.csv")  # would be a removal, if the crawl could see it
    broken = lake.url().replace(lake.root_name, "gone-" + lake.root_name, 1)
    Source.objects.filter(pk=source.pk).update(url_encrypted=crypto.encrypt(broken))
    source.refresh_from_db()
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED
    assert "does not exist" in crawl.error and "testing-secret" not in crawl.error
    assert Dataset.objects.present().count() == 2, "nothing is marked removed"
    assert not SchemaChange.objects.exists()
    source.refresh_from_db()
    assert source.connector_state == state


def test_a_corrupt_file_is_a_warning_on_the_dataset_page_data(source, lake):
    lake.put("crm/leads/broken.csv", bytes(range(256)) * 8)
    crawl = source_crawl(Source.objects.get(pk=source.pk))
    assert crawl.status == Crawl.SUCCEEDED
    leads = Dataset.objects.get(name="leads")
    assert any("broken.csv: not CSV text" in w for w in leads.warnings)
    assert any("broken.csv: not CSV text" in w for w in crawl.warnings)
    assert [c.name for c in leads.columns.order_by("position")] == ["id", "email"]


def test_add_source_takes_connector_options_and_crawl_uses_them(lake):
    from django.core.management import call_command

    lake.put("exports/customers.csv", csv_bytes({"id": [1], "email": ["a@x"]}))
    lake.put("exports/products.csv", csv_bytes({"sku": ["A"]}))
    call_command("add_source", "exports", lake.url(), "--options", '{"path_templates": ["exports/{dataset}.csv"]}')
    source = Source.objects.get(name="exports")
    assert source.options == {"path_templates": ["exports/{dataset}.csv"]}
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert set(Dataset.objects.values_list("name", flat=True)) == {"customers", "products"}


def test_nul_characters_in_file_headers_are_replaced_not_fatal(lake):
    """PostgreSQL text and JSON refuse NUL; one broken header must not fail the crawl of a whole bucket."""
    lake.put("good/orders/part-0.parquet", parquet_bytes({"order_id": [1]}))
    lake.put("broken/events/part-0.parquet", parquet_bytes({"user\x00id": [1], "kind": ["x"]}))
    lake.put("broken/leads/leads.csv", b"id,e\x00mail\n1,a@example.com\n")
    source = source_create(name="nul", url=lake.url())
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert crawl.datasets_added == 3
    events = Dataset.objects.get(name="events")
    assert list(events.columns.order_by("position").values_list("name", flat=True)) == ["user\ufffdid", "kind"]
    assert any("NUL characters" in w for w in events.warnings)
    leads = Dataset.objects.get(name="leads")
    # A CSV file with a NUL byte is judged binary, not read: said so on the dataset.
    assert "leads.csv: not CSV text: the file holds binary data" in leads.warnings
    assert not Dataset.objects.get(name="orders").warnings
    # The same files again: the same names, so no new schema version and no change.
    again = source_crawl(Source.objects.get(pk=source.pk))
    assert again.status == Crawl.SUCCEEDED, again.error
    assert (again.datasets_changed, again.datasets_added, again.datasets_removed) == (0, 0, 0)
    assert SchemaVersion.objects.filter(dataset=events).count() == 1


def test_a_file_name_that_is_not_utf8_is_a_warning_on_its_dataset_not_a_failed_crawl(request, tmp_path):
    """Linux file names are bytes: a Latin-1 'café.csv' must not fail the crawl of the whole folder."""
    lake = make_lake("file", request, tmp_path)
    fill(lake)
    folder = os.fsencode(lake.root)
    with open(folder + b"/sales/orders/caf\xe9.csv", "wb") as handle:  # a real non-UTF-8 name on disk
        handle.write(csv_bytes({"order_id": [1], "note": ["x"]}))
    os.makedirs(folder + b"/d\xe9p\xf4t/items")
    with open(folder + b"/d\xe9p\xf4t/items/part.csv", "wb") as handle:
        handle.write(csv_bytes({"sku": ["A"]}))
    source = source_create(name="latin1", url=lake.url())

    crawl = source_crawl(source)

    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert crawl.datasets_added == 2
    orders = orders_of(lake)
    assert orders.warnings == ["1 file(s) or folder(s) left out: the name is not UTF-8, rename to read (e.g. caf\\xe9.csv)"]
    assert [c.name for c in orders.columns.order_by("position")] == ["order_id", "amount", "dt"]
    assert not Dataset.objects.get(name="leads").warnings
    # A folder above every dataset is named on the crawl.
    assert "1 file(s) or folder(s) left out: the name is not UTF-8, rename to read (e.g. d\\xe9p\\xf4t/)" in crawl.warnings
    again = source_crawl(Source.objects.get(pk=source.pk))
    assert again.status == Crawl.SUCCEEDED, again.error
    assert (again.datasets_changed, again.datasets_added, again.datasets_removed) == (0, 0, 0)


def test_a_link_leading_outside_the_folder_is_left_out_unread_and_named_on_its_dataset(request, tmp_path):
    """A folder source reads inside its folder only: a symbolic link below it (to a file or a folder) that leads
    outside is named on its dataset and not read; a link to a file inside the folder is read as that file."""
    lake = make_lake("file", request, tmp_path)
    fill(lake)
    private = tmp_path / "private"
    (private / "payroll").mkdir(parents=True)
    (private / "salaries.parquet").write_bytes(parquet_bytes({"order_id": [1], "salary": [99000.0]}))
    (private / "staff.csv").write_bytes(csv_bytes({"id": [1], "password_hash": ["x"]}))
    (private / "payroll" / "part-0.parquet").write_bytes(parquet_bytes({"order_id": [2], "iban": ["GB00"]}))
    root = lake.root
    (root / "sales/orders/dt=2024-03-04").mkdir()
    os.symlink(private / "salaries.parquet", root / "sales/orders/dt=2024-03-04/part-9.parquet")
    os.symlink(private / "payroll", root / "sales/orders/dt=2024-03-05")  # a linked folder
    os.symlink(private / "staff.csv", root / "crm/leads/staff.csv")
    os.symlink(root / "crm/leads/leads.csv", root / "crm/leads/copy.csv")  # inside the folder: read as any file
    os.symlink(f"{root}/crm/../../private/staff.csv", root / "crm/leads/climb.csv")  # '..' through the link
    os.symlink("/etc", root / "etc")
    os.symlink(private / "staff.csv", root / "crm/leads/.hidden.csv")  # hidden names are never data anyway
    source = source_create(name="links", url=lake.url())

    crawl = source_crawl(source)

    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    orders, leads = orders_of(lake), Dataset.objects.get(name="leads")
    assert [c.name for c in orders.columns.order_by("position")] == ["order_id", "amount", "dt"]
    assert orders.properties["objects"] == 2
    assert orders.warnings == ["2 symbolic link(s) left out, not read: each leads outside the source's folder "
                               "(e.g. dt=2024-03-04/part-9.parquet, dt=2024-03-05)"]
    assert [c.name for c in leads.columns.order_by("position")] == ["id", "email"]
    assert leads.properties["objects"] == 2, "leads.csv and the link to it"
    assert leads.warnings == ["2 symbolic link(s) left out, not read: each leads outside the source's folder "
                              "(e.g. climb.csv, staff.csv)"]
    assert "1 symbolic link(s) left out, not read: each leads outside the source's folder (e.g. etc)" in crawl.warnings
    shown = " ".join([*crawl.warnings, *orders.warnings, *leads.warnings])
    assert not any(word in shown for word in ("private", "salar", "payroll", "password", "passwd", "/etc"))
    assert Dataset.objects.filter(source=source).count() == 2


def test_a_file_replaced_by_a_link_leading_outside_after_listing_is_not_read(tmp_path):
    lake = FolderLake(tmp_path / "lake")
    lake.put("orders/part-0.csv", csv_bytes({"order_id": [1]}))
    (tmp_path / "secret.csv").write_bytes(csv_bytes({"password_hash": ["x"]}))
    store = LocalStore(parse_source_url(lake.url()))
    assert [key for page in store.list("") for key, *_ in page] == ["orders/part-0.csv"]
    (lake.root / "orders/part-0.csv").unlink()
    os.symlink(tmp_path / "secret.csv", lake.root / "orders/part-0.csv")
    with pytest.raises(StoreError, match="it is now a link leading outside the folder"):
        store.read_range("orders/part-0.csv", 0, 100)


def test_a_path_template_cannot_lead_outside_the_folder(request, tmp_path):
    lake = make_lake("file", request, tmp_path)
    fill(lake)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "staff.csv").write_bytes(csv_bytes({"id": [1], "password_hash": ["x"]}))
    os.symlink(tmp_path / "private", lake.root / "shortcut")
    source = source_create(name="templates", url=lake.url(), options={"path_templates": ["shortcut/{dataset}.csv"]})

    crawl = source_crawl(source)

    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert not Dataset.objects.filter(source=source).exists()
    assert crawl.warnings == ["1 symbolic link(s) left out, not read: each leads outside the source's folder (e.g. shortcut)"]

    climbing = source_create(name="climbing", url=lake.url(), options={"path_templates": ["../private/{dataset}.csv"]})
    crawl = source_crawl(climbing)
    assert crawl.status == Crawl.FAILED and crawl.error == f"listing ../private/: '..' leads outside the folder {lake.root}"
    assert not Dataset.objects.filter(source=climbing).exists()


def test_odd_s3_keys_are_datasets_and_files_like_any_other(request, tmp_path):
    """S3 keys are UTF-8 by protocol, but may hold percent signs, escapes-looking text and control characters."""
    lake = make_lake("s3", request, tmp_path)
    for key in ("sales/orders/100%25 done.csv", "sales/orders/a%2Fb.csv", "sales/orders/tab\there.csv",
                "sales/orders/bell\x07.csv", "sales/orders/caf\u00e9.csv", "ev%ents/day\x7f/part.csv"):
        lake.put(key, csv_bytes({"id": [1], "amount": [2.5]}))
    source = source_create(name="odd-keys", url=lake.url())

    crawl = source_crawl(source)

    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    orders = orders_of(lake)
    assert orders.properties["objects"] == 5 and not orders.warnings
    odd = Dataset.objects.get(schema_name=f"{lake.root_name}/ev%ents")
    assert odd.name == "day\x7f" and [c.name for c in odd.columns.order_by("position")] == ["id", "amount"]
    again = source_crawl(Source.objects.get(pk=source.pk))
    assert (again.status, again.datasets_changed, again.datasets_added) == (Crawl.SUCCEEDED, 0, 0)
