from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.lib.names import validate_display_name


class Role(models.TextChoices):
    LEAD = "lead", "Security lead"  # approves exceptions, edits policies
    MEMBER = "member", "Member"  # triages findings, uploads reports
    VIEWER = "viewer", "Viewer"  # read only


class Team(models.Model):
    name = models.CharField(max_length=120, validators=[validate_display_name])
    slug = models.SlugField(max_length=64, unique=True)
    # CI may upload for a model name the team has not registered yet; a team can turn that off.
    allow_model_autocreate = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=["lead", "member", "viewer"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiToken(models.Model):
    """A team-scoped API token. Only its SHA-256 is stored; the token is shown once."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"
        #: Reads /metrics only (the Prometheus scrape of its team's series); no API access.
        METRICS = "metrics", "Metrics scrape only"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    mask = models.CharField(max_length=20)  # "wdn_abcd…wxyz": recognisable, not usable
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.mask})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
