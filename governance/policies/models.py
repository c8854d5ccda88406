"""Risk policies (versioned), risk exceptions, and their audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.accounts.models import Team
from governance.findings.models import Finding
from governance.inventory.models import MLModel, ModelVersion


class RiskPolicy(models.Model):
    """A team's policy, or an organization default (``team`` null). The rules are the
    canonical ``warden.policy/v1`` document; ``risk_tiers``/``stages`` copy its ``applies_to``
    for lookup. Deleting archives it, so its revisions stay in the audit trail."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="risk_policies"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    risk_tiers = models.JSONField(default=list, blank=True)  # [] = every tier
    stages = models.JSONField(default=list, blank=True)  # [] = every stage
    document = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "risk policies"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"],
                condition=models.Q(archived_at__isnull=True, team__isnull=False),
                name="riskpolicy_unique_team_name",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(archived_at__isnull=True, team__isnull=True),
                name="riskpolicy_unique_org_name",
            ),
        ]
        indexes = [models.Index(fields=["team", "archived_at"], name="riskpolicy_team_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.team.slug if self.team_id else 'organization'})"  # type: ignore[union-attr]

    @property
    def is_org_default(self) -> bool:
        return self.team_id is None

    @property
    def scope_label(self) -> str:
        return self.team.name if self.team_id else "Organization default"  # type: ignore[union-attr]


class RiskPolicyRevision(models.Model):
    """One version of a policy: the full document, who changed it, when and why."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        ARCHIVED = "archived", "Archived"

    policy = models.ForeignKey(RiskPolicy, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    document = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_label = models.CharField(max_length=150, blank=True)
    change_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policyrevision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} r{self.number}"


class RiskException(models.Model):
    """A request to accept a risk: one finding, or one policy rule for a model. Approved by a
    lead of the team who is not the requester; ends at ``expires_at``."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    #: Statuses that hold a place: one at a time per finding (or per model and rule).
    PENDING_OR_ACTIVE = (Status.REQUESTED, Status.APPROVED)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="risk_exceptions")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="risk_exceptions")
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="risk_exceptions"
    )
    rule = models.CharField(max_length=80, blank=True)
    policy = models.ForeignKey(
        RiskPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    justification = models.TextField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["requested", "approved", "rejected", "expired"]),
                name="riskexception_status_valid",
            ),
            # Exactly one subject: a finding, or a rule of the model.
            models.CheckConstraint(
                condition=(models.Q(finding__isnull=False) & models.Q(rule=""))
                | (models.Q(finding__isnull=True) & ~models.Q(rule="")),
                name="riskexception_one_subject",
            ),
            models.UniqueConstraint(
                fields=["finding"],
                condition=models.Q(status__in=["requested", "approved"], finding__isnull=False),
                name="riskexception_one_open_per_finding",
            ),
            models.UniqueConstraint(
                fields=["model", "rule"],
                condition=models.Q(status__in=["requested", "approved"], finding__isnull=True),
                name="riskexception_one_open_per_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="riskexception_status_expiry"),
            models.Index(fields=["team", "status"], name="riskexception_team_status"),
            models.Index(fields=["model", "status"], name="riskexception_model_status"),
        ]

    def __str__(self) -> str:
        return f"exception #{self.pk} ({self.subject})"

    @property
    def subject(self) -> str:
        return f"finding #{self.finding_id}" if self.finding_id else f"rule {self.rule}"


class PolicyEvent(models.Model):
    """Append-only audit trail of governance decisions: policy changes and exceptions."""

    class Kind(models.TextChoices):
        POLICY_CREATED = "policy_created", "Policy created"
        POLICY_UPDATED = "policy_updated", "Policy updated"
        POLICY_ARCHIVED = "policy_archived", "Policy archived"
        EXCEPTION_REQUESTED = "exception_requested", "Exception requested"
        EXCEPTION_APPROVED = "exception_approved", "Exception approved"
        EXCEPTION_REJECTED = "exception_rejected", "Exception rejected"
        EXCEPTION_EXPIRED = "exception_expired", "Exception expired"
        MODEL_GOVERNANCE_CHANGED = "model_governance", "Model tier or stage changed"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    policy = models.ForeignKey(
        RiskPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    exception = models.ForeignKey(
        RiskException, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["team", "created_at"], name="policyevent_team_created")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class AdmissionQuery(models.Model):
    """Who asked whether an artifact may run, from which environment, and what they were
    told: one row per asker, digest, environment and answer per minute (a model server asking
    a thousand times a second writes one row a minute)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    digest = models.CharField(max_length=64)
    environment = models.CharField(max_length=60, blank=True)
    asked_by = models.CharField(max_length=150)
    allowed = models.BooleanField()
    verdict = models.CharField(max_length=8, blank=True)
    model = models.ForeignKey(
        MLModel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.CharField(max_length=100, blank=True)
    minute = models.DateTimeField()

    class Meta:
        ordering = ["-minute", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "digest", "environment", "asked_by", "allowed", "minute"],
                name="admissionquery_unique",
            )
        ]
        indexes = [models.Index(fields=["team", "minute"], name="admissionquery_team_minute")]

    def __str__(self) -> str:
        return f"{self.asked_by} asked {self.digest[:12]} in {self.environment}: {self.allowed}"


class VerdictRecord(models.Model):
    """The history of a version's gate verdicts: one row each time the verdict of a version
    changes, written when the gate is evaluated for CI (the gate API, an upload asking for
    it) and after a scan of the version. An unchanged verdict writes nothing, so the table
    grows with decisions, not with calls. The audit report shows it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="verdict_records"
    )
    verdict = models.CharField(max_length=4)
    #: The rules that failed or warned, as the gate named them (``[{"rule", "verdict"}]``).
    reasons = models.JSONField(default=list, blank=True)
    policy = models.CharField(max_length=140, blank=True)
    #: What evaluated it: "gate", "upload", "scan".
    source = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["version", "-created_at"], name="verdictrecord_version_latest")
        ]

    def __str__(self) -> str:
        return f"{self.version_id}: {self.verdict} ({self.source})"


class GateWatch(models.Model):
    """The last gate verdict of a version the watch evaluates (deployed versions): the
    transition from passing to failing is what channels hear about, and the evidence rules
    that were stale last time, so only newly stale evidence is announced. Also the source of
    /metrics' gate verdicts (one GROUP BY, not a gate evaluation per scrape)."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, primary_key=True, related_name="gate_watch"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    verdict = models.CharField(max_length=8)
    #: When ``verdict`` last changed.
    changed_at = models.DateTimeField()
    evaluated_at = models.DateTimeField()
    stale_rules = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.version_id}: {self.verdict}"
