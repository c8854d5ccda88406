"""Channels: where a team is told (e-mail, Slack, signed webhooks), and the delivery log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.accounts.models import Team


class Trigger(models.TextChoices):
    CRITICAL_FINDING = "critical_finding", "A new critical finding"
    GATE_FAILED = "gate_failed", "A production version's gate turns from pass to fail"
    RUNTIME_ALERT = "runtime_alert", "A runtime alert rule fires"
    SLA = "sla", "An SLA is about to breach or breached"
    EXCEPTION_EXPIRY = "exception_expiry", "An exception expires in 7 days, and on expiry"
    EVIDENCE_STALE = "evidence_stale", "Required evidence of a production model went stale"


#: Not a subscription: the "send test" button's deliveries, and daily digests.
TEST_TRIGGER = "test"
DIGEST_TRIGGER = "digest"


class Channel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail to the team's leads"
        SLACK = "slack", "Slack (incoming webhook)"
        WEBHOOK = "webhook", "Webhook (signed JSON)"

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "Immediately"
        DIGEST = "digest", "Daily digest"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    #: Slack and webhooks: where to POST (checked against private networks on save and send).
    url = models.URLField(max_length=1000, blank=True)
    #: Webhooks: the HMAC key. The receiver needs it too, so it is stored as is (like Slack's
    #: URL, which is itself the secret) and shown only to the team's leads.
    secret = models.CharField(max_length=100, blank=True)
    triggers = models.JSONField(default=list)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="channel_unique_team_name"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["email", "slack", "webhook"]),
                name="channel_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=["immediate", "digest"]), name="channel_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Delivery(models.Model):
    """One message to one channel. ``key`` names the event (``finding-critical:42``): unique
    per channel, so an event published twice is delivered once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        #: Waiting for the channel's daily digest; then ``digested`` into it.
        DIGEST = "digest", "In the next digest"
        DIGESTED = "digested", "Sent in a digest"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=200)
    trigger = models.CharField(max_length=20)
    #: The event: title, text, url (absolute), severity, data.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=2000, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="delivery_unique_channel_key"),
        ]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_recent"),
            models.Index(fields=["status"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.channel_id} ({self.status})"
