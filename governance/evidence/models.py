"""Evidence: what was scanned, when, by which tool, and what it looked at.

A :class:`ScanRun` is one imported report or one native scan. Findings (the ``findings`` app)
and verdicts (``policies``) stand on these rows; the import pipeline (``ingest``) writes them.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from governance.accounts.models import ApiToken, Team
from governance.inventory.models import MLModel, ModelVersion
from governance.vocabulary import CATEGORY_CHOICES


class ScanSubject(models.Model):
    """What a scan looked at. Absence of a finding is evidence only about the same subject:
    a scan resolves nothing but what an earlier scan of its own subject reported.

    - ``artifact``: the bytes of a model file (its SHA-256), as scanned under a version;
    - ``target``: something of a version that a dependency, code or assessment scan looks
      at: a lockfile, an image, a manifest, a dataset or suite ("" when the report names
      none: the version as a whole);
    - ``deployment``: an environment where the model runs (runtime reports).

    ``version`` is null for scans uploaded without a version: they concern the model as a
    whole and count for every version's gate.
    """

    class Kind(models.TextChoices):
        ARTIFACT = "artifact", "Artifact"
        TARGET = "target", "Version target"
        DEPLOYMENT = "deployment", "Deployment"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(
        MLModel, on_delete=models.CASCADE, related_name="scan_subjects", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="subjects"
    )
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=500, blank=True)
    environment = models.CharField(max_length=60, blank=True)
    #: sha256 of (kind, version, digest, target, environment): one row per subject of a model.
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="scansubject_unique_key"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["artifact", "target", "deployment"]),
                name="scansubject_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["artifact_sha256"], name="scansubject_digest"),
        ]

    def __str__(self) -> str:
        return self.label

    @staticmethod
    def make_key(
        *, kind: str, version_id: int | None, artifact_sha256: str, target: str, environment: str
    ) -> str:
        text = "\x1f".join([kind, str(version_id or ""), artifact_sha256, target, environment])
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def label(self) -> str:
        """How people name it: "m@1.2 artifact 3f2a9c0d1e2b…", "m@1.2 image:tag", "m in prod-eu"."""
        where = self.model.name
        if self.version_id:
            where += f"@{self.version.version}"  # type: ignore[union-attr]
        if self.kind == self.Kind.ARTIFACT:
            return f"{where} artifact {self.artifact_sha256[:12]}…"
        if self.kind == self.Kind.DEPLOYMENT:
            return f"{where} in {self.environment or 'an unnamed deployment'}"
        return f"{where} {self.target}" if self.target else where


class ScanRun(models.Model):
    """One imported report (or one native scan) for a model and optionally a version, and
    the subject it looked at (set when the report is imported)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="scan_runs")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="scan_runs")
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="scan_runs"
    )
    tool = models.CharField(max_length=60, blank=True)
    tool_version = models.CharField(max_length=60, blank=True)
    scan_type = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES, blank=True)
    report_sha256 = models.CharField(max_length=64)
    report_size = models.BigIntegerField(default=0)
    report_name = models.CharField(max_length=255, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    branch = models.CharField(max_length=255, blank=True)
    pipeline_url = models.URLField(max_length=1000, blank=True)
    environment = models.CharField(max_length=60, blank=True)
    #: What the upload said the report is about (the report may say it too).
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=500, blank=True)
    subject = models.ForeignKey(
        ScanSubject, null=True, blank=True, on_delete=models.SET_NULL, related_name="scan_runs"
    )
    #: The tool, normalized: absence resolves only findings the same family reported.
    tool_family = models.CharField(max_length=60, blank=True)
    #: False when the report's silence proves nothing (an SBOM, a runtime batch).
    complete = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    #: Times the run was handed to a worker (the upload, then each re-queue of a stale run),
    #: and the last time: the re-queue sweep finds runs no worker finished.
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL)
    count_total = models.PositiveIntegerField(default=0)
    count_new = models.PositiveIntegerField(default=0)
    count_unchanged = models.PositiveIntegerField(default=0)
    count_reopened = models.PositiveIntegerField(default=0)
    count_resolved = models.PositiveIntegerField(default=0)
    count_passed = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "ingest_scanrun"  # moved from ingest; the table kept its name
        ordering = ["-created_at", "-id"]
        constraints = [
            # Idempotency: the same report for the same model, version and target is one
            # ScanRun (the same bytes about another target are another scan).
            models.UniqueConstraint(
                fields=["model", "version", "target", "report_sha256"],
                condition=models.Q(version__isnull=False),
                name="scanrun_unique_report_per_version",
            ),
            models.UniqueConstraint(
                fields=["model", "target", "report_sha256"],
                condition=models.Q(version__isnull=True),
                name="scanrun_unique_report_unversioned",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="scanrun_team_created"),
            models.Index(fields=["model", "tool", "-created_at"], name="scanrun_model_tool"),
            models.Index(fields=["version", "category"], name="scanrun_version_category"),
            # the re-queue sweep looks for runs stuck queued or running
            models.Index(
                fields=["status", "enqueued_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="scanrun_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool or self.scan_type} scan #{self.pk} of {self.model_id}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": self.count_total,
            "new": self.count_new,
            "unchanged": self.count_unchanged,
            "reopened": self.count_reopened,
            "resolved": self.count_resolved,
            "passed": self.count_passed,
        }


class CheckResult(models.Model):
    """A check that ran and passed (assessments): evidence of coverage, not a problem."""

    scan_run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="passed_checks")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="passed_checks")
    fingerprint = models.CharField(max_length=64)
    tool = models.CharField(max_length=60)
    rule_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)
    metric_name = models.CharField(max_length=200, blank=True)
    metric_value = models.FloatField(null=True, blank=True)
    metric_threshold = models.FloatField(null=True, blank=True)
    comparator = models.CharField(max_length=2, blank=True)
    sample_count = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "ingest_checkresult"
        indexes = [models.Index(fields=["model", "metric_name"], name="checkresult_model_metric")]

    def __str__(self) -> str:
        return self.title


class Component(models.Model):
    """A package a scan found in its subject (an SBOM's components, an inventory): what the
    model ships, for "which models use package X". Replaced by the next inventory of the same
    subject."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="components")
    subject = models.ForeignKey(ScanSubject, on_delete=models.CASCADE, related_name="components")
    scan_run = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=300)
    version = models.CharField(max_length=100, blank=True)
    purl = models.CharField(max_length=500, blank=True)
    ecosystem = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name", "version", "id"]
        indexes = [
            models.Index(fields=["team", "name"], name="component_team_name"),
            models.Index(fields=["team", "purl"], name="component_team_purl"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


class Assessment(models.Model):
    """A Warden assessment (a ``warden.assessment/v1`` document written by Warden's own runner,
    ``tool: warden``) as its scan run recorded it: the whole document, for the assessment
    page (per-group tables, curves, drift per feature, fingerprints, library versions), and
    what the gate's ``warden_assessment`` evidence matches on (the artifact digest, the age).

    Its findings and passed checks are the scan run's, as for any assessment report; this row
    only keeps what those leave out.
    """

    class Origin(models.TextChoices):
        SERVER = "server", "Computed by Warden's workers"
        CLIENT = "client", "Computed by warden assess, uploaded"

    scan_run = models.OneToOneField(ScanRun, on_delete=models.CASCADE, related_name="assessment")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="assessments")
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="assessments"
    )
    #: The model the figures are of: the file that was run, else the upload's digest, else
    #: the version's registered artifact ("" when none is known).
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    dataset_sha256 = models.CharField(max_length=64, blank=True)
    dataset_rows = models.BigIntegerField(default=0)
    #: ``predictions`` (a table of predictions) or ``model`` (Warden ran the model).
    mode = models.CharField(max_length=12, blank=True)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    #: When the figures were computed: the document's ``created`` time, never later than
    #: when Warden recorded it (an old document uploaded today is not fresh evidence).
    assessed_at = models.DateTimeField()
    document = models.JSONField(default=dict)

    class Meta:
        ordering = ["-assessed_at", "-id"]
        indexes = [
            models.Index(
                fields=["team", "artifact_sha256", "-assessed_at"], name="assessment_digest"
            ),
            models.Index(fields=["version", "-assessed_at"], name="assessment_version"),
        ]

    def __str__(self) -> str:
        return f"assessment #{self.pk} of {self.model_id}"
