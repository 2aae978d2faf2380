"""The audit log: one append-only row per write a person, token, command or task made through the services.

django-auditlog writes the rows (its signal receivers diff the registered fields of each save and delete;
see tracked.py for what is registered); this model is its log entry (settings.AUDITLOG_LOGENTRY_MODEL)
with what Canon adds: where the write came from, and the object whose page shows it (a column's edit
shows on its dataset's page). Rows are never updated; a database trigger refuses it (migration 0001).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from auditlog.models import AbstractLogEntry, LogEntryManager

from catalog.audit import context
from catalog.audit.context import from_context
from catalog.audit.places import label_of, object_page, parent_of


class AuditEntryQuerySet(models.QuerySet):
    def about(self, obj):
        """What happened to this object and to what belongs to it (a dataset's columns, a source's crawls)."""
        content_type = ContentType.objects.get_for_model(type(obj))
        return self.filter(models.Q(content_type=content_type, object_id=obj.pk) | models.Q(parent_type=label_of(obj), parent_id=obj.pk))


class AuditEntryManager(LogEntryManager.from_queryset(AuditEntryQuerySet)):
    """django-auditlog writes every entry through log_create (and log_m2m_changes): who, from where, and the
    object's parent are filled in here from the audit context (catalog/audit/context.py)."""

    def _fill(self, instance, kwargs):
        from_context(kwargs)
        parent = parent_of(instance)
        if parent:
            kwargs.setdefault("parent_type", parent[0])
            kwargs.setdefault("parent_id", parent[1])
            kwargs.setdefault("parent_repr", parent[2][:300])

    def log_create(self, instance, force_log: bool = False, **kwargs):
        self._fill(instance, kwargs)
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        self._fill(instance, kwargs)
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class AuditEntry(AbstractLogEntry):
    WEB, API, TOKEN, ADMIN, COMMAND, TASK, SYSTEM = context.WEB, context.API, context.TOKEN, context.ADMIN, context.COMMAND, context.TASK, context.SYSTEM
    ORIGIN_CHOICES = [(WEB, "web page"), (API, "API (session)"), (TOKEN, "API token"), (ADMIN, "admin"),
                      (COMMAND, "command"), (TASK, "task"), (SYSTEM, "system")]

    # Kept when the user or the content type goes: a deleted user's entries still say who (actor_email,
    # actor_name), and deleting them never has to touch this table, which refuses updates.
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.DO_NOTHING, db_constraint=False,
                                     related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                              blank=True, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, help_text="The actor's user name when it wrote")
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    origin = models.CharField(max_length=10, choices=ORIGIN_CHOICES, default=SYSTEM)
    via = models.CharField(max_length=200, blank=True, help_text="The page, command or task it came through")
    parent_type = models.CharField(max_length=100, blank=True, help_text="app_label.model of the object whose history shows it")
    parent_id = models.BigIntegerField(null=True, blank=True)
    parent_repr = models.CharField(max_length=300, blank=True)

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["content_type", "object_id", "-timestamp"], name="audit_object_time"),
            models.Index(fields=["parent_type", "parent_id", "-timestamp"], name="audit_parent_time"),
            models.Index(fields=["actor", "-timestamp"], name="audit_actor_time"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr} by {self.who} ({self.origin})"

    @property
    def who(self) -> str:
        return self.actor_name or self.actor_email or ("a token" if self.origin == self.TOKEN else self.get_origin_display())

    @property
    def reason(self) -> str:
        return (self.additional_data or {}).get("reason", "")

    def object_url(self) -> str:
        """The page of the object, or of its parent, while it exists."""
        own = f"{self.content_type.app_label}.{self.content_type.model}"
        return (object_page(own, self.object_id, self.object_repr)
                or object_page(self.parent_type, self.parent_id, self.parent_repr))


class AuditPrunePermit(models.Model):
    """A row here, inserted and deleted inside the pruning transaction, is what lets that transaction delete
    old audit entries on PostgreSQL (the trigger refuses any other delete)."""

    created_at = models.DateTimeField(auto_now_add=True)

