"""The audit log: who wrote what, from where, as a diff; never a secret; append-only; pruned after the kept time."""

import json
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.audit.context import audit_context
from catalog.audit.models import AuditEntry
from catalog.audit.present import summary
from catalog.audit.services import audit_prune
from catalog.celery import app as celery_app
from catalog.crawls.services import crawl_enqueue, source_crawl
from catalog.inventory.models import Column, Dataset, OwnerIdentity
from catalog.duplicates.services import duplicate_decide
from catalog.inventory.services import column_describe, dataset_describe, owner_identity_map, schema_describe
from catalog.quality.profiling import column_sensitive_set
from catalog.quality.models import Freshness
from catalog.quality.services import freshness_cadence_set
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status, metric_update
from catalog.sources.models import Crawl, Source
from catalog.sources.schedules import source_schedule_set
from catalog.sources.services import source_create, source_update
from tests.metrics.conftest import WAU_REWRITTEN, WAU_SQL

pytestmark = pytest.mark.django_db


def entries_about(obj):
    return list(AuditEntry.objects.about(obj).order_by("timestamp", "id"))


def test_a_source_made_and_edited_on_its_pages_is_recorded_with_its_url_redacted(staff):
    client = Client()
    client.force_login(staff)
    response = client.post("/sources/new/", {"name": "shop", "url": "postgresql://reader:hunter2-secret@db.example:5432/shop",
                                             "include_schemas": "sales", "exclude_schemas": "", "description": "", "options": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(name="shop")
    response = client.post(f"/sources/shop/edit/", {"url": "postgresql://reader:other-secret-9@db2.example:5432/shop",
                                                    "include_schemas": "sales, finance", "exclude_schemas": "",
                                                    "description": "The shop.", "options": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    created, edited = entries_about(source)
    assert (created.action, created.origin, created.actor_id, created.actor_name) == (AuditEntry.Action.CREATE, "web", staff.pk, "sam")
    assert created.via == "POST /sources/new/" and created.remote_addr == "127.0.0.1"
    assert edited.action == AuditEntry.Action.UPDATE
    assert edited.changes["url_display"] == ["postgresql://reader:***@db.example:5432/shop", "postgresql://reader:***@db2.example:5432/shop"]
    assert edited.changes["include_schemas"] == [["sales"], ["sales", "finance"]]
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "hunter2" not in stored and "other-secret" not in stored and "url_encrypted" not in stored


def test_an_api_token_write_names_its_user_and_the_token_origin(shop_catalog, bo):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bo).key}")
    created = api.post("/api/metrics/", {"name": "revenue", "title": "Revenue", "sql": "SELECT sum(o.amount) FROM sales.orders o"},
                       format="json")
    assert created.status_code == 201, created.json()
    definition = MetricDefinition.objects.get(name="revenue")
    entries = entries_about(definition)
    made = [e for e in entries if e.content_type.model == "metricdefinition" and e.action == AuditEntry.Action.CREATE][0]
    assert (made.origin, made.actor_name, made.via) == ("token", "bo", "POST /api/metrics/")
    assert made.changes["sql"][1] == "SELECT sum(o.amount) FROM sales.orders o"
    version = [e for e in entries if e.content_type.model == "metricversion"][0]
    assert version.parent_type == "metrics.metricdefinition" and version.parent_id == definition.pk
    key = Token.objects.get(user=bo).key
    assert key not in json.dumps(list(AuditEntry.objects.values()), default=str)


def test_every_version_certification_deprecation_and_a_forced_save_with_its_reason(shop_catalog, ana, bo):
    with audit_context(origin="web", actor=ana):
        wau = metric_register(user=ana, data={"name": "weekly_active_users", "sql": WAU_SQL})
        metric_update(wau, user=ana, data={"description": "Logins per week."}, message="describe")
        metric_set_status(wau, user=ana, status="certified")
    with audit_context(origin="api", actor=bo):
        copy = metric_register(user=bo, data={"name": "logins_per_week", "sql": WAU_REWRITTEN}, force=True, reason="app logins only")
    with audit_context(origin="web", actor=ana):
        metric_set_status(wau, user=ana, status="deprecated", replaced_by=copy)
    entries = entries_about(wau)
    versions = [e.changes["number"][1] for e in entries if e.content_type.model == "metricversion"]
    assert versions == ["1", "2"] or versions == [1, 2]
    statuses = [e.changes["status"] for e in entries if e.changes and "status" in e.changes and e.action == AuditEntry.Action.UPDATE]
    assert statuses == [["draft", "certified"], ["certified", "deprecated"]]
    assert all(e.actor_name == "ana" for e in entries)
    described = [e for e in entries if e.changes and "description" in e.changes and e.action == AuditEntry.Action.UPDATE]
    assert described[0].changes["description"] == ["", "Logins per week."]
    forced = [e for e in entries_about(copy) if e.content_type.model == "metricversion"][0]
    assert forced.changes["override_reason"][1] == "app logins only" and forced.actor_name == "bo" and forced.origin == "api"


def test_descriptions_and_owner_mappings_show_on_their_dataset_and_source(shop_catalog, ana):
    source, datasets = shop_catalog
    orders = datasets["sales.orders"]
    identity = OwnerIdentity.objects.create(source=source, name="etl_role")  # as a crawl makes it: not recorded
    with audit_context(origin="web", actor=ana):
        dataset_describe(orders, description="One row per order.", user=ana)
        column_describe(orders.columns.get(name="amount"), description="In EUR.", user=ana)
        owner_identity_map(identity, user=ana, email="")
    on_dataset = entries_about(orders)
    assert [(e.content_type.model, e.changes["description"]) for e in on_dataset] == [
        ("dataset", ["", "One row per order."]), ("column", ["", "In EUR."])]
    assert on_dataset[1].object_repr == "sales.orders.amount"
    mapped = [e for e in entries_about(source) if e.content_type.model == "owneridentity"]
    assert len(mapped) == 1 and mapped[0].changes["user"] == [None, "ana"]


def test_crawls_people_start_are_recorded_and_scheduled_ones_are_not(shop_catalog, ana, monkeypatch, settings):
    source, _ = shop_catalog
    with audit_context(origin="web", actor=ana):
        crawl_enqueue(source, trigger="web")
        crawl_enqueue(source, trigger="confirmed", allow_mass_removal=True)
    Crawl.objects.update(status=Crawl.FAILED)
    source_crawl(source, trigger="schedule")  # no person: a schedule's crawl (it fails: nothing listens there)
    monkeypatch.setattr(sys, "argv", ["manage.py", "crawl", "shop"])
    with pytest.raises(CommandError):  # the crawl fails (nothing listens there); starting it is what is recorded
        call_command("crawl", "shop")
    crawls = [e for e in entries_about(source) if e.content_type.model == "crawl"]
    assert [(e.changes["trigger"][1], e.changes["allow_mass_removal"][1], e.origin) for e in crawls] == [
        ("web", False, "web"), ("confirmed", True, "web"), ("command", False, "command")]
    assert crawls[2].via == "manage.py crawl" and crawls[2].actor_name.endswith("(shell)")


@celery_app.task(name="tests.audit.describe")
def describe_in_a_task(dataset_id):
    dataset_describe(Dataset.objects.get(pk=dataset_id), description="From a task.", user=None)


def test_a_task_write_is_recorded_as_the_tasks(shop_catalog):
    orders = shop_catalog[1]["sales.orders"]
    describe_in_a_task.apply(args=[orders.pk])
    (entry,) = entries_about(orders)
    assert (entry.origin, entry.via, entry.actor_id) == ("task", "tests.audit.describe", None)
    dataset_describe(orders, description="From nowhere in particular.", user=None)
    assert entries_about(orders)[-1].origin == "system"


def test_a_deleted_source_and_subscriptions_are_recorded(shop_catalog, ana):
    source, datasets = shop_catalog
    client = Client()
    client.force_login(ana)
    assert client.post("/watch/", {"target": "shop.sales.orders"}).status_code in (200, 302)
    subscription = ana.subscriptions.get()
    source.delete()
    kinds = {(e.content_type.model, e.action) for e in AuditEntry.objects.all()}
    assert ("subscription", AuditEntry.Action.CREATE) in kinds and ("source", AuditEntry.Action.DELETE) in kinds
    assert ("dataset", AuditEntry.Action.DELETE) not in kinds, "a dataset's removal with its source is not a person's edit"
    made = AuditEntry.objects.get(content_type__model="subscription", action=AuditEntry.Action.CREATE)
    assert made.object_id == subscription.pk and made.parent_type == "inventory.dataset" and made.origin == "web"


def test_entries_are_never_changed_and_only_old_ones_pruned(shop_catalog, ana, settings):
    orders = shop_catalog[1]["sales.orders"]
    with audit_context(origin="web", actor=ana):
        dataset_describe(orders, description="v1", user=ana)
        dataset_describe(orders, description="v2", user=ana)
    old, new = entries_about(orders)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=old.pk).update(object_repr="rewritten")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=old.pk).delete()
    settings.CANON_AUDIT_KEEP_DAYS = 30
    everything = AuditEntry.objects.count()  # the users and the source made for the test too
    assert audit_prune(now=timezone.now() + timedelta(days=10)) == 0
    assert audit_prune(now=timezone.now() + timedelta(days=31)) == everything
    assert not AuditEntry.objects.exists()


def test_the_admin_shows_entries_and_lets_nobody_change_or_delete_them(shop_catalog, ana, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    with audit_context(origin="web", actor=ana):
        dataset_describe(shop_catalog[1]["sales.orders"], description="v1", user=ana)
    (entry,) = entries_about(shop_catalog[1]["sales.orders"])
    client = Client()
    client.force_login(root)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert "sales.orders" in client.get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_setting_changed_in_the_admin_is_recorded_as_the_admins(shop_catalog, django_user_model):
    source, _ = shop_catalog
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(root)
    form = client.get(f"/admin/sources/source/{source.pk}/change/")
    assert form.status_code == 200
    response = client.post(f"/admin/sources/source/{source.pk}/change/", {
        "name": "shop", "include_schemas": "[]", "exclude_schemas": "[]", "description": "", "options": "{}",
        "mass_removal_share": "0.9", "failure_streak": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    (entry,) = [e for e in entries_about(source) if e.action == AuditEntry.Action.UPDATE]
    assert (entry.origin, entry.actor_name, entry.changes["mass_removal_share"]) == ("admin", "root", [None, 0.9])


def test_the_writes_of_the_apps_above_audit_are_recorded_on_their_dataset_and_source(shop_catalog, ana):
    """Schema descriptions, duplicate decisions, cadences, sensitive columns and sampling policies: each app
    registers its own (track_model), and each write shows in the history of its dataset or source."""
    source, datasets = shop_catalog
    orders, customers = datasets["sales.orders"], datasets["sales.customers"]
    with audit_context(origin="web", actor=ana):
        schema_describe(source, "sales", description="What the shop sold.", user=ana)
        duplicate_decide(orders, customers, verdict="keep", user=ana, reason="two teams read them")
        freshness_cadence_set(orders, "daily", user=ana)
        column_sensitive_set(orders, "amount", True, user=ana)
    on_orders = {e.content_type.model: e for e in entries_about(orders) + entries_about(customers)}
    assert on_orders["decision"].changes["verdict"] == [None, "keep"] and on_orders["decision"].actor_name == "ana"
    assert on_orders["freshness"].changes["cadence_text"][1] == "daily"
    assert on_orders["sensitivecolumn"].changes["column_name"] == [None, "amount"]
    on_source = {e.content_type.model: e for e in entries_about(source)}
    assert on_source["schemadescription"].changes["description"] == [None, "What the shop sold."]
    # A freshness row written with no person behind it (as the crawl step writes them) records nothing.
    Freshness.objects.create(dataset=customers, source=source, watching_since=timezone.now(), cadence_text="hourly")
    assert not [e for e in entries_about(customers) if e.content_type.model == "freshness"]


def test_a_sources_crawl_schedule_set_changed_paused_and_cleared_shows_on_the_source(shop_catalog, staff):
    source, _ = shop_catalog
    client = Client()
    client.force_login(staff)
    client.post(f"/sources/{source.name}/schedule/", {"every_minutes": "30", "action": "save"})
    client.post(f"/sources/{source.name}/schedule/", {"cron": "15 3 * * 1-5", "action": "save"})
    with audit_context(origin="command", actor=None):
        source_schedule_set(source, cron="15 3 * * 1-5", enabled=False)
    client.post(f"/sources/{source.name}/schedule/", {"action": "off"})
    entries = [e for e in entries_about(source) if e.content_type.model == "crawlschedule"]
    assert [e.action for e in entries] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE, AuditEntry.Action.UPDATE,
                                           AuditEntry.Action.DELETE]
    assert entries[0].changes["every_seconds"][1] in ("1800", 1800) and entries[0].origin == "web" and entries[0].actor_name == "sam"
    assert entries[1].changes["cron"] == ["", "15 3 * * 1-5"] and entries[2].origin == "command"
    assert [summary(e) for e in entries] == ["scheduled crawls: every 30 minutes",
                                            "changed the crawl schedule to cron 15 3 * * 1-5",
                                            "paused the crawl schedule", "removed the crawl schedule"]
    assert {e.parent_type for e in entries} == {"sources.source"} and {e.parent_id for e in entries} == {source.pk}
    page = client.get(f"/sources/{source.name}/").content.decode()
    assert "scheduled crawls: every 30 minutes" in page and "removed the crawl schedule" in page
