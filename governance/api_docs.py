"""What the published API docs (``/api/docs/``) say about the findings and governance endpoints.

drf-spectacular shows a view's docstring as the operation's description, and a viewset's one
docstring for every action. The descriptions, response shapes and examples users read are
written here, per operation, and attached with spectacular's view extensions, so the views keep
their code comments for developers. (The scans, models, deployments, events and SLA-metrics
endpoints carry theirs next to the code.) ``tests/test_api_docs.py`` walks the whole schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers

from governance.findings.api import (
    FindingDetailSerializer,
    FindingEventSerializer,
    OccurrenceSerializer,
)
from governance.ingest.api import (
    AdmissionAnswerSerializer,
    GateReasonSerializer,
    ScanSubjectSerializer,
)
from governance.inventory.api import ModelVersionSerializer


@extend_schema_serializer(component_name="FindingOccurrence")
class OccurrenceDocSerializer(OccurrenceSerializer):
    subject = ScanSubjectSerializer(help_text="the artifact, target or deployment it was seen in")  # type: ignore[assignment]


@extend_schema_serializer(component_name="FindingDetail")
class FindingDetailDocSerializer(FindingDetailSerializer):
    occurrences = OccurrenceDocSerializer(  # type: ignore[assignment]
        many=True, help_text="where it was seen: per subject and tool family, its lifecycle"
    )


class ModelGateSerializer(serializers.Serializer):
    model = serializers.CharField()
    model_id = serializers.IntegerField()
    version = serializers.CharField(allow_null=True, help_text="null: the whole model")
    verdict = serializers.ChoiceField(choices=["pass", "warn", "fail"])
    reasons = GateReasonSerializer(many=True)


class VersionRetiredSerializer(ModelVersionSerializer):
    findings_resolved = serializers.IntegerField(
        help_text="findings closed as 'version retired' by this change"
    )

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "findings_resolved"]


GATE_EXAMPLE = OpenApiExample(
    "A failing gate",
    response_only=True,
    value={
        "model": "fraud-scorer",
        "model_id": 3,
        "version": "2.4.0",
        "verdict": "fail",
        "reasons": [
            {
                "rule": "max-critical",
                "verdict": "fail",
                "message": "1 critical finding open (the policy allows 0)",
                "fix": "upgrade torch to 2.6.0, or have a lead approve an exception",
                "findings": [90211],
            },
            {
                "rule": "sla-overdue",
                "verdict": "warn",
                "message": "2 high findings are past their 30-day remediation date",
                "fix": "triage them on /findings/?overdue=1",
                "findings": [88120, 88121],
            },
        ],
    },
)
TRIAGE_EXAMPLE = OpenApiExample(
    "Mark a false positive",
    request_only=True,
    value={"status": "false_positive", "reason": "the vulnerable function is never imported"},
)
EXCEPTION_EXAMPLE = OpenApiExample(
    "Accept the risk of one finding for 30 days",
    request_only=True,
    value={
        "finding": 90211,
        "justification": "no fixed torch release yet; the model runs offline only",
        "days": 30,
    },
)


def _replace(target: type, **actions: Any) -> type:
    return extend_schema_view(**actions)(type(target.__name__, (target,), {}))


class FindingViewDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.findings.api.FindingViewSet"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            list=extend_schema(
                description="Findings of your teams, filtered like the findings page (team, "
                "model, version, status, severity, category, tool, since, overdue) and sorted "
                "by ``ordering``; pages follow the ``next`` cursor."
            ),
            retrieve=extend_schema(
                description="One finding with every place it was seen (artifacts, targets, "
                "deployments) and the versions it is present in.",
                responses={200: FindingDetailDocSerializer},
            ),
            partial_update=extend_schema(
                description="Triage a finding: set its status (with a reason) and/or its "
                "assignee. Members triage; accepting a risk is a lead's decision (members "
                "request an exception instead). Each change is recorded in its history.",
                responses={200: FindingDetailDocSerializer},
                examples=[TRIAGE_EXAMPLE],
            ),
            comments=[
                extend_schema(
                    methods=["GET"],
                    description="The finding's history: comments, triage and status changes, "
                    "oldest first.",
                    responses={200: FindingEventSerializer(many=True)},
                ),
                extend_schema(
                    methods=["POST"],
                    description="Add a comment to the finding's history (members).",
                    responses={201: FindingEventSerializer},
                ),
            ],
            events=extend_schema(
                description="The finding's audit trail: who changed what and when, oldest "
                "first (the same events as the comments list).",
                responses={200: FindingEventSerializer(many=True)},
            ),
        )


class ExceptionViewDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.exceptions.ExceptionViewSet"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            list=extend_schema(
                description="Risk exceptions of your teams (filters: ``status`` as a comma "
                "list of pending, approved, rejected, expired; ``model``; ``finding``)."
            ),
            retrieve=extend_schema(
                description="One risk exception: what it covers, why, until when, who asked "
                "and who decided."
            ),
            create=extend_schema(
                description="Request a risk exception for a finding, or for one rule of a "
                "model's policy (``model`` and ``rule``), with a justification and an expiry "
                "(``days`` or ``expires_at``). A lead other than the requester decides it.",
                examples=[EXCEPTION_EXAMPLE],
            ),
            approve=extend_schema(
                description="Approve a pending exception (a lead of its team who did not "
                "request it), with an optional ``reason``: what it covers counts as risk "
                "accepted until the expiry."
            ),
            reject=extend_schema(
                description="Reject a pending exception (a lead of its team who did not "
                "request it), with a ``reason`` the requester sees."
            ),
        )


class PolicyListDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.rules.PolicyListApi"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            get=extend_schema(
                description="The live policies of your teams and the organization defaults "
                "every signed-in user reads, with the models each one applies to."
            ),
        )


class PolicyDetailDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.rules.PolicyDetailApi"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            get=extend_schema(description="One policy: its rules document, scope and revision."),
            put=extend_schema(
                description="Replace a policy's document (leads of its team): a new revision; "
                "gate results follow at once."
            ),
            delete=extend_schema(
                description="Archive a policy (leads of its team), with an optional "
                "``change_note``: it stops applying and its revisions stay readable."
            ),
        )


class PolicyRevisionsDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.rules.PolicyRevisionsApi"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            get=extend_schema(
                description="Every revision of a policy, newest first: who changed it, when, "
                "with which note."
            ),
        )


class ModelGateDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.governed.ModelGateApi"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            get=extend_schema(responses={200: ModelGateSerializer}, examples=[GATE_EXAMPLE]),
        )


class VersionDetailDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.governed.VersionDetailApi"

    def view_replacement(self) -> type:
        return _replace(
            self.target,
            get=extend_schema(
                description="One version of a model: its artifact digest and whether it is retired."
            ),
            patch=extend_schema(responses={200: VersionRetiredSerializer}),
        )


class ArtifactAdmissionDocs(OpenApiViewExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.policies.api.admission.ArtifactAdmissionApi"

    def view_replacement(self) -> type:
        return _replace(self.target, get=extend_schema(responses={200: AdmissionAnswerSerializer}))
