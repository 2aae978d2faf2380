"""Usage from query history: what each logged statement reads and writes (parsed once per digest), the counts
last read, queries per day per dataset and column, and each dataset's and column's figures over 30 and 90 days."""

from django.db import models


class SourceUsage(models.Model):
    """A source's query history as the last crawl found it, and whether a person allowed its text to be kept."""

    source = models.OneToOneField("sources.Source", primary_key=True, on_delete=models.CASCADE, related_name="usage")
    available = models.BooleanField(default=False)
    note = models.TextField(blank=True, help_text="Why the history cannot be read, or what is missing")
    statements = models.PositiveIntegerField(default=0, help_text="Distinct statements read by the last crawl")
    parsed = models.PositiveIntegerField(default=0)
    unparsed = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)
    first_read_at = models.DateTimeField(null=True, blank=True, help_text="Usage is known from here on")
    keep_query_text = models.BooleanField(
        default=False, help_text="Keep and show the statements' text (it can hold literals with personal data)")

    def __str__(self):
        return f"query history of {self.source}"

    @property
    def unparsed_share(self) -> float:
        return self.unparsed / self.statements if self.statements else 0.0


class QueryDigest(models.Model):
    """One distinct statement of a source, parsed once: an unchanged digest is never parsed again."""

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="query_digests")
    digest = models.CharField(max_length=100)
    parsed = models.BooleanField(default=False)
    reads = models.JSONField(default=list, blank=True, help_text="Dataset ids it reads")
    writes = models.JSONField(default=list, blank=True, help_text="Dataset ids it writes")
    columns = models.JSONField(default=list, blank=True, help_text="Column ids it names")
    text = models.TextField(blank=True, help_text="Only when the source keeps query text")
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "digest"], name="usage_digest_unique")]


class QueryCount(models.Model):
    """The engine's cumulative count of one digest for one user, as last read: the next read adds the difference."""

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=100)
    user = models.CharField(max_length=255, blank=True)
    calls = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "digest", "user"], name="usage_count_unique")]


class UsageDay(models.Model):
    """Queries one user ran on one day against a dataset (column_id 0) or one of its columns."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    column_id = models.BigIntegerField(default=0)
    day = models.DateField()
    user = models.CharField(max_length=255, blank=True)
    reads = models.BigIntegerField(default=0)
    writes = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["dataset", "day"], name="usage_day_dataset")]
        constraints = [models.UniqueConstraint(fields=["dataset", "column_id", "day", "user"], name="usage_day_unique")]


class DatasetUsage(models.Model):
    """A dataset's figures, refreshed by each crawl of its source that read the history."""

    dataset = models.OneToOneField("inventory.Dataset", primary_key=True, on_delete=models.CASCADE, related_name="usage")
    queries_30 = models.BigIntegerField(default=0, help_text="Reads in the last 30 days")
    queries_90 = models.BigIntegerField(default=0)
    users_30 = models.PositiveIntegerField(default=0)
    users_90 = models.PositiveIntegerField(default=0)
    writes_30 = models.BigIntegerField(default=0)
    last_used_on = models.DateField(null=True, blank=True, help_text="The last day it was read")

    @property
    def per_day_30(self) -> float:
        return self.queries_30 / 30

    @property
    def per_day_90(self) -> float:
        return self.queries_90 / 90


class ColumnUsage(models.Model):
    column_id = models.BigIntegerField(primary_key=True)
    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    queries_30 = models.BigIntegerField(default=0)
    queries_90 = models.BigIntegerField(default=0)
    users_30 = models.PositiveIntegerField(default=0)
    users_90 = models.PositiveIntegerField(default=0)
    last_used_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dataset"], name="usage_column_dataset")]
