"""``GET /metrics``: the Prometheus text exposition.

Who may scrape: a token with the ``metrics`` scope (``create_api_token --scope metrics``),
which sees its own team's series, or a client in ``WARDEN_METRICS_ALLOW_CIDRS`` (the
Prometheus server's network), which sees every team's and the queue depth. Anyone else: 401
(no credentials) or 403 (a token of another scope).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from governance.accounts.access import TeamScopedAPIView
from governance.accounts.authentication import MetricsTokenAuthentication
from governance.accounts.models import ApiToken
from governance.accounts.selectors import team_ids_for
from governance.exporter.collector import WardenCollector
from governance.lib.client_ip import client_ip


def _allow_listed(request: Request) -> bool:
    networks = settings.WARDEN_METRICS_ALLOW_CIDRS
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request._request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


class MetricsView(TeamScopedAPIView):
    authentication_classes = [MetricsTokenAuthentication]
    permission_classes = [AllowAny]  # decided below: a metrics token or the allow-list
    schema = None

    def get(self, request: Request) -> HttpResponse:
        token = request.auth
        if isinstance(token, ApiToken):
            team_ids: list[int] | None = list(team_ids_for(request.user))  # the token's team
        elif _allow_listed(request):
            team_ids = None
        else:
            raise exceptions.NotAuthenticated(
                "a token with the metrics scope, or a client in WARDEN_METRICS_ALLOW_CIDRS"
            )
        registry = CollectorRegistry(auto_describe=False)
        registry.register(WardenCollector(team_ids))
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
