"""``exceptions/`` list, request; ``exceptions/{id}/`` read; ``…/approve/``, ``…/reject/``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, QueryDict
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedViewSetMixin
from governance.findings.filters import finding_filters_parse
from governance.findings.selectors import (
    finding_get_for_user,
    findings_filter_apply,
    findings_visible_to,
)
from governance.inventory.selectors import model_get_for_user
from governance.lib.api_errors import ApplicationError
from governance.policies.models import RiskException
from governance.policies.services import (
    exception_approve,
    exception_reject,
    exception_request,
    exceptions_request_bulk,
)

# --- exceptions ------------------------------------------------------------------------------


class ExceptionSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    model = serializers.CharField(source="model.name")
    finding = serializers.IntegerField(source="finding_id", allow_null=True)
    policy = serializers.CharField(source="policy.name", default=None)
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    status = serializers.CharField(help_text="requested, approved, rejected or expired")

    class Meta:
        model = RiskException
        fields = [
            "id",
            "team",
            "model",
            "model_id",
            "finding",
            "rule",
            "policy",
            "status",
            "justification",
            "expires_at",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "ended_at",
        ]


class ExceptionRequestSerializer(serializers.Serializer):
    finding = serializers.IntegerField(required=False, help_text="a finding id, or:")
    model = serializers.CharField(required=False, help_text="a model id or name, with rule")
    rule = serializers.CharField(required=False, max_length=80, default="")
    justification = serializers.CharField(max_length=10000)
    expires_at = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="instead of expires_at: this many days from now",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("finding" in attrs) == ("model" in attrs):
            raise serializers.ValidationError("name either a finding, or a model and a rule")
        if "model" in attrs and not attrs["rule"]:
            raise serializers.ValidationError({"rule": "a rule is required with a model"})
        if "finding" in attrs and attrs["rule"]:
            raise serializers.ValidationError({"rule": "name a model with a rule, not a finding"})
        if ("expires_at" in attrs) == ("days" in attrs):
            raise serializers.ValidationError("give either expires_at or days")
        return attrs


class ExceptionBulkRequestSerializer(serializers.Serializer):
    findings = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=500,
        help_text="finding ids; or instead:",
    )
    filter = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="every finding this findings-list filter matches (q, team, model, status...)",
    )
    justification = serializers.CharField(max_length=10000)
    expires_at = serializers.DateTimeField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("findings" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("give either findings or filter")
        if ("expires_at" in attrs) == ("days" in attrs):
            raise serializers.ValidationError("give either expires_at or days")
        return attrs


class RefusalSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()
    findings = serializers.ListField(child=serializers.IntegerField())


class ExceptionBulkResultSerializer(serializers.Serializer):
    requested = ExceptionSerializer(many=True)
    refused = RefusalSerializer(many=True, help_text="findings given no request, and why")


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


_EXCEPTION_STATUSES = set(RiskException.Status.values)


class ExceptionViewSet(
    TeamScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ExceptionSerializer
    http_method_names = ["get", "post", "head", "options"]

    def base_queryset(self) -> Any:
        return RiskException.objects.select_related(
            "team", "model", "policy", "requested_by", "decided_by"
        )

    def filter_queryset(self, queryset: Any) -> Any:
        qs = queryset
        if self.action != "list":
            return qs
        p = self.request.query_params
        if p.get("status"):
            wanted = set(p["status"].split(","))
            if wanted - _EXCEPTION_STATUSES:
                raise ApplicationError(
                    f"status must be among {', '.join(sorted(_EXCEPTION_STATUSES))}"
                )
            qs = qs.filter(status__in=wanted)
        if p.get("model"):
            m = p["model"]
            qs = qs.filter(model_id=int(m)) if m.isdigit() else qs.filter(model__name=m)
        if p.get("finding", "").isdigit():
            qs = qs.filter(finding_id=int(p["finding"]))
        return qs

    @extend_schema(request=ExceptionRequestSerializer, responses={201: ExceptionSerializer})
    def create(self, request: Request) -> Response:
        form = ExceptionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        finding = model = None
        if "finding" in data:
            finding = finding_get_for_user(request.user, data["finding"])
        else:
            model = model_get_for_user(request.user, data["model"])
        expires_at = data.get("expires_at") or timezone.now() + timedelta(days=data["days"])
        exception = exception_request(
            actor=request.user,
            finding=finding,
            model=model,
            rule=data["rule"],
            justification=data["justification"],
            expires_at=expires_at,
        )
        fresh = self.get_queryset().get(pk=exception.pk)
        return Response(ExceptionSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ExceptionBulkRequestSerializer, responses={201: ExceptionBulkResultSerializer}
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Request an exception for each of many findings (ids, or a findings-list filter),
        in one transaction; a finding that cannot have one (not open, already pending,
        your role) is listed under ``refused`` with the reason. An id that is not one of
        your teams' findings is a 404."""
        form = ExceptionBulkRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        visible = findings_visible_to(request.user)
        if "findings" in data:
            wanted = set(data["findings"])
            selection = visible.filter(pk__in=wanted)
            if selection.count() != len(wanted):
                raise Http404("finding not found")
        else:
            filters = finding_filters_parse(
                QueryDict(urlencode(data["filter"])), default_status="active"
            )
            selection = findings_filter_apply(visible, filters, user=request.user)
        expires_at = data.get("expires_at") or timezone.now() + timedelta(days=data["days"])
        made, refused = exceptions_request_bulk(
            actor=request.user,
            findings=selection,
            justification=data["justification"],
            expires_at=expires_at,
        )
        fresh = self.get_queryset().filter(pk__in=[e.pk for e in made]).order_by("id")
        return Response(
            {
                "requested": ExceptionSerializer(fresh, many=True).data,
                "refused": [
                    {"reason": why, "count": len(ids), "findings": ids}
                    for why, ids in refused.items()
                ],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=DecisionSerializer, responses={200: ExceptionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        exception = exception_approve(
            exception=self.get_object(), actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(ExceptionSerializer(self.get_queryset().get(pk=exception.pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: ExceptionSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        exception = exception_reject(
            exception=self.get_object(), actor=request.user, reason=form.validated_data["reason"]
        )
        return Response(ExceptionSerializer(self.get_queryset().get(pk=exception.pk)).data)
