"""``artifacts/{sha256}/admission``: may a model server load this artifact?"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance.accounts.access import TeamScopedAPIView
from governance.inventory.models import ModelVersion
from governance.lib.api_errors import ApplicationError
from governance.policies.admission import admission_decide

_HEX = set("0123456789abcdef")


class ArtifactAdmissionApi(TeamScopedAPIView):
    team_field = "model__team_id"

    def base_queryset(self) -> QuerySet[Any]:
        return ModelVersion.objects.select_related("model")

    @extend_schema(responses={200: inline_serializer("Admission", {
        "allowed": serializers.BooleanField(), "model": serializers.CharField(allow_null=True),
        "version": serializers.CharField(allow_null=True),
        "verdict": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.DictField()),
    })})  # fmt: skip
    def get(self, request: Request, sha256: str) -> Response:
        """May a model server load the artifact with this SHA-256? Only when a version of one
        of your models carries that digest, a model-file scan of that very digest completed
        (a dependency scan does not count), and the gate of every version carrying it does not
        fail. Unknown digests (and other teams') answer 404 with ``allowed: false``."""
        digest = sha256.lower()
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ApplicationError("sha256 must be 64 hex characters")
        answer = admission_decide(self.get_queryset(), digest=digest)
        if answer is None:
            return Response(
                {"allowed": False, "model": None, "version": None, "verdict": None,
                 "reasons": [{"rule": "unknown-artifact", "verdict": "fail",
                              "message": "no model version of yours has this artifact digest",
                              "fix": "register it: upload a scan with --version and --artifact",
                              "findings": []}],
                 "error": "unknown artifact", "detail": {}},
                status=status.HTTP_404_NOT_FOUND,
            )  # fmt: skip
        return Response(answer)
