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


class GateStamp(models.Model):
    """A counter per model, moved on after every committed change that can change the model's
    gate or admission answers (a scan, a triage, an exception, a policy, a retirement). Cached
    admission answers carry the stamps they were computed under, so any change makes them
    stale at once, in every process. Its own row, so moving it never waits on the model row
    an import holds."""

    model = models.OneToOneField(
        MLModel, on_delete=models.CASCADE, primary_key=True, related_name="gate_stamp"
    )
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.model_id}: {self.value}"


class Deployment(models.Model):
    """A model version running somewhere: an environment (``prod-eu``) and, optionally, the
    service or endpoint that serves it. Active from ``since`` until ``until`` (null: still
    running). Recorded by CI (``warden deploy``), the API, or a registry hook."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="deployments")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="deployments")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="deployments")
    environment = models.CharField(max_length=60)
    endpoint = models.CharField(max_length=300, blank=True)
    #: The bytes that were deployed (the version's artifact unless the caller said otherwise).
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    #: Who deployed: a person, a token ("token:ci"), a pipeline URL, a registry hook.
    deployed_by = models.CharField(max_length=150, blank=True)
    pipeline_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-since", "-id"]
        constraints = [
            # One running deployment per environment and endpoint of a model.
            models.UniqueConstraint(
                fields=["model", "environment", "endpoint"],
                condition=models.Q(until__isnull=True),
                name="deployment_one_active",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "until"], name="deployment_team_active"),
            models.Index(fields=["version", "until"], name="deployment_version_active"),
        ]

    def __str__(self) -> str:
        where = f"{self.environment}/{self.endpoint}" if self.endpoint else self.environment
        return f"{self.model_id}@{self.version_id} in {where}"

    @property
    def is_active(self) -> bool:
        return self.until is None
