"""``/api/v1/deployments/``: what runs where. CI records a deployment (``warden deploy``), a
model server's environment is checked against admission, and ending it closes what was seen
in it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import (
    ReadOrMemberWrite,
    TeamScopedAPIView,
    TeamScopedViewSetMixin,
)
from governance.accounts.selectors import has_role, team_for_request
from governance.ingest.api import AdmissionAnswerSerializer
from governance.inventory.models import Deployment, MLModel
from governance.inventory.selectors import model_lookup
from governance.lib.api_errors import ApplicationError
from governance.lib.parsers import FastJSONParser, PlainTextParser
from governance.runtime.events import events_ingest
from governance.runtime.models import EVENT_KINDS
from governance.runtime.prometheus import prometheus_ingest
from governance.runtime.services import deployment_create, deployment_end
from governance.vocabulary import Severity


class DeploymentSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    model = serializers.CharField(source="model.name")
    version = serializers.CharField(source="version.version")
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = Deployment
        fields = [
            "id", "team", "model", "model_id", "version", "environment", "endpoint",
            "artifact_sha256", "since", "until", "active", "deployed_by", "pipeline_url",
        ]  # fmt: skip


class DeploymentInputSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, help_text="model id or name")
    version = serializers.CharField(max_length=100)
    environment = serializers.CharField(max_length=60, help_text="e.g. prod-eu")
    endpoint = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="",
        help_text="service or endpoint name, when one environment runs several",
    )  # fmt: skip
    artifact_sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, allow_blank=True, default="",
        help_text="the deployed bytes (default: the version's registered artifact)",
    )  # fmt: skip
    pipeline_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    team = serializers.SlugField(required=False, allow_blank=True, default="")


# One event of the warden.runtime/v1 shape, for the API docs: events_ingest() checks them.
class RuntimeEventSerializer(serializers.Serializer):
    time = serializers.DateTimeField(help_text="ISO 8601 with a time zone")
    kind = serializers.ChoiceField(choices=EVENT_KINDS)
    rule = serializers.CharField(max_length=200, help_text="the detector, monitor or rule")
    count = serializers.IntegerField(min_value=1, default=1, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    detail = serializers.DictField(
        required=False, help_text="free-form context kept with the event (up to a few KB)"
    )


class DeploymentCreatedSerializer(DeploymentSerializer):
    admission = AdmissionAnswerSerializer(help_text="may this artifact run? (see admission)")

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "admission"]


class PrometheusAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="events stored from this scrape")
    series = serializers.IntegerField(help_text="counters (``*_total``) in the scrape")
    new_series = serializers.IntegerField(help_text="counters seen for the first time")
    deployment = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(
        description="Deployments of your teams' models (filters: ``model``, ``environment``, "
        "``active=1``), newest first."
    ),
    retrieve=extend_schema(description="One deployment: where a model version runs, since when."),
)
class DeploymentViewSet(
    TeamScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeploymentSerializer
    permission_classes = [IsAuthenticated, ReadOrMemberWrite]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def base_queryset(self) -> QuerySet[Any]:
        return Deployment.objects.select_related("team", "model", "version")

    def filter_queryset(self, queryset: Any) -> Any:
        p = self.request.query_params
        if p.get("model"):
            m = p["model"]
            queryset = (
                queryset.filter(model_id=int(m))
                if m.isdigit()
                else queryset.filter(model__name__iexact=m)
            )
        if p.get("environment"):
            queryset = queryset.filter(environment=p["environment"])
        if p.get("active") in ("1", "true", "yes"):
            queryset = queryset.filter(until__isnull=True)
        return queryset

    @extend_schema(
        request=DeploymentInputSerializer,
        responses={201: DeploymentCreatedSerializer, 200: DeploymentCreatedSerializer},
        parameters=[OpenApiParameter("model", str), OpenApiParameter("environment", str)],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record that a version runs in an environment; the answer carries the admission
        verdict for its artifact (a refused artifact is a critical finding of the model)."""
        form = DeploymentInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        team = team_for_request(request.user, data["team"])
        if not has_role(request.user, team.pk, "member"):
            raise ApplicationError(
                "recording a deployment needs a write-scoped token or a member role",
                status_code=403,
            )
        model = model_lookup(MLModel.objects.filter(team=team), data["model"])
        version = model.versions.filter(version=data["version"]).first()
        if version is None:
            raise Http404(
                f"{model.name} has no version {data['version']!r}: upload its scans first"
            )
        deployment, admission, created = deployment_create(
            model=model,
            version=version,
            environment=data["environment"],
            endpoint=data["endpoint"],
            artifact_sha256=data["artifact_sha256"],
            pipeline_url=data["pipeline_url"],
            actor=request.user,
        )
        body = {
            **DeploymentSerializer(self.get_queryset().get(pk=deployment.pk)).data,
            "admission": admission,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={200: DeploymentSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """End a deployment: it stops counting as running, and the findings seen only in it
        close (not as remediations)."""
        deployment = self.get_object()
        deployment_end(deployment=deployment, actor=request.user)
        return Response(DeploymentSerializer(self.get_queryset().get(pk=deployment.pk)).data)


class DeploymentRefSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200)
    environment = serializers.CharField(max_length=60)
    endpoint = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RuntimeEventsScoped(TeamScopedAPIView):
    """Event intake: the deployment named must be a running one of the caller's teams."""

    def base_queryset(self) -> QuerySet[Any]:
        return Deployment.objects.select_related("model", "version", "team")

    def deployment_from(self, ref: Any) -> Deployment:
        """A deployment by id, or by model and environment (and endpoint): the running one."""
        qs: QuerySet[Deployment] = self.get_queryset()
        found: Deployment | None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            found = qs.filter(pk=int(ref)).first()
        elif isinstance(ref, dict):
            form = DeploymentRefSerializer(data=ref)
            form.is_valid(raise_exception=True)
            d = form.validated_data
            model = model_lookup(MLModel.objects.filter(pk__in=qs.values("model_id")), d["model"])
            found = qs.filter(
                model=model,
                environment=d["environment"],
                endpoint=d["endpoint"],
                until__isnull=True,
            ).first()
            if found is None:
                raise Http404(
                    f"{model.name} has no running deployment in {d['environment']!r}: record "
                    "it first (warden deploy)"
                )
        else:
            raise ApplicationError(
                'deployment is required: its id, or {"model": …, "environment": …}'
            )
        if found is None:
            raise Http404("deployment not found")
        if not has_role(self.request.user, found.team_id, "member"):
            raise ApplicationError(
                "sending events needs a write-scoped token or a member role", status_code=403
            )
        return found


class RuntimeEventsApi(RuntimeEventsScoped):
    parser_classes = [FastJSONParser]

    @extend_schema(
        request=inline_serializer(
            "RuntimeEventBatch",
            {
                "deployment": serializers.JSONField(
                    help_text='a deployment id, or {"model": …, "environment": …}'
                ),
                "events": RuntimeEventSerializer(many=True, help_text="up to 10,000 events"),
            },
        ),
        responses={
            202: inline_serializer(
                "EventsAccepted",
                {
                    "accepted": serializers.IntegerField(),
                    "deployment": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        """Runtime events of one deployment (the warden.runtime/v1 event shape), stored
        append-only and judged by the policy's alert rules within a minute."""
        body = request.data
        if not isinstance(body, dict):
            raise ApplicationError("expected a JSON object with deployment and events")
        deployment = self.deployment_from(body.get("deployment"))
        accepted = events_ingest(deployment=deployment, events=body.get("events"))
        return Response(
            {"accepted": accepted, "deployment": deployment.pk}, status=status.HTTP_202_ACCEPTED
        )


class PrometheusEventsApi(RuntimeEventsScoped):
    parser_classes = [PlainTextParser]

    @extend_schema(
        parameters=[OpenApiParameter("deployment", int, required=True)],
        request={"text/plain": str},
        responses={202: PrometheusAcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        """One scrape of an AI firewall's Prometheus metrics (text exposition): what each
        counter grew since the deployment's previous scrape becomes events (a counter reset
        counts from zero)."""
        deployment = self.deployment_from(request.query_params.get("deployment", ""))
        text = request.data if isinstance(request.data, str) else ""
        result = prometheus_ingest(deployment=deployment, text=text)
        return Response({**result, "deployment": deployment.pk}, status=status.HTTP_202_ACCEPTED)
