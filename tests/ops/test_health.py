"""/livez, /readyz and /healthz as a load balancer and Kubernetes use them: against the real
database, and a real Redis broker that is up or not there (a closed port)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.ops.conftest import free_port

# A kubelet probes the pod's own address over plain HTTP: no ALLOWED_HOSTS entry, no TLS.
KUBELET = {"HTTP_HOST": "10.42.0.17:8000", "secure": False}


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["/readyz", "/healthz"])
def test_readiness_checks_the_database_and_says_ok(
    client: Any, settings: Any, probe: str, django_assert_num_queries: Any
) -> None:
    settings.CELERY_BROKER_URL = ""
    with django_assert_num_queries(1):  # SELECT 1, nothing else: a probe must stay cheap
        response = client.get(probe)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_liveness_touches_no_dependency(
    client: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # down, and irrelevant
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.redis
@pytest.mark.django_db
def test_readiness_pings_a_configured_broker(client: Any, settings: Any) -> None:
    settings.CELERY_BROKER_URL = REDIS_URL
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["/readyz", "/healthz"])
def test_a_broker_that_is_down_makes_readiness_503_naming_it_and_nothing_else(
    client: Any, settings: Any, probe: str
) -> None:
    port = free_port()
    settings.CELERY_BROKER_URL = f"redis://:s3cret-pass@127.0.0.1:{port}/0"
    response = client.get(probe)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "status": "down",
        "down": ["broker"],
        "checks": {"database": "ok", "broker": "down"},
    }
    assert b"s3cret" not in response.content
    assert str(port).encode() not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["/livez", "/readyz", "/healthz"])
def test_probes_need_no_login_nor_an_allowed_host_nor_https(
    client: Any, settings: Any, probe: str
) -> None:
    settings.CELERY_BROKER_URL = ""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["warden.example.com"]
    response = client.get(probe, **KUBELET)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"
    # …while every other URL still refuses that Host (the probes are the only exemption)
    assert client.get("/accounts/login/", **KUBELET).status_code == 400
