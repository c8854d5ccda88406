"""The shape of an MLflow model-registry webhook delivery, for the API docs."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

#: ``data`` of a delivery (``source`` would shadow a serializer attribute as a class field).
MlflowWebhookData = inline_serializer(
    "MlflowWebhookData",
    {
        name: serializers.CharField(required=False)
        for name in (
            "name",
            "version",
            "source",
            "storage_location",
            "run_id",
            "key",
            "value",
            "alias",
        )
    },
)
