from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.metrics.dialects import DIALECTS


class MetricDefinitionQuerySet(models.QuerySet):
    def for_list(self):
        return self.select_related("replaced_by").prefetch_related("owners", "tags")


class MetricDefinition(models.Model):
    """One agreed way to compute a business metric. Its fields are the current version's."""

    DRAFT, CERTIFIED, DEPRECATED = "draft", "certified", "deprecated"
    STATUS_CHOICES = [(DRAFT, "draft"), (CERTIFIED, "certified"), (DEPRECATED, "deprecated")]
    MANUAL, DBT = "manual", "dbt"
    ORIGIN_CHOICES = [(MANUAL, "written in Canon"), (DBT, "imported from dbt")]
    GRAIN_CHOICES = [("", "none"), ("hour", "hour"), ("day", "day"), ("week", "week"), ("month", "month"),
                     ("quarter", "quarter"), ("year", "year")]
    FORMAT_CHOICES = [("number", "number"), ("integer", "integer"), ("percent", "percent"), ("currency", "currency"),
                      ("duration", "duration")]

    name = models.SlugField(max_length=100, unique=True, help_text="Lower-case letters, digits and underscores: weekly_active_users")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown")
    sql = models.TextField()
    dialect = models.CharField(max_length=20, choices=DIALECTS, default="postgres")
    source = models.ForeignKey("sources.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="metric_definitions",
                               help_text="The warehouse the SQL runs on; its names are resolved there (any source when empty)")
    time_dimension = models.CharField(max_length=255, blank=True, help_text="The column time is measured by: ordered_at")
    grain = models.CharField(max_length=20, choices=GRAIN_CHOICES, blank=True)
    unit = models.CharField(max_length=50, blank=True, help_text="customers, EUR, %")
    format = models.CharField(max_length=20, choices=FORMAT_CHOICES, default="number")
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_metrics")
    external_owners = models.JSONField(default=list, blank=True, help_text="Owners named by dbt who are not Canon users")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_metrics")
    tags = models.ManyToManyField("MetricTag", blank=True, related_name="definitions")
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=DRAFT)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces",
                                    help_text="Deprecated: use this one instead")
    origin = models.CharField(max_length=10, choices=ORIGIN_CHOICES, default=MANUAL)
    dbt_unique_id = models.CharField(max_length=500, blank=True, help_text="metric.<package>.<name> for definitions from dbt")
    version = models.PositiveIntegerField(default=1, help_text="The current version's number")

    # What the SQL analysis found, kept so that lists and checks need not parse again.
    warnings = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True, help_text="The query with formatting, case, comments and aliases taken out")
    signature = models.CharField(max_length=64, blank=True, db_index=True, help_text="Its aggregates, filters, joins and grouping")
    signature_parts = models.JSONField(default=dict, blank=True)

    broken = models.BooleanField(default=False, help_text="Something the SQL uses was removed, renamed or retyped")
    broken_reasons = models.JSONField(default=list, blank=True)
    broken_since = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = MetricDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["dbt_unique_id"], condition=~Q(dbt_unique_id=""), name="metric_dbt_unique_id"),
        ]
        indexes = [models.Index(fields=["status", "name"]), models.Index(fields=["broken", "name"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("metric-detail", args=[self.name])

    def is_owner(self, user) -> bool:
        return bool(user and user.is_authenticated and self.owners.filter(pk=user.pk).exists())

    def can_govern(self, user) -> bool:
        """Certify, deprecate, edit: owners and staff."""
        return bool(user and user.is_authenticated and (user.is_staff or self.is_owner(user)))


class MetricTag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MetricSynonym(models.Model):
    """Another name people use for a definition ("attrition" for churn). Unique across definitions."""

    definition = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="synonyms")
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MetricVersion(models.Model):
    """Every edit of a definition: who, when, why, and the whole definition as it then was."""

    definition = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField(help_text="The definition's fields at this version")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    override_reason = models.TextField(blank=True, help_text="Why it was saved although it looked like another definition")
    override_candidates = models.JSONField(default=list, blank=True, help_text="The definitions it looked like")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["definition", "-number"]
        constraints = [models.UniqueConstraint(fields=["definition", "number"], name="metric_version_unique")]

    def __str__(self):
        return f"{self.definition_id} v{self.number}"


class MetricEvent(models.Model):
    """The status history: certified, deprecated, broken by a crawl, working again."""

    STATUS, BROKEN, REPAIRED = "status", "broken", "repaired"
    KIND_CHOICES = [(STATUS, "status changed"), (BROKEN, "broken"), (REPAIRED, "works again")]

    definition = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    crawl = models.ForeignKey("sources.Crawl", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class MetricDatasetUse(models.Model):
    """A definition reads a dataset. `dataset_name` is schema.name as the SQL resolved it."""

    definition = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="dataset_uses")
    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="metric_uses")
    dataset_name = models.CharField(max_length=511)
    referenced_as = models.CharField(max_length=800, blank=True, help_text="The name as the SQL writes it")

    class Meta:
        ordering = ["dataset_name"]
        constraints = [models.UniqueConstraint(fields=["definition", "dataset"], name="metric_dataset_use_unique")]


class MetricColumnUse(models.Model):
    """A definition reads a column, by name, with the type it had when the SQL was resolved."""

    definition = models.ForeignKey(MetricDefinition, on_delete=models.CASCADE, related_name="column_uses")
    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="metric_column_uses")
    column = models.ForeignKey("inventory.Column", null=True, blank=True, on_delete=models.SET_NULL, related_name="metric_uses")
    column_name = models.CharField(max_length=255)
    data_type = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["dataset_id", "column_name"]
        constraints = [models.UniqueConstraint(fields=["definition", "dataset", "column_name"], name="metric_column_use_unique")]


class DbtNode(models.Model):
    """A dbt model or source as the last import read it, attached to the crawled dataset it builds."""

    unique_id = models.CharField(max_length=500, unique=True)
    resource_type = models.CharField(max_length=20)
    project = models.CharField(max_length=200, blank=True)
    schema_name = models.CharField(max_length=255)
    name = models.CharField(max_length=255, help_text="The relation's name (alias or identifier)")
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=255, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    column_descriptions = models.JSONField(default=dict, blank=True)
    dataset = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="dbt_nodes")
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["unique_id"]

    def __str__(self):
        return self.unique_id
