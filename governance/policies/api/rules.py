"""``policies/`` list, create or import (upsert by name); ``policies/{id}/`` read, replace
(PUT), delete; ``policies/{id}/export/?as=yaml|json``; ``policies/{id}/revisions/``. Leads edit
their team's policies; superusers edit organization defaults."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.accounts.models import Team
from governance.accounts.selectors import team_get_for_user
from governance.policies.models import RiskPolicy
from governance.policies.schema import policy_document_dump, policy_document_parse
from governance.policies.selectors import (
    policy_can_edit,
    policy_revisions,
)
from governance.policies.services import (
    policy_archive,
    policy_import,
    policy_update,
)

# --- policies --------------------------------------------------------------------------------


class PolicyOutputSerializer(serializers.ModelSerializer):
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    applies_to = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = RiskPolicy
        fields = [
            "id",
            "team",
            "name",
            "description",
            "applies_to",
            "revision",
            "can_edit",
            "created_at",
            "updated_at",
            "document",
        ]

    def get_applies_to(self, policy: RiskPolicy) -> dict[str, list[str]]:
        return {"risk_tiers": policy.risk_tiers, "stages": policy.stages}

    def get_can_edit(self, policy: RiskPolicy) -> bool:
        return policy_can_edit(self.context["request"].user, policy.team_id)


@extend_schema_field(OpenApiTypes.OBJECT)
class DocumentField(serializers.Field):
    """A policy document: a JSON object, or YAML/JSON text."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            return data
        if isinstance(data, str | bytes):
            return policy_document_parse(data)
        raise serializers.ValidationError("must be an object, or YAML or JSON text")

    def to_representation(self, value: Any) -> Any:
        return value


def _policy_team(request: Request, slug: str | None) -> Team | None:
    """The team a new policy is for: one of the caller's (404 otherwise), or None for an
    organization default."""
    return None if slug is None else team_get_for_user(request.user, slug)


class PolicyScopedAPIView(TeamScopedAPIView):
    """Live policies of the caller's teams, and the organization defaults (every signed-in
    user reads them; only superusers change them)."""

    include_shared = True

    def base_queryset(self) -> QuerySet[Any]:
        return RiskPolicy.objects.filter(archived_at__isnull=True).select_related("team")


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


class PolicyListApi(PolicyScopedAPIView):
    @extend_schema_serializer(component_name="PolicyImportInput")
    class InputSerializer(serializers.Serializer):
        """Create or import (update by name) a policy."""

        team = serializers.SlugField(
            allow_null=True, help_text="team slug; null for an organization default"
        )
        document = DocumentField(help_text="warden.policy/v1 document (object or YAML text)")
        change_note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="only this team's policies"),
            OpenApiParameter("scope", str, enum=["team", "organization"]),
        ],
        responses={200: PolicyOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = self.get_queryset().order_by("team__name", "name", "id")
        if request.query_params.get("team"):
            qs = qs.filter(team__slug=request.query_params["team"])
        scope = request.query_params.get("scope")
        if scope == "team":
            qs = qs.filter(team__isnull=False)
        elif scope == "organization":
            qs = qs.filter(team__isnull=True)
        data = PolicyOutputSerializer(qs, many=True, context={"request": request}).data
        return Response({"results": data})

    @extend_schema(
        request=InputSerializer,
        responses={201: PolicyOutputSerializer, 200: PolicyOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        """Create a policy, or update the team's policy of the same name (import)."""
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        team = _policy_team(request, data["team"])
        policy, created = policy_import(
            team=team,
            document=data["document"],
            actor=request.user,
            change_note=data["change_note"],
        )
        body = PolicyOutputSerializer(policy, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PolicyDetailApi(PolicyScopedAPIView):
    @extend_schema_serializer(component_name="PolicyReplaceInput")
    class InputSerializer(serializers.Serializer):
        """Replace a policy's document."""

        document = DocumentField()
        change_note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(parameters=[_ID], responses={200: PolicyOutputSerializer})
    def get(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        return Response(PolicyOutputSerializer(policy, context={"request": request}).data)

    @extend_schema(
        parameters=[_ID], request=InputSerializer, responses={200: PolicyOutputSerializer}
    )
    def put(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        policy = policy_update(
            policy=policy,
            document=form.validated_data["document"],
            actor=request.user,
            change_note=form.validated_data["change_note"],
        )
        return Response(PolicyOutputSerializer(policy, context={"request": request}).data)

    @extend_schema(parameters=[_ID, OpenApiParameter("change_note", str)], responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        policy_archive(
            policy=policy,
            actor=request.user,
            change_note=request.query_params.get("change_note", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyExportApi(PolicyScopedAPIView):
    @extend_schema(
        parameters=[_ID, OpenApiParameter("as", str, enum=["yaml", "json"])],
        responses={(200, "application/yaml"): OpenApiTypes.STR},
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        """The policy as code: import it with ``POST /api/v1/policies/``."""
        policy = self.get_object()
        fmt = request.query_params.get("as", "yaml")
        text = policy_document_dump(policy.document, fmt)
        ctype = "application/json" if fmt == "json" else "application/yaml"
        response = HttpResponse(text, content_type=f"{ctype}; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="policy-{policy.pk}.{fmt}"'
        return response


class PolicyRevisionsApi(PolicyScopedAPIView):
    @extend_schema(parameters=[_ID], responses={200: inline_serializer("PolicyRevision", {
        "number": serializers.IntegerField(), "action": serializers.CharField(),
        "author": serializers.CharField(), "change_note": serializers.CharField(),
        "created_at": serializers.DateTimeField(), "document": serializers.JSONField(),
    }, many=True)})  # fmt: skip
    def get(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        rows = [
            {"number": r.number, "action": r.action,
             "author": r.author.get_username() if r.author_id else r.author_label,
             "change_note": r.change_note, "created_at": r.created_at, "document": r.document}
            for r in policy_revisions(policy)
        ]  # fmt: skip
        return Response({"results": rows})
