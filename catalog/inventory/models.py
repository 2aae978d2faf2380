from django.conf import settings
from django.db import models
from django.urls import reverse

from catalog.core.fields import JSONTextField


class OwnerIdentity(models.Model):
    """An owner as the source names it (a PostgreSQL role), mapped by staff to a person."""

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="owner_identities")
    name = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owner_identities")
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["source__name", "name"]
        constraints = [models.UniqueConstraint(fields=["source", "name"], name="owner_identity_unique")]
        verbose_name_plural = "owner identities"

    def __str__(self):
        return self.name

    @property
    def contact_email(self) -> str:
        return self.email or (self.user.email if self.user_id else "")


class DatasetQuerySet(models.QuerySet):
    def present(self):
        return self.filter(removed_at__isnull=True)


class Dataset(models.Model):
    KIND_CHOICES = [
        ("table", "table"),
        ("view", "view"),
        ("materialized_view", "materialized view"),
        ("partitioned_table", "partitioned table"),
        ("foreign_table", "foreign table"),
        ("external_table", "external table"),
        ("file_set", "files"),
    ]

    # source and owner are checked once per statement by triggers, not per row at commit (migration 0007);
    # the (source, schema, name) unique index leads with source.
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="datasets", db_constraint=False, db_index=False)
    schema_name = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=30, choices=KIND_CHOICES, default="table")
    native_id = models.CharField(max_length=255, blank=True, help_text="The engine's own id (PostgreSQL oid)")
    comment = models.TextField(blank=True, help_text="The comment stored in the warehouse")
    description = models.TextField(blank=True, help_text="Markdown written in Canon")
    definition = models.TextField(blank=True, help_text="A view's SQL")
    owner = models.ForeignKey(OwnerIdentity, null=True, blank=True, on_delete=models.SET_NULL, related_name="datasets", db_constraint=False)
    row_estimate = models.BigIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    column_count = models.PositiveIntegerField(default=0)
    last_modified_at = models.DateTimeField(null=True, blank=True, help_text="Data last changed, where the source knows it")
    properties = models.JSONField(default=dict, blank=True, help_text="Source-specific facts: file format, object count, partitions, labels")
    warnings = models.JSONField(default=list, blank=True, help_text="Problems the last crawl found with this dataset")
    fingerprint = models.CharField(max_length=64, blank=True)
    # The connector's digest of the schema as the source reports it (DatasetMeta.schema_signature): a recrawl
    # skips reading the columns of a dataset whose signature is unchanged.
    schema_signature = models.CharField(max_length=64, blank=True)
    first_seen_at = models.DateTimeField()
    last_changed_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    description_updated_at = models.DateTimeField(null=True, blank=True)
    description_updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["source__name", "schema_name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "schema_name", "name"], name="dataset_unique_name"),
        ]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["schema_name", "name"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["-row_estimate"]),
            models.Index(fields=["-size_bytes"]),
            models.Index(fields=["-first_seen_at"]),
        ]

    def __str__(self):
        return self.qualified_name

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_name}.{self.name}"

    def get_absolute_url(self):
        return reverse("dataset-detail", args=[self.pk])


class Column(models.Model):
    # A first crawl inserts hundreds of thousands of columns at once. A foreign key constraint checks
    # them one row at a time (half the server's time of that insert), so the reference is checked
    # once per statement by triggers instead (migration 0003). No index of its own: the
    # (dataset, name) unique index leads with it.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="columns", db_index=False, db_constraint=False)
    name = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    data_type = models.CharField(max_length=1000, help_text="As the engine spells it")
    type_family = models.CharField(max_length=20, blank=True, help_text="integer, decimal, float, text, boolean, date, timestamp, json, binary, array, struct, other")
    nullable = models.BooleanField(default=True)
    default = models.TextField(null=True, blank=True)
    is_primary_key = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    native_id = models.CharField(max_length=255, blank=True, help_text="The engine's own id (PostgreSQL attnum)")
    generated = models.CharField(max_length=20, blank=True, default="",
                                 help_text="identity, stored or virtual when the engine fills the column itself; empty otherwise")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["dataset", "position"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="column_unique_name")]

    def __str__(self):
        return f"{self.dataset}.{self.name}"


class SchemaVersion(models.Model):
    """A dataset's schema as one crawl saw it; a new one each time the fingerprint changes."""

    # Both checked once per statement by triggers (migration 0007). No index of its own: the (dataset,
    # number) unique index leads with it.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions", db_index=False, db_constraint=False)
    crawl = models.ForeignKey("sources.Crawl", null=True, on_delete=models.SET_NULL, related_name="schema_versions", db_constraint=False)
    number = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64)
    schema = JSONTextField(help_text="Kind, comment and columns, as fingerprinted (the canonical JSON, as text)")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="schema_version_unique")]


class SchemaDescription(models.Model):
    """What people wrote about one schema of a source (Markdown), shown on the schema's page."""

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="schema_descriptions")
    schema_name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "schema_name"], name="inventory_schema_description_unique")]

    def __str__(self):
        return f"{self.source_id}:{self.schema_name}"


class BuildSql(models.Model):
    """The SQL a tool builds a dataset with, when the warehouse keeps none (a dbt model built as a table or
    incremental): lineage derives the dataset's table and column edges from it as from a view's SQL.

    Written by the tool's import through inventory's build-SQL service (origin "dbt": the compiled SQL of the
    node `origin_id`). `sql` "" means the tool had none to give (a dbt manifest from `dbt parse`), and
    `reads` then names what the dataset reads ([schema, name] each), for table-level edges. `database` is
    the database the SQL's three-part names are local to (dbt's target database)."""

    DBT = "dbt"
    ORIGIN_CHOICES = [(DBT, "dbt")]

    dataset = models.OneToOneField(Dataset, primary_key=True, on_delete=models.CASCADE, related_name="build_sql")
    origin = models.CharField(max_length=20, choices=ORIGIN_CHOICES)
    origin_id = models.CharField(max_length=500, help_text="The tool's own id (a dbt node's unique_id)")
    sql = models.TextField(blank=True, help_text="Compiled SQL; empty when the tool had none")
    database = models.CharField(max_length=255, blank=True)
    reads = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.origin}:{self.origin_id}"
