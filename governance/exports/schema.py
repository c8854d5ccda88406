"""The parts of a CycloneDX 1.6 ML-BOM that Warden writes, for the API docs (the format's
full schema is CycloneDX's own; the tests validate against it)."""

from __future__ import annotations

from rest_framework import serializers


class CdxHash(serializers.Serializer):
    alg = serializers.CharField()
    content = serializers.CharField()


class CdxModelComponent(serializers.Serializer):
    type = serializers.CharField(default="machine-learning-model")
    bom_ref = serializers.CharField(help_text="bom-ref")
    name = serializers.CharField()
    version = serializers.CharField()
    hashes = CdxHash(many=True)


class CdxMetadata(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    component = CdxModelComponent(help_text="the model, with its modelCard")


class CdxComponent(serializers.Serializer):
    type = serializers.CharField()
    bom_ref = serializers.CharField(help_text="bom-ref")
    name = serializers.CharField()
    version = serializers.CharField(required=False)
    purl = serializers.CharField(required=False)


class CdxRating(serializers.Serializer):
    severity = serializers.CharField()
    score = serializers.FloatField(required=False)
    method = serializers.CharField(required=False)
    vector = serializers.CharField(required=False)


class CdxAnalysis(serializers.Serializer):
    state = serializers.ChoiceField(
        ["resolved", "exploitable", "in_triage", "false_positive", "not_affected"]
    )
    justification = serializers.CharField(required=False)
    response = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


class CdxAffects(serializers.Serializer):
    ref = serializers.CharField()


class CdxVulnerability(serializers.Serializer):
    id = serializers.CharField()
    bom_ref = serializers.CharField(help_text="bom-ref")
    ratings = CdxRating(many=True)
    analysis = CdxAnalysis()
    affects = CdxAffects(many=True)


class CycloneDxMlBom(serializers.Serializer):
    bomFormat = serializers.CharField(default="CycloneDX")
    specVersion = serializers.CharField(default="1.6")
    serialNumber = serializers.CharField()
    version = serializers.IntegerField()
    metadata = CdxMetadata()
    components = CdxComponent(many=True)
    vulnerabilities = CdxVulnerability(many=True)
