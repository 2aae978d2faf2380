from django.conf import settings
from django.db import models
from django.urls import reverse

from catalog.core import crypto


class Source(models.Model):
    """A warehouse or bucket Canon crawls. The URL's secrets live only in url_encrypted."""

    name = models.SlugField(max_length=100, unique=True)
    engine = models.CharField(max_length=30, help_text="URL scheme, e.g. postgresql")
    url_display = models.CharField(max_length=1000, help_text="The URL with its secrets masked")
    url_encrypted = models.TextField()
    include_schemas = models.JSONField(default=list, blank=True)
    exclude_schemas = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="Connector settings beyond the URL (e.g. S3 path templates)")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_crawl = models.ForeignKey("Crawl", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_success_at = models.DateTimeField(null=True, blank=True)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_sources",
                                    help_text="Told when the source keeps failing, and when it recovers")
    # The crawl holding this source's lease: one crawl per source at a time, on any number of workers.
    # Free when empty, or when that crawl is over or its heartbeat stopped (catalog/crawls/lease.py).
    crawl_lease_holder = models.ForeignKey("Crawl", null=True, blank=True, editable=False, on_delete=models.SET_NULL,
                                           related_name="+")
    failure_streak = models.PositiveIntegerField(default=0, editable=False)
    failing_alert_sent = models.BooleanField(default=False, editable=False)
    mass_removal_share = models.FloatField(
        null=True, blank=True,
        help_text="Hold a crawl that would remove more than this share of the datasets (default from settings)",
    )

    class Meta:
        ordering = ["name"]

    @property
    def connector_state(self) -> dict:
        """What the connector remembers between crawls (SourceState), read fresh."""
        return SourceState.objects.filter(source_id=self.pk).values_list("data", flat=True).first() or {}

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("source-detail", args=[self.name])

    @property
    def url(self) -> str:
        """The full URL, secrets included. Only connectors may see it."""
        return crypto.decrypt(self.url_encrypted)


class CrawlSchedule(models.Model):
    """When a source is crawled: every so many seconds, or on a cron schedule (five fields, in settings.TIME_ZONE).
    Written only by catalog/sources/schedules.py; Canon's beat (catalog/beat) reads the enabled ones every few
    seconds. Deleting the source deletes it."""

    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="schedule")
    every_seconds = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=200, blank=True, help_text="minute hour day-of-month month day-of-week")
    enabled = models.BooleanField(default=True)
    # When it was set or last changed: its runs count from then (an interval set now first runs one interval later).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(every_seconds__isnull=False, cron="") | models.Q(every_seconds__isnull=True) & ~models.Q(cron="")),
                name="sources_crawlschedule_interval_or_cron",
            ),
        ]

    def __str__(self):
        return f"crawl schedule of {self.source}"


class Crawl(models.Model):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    HELD = "held"
    STATUS_CHOICES = [(QUEUED, "queued"), (RUNNING, "running"), (SUCCEEDED, "succeeded"), (FAILED, "failed"),
                      (SKIPPED, "skipped"), (HELD, "held for confirmation")]
    ACTIVE = (QUEUED, RUNNING)

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="crawls")
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=RUNNING)
    trigger = models.CharField(max_length=20, default="manual")
    # The person who asked for it ("crawl now", a confirmed removal); empty for schedules, commands and retries.
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A failed crawl that will be tried again (the warehouse could not be reached): when.
    retry_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    datasets_seen = models.PositiveIntegerField(default=0)
    datasets_added = models.PositiveIntegerField(default=0)
    datasets_changed = models.PositiveIntegerField(default=0)
    datasets_removed = models.PositiveIntegerField(default=0)
    columns_seen = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    phase = models.CharField(max_length=200, blank=True, help_text="What a running crawl is doing now")
    allow_mass_removal = models.BooleanField(default=False, help_text="A person confirmed a held removal")
    held_removals = models.JSONField(default=list, blank=True, help_text="Datasets a held crawl would have removed")
    # Stamped every CANON_CRAWL_HEARTBEAT_SECONDS by the crawling process: a running crawl whose
    # stamp is too old has lost its worker and is marked failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["source", "-started_at"]),
            # The periodic search for dead crawls reads only the few active ones.
            models.Index(fields=["heartbeat_at"], name="sources_crawl_active_heartbeat",
                         condition=models.Q(status__in=["queued", "running"])),
        ]

    def __str__(self):
        return f"{self.source.name} crawl #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def summary(self) -> str:
        if self.status == self.SKIPPED:
            return f"crawl of {self.source.name} skipped: {self.error}"
        if self.status == self.HELD:
            return f"crawl of {self.source.name} held: {self.error}"
        if self.status == self.FAILED:
            return f"crawl of {self.source.name} failed after {self.duration_s or 0:.1f}s: {self.error}"
        return (
            f"{self.source.name}: {self.datasets_seen} datasets seen, {self.datasets_added} added, "
            f"{self.datasets_changed} changed, {self.datasets_removed} removed; "
            f"{self.columns_seen} columns; {self.duration_s or 0:.1f}s"
        )


class SourceState(models.Model):
    """What a source's connector remembers between crawls (Extraction.state): object keys and ETags read,
    table signatures and sizes. Hundreds of kilobytes for a large warehouse, so not on the Source row,
    which pages and alerts load with every dataset they show."""

    source = models.OneToOneField(Source, primary_key=True, on_delete=models.CASCADE, related_name="connector_state_row")
    data = models.JSONField(default=dict, blank=True)
    # lineage_key() when the source's lineage was last derived: while it holds and a crawl changes no
    # dataset, the views are not parsed again.
    lineage_key = models.CharField(max_length=300, blank=True)
