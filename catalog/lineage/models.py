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
