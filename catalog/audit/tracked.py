"""What the audit log records, as django-auditlog registrations: the fields people write through the services.

Only the fields a person sets are registered (a crawl's statistics, fingerprints and health never are), so
a crawl writing its own rows records nothing; the receivers a model does not need are disconnected, which
also keeps Django's fast delete for datasets and columns (a post_delete receiver would load every row a
crawl or a deleted source removes). A crawl is recorded when a person (or a command) started it, never when
a schedule did. Secrets: a source's URL is recorded as url_display, the form with its secrets masked; the
encrypted URL, a subscription's nonce and a user's password are never registered.
"""

from auditlog.receivers import log_create, log_delete, log_update
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save

from catalog.alerts.models import Subscription, SubscriptionExclusion
from catalog.audit.context import has_person
from catalog.audit.places import PARENTS
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaDescription
from catalog.metrics.models import MetricDefinition, MetricVersion
from catalog.sources.models import Crawl, CrawlSchedule, Source
from catalog.usage.models import SourceUsage

CREATE, UPDATE, DELETE = "create", "update", "delete"
ALL = {CREATE, UPDATE, DELETE}
_RECEIVERS = {CREATE: (post_save, log_create), UPDATE: (pre_save, log_update), DELETE: (post_delete, log_delete)}


def tracked():
    """(model, registration options, actions recorded)."""
    return [
        (Source, {"include_fields": ["name", "url_display", "include_schemas", "exclude_schemas", "description", "options",
                                    "mass_removal_share"],
                  "mapping_fields": {"url_display": "URL (secrets masked)"}, "m2m_fields": {"owners"}}, ALL),
        (Crawl, {"include_fields": ["trigger", "allow_mass_removal"]}, {CREATE}),
        (CrawlSchedule, {"include_fields": ["every_seconds", "cron", "enabled"]}, ALL),
        (Dataset, {"include_fields": ["description"]}, {UPDATE}),
        (Column, {"include_fields": ["description"]}, {UPDATE}),
        (SchemaDescription, {"include_fields": ["schema_name", "description"]}, {CREATE, UPDATE}),
        (OwnerIdentity, {"include_fields": ["user", "email"]}, {UPDATE}),
        (MetricDefinition, {"include_fields": ["name", "title", "description", "sql", "dialect", "source", "time_dimension", "grain",
                                              "unit", "format", "external_owners", "status", "replaced_by", "version"],
                            "m2m_fields": {"owners", "tags", "watchers"}}, ALL),
        (MetricVersion, {"include_fields": ["number", "message", "override_reason"]}, {CREATE}),
        (Subscription, {"include_fields": ["user", "source", "schema_name", "dataset", "mode", "breaking_only"]}, ALL),
        (SubscriptionExclusion, {"include_fields": ["subscription", "dataset"]}, {CREATE, DELETE}),
        (SourceUsage, {"include_fields": ["keep_query_text"]}, {UPDATE}),
        (get_user_model(), {"include_fields": ["username", "email", "is_active", "is_staff", "is_superuser"],
                            "m2m_fields": {"groups", "user_permissions"}}, ALL),
    ]


def _crawls_people_started(sender, instance, action, **kwargs):
    """A crawl's row is recorded when a person, a token or a command started it; a schedule's crawls are not
    (and so for other rows a crawl writes too, registered people_only)."""
    return has_person()


def track() -> None:
    for model, options, actions in tracked():
        track_model(model, options, actions)
    pre_log.connect(_crawls_people_started, sender=Crawl, dispatch_uid="canon-audit-crawls-people-started")


def track_model(model, options: dict, actions: set[str], *, people_only: bool = False, parents=()) -> None:
    """Record writes to `model` (django-auditlog options: include_fields, m2m_fields, mapping_fields) for these
    actions. An app above audit calls this from its AppConfig.ready for its own models, so audit imports none of
    them. people_only: a write is recorded only when a person, token or command made it (rows a crawl also writes).
    parents: (foreign key, parent label) pairs, the object whose page shows the entry as its history."""
    auditlog.register(model, **options)
    for action, (signal, receiver) in _RECEIVERS.items():
        if action not in actions:
            signal.disconnect(sender=model, dispatch_uid=auditlog._dispatch_uid(signal, receiver))
    if people_only:
        pre_log.connect(_crawls_people_started, sender=model, dispatch_uid=f"canon-audit-people-only-{model._meta.label_lower}")
    if parents:
        PARENTS[model._meta.label_lower] = list(parents)
