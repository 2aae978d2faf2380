"""Copies found among the datasets, and what people decided about them.

A dataset's Signature (its columns as detection compares them, and its MinHash bands) is kept so that a
crawl compares only what it changed with what could be like it (catalog/duplicates/detect.py says how).
"""

from django.conf import settings
from django.db import models


class Signature(models.Model):
    dataset = models.OneToOneField("inventory.Dataset", primary_key=True, on_delete=models.CASCADE, related_name="duplicate_signature")
    columns = models.TextField(help_text="detect.column_token() of each column, one a line, sorted")
    set_key = models.BigIntegerField(null=True, db_index=True, help_text="The same for the same column set")
    checksum = models.CharField(max_length=128, blank=True, db_index=True, help_text="Of the files' content (ETags)")
    sql = models.CharField(max_length=64, blank=True, db_index=True, help_text="Fingerprint of a view's SQL")
    upstream = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_constraint=False, help_text="The one dataset it reads, when it reads only one")
    computed_at = models.DateTimeField()


class SignatureBand(models.Model):
    """One LSH bucket a dataset's column set falls in: datasets sharing a key are candidates."""

    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    key = models.BigIntegerField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["dataset"], name="duplicates_band_dataset")]


class DuplicateGroup(models.Model):
    DATASET, PIPELINE = "dataset", "pipeline"
    KIND_CHOICES = [(DATASET, "the same data"), (PIPELINE, "the same SQL")]

    original = models.OneToOneField("inventory.Dataset", on_delete=models.CASCADE, related_name="duplicate_group")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES, default=DATASET)
    score = models.PositiveSmallIntegerField(help_text="The best copy's score, 0-100")
    certain = models.BooleanField(default=False, help_text="A copy holds the same bytes, or a person confirmed it")
    size = models.PositiveIntegerField(help_text="Datasets alike, including any the cap left out")
    warning = models.TextField(blank=True)
    found_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-certain", "-score", "-size", "id"]

    def __str__(self):
        return f"copies of {self.original_id}"


class DuplicateMember(models.Model):
    """A copy in a group (the original is the group's). `like` is the dataset it was matched with."""

    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="members")
    dataset = models.OneToOneField("inventory.Dataset", on_delete=models.CASCADE, related_name="duplicate_membership")
    like = models.ForeignKey("inventory.Dataset", null=True, on_delete=models.SET_NULL, related_name="+")
    score = models.PositiveSmallIntegerField()
    certain = models.BooleanField(default=False)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=list)
    found_at = models.DateTimeField()

    class Meta:
        ordering = ["group", "-certain", "-score", "dataset_id"]


class Decision(models.Model):
    """What a person said about two datasets (dataset_a has the smaller id). One decision per pair; the latest wins."""

    COPY, NOT, KEEP = "copy", "not", "keep"
    VERDICT_CHOICES = [(COPY, "is a copy"), (NOT, "not a duplicate"), (KEEP, "keep both")]

    dataset_a = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    dataset_b = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=10, choices=VERDICT_CHOICES)
    original = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 help_text="For 'is a copy': the one that is the original")
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["dataset_a", "dataset_b"], name="duplicates_decision_pair"),
                       models.CheckConstraint(condition=models.Q(dataset_a__lt=models.F("dataset_b")), name="duplicates_decision_order")]


class StoragePrice(models.Model):
    """What a month of storing a gigabyte costs on one engine (source URL scheme), set by a person in the admin.
    Overrides settings.CANON_STORAGE_PRICES for that engine."""

    engine = models.CharField(max_length=30, unique=True, help_text="URL scheme: postgresql, s3, snowflake, ...")
    usd_per_gb_month = models.DecimalField(max_digits=10, decimal_places=4)

    class Meta:
        ordering = ["engine"]

    def __str__(self):
        return f"{self.engine}: ${self.usd_per_gb_month}/GB-month"
