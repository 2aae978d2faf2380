import secrets

from django.conf import settings
from django.db import models


def new_nonce() -> str:
    """128 random bits, URL-safe: the part of an unsubscribe link that the SECRET_KEY cannot make."""
    return secrets.token_urlsafe(16)


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(mode=Subscription.OFF)


class Subscription(models.Model):
    """A user watching a source, a schema of it, or one dataset.

    Owners watch their datasets without a row here; a row with mode "off" on a
    dataset is how an owner stops that. A source or schema subscription can leave
    out single datasets (SubscriptionExclusion): "stop alerts for this dataset".

    `nonce` is random and stored only here: every unsubscribe link for this
    subscription carries it, so a link cannot be made from the SECRET_KEY alone,
    and a new nonce invalidates every link already sent.
    """

    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"
    MODE_CHOICES = [(IMMEDIATE, "immediately"), (DIGEST, "daily digest"), (OFF, "off")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="subscriptions")
    schema_name = models.CharField(max_length=255, blank=True, help_text="Empty: the whole source")
    dataset = models.ForeignKey("inventory.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    mode = models.CharField(max_length=20, choices=MODE_CHOICES, default=IMMEDIATE)
    breaking_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    nonce = models.CharField(max_length=43, default=new_nonce, editable=False,
                             help_text="Secret in this subscription's unsubscribe links; a new one invalidates them")

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["source__name", "schema_name", "dataset__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "source", "schema_name", "dataset"], name="subscription_unique_target",
                                    nulls_distinct=False),
        ]

    def __str__(self):
        return f"{self.user} watches {self.target_label}"

    @property
    def scope(self) -> str:
        return "dataset" if self.dataset_id else ("schema" if self.schema_name else "source")

    @property
    def target_label(self) -> str:
        if self.dataset_id:
            return f"{self.source.name}.{self.dataset.schema_name}.{self.dataset.name}"
        if self.schema_name:
            return f"{self.source.name}.{self.schema_name}"
        return self.source.name

    def covers(self, dataset_source_id: int, schema_name: str, dataset_id: int) -> bool:
        if self.source_id != dataset_source_id:
            return False
        if self.dataset_id:
            return self.dataset_id == dataset_id
        return not self.schema_name or self.schema_name == schema_name


class SubscriptionExclusion(models.Model):
    """One dataset a source or schema subscription no longer alerts about; the rest of it still does."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="exclusions")
    dataset = models.ForeignKey("inventory.Dataset", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset__schema_name", "dataset__name"]
        constraints = [models.UniqueConstraint(fields=["subscription", "dataset"], name="subscription_exclusion_unique")]

    def __str__(self):
        return f"{self.subscription} except {self.dataset.schema_name}.{self.dataset.name}"


class UnsubscribeKey(models.Model):
    """The secret in the unsubscribe links of an owner's default alerts (owners hear about their
    datasets without a Subscription row, so the nonce lives here, one per person)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unsubscribe_key")
    nonce = models.CharField(max_length=43, default=new_nonce)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"unsubscribe key of {self.user}"


class OutboxMessage(models.Model):
    """An email to send. Written in the transaction that decided it; sent by a task; never dropped, never sent twice."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    STATUS_CHOICES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent")]

    key = models.CharField(max_length=200, unique=True, help_text="What this message is about; one message per key")
    kind = models.CharField(max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    crawl = models.ForeignKey("sources.Crawl", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a sender took it")
    first_failed_at = models.DateTimeField(null=True, blank=True, help_text="When the first attempt to send it failed")
    last_failed_at = models.DateTimeField(null=True, blank=True, help_text="When the latest attempt failed")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]),
                   # The Watching page asks "is mail to this person failing?" on every load.
                   models.Index(fields=["user", "status"], name="alerts_outbox_user_status")]

    def __str__(self):
        return f"{self.subject} → {self.recipient} ({self.status})"
