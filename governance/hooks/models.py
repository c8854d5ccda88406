"""Model registry hooks: a team's MLflow webhook secret, and the deliveries it accepted."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.accounts.models import Team


class RegistryHook(models.Model):
    """The MLflow webhook of one team. MLflow signs each delivery with the webhook's secret
    (HMAC-SHA256), so Warden must hold the secret itself, not a hash of it: it is stored as
    given, readable only by whoever reads the database (as MLflow stores it on its side)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="registry_hook")
    secret = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"MLflow hook of {self.team_id}"


class RegistryDelivery(models.Model):
    """One accepted delivery, by MLflow's delivery id: a redelivery of the same id is
    answered from here and changes nothing."""

    hook = models.ForeignKey(RegistryHook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=100)
    event = models.CharField(max_length=60)
    result = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hook", "delivery_id"], name="registrydelivery_unique_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
