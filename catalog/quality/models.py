from django.conf import settings
from django.db import models

from catalog.core.fields import JSONTextField


class FreshnessQuerySet(models.QuerySet):
    def stale(self):
        return self.filter(stale_since__isnull=False, dataset__removed_at__isnull=True)


class Freshness(models.Model):
    """When a dataset's data last changed, as far as its engine says without reading data, and when it is due.

    Written by the crawl step (what the engine said) and by a person (the cadence); `deadline` is worked out
    whenever either moves, so the stale check (each crawl, and beat) is one indexed query. Unknown is never
    stale: no known change or no cadence means no deadline.
    """

    ENGINE = "engine"  # the engine's own time of last change (MySQL update_time, Snowflake last_altered, ...)
    COUNTERS = "counters"  # write counters moved between two crawls (PostgreSQL): changed in that interval
    HOW_CHOICES = [(ENGINE, "the engine's time of last change"), (COUNTERS, "write counters moved between crawls")]

    dataset = models.OneToOneField("inventory.Dataset", on_delete=models.CASCADE, related_name="freshness")
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="+", db_index=False)
    last_changed_at = models.DateTimeField(null=True, blank=True, help_text="Data last changed (best known)")
    # For a change seen by counters: it happened after this (the crawl before) and by last_changed_at.
    changed_after = models.DateTimeField(null=True, blank=True)
    how = models.CharField(max_length=20, choices=HOW_CHOICES, blank=True)
    inserted = models.BigIntegerField(null=True, blank=True)
    updated = models.BigIntegerField(null=True, blank=True)
    deleted = models.BigIntegerField(null=True, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    vacuumed_at = models.DateTimeField(null=True, blank=True)
    watching_since = models.DateTimeField(help_text="First crawl that looked")
    unknown_reason = models.CharField(max_length=300, blank=True, help_text="Why Canon cannot know when this data changes")
    cadence_text = models.CharField(max_length=100, blank=True, help_text="Set by a person: hourly, by 07:00 UTC on weekdays, ...")
    cadence_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    learned_every_s = models.PositiveIntegerField(null=True, blank=True, help_text="Learned from the changes seen")
    learned_around = models.TimeField(null=True, blank=True, help_text="A learned daily cadence's usual time (UTC)")
    deadline = models.DateTimeField(null=True, blank=True, help_text="Stale from this moment if the data does not change")
    stale_since = models.DateTimeField(null=True, blank=True)
    stale_episode = models.PositiveIntegerField(default=0, help_text="How many times it went stale (keys its emails)")

    objects = FreshnessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "freshness"
        indexes = [
            models.Index(fields=["source"]),
            models.Index(fields=["deadline"], name="quality_freshness_deadline", condition=models.Q(deadline__isnull=False)),
            models.Index(fields=["stale_since"], name="quality_freshness_stale", condition=models.Q(stale_since__isnull=False)),
        ]

    def __str__(self):
        return f"freshness of dataset {self.dataset_id}"


class DataChange(models.Model):
    """One observed change of a dataset's data: the history cadences are learned from."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="data_changes")
    crawl = models.ForeignKey("sources.Crawl", null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    changed_after = models.DateTimeField(null=True, blank=True)
    how = models.CharField(max_length=20, choices=Freshness.HOW_CHOICES)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["dataset", "-changed_at"]
        indexes = [models.Index(fields=["dataset", "-changed_at"])]


class DatasetProfile(models.Model):
    """Every column's profile of one dataset as one crawl (or sampled run) read it from the engine, one document
    per dataset: {column: {"null_frac", "distinct", "min", "max", "min_len", "max_len", "most_common", "basis",
    "hidden"}}. A new row only when the document moved, so a dataset's rows are its columns' trend. One row per
    dataset, not per column: a first crawl of 10,000 tables writes 10,000 rows, not 210,000."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="profiles")
    crawl = models.ForeignKey("sources.Crawl", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    observed_at = models.DateTimeField()
    columns = JSONTextField(help_text="Each column's profile; a sensitive column's holds counts, never values")

    class Meta:
        ordering = ["dataset", "-observed_at"]
        indexes = [models.Index(fields=["dataset", "-observed_at"])]


class ProfileChange(models.Model):
    """A jump in a column's profile (nulls rose, distinct values collapsed, the range moved below itself)."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="profile_changes")
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="+")
    crawl = models.ForeignKey("sources.Crawl", null=True, on_delete=models.SET_NULL, related_name="+")
    column_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=30)
    description = models.CharField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"])]


class SensitiveColumn(models.Model):
    """A column a person marked sensitive: its profiles keep counts, never values."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    column_name = models.CharField(max_length=255)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "column_name"], name="sensitive_column_unique")]


class ProfileAlertOptIn(models.Model):
    """A person who asked to hear about jumps in the profiles of the datasets they hear about."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class SamplingPolicy(models.Model):
    """Opt-in, per source: sampled profiles (the engine's block sampling, never a full scan) of the tables the
    engine keeps no statistics of, within a time budget per crawl; what is left is sampled next time."""

    source = models.OneToOneField("sources.Source", on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    budget_seconds = models.FloatField(default=30.0)
    percent = models.FloatField(default=1.0, help_text="Share of the table's blocks sampled (TABLESAMPLE SYSTEM)")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.CharField(max_length=300, blank=True)


class SampleState(models.Model):
    """When a dataset was last sampled, and what went wrong if it did (shown on its page)."""

    dataset = models.OneToOneField("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    sampled_at = models.DateTimeField(null=True, blank=True)
    warning = models.CharField(max_length=500, blank=True)
