from django.db import models


class LineageEdge(models.Model):
    """A view (downstream) reads a dataset (upstream), as its SQL says.

    upstream_name is the qualified name the SQL uses; upstream is the catalog's
    dataset of that name in the same source, or null while there is none
    (another database, a table the crawl does not cover, or one since removed).
    """

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="lineage_edges")
    downstream = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="upstream_edges")
    upstream = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="downstream_edges")
    upstream_name = models.CharField(max_length=800)

    class Meta:
        ordering = ["downstream", "upstream_name"]
        constraints = [models.UniqueConstraint(fields=["downstream", "upstream_name"], name="lineage_edge_unique")]
        indexes = [models.Index(fields=["source", "upstream_name"])]

    def __str__(self):
        return f"{self.upstream_name} -> {self.downstream_id}"


class ColumnLineageEdge(models.Model):
    """A view's output column derives from a column of a dataset it reads, as its SQL says.

    downstream_column "" means the query reads the input column outside its outputs (a filter, a join,
    a grouping): the view reads it, but no output column carries it. upstream_name and upstream follow
    LineageEdge; upstream_column is spelled as the catalog spells the input's column when it knows it.
    """

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="column_lineage_edges")
    downstream = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="column_upstream_edges")
    downstream_column = models.CharField(max_length=255, blank=True)
    upstream = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="column_downstream_edges")
    upstream_name = models.CharField(max_length=800)
    upstream_column = models.CharField(max_length=255)

    class Meta:
        ordering = ["downstream", "downstream_column", "upstream_name", "upstream_column"]
        constraints = [models.UniqueConstraint(fields=["downstream", "downstream_column", "upstream_name", "upstream_column"],
                                               name="column_lineage_edge_unique")]
        indexes = [models.Index(fields=["upstream", "upstream_column"]),
                   models.Index(fields=["source", "upstream_name", "upstream_column"])]

    def __str__(self):
        return f"{self.upstream_name}.{self.upstream_column} -> {self.downstream_id}.{self.downstream_column}"


class ColumnLineageState(models.Model):
    """What a view's column lineage was last derived from (its SQL and its inputs' schemas, as a digest),
    and why it stays at table level when its columns could not be resolved ("" when they were)."""

    dataset = models.OneToOneField("inventory.Dataset", primary_key=True, on_delete=models.CASCADE, related_name="column_lineage")
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    table_level_reason = models.TextField(blank=True)

    @property
    def table_level_only(self) -> bool:
        return bool(self.table_level_reason)
