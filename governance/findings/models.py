from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast

from governance.accounts.models import Team
from governance.evidence.models import ScanRun, ScanSubject
from governance.inventory.models import MLModel, ModelVersion
from governance.vocabulary import (  # re-exported: the findings app's own vocabulary
    ACTIVE_STATUSES,
    CATEGORY_CHOICES,
    SEVERITY_ORDER,
    Severity,
    Status,
)

__all__ = [
    "ACTIVE_STATUSES",
    "SEVERITY_ORDER",
    "Finding",
    "FindingEvent",
    "FindingOccurrence",
    "SavedView",
    "Severity",
    "Status",
]


class _SearchDocument(models.Func):
    """``UPPER(vuln_id || ' ' || package || ' ' || title || ' ' || file_path || ' ' ||
    aliases::text)``: what the findings search looks in. Immutable on PostgreSQL, so a
    trigram GIN index can be built over exactly this expression (migration 0008); the
    columns are NOT NULL, so no COALESCE (which would change the expression)."""

    function = "UPPER"
    arg_joiner = " || ' ' || "
    template = "%(function)s(%(expressions)s)"
    output_field = models.TextField()


def finding_search_document() -> models.Func:
    return _SearchDocument(
        models.F("vuln_id"),
        models.F("package"),
        models.F("title"),
        models.F("file_path"),
        Cast(models.F("aliases"), models.TextField()),
    )


def severity_rank() -> models.Case:
    """critical 4, high 3, medium 2, low 1, info 0: how lists sort by severity. On PostgreSQL
    the index ``finding_severity_due`` (migration 0009) is built over exactly this expression,
    so the lists' default order reads its first page from the index."""
    return models.Case(
        *[
            models.When(severity=name, then=models.Value(rank))
            for name, rank in SEVERITY_ORDER.items()
        ],
        default=models.Value(-1),
        output_field=models.IntegerField(),
    )


class Finding(models.Model):
    """The normalized record every scanner maps to; one per (model, fingerprint): the issue
    a team triages once, whatever the number of versions it appears in. Where it was seen is
    in :class:`FindingOccurrence` (one per subject and tool family)."""

    class Resolution(models.TextChoices):
        """How a ``resolved`` finding was closed; only fixed and closed are remediations."""

        FIXED = "fixed", "Fixed (a later scan of the same subject no longer reports it)"
        CLOSED = "closed", "Closed by a person, with a reason"
        RETIRED = "retired", "Every version it was seen in was retired"
        TOOL = "tool", "The reporting tool marked it resolved"

    # Foreign keys carry no single-column index of their own (db_index=False): the composite
    # indexes in Meta lead with them, and every index is paid on each upserted row. Nor a
    # database constraint (db_constraint=False): an import writes thousands of rows whose
    # team, model, version and scans are the same one locked row each, so checking every
    # row's references at commit costs seconds and proves nothing; deletes go through the
    # ORM, which cascades and nulls them as on_delete says.
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    model = models.ForeignKey(
        MLModel,
        on_delete=models.CASCADE,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    fingerprint = models.CharField(max_length=64)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES)
    tool = models.CharField(max_length=60)
    # Every tool that reported it, as ",trivy,grype," so the upsert can append portably.
    tools = models.CharField(max_length=500, default="")
    rule_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    raw_severity = models.CharField(max_length=40, blank=True)
    cvss_score = models.FloatField(null=True, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    vuln_id = models.CharField(max_length=100, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    package = models.CharField(max_length=300, blank=True)
    package_version = models.CharField(max_length=100, blank=True)
    fixed_version = models.CharField(max_length=200, blank=True)
    ecosystem = models.CharField(max_length=40, blank=True)
    purl = models.CharField(max_length=500, blank=True)
    file_path = models.CharField(max_length=1000, blank=True)
    archive_member = models.CharField(max_length=1000, blank=True)
    line = models.IntegerField(null=True, blank=True)
    byte_offset = models.BigIntegerField(null=True, blank=True)
    metric_name = models.CharField(max_length=200, blank=True)
    metric_value = models.FloatField(null=True, blank=True)
    metric_threshold = models.FloatField(null=True, blank=True)
    comparator = models.CharField(max_length=2, blank=True)
    sample_count = models.IntegerField(null=True, blank=True)
    failure_count = models.IntegerField(null=True, blank=True)
    atlas = models.JSONField(default=list, blank=True)
    owasp = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)
    remediation = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=8, choices=Resolution.choices, blank=True)
    #: The reporting tool's own decision in its latest report ("" none; see vocabulary).
    tool_state = models.CharField(max_length=16, blank=True)
    justification = models.TextField(blank=True)
    #: Reachability from the tool's call analysis: False never called, None unknown.
    reachable = models.BooleanField(null=True, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    sla_due = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_findings",
        db_index=False,
        db_constraint=False,
    )
    first_scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    last_scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "fingerprint"], name="finding_unique_fp"),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="finding_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="finding_status_valid"
            ),
        ]
        # One index per filter the lists offer; team first because every query is team-scoped.
        indexes = [
            models.Index(fields=["team", "status", "severity"], name="finding_team_status_sev"),
            models.Index(fields=["model", "status", "severity"], name="finding_model_status_sev"),
            models.Index(fields=["team", "category", "status"], name="finding_team_category"),
            models.Index(fields=["team", "sla_due"], name="finding_team_due"),
            models.Index(fields=["team", "last_seen"], name="finding_team_last_seen"),
            models.Index(fields=["version", "status"], name="finding_version_status"),
            # assigned findings only: an import's rows are unassigned and skip it
            models.Index(
                fields=["assignee", "status"],
                condition=models.Q(assignee__isnull=False),
                name="finding_assignee_status",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tool_list(self) -> list[str]:
        return [t for t in self.tools.split(",") if t]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class FindingOccurrence(models.Model):
    """A finding as seen in one subject (an artifact, a version's target, a deployment) by
    one tool family. ``active`` while the family's latest scan of the subject reports it;
    ``fixed`` once a later complete scan of that subject by that family does not; ``retired``
    when its version was retired. The finding is active while any occurrence is."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        FIXED = "fixed", "Fixed"
        RETIRED = "retired", "Retired"

    # No database constraints, like Finding's references: see there.
    finding = models.ForeignKey(
        Finding,
        on_delete=models.CASCADE,
        related_name="occurrences",
        db_index=False,
        db_constraint=False,
    )
    subject = models.ForeignKey(
        ScanSubject,
        on_delete=models.CASCADE,
        related_name="occurrences",
        db_index=False,
        db_constraint=False,
    )
    tool_family = models.CharField(max_length=60)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Scan references are informational: no database constraint to check on every import
    # (the ORM still nulls them when a run is deleted).
    first_scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    last_scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "subject", "tool_family"], name="occurrence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["active", "fixed", "retired"]),
                name="occurrence_state_valid",
            ),
        ]
        # The import closes what a subject's family no longer reports; the gate asks which
        # findings are active in a version's subjects.
        indexes = [
            models.Index(fields=["subject", "tool_family", "state"], name="occurrence_subject"),
        ]

    def __str__(self) -> str:
        return f"finding {self.finding_id} in subject {self.subject_id} ({self.state})"


class FindingEvent(models.Model):
    """Append-only audit trail: every status change, assignment and comment."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        ASSIGN = "assign", "Assignment"
        COMMENT = "comment", "Comment"
        SEVERITY = "severity", "Severity change"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Who acted when there is no user: "system", "token:<name>", "scan:<id>".
    actor_label = models.CharField(max_length=150, blank=True)
    from_value = models.CharField(max_length=150, blank=True)
    to_value = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    scan_run = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["finding", "created_at"], name="findingevent_finding")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_value}->{self.to_value}"


class SavedView(models.Model):
    """A person's named findings filter ("my overdue criticals"): the list's query string."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_finding_views"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
