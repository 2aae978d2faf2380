from django.db import models

from catalog.history import diff


class SchemaChange(models.Model):
    """One difference between two schema versions of a dataset, as a crawl saw it."""

    KIND_CHOICES = sorted(diff.LABELS.items())
    SEVERITY_CHOICES = [(diff.BREAKING, "breaking"), (diff.NON_BREAKING, "non-breaking")]

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="schema_changes")
    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="schema_changes")
    crawl = models.ForeignKey("sources.Crawl", null=True, on_delete=models.SET_NULL, related_name="schema_changes")
    version = models.ForeignKey("inventory.SchemaVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    severity = models.CharField(max_length=20, choices=SEVERITY_CHOICES)
    column = models.CharField(max_length=255, blank=True)
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    dataset_name = models.CharField(max_length=511, help_text="schema.name when the change happened")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["source", "-created_at"]),
            models.Index(fields=["dataset", "-created_at"]),
            models.Index(fields=["severity", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.dataset_name}: {self.describe()}"

    def as_change(self) -> diff.Change:
        return diff.Change(self.kind, self.severity, column=self.column, old=self.old_value, new=self.new_value, detail=self.detail)

    def describe(self) -> str:
        return self.as_change().describe()

    @property
    def label(self) -> str:
        return diff.LABELS.get(self.kind, self.kind)

    @property
    def is_breaking(self) -> bool:
        return self.severity == diff.BREAKING
