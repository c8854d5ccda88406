"""The project's URLs plus two views that fail unexpectedly, for tests/ops/test_errors.py. The
error handlers are the project's own: the test proves what they do, not a copy of them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import urls as project_urls


class ExplodingApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret-internal-state")


def exploding_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-internal-state")


class BrokerApi(APIView):
    """Publishes to the broker the test names (a closed port: the broker is down)."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        from kombu.connection import Connection

        with Connection(request.query_params["url"], connect_timeout=1) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1)
        return Response({"published": True})


urlpatterns = [
    path("api/v1/explode/", ExplodingApi.as_view()),
    path("explode/", exploding_page),
    path("api/v1/publish/", BrokerApi.as_view()),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
