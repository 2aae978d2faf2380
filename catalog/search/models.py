"""The search index: one denormalised document per dataset, column, metric definition, owner identity and tag.

Documents are derived data: `python manage.py reindex` can always rebuild them,
and the services in catalog.search.index keep them fresh between rebuilds.

Names repeat (two million columns hold far fewer distinct names), so matching a
query against names runs on SearchName, one row per distinct name key, and only
then fetches the few best documents of each matching name. Full text (the
weighted PostgreSQL tsvector, or the SQLite FTS5 table) covers descriptions,
comments and column names; both are created by this app's migrations for the
backend in use, outside the models.
"""

from django.db import models


class SearchDocument(models.Model):
    DATASET, COLUMN, METRIC, OWNER, TAG = "dataset", "column", "metric", "owner", "tag"
    KIND_CHOICES = [(DATASET, "dataset"), (COLUMN, "column"), (METRIC, "metric definition"), (OWNER, "owner"), (TAG, "tag")]
    # Facet values of `status`: a metric definition's own status, or whether the dataset is still there.
    ACTIVE, REMOVED = "active", "removed"

    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    object_id = models.BigIntegerField()
    # The catalog rows a document is about: deleting them deletes the document.
    dataset = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey("metrics.MetricDefinition", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner_identity = models.ForeignKey("inventory.OwnerIdentity", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey("metrics.MetricTag", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    name = models.CharField(max_length=500, help_text="The object's own name, as the catalog spells it")
    name_key = models.CharField(max_length=500, help_text="The name's words joined: order_items -> orderitems")
    path = models.CharField(max_length=1200, blank=True, help_text="Keys of source, schema, dataset, column, dotted")
    title = models.CharField(max_length=1000)
    subtitle = models.CharField(max_length=1000, blank=True)
    url = models.CharField(max_length=1000)

    # Full-text fields, weighted A > B > C > D. Empty for a column nobody described: its name is matched through SearchName.
    keywords = models.TextField(blank=True, help_text="A: name words, synonyms")
    context = models.TextField(blank=True, help_text="B: title, the dataset a column belongs to, the schema")
    body = models.TextField(blank=True, help_text="C: descriptions and comments (also the snippet)")
    extra = models.TextField(blank=True, help_text="D: column names, tags, owners, types")

    # Facets. Multi-valued ones are "|a|b|" so that one LIKE finds a value.
    source_name = models.CharField(max_length=100, blank=True)
    schema_name = models.CharField(max_length=255, blank=True)
    owners = models.CharField(max_length=1000, blank=True)
    tags = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=20, default=ACTIVE)
    broken = models.BooleanField(default=False)

    weight = models.FloatField(default=0, help_text="Prior: kind, certified/deprecated/removed, how many watch and use it")
    stamp = models.CharField(max_length=200, blank=True, help_text="What the dataset looked like when indexed (stale when it differs)")
    related = models.JSONField(default=list, blank=True, help_text="A definition's datasets, whose weight it adds to")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique_object")]
        indexes = [
            # The best few documents of one name, without sorting all of them (2M columns, few names).
            models.Index(fields=["name_key", "-weight"], name="search_doc_name_weight"),
            models.Index(fields=["kind", "name_key", "-weight"], name="search_doc_kind_name_weight"),
        ]

    def __str__(self):
        return f"{self.kind} {self.title}"


class SearchName(models.Model):
    """One row per distinct name key (and synonym key) among the documents; queries match these first."""

    key = models.CharField(max_length=500, unique=True)
    words = models.CharField(max_length=1000, help_text="The name's word tokens, space-separated")

    def __str__(self):
        return self.key


class SearchAlias(models.Model):
    """Another name of a document: a definition's synonyms count as its name."""

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="aliases")
    key = models.CharField(max_length=500, db_index=True)
    name = models.CharField(max_length=500)

    def __str__(self):
        return self.name
