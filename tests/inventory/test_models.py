from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from governance.inventory.models import MLModel, ModelVersion
from governance.inventory.services import version_get_or_create
from governance.lib.api_errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_model_names_are_unique_per_team_not_globally(team_alpha: Any, team_beta: Any) -> None:
    MLModel.objects.create(team=team_alpha, name="churn")
    MLModel.objects.create(team=team_beta, name="churn")
    with pytest.raises(IntegrityError), transaction.atomic():
        MLModel.objects.create(team=team_alpha, name="churn")


def test_invalid_risk_tier_is_rejected(team_alpha: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MLModel.objects.create(team=team_alpha, name="x", risk_tier="extreme")


def test_version_strings_are_unique_per_model(team_alpha: Any) -> None:
    model = MLModel.objects.create(team=team_alpha, name="churn")
    ModelVersion.objects.create(model=model, version="1.0")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(model=model, version="1.0")


def test_a_versions_artifact_digest_cannot_change(team_alpha: Any) -> None:
    model = MLModel.objects.create(team=team_alpha, name="churn")
    v = version_get_or_create(model=model, version="1.0", artifact_sha256="a" * 64)
    assert version_get_or_create(model=model, version="1.0", artifact_sha256="a" * 64) == v
    with pytest.raises(ApplicationError, match="cannot change"):
        version_get_or_create(model=model, version="1.0", artifact_sha256="b" * 64)
