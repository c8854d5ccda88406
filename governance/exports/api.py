"""Evidence out, under ``/api/v1/``: a model version's ML-BOM, the findings list as CSV or
JSON, and a team's audit trail as JSON lines. Downloads of any size stream."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.accounts.selectors import has_role, team_for_request
from governance.exports.mlbom import mlbom_build
from governance.exports.schema import CycloneDxMlBom
from governance.exports.selectors import audit_trail, findings_export
from governance.findings.api import FindingSerializer
from governance.findings.filters import finding_filters_parse
from governance.findings.models import Finding
from governance.findings.selectors import findings_filter_apply
from governance.inventory.api import ModelScopedAPIView
from governance.lib.api_errors import ApplicationError
from governance.lib.streams import csv_lines, json_array_lines, json_lines

#: The list's filters (governance.findings.filters), named once more for the schema.
_FILTERS = ("team", "model", "version", "status", "severity", "category", "tool", "since",
            "overdue", "reachable")  # fmt: skip
_REF = OpenApiParameter("pk", str, OpenApiParameter.PATH, description="model id or name")


class _PassThrough(BaseRenderer):
    """Names a format DRF's content negotiation accepts (``?format=csv``); the views answer
    with their own streamed response, which DRF does not render."""

    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return data


class JsonErrorsMixin:
    """Errors (and OPTIONS) are JSON whatever format was asked for: the pass-through
    renderers above only name formats; the views' own answers are streamed responses,
    never DRF ``Response`` objects, so every ``Response`` here is rendered as JSON."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class CsvRenderer(_PassThrough):
    media_type = "text/csv"
    format = "csv"


class JsonLinesRenderer(_PassThrough):
    media_type = "application/x-ndjson"
    format = "jsonl"


class CycloneDxRenderer(_PassThrough):
    media_type = "application/vnd.cyclonedx+json"
    format = "cdx"


def _since(text: str) -> datetime | None:
    """An ISO 8601 date (its midnight, UTC) or date-time (UTC when naive); None for ""."""
    text = text.strip()
    if not text:
        return None
    try:
        found = parse_datetime(text)
        day = parse_date(text) if found is None else None
    except ValueError:
        found = day = None
    if found is None and day is not None:
        found = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if found is None:
        raise ApplicationError("since must be an ISO 8601 date or date-time")
    return timezone.make_aware(found, UTC) if timezone.is_naive(found) else found


_R = TypeVar("_R", HttpResponse, StreamingHttpResponse)


def _attachment(response: _R, name: str) -> _R:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


class ModelMlBomApi(JsonErrorsMixin, ModelScopedAPIView):
    renderer_classes = [JSONRenderer, CycloneDxRenderer]

    @extend_schema(
        parameters=[
            _REF,
            OpenApiParameter("version", str, required=True, description="the model version"),
        ],
        responses={(200, "application/vnd.cyclonedx+json"): CycloneDxMlBom},
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        """The CycloneDX 1.6 ML-BOM of a model version: the model with its artifact hashes
        and model card, its dependency components, and every finding seen in the version as
        VEX (analysis state, ratings, the affected component). See docs/exports.md."""
        model = self.get_object()
        label = request.query_params.get("version", "")
        if not label:
            raise ApplicationError("version is required: ?version=<the model version>")
        bom = mlbom_build(model=model, version=self.get_version(model, label))
        response = HttpResponse(bom.to_json(), content_type="application/vnd.cyclonedx+json")
        return _attachment(response, bom.filename)


class FindingsExportApi(JsonErrorsMixin, TeamScopedAPIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # DRF answers an unknown ?format= with a 404; here it is a bad parameter (400).
        try:
            return super().perform_content_negotiation(request, force=force)
        except (Http404, NotFound):
            raise ApplicationError("format must be csv or json") from None

    def base_queryset(self) -> QuerySet[Any]:
        return Finding.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "json"], description="default json"),
            *[
                OpenApiParameter(name, str, description="as in GET /api/v1/findings/")
                for name in _FILTERS
            ],
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): FindingSerializer(many=True),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        """Every finding of your teams that the list's filters select, newest first, streamed:
        a JSON array of the list API's rows, or CSV with its fields as columns."""
        fmt = request.query_params.get("format", "json")
        if fmt not in ("csv", "json"):
            raise ApplicationError("format must be csv or json")
        filters = finding_filters_parse(request.query_params, default_status="all")
        findings = findings_filter_apply(self.get_queryset(), filters)
        rows = (FindingSerializer(f).data for f in findings_export(findings))
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        if fmt == "csv":
            fields = FindingSerializer.Meta.fields
            lines = csv_lines(fields, ([row[k] for k in fields] for row in rows))
            response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(
                json_array_lines(rows), content_type="application/json"
            )
        return _attachment(response, f"warden-findings-{stamp}.{fmt}")


class AuditExportApi(JsonErrorsMixin, TeamScopedAPIView):
    renderer_classes = [JSONRenderer, JsonLinesRenderer]

    def base_queryset(self) -> QuerySet[Any]:
        return Finding.objects.none()  # rows come from the team named in the query

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="team slug (required in several teams)"),
            OpenApiParameter("since", str, description="ISO 8601 date or date-time: from then on"),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        """A team's audit trail as JSON lines in time order, for a SIEM: finding events
        (status changes, assignments, comments) and policy events (policy changes, exception
        requests and decisions). Team leads, or an API token of the team (a read token
        suffices: a SIEM's pull needs no write access)."""
        team = team_for_request(request.user, request.query_params.get("team", ""))
        is_token = getattr(request.user, "token", None) is not None
        if not is_token and not has_role(request.user, team.pk, "lead"):
            raise ApplicationError(
                "only a team lead (or a team API token) exports its audit trail", status_code=403
            )
        since = _since(request.query_params.get("since", ""))
        response = StreamingHttpResponse(
            json_lines(audit_trail(team, since=since)), content_type="application/x-ndjson"
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        return _attachment(response, f"warden-audit-{team.slug}-{stamp}.jsonl")
