"""seed_large writes an organization-sized data set that the pages read like imported data."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from governance.findings.models import ACTIVE_STATUSES, Finding, FindingOccurrence
from governance.metrics.models import PostureTeamDay
from tests.web.test_dashboard import _metric

pytestmark = pytest.mark.django_db


def test_seed_large_writes_teams_models_findings_and_history(client: Any) -> None:
    call_command("seed_large", findings=600, models=12, teams=3, prefix="t", verbosity=0)
    assert Finding.objects.count() == FindingOccurrence.objects.count() == 600
    assert Finding.objects.values("model").distinct().count() == 12
    lead = get_user_model().objects.get(username="t-lead")
    assert lead.memberships.count() == 3  # type: ignore[attr-defined]
    active = Finding.objects.filter(status__in=ACTIVE_STATUSES).count()
    assert 0 < active < 600
    client.force_login(lead)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert _metric(page.content.decode(), "active") == str(active)
    days = PostureTeamDay.objects.values("day").distinct().count()
    assert days == (90 if connection.vendor == "postgresql" else 1)
    with pytest.raises(CommandError, match="exist already"):
        call_command("seed_large", findings=10, models=1, teams=1, prefix="t", verbosity=0)
