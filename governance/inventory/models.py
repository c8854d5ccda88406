from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from governance.accounts.models import Team
from governance.lib.names import validate_display_name


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Stage(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"


class MLModel(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=200, validators=[validate_display_name])
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_models",
    )
    use_case = models.CharField(max_length=300, blank=True)
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, default=RiskTier.MEDIUM)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.DEVELOPMENT)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names match case-insensitively: "Face-Blur" and "face-blur" are one model, so a
            # CI typo in case cannot register a second, empty one.
            models.UniqueConstraint("team", Lower("name"), name="mlmodel_unique_team_name_ci"),
            models.CheckConstraint(
                condition=models.Q(risk_tier__in=RiskTier.values), name="mlmodel_risk_tier_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=Stage.values), name="mlmodel_stage_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "risk_tier"], name="mlmodel_team_tier"),
            models.Index(fields=["team", "stage"], name="mlmodel_team_stage"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=100)
    artifact_uri = models.CharField(max_length=1000, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    framework = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Set when the version is retired: its findings close as "version retired", which is not
    #: a remediation, and it takes no more scans.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="modelversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.version}"
